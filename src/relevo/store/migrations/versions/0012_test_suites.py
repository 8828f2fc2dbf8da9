"""Test suites per service and the runs of them on versions; environments' fingerprints and the
waivers of their differences; replays of recorded cases.

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa

from sqlalchemy.dialects import postgresql

# JSONB on PostgreSQL, JSON text elsewhere (as in relevo.store.types).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'suites',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('body', JSON_DOC, nullable=False),
        sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('applied_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_suites_service_services')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_suites')),
        sa.UniqueConstraint('service', 'sha256', name='uq_suites_service_sha256'),
    )
    op.create_table(
        'test_runs',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('version_sha256', sa.String(length=64), nullable=False),
        sa.Column('suite_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('environment', sa.String(length=20), nullable=False),
        sa.Column('fingerprint', JSON_DOC, nullable=False),
        sa.Column('stable_version_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=10), nullable=False),
        sa.Column('results', JSON_DOC, nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ran_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_test_runs_service_services')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_test_runs_version_id_versions')),
        sa.ForeignKeyConstraint(['stable_version_id'], ['versions.id'],
                                name=op.f('fk_test_runs_stable_version_id_versions')),
        sa.ForeignKeyConstraint(['suite_id'], ['suites.id'], name=op.f('fk_test_runs_suite_id_suites')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_test_runs')),
    )
    op.create_index('ix_test_runs_service_version', 'test_runs', ['service', 'version_id'])
    op.create_table(
        'environment_fingerprints',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('environment', sa.String(length=20), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', JSON_DOC, nullable=False),
        sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('taken_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_environment_fingerprints')),
    )
    op.create_index('ix_environment_fingerprints_environment', 'environment_fingerprints', ['environment', 'id'])
    op.create_table(
        'staging_waivers',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('test_run_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint_id', sa.Integer(), nullable=False),
        sa.Column('differences', JSON_DOC, nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('waived_by', sa.String(length=200), nullable=False),
        sa.Column('waived_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_staging_waivers_service_services')),
        sa.ForeignKeyConstraint(['test_run_id'], ['test_runs.id'], name=op.f('fk_staging_waivers_test_run_id_test_runs')),
        sa.ForeignKeyConstraint(['fingerprint_id'], ['environment_fingerprints.id'],
                                name=op.f('fk_staging_waivers_fingerprint_id_environment_fingerprints')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_staging_waivers')),
    )
    op.create_table(
        'replays',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service', sa.String(length=100), nullable=False),
        sa.Column('source_environment', sa.String(length=20), nullable=False),
        sa.Column('target_environment', sa.String(length=20), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('cases_read', sa.Integer(), nullable=False),
        sa.Column('replayed', sa.Integer(), nullable=False),
        sa.Column('not_replayed', JSON_DOC, nullable=False),
        sa.Column('report', JSON_DOC, nullable=False),
        sa.Column('ran_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ran_by', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['service'], ['services.name'], name=op.f('fk_replays_service_services')),
        sa.ForeignKeyConstraint(['version_id'], ['versions.id'], name=op.f('fk_replays_version_id_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_replays')),
    )
    op.create_index('ix_replays_service', 'replays', ['service', 'id'])


def downgrade() -> None:
    op.drop_index('ix_replays_service', table_name='replays')
    op.drop_table('replays')
    op.drop_table('staging_waivers')
    op.drop_index('ix_environment_fingerprints_environment', table_name='environment_fingerprints')
    op.drop_table('environment_fingerprints')
    op.drop_index('ix_test_runs_service_version', table_name='test_runs')
    op.drop_table('test_runs')
    op.drop_table('suites')
