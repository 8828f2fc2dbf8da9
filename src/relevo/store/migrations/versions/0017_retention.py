"""Retention of the decision log and rotation of the pseudonym key: each decision names its key.

Revision ID: 0017
Revises: 0016
"""

from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place on SQLite too (ALTER TABLE ADD COLUMN): other tables refer to decisions. No index:
    # only a key's retirement asks which decisions were made under it.
    op.add_column('decisions', sa.Column('pseudonym_key', sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column('decisions', 'pseudonym_key')
