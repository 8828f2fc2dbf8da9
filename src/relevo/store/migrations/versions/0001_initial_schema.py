"""Initial schema: services, versions, profiles, annotations, tags, audit events.

Revision ID: 0001
Revises: 
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('details', JSON_DOC, nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_subject'), ['subject'], unique=False)

    op.create_table('services',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('spec', JSON_DOC, nullable=False),
    sa.Column('spec_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_services'))
    )
    op.create_table('versions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest', JSON_DOC, nullable=False),
    sa.Column('metadata', JSON_DOC, nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('file_count', sa.Integer(), nullable=False),
    sa.Column('blob_uri', sa.Text(), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_versions_service_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_versions')),
    sa.UniqueConstraint('service', 'number', name='uq_versions_service_number'),
    sa.UniqueConstraint('service', 'sha256', name='uq_versions_service_sha256')
    )
    op.create_table('annotations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_annotations_version_id_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_annotations'))
    )
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_annotations_version_id'), ['version_id'], unique=False)

    op.create_table('profiles',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('profile', JSON_DOC, nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_profiles_version_id_versions')),
    sa.PrimaryKeyConstraint('version_id', name=op.f('pk_profiles'))
    )
    op.create_table('tag_moves',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('from_version_id', sa.Integer(), nullable=True),
    sa.Column('to_version_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['from_version_id'], ['versions.id'], name=op.f('fk_tag_moves_from_version_id_versions')),
    sa.ForeignKeyConstraint(['to_version_id'], ['versions.id'], name=op.f('fk_tag_moves_to_version_id_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tag_moves'))
    )
    with op.batch_alter_table('tag_moves', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tag_moves_service'), ['service'], unique=False)

    op.create_table('tags',
    sa.Column('service', sa.String(length=100), nullable=False),
    sa.Column('tag', sa.String(length=100), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('moved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('moved_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_tags_service_services')),
    sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_tags_version_id_versions')),
    sa.PrimaryKeyConstraint('service', 'tag', name=op.f('pk_tags'))
    )


def downgrade() -> None:
    op.drop_table('tags')
    with op.batch_alter_table('tag_moves', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tag_moves_service'))

    op.drop_table('tag_moves')
    op.drop_table('profiles')
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_annotations_version_id'))

    op.drop_table('annotations')
    op.drop_table('versions')
    op.drop_table('services')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_subject'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
