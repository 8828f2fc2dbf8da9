"""Routes name the candidate's release, so a spec-only change can be rolled out like a model.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('routes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('candidate_release_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_routes_candidate_release_id_releases'), 'releases',
                                    ['candidate_release_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('routes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_routes_candidate_release_id_releases'), type_='foreignkey')
        batch_op.drop_column('candidate_release_id')
