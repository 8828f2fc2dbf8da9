"""The judge's kept evidence per rollout step, and the indexes its news are read through.

Revision ID: 0022
Revises: 0021
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'step_evidence',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('rollout_id', sa.Integer(), nullable=False),
        sa.Column('step_index', sa.Integer(), nullable=False),
        sa.Column('phase', sa.String(length=10), nullable=False),
        sa.Column('policy_digest', sa.String(length=64), nullable=False),
        sa.Column('decisions_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reviews_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('kept', sa.Text(), nullable=False),
        sa.Column('judgement', JSON_DOC, nullable=True),
        sa.Column('judged_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'], name=op.f('fk_step_evidence_rollout_id_rollouts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_step_evidence')),
        sa.UniqueConstraint('rollout_id', 'step_index', 'phase', name='uq_step_evidence_step'),
    )
    op.create_index('ix_feedback_at', 'feedback', ['at'])
    op.create_index('ix_decisions_step_held', 'decisions', ['step'], sqlite_where=sa.text('review IS NOT NULL'),
                    postgresql_where=sa.text('review IS NOT NULL'))
    op.create_index('ix_shadow_decisions_created', 'shadow_decisions', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_shadow_decisions_created', table_name='shadow_decisions')
    op.drop_index('ix_decisions_step_held', table_name='decisions')
    op.drop_index('ix_feedback_at', table_name='feedback')
    op.drop_table('step_evidence')
