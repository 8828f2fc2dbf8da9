"""Runbooks: each spec version's runbook, and its owners' confirmations.

Revision ID: 0018
Revises: 0017
"""

from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A runbook is generated from its spec, so only who confirmed which version (the spec's hash) is kept.
    op.create_table(
        'runbook_confirmations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('spec_sha256', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('confirmed_by', sa.String(length=200), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'],
                                name=op.f('fk_runbook_confirmations_service_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_runbook_confirmations')),
    )
    op.create_index('ix_runbook_confirmations_service_spec', 'runbook_confirmations', ['service', 'spec_sha256'])


def downgrade() -> None:
    op.drop_index('ix_runbook_confirmations_service_spec', table_name='runbook_confirmations')
    op.drop_table('runbook_confirmations')
