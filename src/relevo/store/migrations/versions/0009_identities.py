"""Identities (people and service accounts), their roles, and their tokens (argon2 hashes only).

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(JSONB(), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'identities',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('description', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identities')),
        sa.UniqueConstraint('name', name=op.f('uq_identities_name')),
    )
    op.create_table(
        'role_grants',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('identity_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=30), nullable=False),
        sa.Column('service', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_role_grants_identity_id_identities')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_role_grants')),
        sa.UniqueConstraint('identity_id', 'role', 'service', name='uq_role_grants_identity_role_service'),
    )
    op.create_index('ix_role_grants_identity_id', 'role_grants', ['identity_id'], unique=False)
    op.create_table(
        'tokens',
        sa.Column('id', sa.String(length=16), nullable=False),
        sa.Column('identity_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('secret_hash', sa.String(length=200), nullable=False),
        sa.Column('services', JSON_DOC, nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['identity_id'], ['identities.id'], name=op.f('fk_tokens_identity_id_identities')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_tokens')),
    )
    op.create_index('ix_tokens_identity_id', 'tokens', ['identity_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_tokens_identity_id', table_name='tokens')
    op.drop_table('tokens')
    op.drop_index('ix_role_grants_identity_id', table_name='role_grants')
    op.drop_table('role_grants')
    op.drop_table('identities')
