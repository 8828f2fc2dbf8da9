"""On PostgreSQL, the decision log partitioned by month (RANGE on created_at), with a DEFAULT
partition; SQLite has no partitions and is left as it is.

Existing rows move into the new table: it is made beside the old one, filled with one INSERT ...
SELECT, its indexes built after the copy, and the old one dropped. How long: a few seconds per
million decisions; run it while the gateways are stopped (as every migration of the decision log).

PostgreSQL asks a partitioned table's unique constraints to include the partition key, so the
primary key is (id, created_at) and the reference unique with its created_at. Ids stay unique as
the gateway makes them: 128 random bits (a uuid4), the reference the first 64 of them; the chance
of two alike in a year of a large city (11 million decisions) is below one in 100,000 for the
references, nil for the ids.

A foreign key to a partitioned table must name its whole key, so the four tables that refer to a
decision by its id alone (shadow answers, feedback, review-queue entries, idempotency keys) lose
their foreign keys here. Where rows come apart from their decision (feedback, written by case
workers at any time; shadow answers, written after the decision's commit), a trigger stands in on
insert and on a change of decision_id: a row naming no decision is refused as the foreign key
refused it, and the decision is locked against a concurrent drop until the row commits. A review-
queue entry and an idempotency key are written only by the decision log, in the decision's own
transaction after the decision itself; the check would cost them 0.1-0.2 ms a row (every month's
index is looked in) and cannot fail there. The other direction needs no check: only the retention
purge deletes decisions, and it deletes what refers to them first (relevo.gateway.retention).

Revision ID: 0021
Revises: 0020
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from relevo.store.partitions import DEFAULT, MONTHS_AHEAD, bounds, month_of, months_from

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

CHILDREN = ('shadow_decisions', 'feedback', 'manual_reviews', 'idempotency_keys')
CHECKED = ('shadow_decisions', 'feedback')  # written apart from their decision: see above
INDEXES = {  # as tables.py declares them
    'ix_decisions_service_env_created': 'service, environment, created_at',
    'ix_decisions_version_created': 'routed_version_id, created_at',
    'ix_decisions_step_created': 'step, created_at',
}


def _foreign_key(child: str) -> str:
    return f'fk_{child}_decision_id_decisions'


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    conn = op.get_bind()
    for child in CHILDREN:
        op.drop_constraint(_foreign_key(child), child, type_='foreignkey')
    op.execute('ALTER TABLE decisions RENAME TO decisions_unpartitioned')
    op.execute('ALTER TABLE decisions_unpartitioned DROP CONSTRAINT pk_decisions')
    op.execute('ALTER TABLE decisions_unpartitioned DROP CONSTRAINT uq_decisions_reference')
    for index in INDEXES:
        op.execute(f'DROP INDEX {index}')
    # LIKE keeps every column's type, nullability and order as the migrations before made them.
    op.execute('CREATE TABLE decisions (LIKE decisions_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)')
    stored = conn.execute(sa.text("SELECT DISTINCT date_trunc('month', created_at AT TIME ZONE 'UTC') "
                                  "FROM decisions_unpartitioned")).scalars()
    wanted = {month_of(start) for start in stored} | set(months_from(datetime.now(timezone.utc), MONTHS_AHEAD + 1))
    for month in sorted(wanted, key=lambda m: m.start):
        op.execute(f'CREATE TABLE {month.name} PARTITION OF decisions FOR VALUES {bounds(month)}')
    op.execute(f'CREATE TABLE {DEFAULT} PARTITION OF decisions DEFAULT')
    op.execute('INSERT INTO decisions SELECT * FROM decisions_unpartitioned')
    op.execute('DROP TABLE decisions_unpartitioned')
    op.execute('ALTER TABLE decisions ADD CONSTRAINT pk_decisions PRIMARY KEY (id, created_at)')
    op.execute('ALTER TABLE decisions ADD CONSTRAINT uq_decisions_reference UNIQUE (reference, created_at)')
    for index, columns in INDEXES.items():
        op.execute(f'CREATE INDEX {index} ON decisions ({columns})')
    op.execute("""
        CREATE FUNCTION relevo_decision_exists() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM decisions WHERE id = NEW.decision_id FOR KEY SHARE;
            IF NOT FOUND THEN
                RAISE foreign_key_violation USING MESSAGE = format(
                    'insert or update on table "%s" violates the decision it refers to: no decision %s',
                    TG_TABLE_NAME, NEW.decision_id);
            END IF;
            RETURN NEW;
        END $$""")
    for child in CHECKED:
        op.execute(f'CREATE TRIGGER {child}_decision_exists BEFORE INSERT OR UPDATE OF decision_id ON {child} '
                   f'FOR EACH ROW EXECUTE FUNCTION relevo_decision_exists()')


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for child in CHECKED:
        op.execute(f'DROP TRIGGER {child}_decision_exists ON {child}')
    op.execute('DROP FUNCTION relevo_decision_exists()')
    op.execute('ALTER TABLE decisions RENAME TO decisions_partitioned')
    for index in INDEXES:
        op.execute(f'ALTER INDEX {index} RENAME TO {index}_partitioned')
    op.execute('ALTER TABLE decisions_partitioned RENAME CONSTRAINT pk_decisions TO pk_decisions_partitioned')
    op.execute('ALTER TABLE decisions_partitioned RENAME CONSTRAINT uq_decisions_reference '
               'TO uq_decisions_reference_partitioned')
    op.execute('CREATE TABLE decisions (LIKE decisions_partitioned INCLUDING DEFAULTS)')
    op.execute('INSERT INTO decisions SELECT * FROM decisions_partitioned')
    op.execute('DROP TABLE decisions_partitioned')  # with every partition
    # Refused here, naming the rows, if two decisions of different months share an id or a reference.
    op.execute('ALTER TABLE decisions ADD CONSTRAINT pk_decisions PRIMARY KEY (id)')
    op.execute('ALTER TABLE decisions ADD CONSTRAINT uq_decisions_reference UNIQUE (reference)')
    for index, columns in INDEXES.items():
        op.execute(f'CREATE INDEX {index} ON decisions ({columns})')
    for child in CHILDREN:
        op.create_foreign_key(_foreign_key(child), child, 'decisions', ['decision_id'], ['id'])
