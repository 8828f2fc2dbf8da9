"""Monitoring: each pass of a service's monitors over a window, and the alerts they raised.

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'monitor_runs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('environment', sa.String(length=20), nullable=False),
        sa.Column('window', sa.String(length=40), nullable=False),
        sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
        sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=True),
        sa.Column('decisions', sa.Integer(), nullable=False),
        sa.Column('report', JSON_DOC, nullable=False),
        sa.Column('profile', JSON_DOC, nullable=False),
        sa.Column('ran_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ran_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_monitor_runs_service_services')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_monitor_runs_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitor_runs')),
        sa.UniqueConstraint('service', 'environment', 'window', 'window_end', name='uq_monitor_runs_service'),
    )
    op.create_table(
        'alerts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('environment', sa.String(length=20), nullable=False),
        sa.Column('rule', sa.String(length=300), nullable=False),
        sa.Column('severity', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('details', JSON_DOC, nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('opened_run_id', sa.Integer(), nullable=False),
        sa.Column('last_run_id', sa.Integer(), nullable=False),
        sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
        sa.Column('acknowledgement', sa.Text(), nullable=True),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('resolved_run_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_alerts_service_services')),
        sa.ForeignKeyConstraint(['opened_run_id'], ['monitor_runs.id'], name=op.f('fk_alerts_opened_run_id_monitor_runs')),
        sa.ForeignKeyConstraint(['last_run_id'], ['monitor_runs.id'], name=op.f('fk_alerts_last_run_id_monitor_runs')),
        sa.ForeignKeyConstraint(['resolved_run_id'], ['monitor_runs.id'], name=op.f('fk_alerts_resolved_run_id_monitor_runs')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    )
    op.create_index('ux_alerts_open_rule', 'alerts', ['service', 'environment', 'rule'], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('ux_alerts_open_rule', table_name='alerts')
    op.drop_table('alerts')
    op.drop_table('monitor_runs')
