"""Governance: a service's records, marks on the pre-deployment checklist, vendors, and the
checklist each rollout started with.

Revision ID: 0015
Revises: 0014
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rollouts') as batch:
        batch.add_column(sa.Column('checklist', JSON_DOC, nullable=True))
    op.create_table(
        'service_records',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('body', JSON_DOC, nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_service_records_service_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_records')),
    )
    op.create_index('ix_service_records_service_kind', 'service_records', ['service', 'kind'])
    op.create_table(
        'checklist_marks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('environment', sa.String(length=20), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('spec_sha256', sa.String(length=64), nullable=False),
        sa.Column('item', sa.String(length=40), nullable=False),
        sa.Column('mark', sa.String(length=10), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('link', sa.Text(), nullable=True),
        sa.Column('marked_by', sa.String(length=200), nullable=False),
        sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_checklist_marks_service_services')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_checklist_marks_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_marks')),
    )
    op.create_index('ix_checklist_marks_service_version', 'checklist_marks', ['service', 'version_id'])
    op.create_table(
        'vendors',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('services', JSON_DOC, nullable=False),
        sa.Column('contract_reference', sa.String(length=200), nullable=False),
        sa.Column('sla', JSON_DOC, nullable=False),
        sa.Column('renewal_date', sa.Date(), nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reminded_for', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_vendors')),
        sa.UniqueConstraint('name', name=op.f('uq_vendors_name')),
    )


def downgrade() -> None:
    op.drop_table('vendors')
    op.drop_index('ix_checklist_marks_service_version', table_name='checklist_marks')
    op.drop_table('checklist_marks')
    op.drop_index('ix_service_records_service_kind', table_name='service_records')
    op.drop_table('service_records')
    with op.batch_alter_table('rollouts') as batch:
        batch.drop_column('checklist')
