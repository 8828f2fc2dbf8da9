"""Routing table, decision log, shadow answers, feedback and the manual-review queue.

Revision ID: 0002
Revises: 0001
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('decisions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('environment', sa.String(length=20), nullable=False),
    sa.Column('case_pseudonym', sa.String(length=64), nullable=False),
    sa.Column('arm', sa.String(length=10), nullable=True),
    sa.Column('routed_version_id', sa.Integer(), nullable=True),
    sa.Column('served_by', sa.String(length=10), nullable=False),
    sa.Column('decision', sa.String(length=100), nullable=True),
    sa.Column('probabilities', JSON_DOC, nullable=True),
    sa.Column('fallback_cause', sa.String(length=20), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('model_latency_ms', sa.Float(), nullable=True),
    sa.Column('inputs', JSON_DOC, nullable=False),
    sa.Column('route_revision', sa.Integer(), nullable=True),
    sa.Column('step', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions')),
    sa.UniqueConstraint('reference', name=op.f('uq_decisions_reference'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_service_env_created', ['service', 'environment', 'created_at'], unique=False)
        batch_op.create_index('ix_decisions_version_created', ['routed_version_id', 'created_at'], unique=False)

    op.create_table('feedback',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('decision_id', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('decision', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('reviewer', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_feedback_decision_id_decisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_decision_id'), ['decision_id'], unique=False)

    op.create_table('manual_reviews',
    sa.Column('decision_id', sa.String(length=32), nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_manual_reviews_decision_id_decisions')),
    sa.PrimaryKeyConstraint('decision_id', name=op.f('pk_manual_reviews'))
    )
    with op.batch_alter_table('manual_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_manual_reviews_service_status', ['service', 'status', 'created_at'], unique=False)

    op.create_table('shadow_decisions',
    sa.Column('decision_id', sa.String(length=32), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=100), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('error', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], name=op.f('fk_shadow_decisions_decision_id_decisions')),
    sa.PrimaryKeyConstraint('decision_id', name=op.f('pk_shadow_decisions'))
    )
    op.create_table('routes',
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('environment', sa.String(length=20), nullable=False),
    sa.Column('stable_version_id', sa.Integer(), nullable=True),
    sa.Column('candidate_version_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('fallback_forced', sa.Boolean(), nullable=False),
    sa.Column('step', sa.String(length=100), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['candidate_version_id'], ['versions.id'], name=op.f('fk_routes_candidate_version_id_versions')),
    sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_routes_service_services')),
    sa.ForeignKeyConstraint(['stable_version_id'], ['versions.id'], name=op.f('fk_routes_stable_version_id_versions')),
    sa.PrimaryKeyConstraint('service', 'environment', name=op.f('pk_routes'))
    )


def downgrade() -> None:
    op.drop_table('routes')
    op.drop_table('shadow_decisions')
    with op.batch_alter_table('manual_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_manual_reviews_service_status')

    op.drop_table('manual_reviews')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_decision_id'))

    op.drop_table('feedback')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_version_created')
        batch_op.drop_index('ix_decisions_service_env_created')

    op.drop_table('decisions')
