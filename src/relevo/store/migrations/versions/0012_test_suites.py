"""Test suites per service and the runs of them on versions.

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'suites',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('body', JSON_DOC, nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('applied_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_suites_service_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suites')),
        sa.UniqueConstraint('service', 'sha256', name='uq_suites_service_sha256'),
    )
    op.create_table(
        'test_runs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('version_sha256', sa.String(length=64), nullable=False),
        sa.Column('suite_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('environment', sa.String(length=20), nullable=False),
        sa.Column('fingerprint', JSON_DOC, nullable=False),
        sa.Column('stable_version_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('results', JSON_DOC, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ran_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_test_runs_service_services')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_test_runs_version_id_versions')),
        sa.ForeignKeyConstraint(['stable_version_id'], ['versions.id'],
                                name=op.f('fk_test_runs_stable_version_id_versions')),
        sa.ForeignKeyConstraint(['suite_id'], ['suites.id'], name=op.f('fk_test_runs_suite_id_suites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_test_runs')),
    )
    op.create_index('ix_test_runs_service_version', 'test_runs', ['service', 'version_id'])


def downgrade() -> None:
    op.drop_index('ix_test_runs_service_version', table_name='test_runs')
    op.drop_table('test_runs')
    op.drop_table('suites')
