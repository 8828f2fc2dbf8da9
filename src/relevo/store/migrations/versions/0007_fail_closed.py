"""What failing closed needs: one current verdict per decision, idempotency keys, overrides on
record, and the release each rollout started from.

Revision ID: 0007
Revises: 0006
"""

from alembic import op
import sqlalchemy as sa

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('superseded_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded_at', sa.DateTime(timezone=True), nullable=True))
    # Feedback posted more than once before this revision: the newest row of each decision stays
    # current, the older ones are marked superseded by it (nothing is deleted).
    op.execute("""
        UPDATE feedback SET
            superseded_by = (SELECT MAX(newer.id) FROM feedback AS newer WHERE newer.decision_id = feedback.decision_id),
            superseded_at = (SELECT MAX(newer.at) FROM feedback AS newer WHERE newer.decision_id = feedback.decision_id)
        WHERE id < (SELECT MAX(newer.id) FROM feedback AS newer WHERE newer.decision_id = feedback.decision_id)
    """)
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ux_feedback_current_decision', ['decision_id'], unique=True,
                              sqlite_where=sa.text('superseded_at IS NULL'),
                              postgresql_where=sa.text('superseded_at IS NULL'))
    # Not a batch (copy-and-move) alteration on SQLite: other tables refer to rollouts, so the old
    # copy could not be dropped; SQLite adds a column that refers to another table in place.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE rollouts ADD COLUMN stable_release_id INTEGER '
                   'CONSTRAINT fk_rollouts_stable_release_id_releases REFERENCES releases (id)')
    else:
        op.add_column('rollouts', sa.Column('stable_release_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_rollouts_stable_release_id_releases'), 'rollouts', 'releases',
                              ['stable_release_id'], ['id'])
    op.create_table(
        'idempotency_keys',
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('request_sha256', sa.String(length=64), nullable=False),
        sa.Column('decision_id', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'],
                                name=op.f('fk_idempotency_keys_decision_id_decisions')),
        sa.PrimaryKeyConstraint('service', 'key', name=op.f('pk_idempotency_keys')),
    )
    op.create_index('ix_idempotency_keys_created', 'idempotency_keys', ['created_at'], unique=False)
    op.create_table(
        'overrides',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('environment', sa.String(length=20), nullable=False),
        sa.Column('gate', sa.String(length=50), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_overrides_service_services')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_overrides_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_overrides')),
    )
    op.create_index('ix_overrides_service_gate', 'overrides', ['service', 'environment', 'gate'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_overrides_service_gate', table_name='overrides')
    op.drop_table('overrides')
    op.drop_index('ix_idempotency_keys_created', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE rollouts DROP COLUMN stable_release_id')
    else:
        op.drop_constraint(op.f('fk_rollouts_stable_release_id_releases'), 'rollouts', type_='foreignkey')
        op.drop_column('rollouts', 'stable_release_id')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ux_feedback_current_decision')
        batch_op.drop_column('superseded_at')
        batch_op.drop_column('superseded_by')
