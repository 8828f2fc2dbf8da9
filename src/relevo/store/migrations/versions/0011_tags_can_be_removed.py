"""A tag can be taken off a version (the candidate tag, once its version is promoted): the move
that removes it points at no version.

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A copy-and-move alteration on SQLite: no table refers to tag_moves.
    with op.batch_alter_table('tag_moves', schema=None) as batch_op:
        batch_op.alter_column('to_version_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute('DELETE FROM tag_moves WHERE to_version_id IS NULL')
    with op.batch_alter_table('tag_moves', schema=None) as batch_op:
        batch_op.alter_column('to_version_id', existing_type=sa.Integer(), nullable=False)
