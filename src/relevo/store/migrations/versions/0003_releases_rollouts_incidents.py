"""Releases, rollouts, their verdicts, and incidents.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('releases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('spec_sha256', sa.String(length=64), nullable=False),
    sa.Column('spec', JSON_DOC, nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_releases_service_services')),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_releases_version_id_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases')),
    sa.UniqueConstraint('service', 'digest', name='uq_releases_service_digest')
    )
    op.create_table('rollouts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('environment', sa.String(length=20), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('stable_version_id', sa.Integer(), nullable=False),
    sa.Column('candidate_version_id', sa.Integer(), nullable=False),
    sa.Column('plan_name', sa.String(length=100), nullable=False),
    sa.Column('plan', JSON_DOC, nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('step_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('step_extended_by_s', sa.Float(), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_version_id'], ['versions.id'], name=op.f('fk_rollouts_candidate_version_id_versions')),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_rollouts_release_id_releases')),
    sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_rollouts_service_services')),
    sa.ForeignKeyConstraint(['stable_version_id'], ['versions.id'], name=op.f('fk_rollouts_stable_version_id_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollouts'))
    )
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.create_index('ix_rollouts_service_env_state', ['service', 'environment', 'state'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('environment', sa.String(length=20), nullable=False),
    sa.Column('rollout_id', sa.Integer(), nullable=True),
    sa.Column('release_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('evidence', JSON_DOC, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('cause', sa.Text(), nullable=True),
    sa.Column('remediation', sa.Text(), nullable=True),
    sa.Column('documented_by', sa.String(length=200), nullable=True),
    sa.Column('documented_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], name=op.f('fk_incidents_release_id_releases')),
    sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'], name=op.f('fk_incidents_rollout_id_rollouts')),
    sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_incidents_service_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_release_status', ['release_id', 'status'], unique=False)

    op.create_table('rollout_verdicts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('rollout_id', sa.Integer(), nullable=False),
    sa.Column('step_index', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verdict', sa.String(length=10), nullable=False),
    sa.Column('details', JSON_DOC, nullable=False),
    sa.ForeignKeyConstraint(['rollout_id'], ['rollouts.id'], name=op.f('fk_rollout_verdicts_rollout_id_rollouts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollout_verdicts'))
    )
    with op.batch_alter_table('rollout_verdicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rollout_verdicts_rollout_id'), ['rollout_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('rollout_verdicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rollout_verdicts_rollout_id'))

    op.drop_table('rollout_verdicts')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_release_status')

    op.drop_table('incidents')
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.drop_index('ix_rollouts_service_env_state')

    op.drop_table('rollouts')
    op.drop_table('releases')
