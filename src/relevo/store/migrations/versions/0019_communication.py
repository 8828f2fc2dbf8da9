"""Communication: planned deployments' notices to the people informed and to the public.

Revision ID: 0019
Revises: 0018
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'deployment_notices',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('environment', sa.String(length=40), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('spec_sha256', sa.String(length=64), nullable=False),
        sa.Column('plan', sa.String(length=100), nullable=False),
        sa.Column('planned_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('summary', sa.Text(), nullable=True),
        sa.Column('contact', sa.Text(), nullable=True),
        sa.Column('review_channel', sa.Text(), nullable=True),
        sa.Column('informed', JSON_DOC, nullable=False),
        sa.Column('channels', JSON_DOC, nullable=False),
        sa.Column('facts', JSON_DOC, nullable=False),
        sa.Column('public', JSON_DOC, nullable=False),
        sa.Column('given_by', sa.String(length=200), nullable=False),
        sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_deployment_notices_service_services')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'],
                                name=op.f('fk_deployment_notices_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deployment_notices')),
    )
    op.create_index('ix_deployment_notices_release', 'deployment_notices',
                    ['service', 'environment', 'version_id', 'spec_sha256'])


def downgrade() -> None:
    op.drop_index('ix_deployment_notices_release', table_name='deployment_notices')
    op.drop_table('deployment_notices')
