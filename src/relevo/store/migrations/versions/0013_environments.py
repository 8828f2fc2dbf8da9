"""Environments as records: staging and production, and any a team adds.

Revision ID: 0013
Revises: 0012
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        'environments',
        sa.Column('name', sa.String(length=20), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_environments')),
    )
    # The two every store has had; SQLite keeps UTC times without their zone (relevo.store.types).
    now = datetime.now(timezone.utc)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(table, [
        {"name": "staging", "description": "where versions are tried before citizens meet them",
         "created_at": now, "created_by": "relevo"},
        {"name": "production", "description": "where citizens are answered", "created_at": now,
         "created_by": "relevo"},
    ])


def downgrade() -> None:
    op.drop_table('environments')
