"""Drills: each rehearsed fault, what the gateway and controller did, and how long it took; overdue ones told.

Revision ID: 0020
Revises: 0019
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'drills',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('environment', sa.String(length=40), nullable=False),
        sa.Column('scenario', sa.String(length=30), nullable=False),
        sa.Column('clock', sa.String(length=10), nullable=False),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('detect_seconds', sa.Float(), nullable=True),
        sa.Column('recover_seconds', sa.Float(), nullable=True),
        sa.Column('target_detect_seconds', sa.Float(), nullable=False),
        sa.Column('target_recover_seconds', sa.Float(), nullable=False),
        sa.Column('requests', sa.Integer(), nullable=False),
        sa.Column('lost', sa.Integer(), nullable=False),
        sa.Column('unanswered', sa.Integer(), nullable=False),
        sa.Column('details', JSON_DOC, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('run_by', sa.String(length=200), nullable=False),
        sa.Column('override_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_drills_service_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drills')),
    )
    op.create_index('ix_drills_service_started', 'drills', ['service', 'started_at'])
    op.create_table(
        'drill_reminders',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('told_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_drill_reminders_service_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_reminders')),
        sa.UniqueConstraint('service', 'due_at', name='uq_drill_reminders_service_due_at'),
    )


def downgrade() -> None:
    op.drop_table('drill_reminders')
    op.drop_index('ix_drills_service_started', table_name='drills')
    op.drop_table('drills')
