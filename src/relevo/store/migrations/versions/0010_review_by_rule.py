"""Human review by rule: why a decision waits for a case worker (its answer only proposed).

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place on SQLite too (ALTER TABLE ADD COLUMN): other tables refer to decisions, so a
    # copy-and-move alteration could not drop the old table.
    op.add_column('decisions', sa.Column('review', sa.String(length=160), nullable=True))


def downgrade() -> None:
    op.drop_column('decisions', 'review')
