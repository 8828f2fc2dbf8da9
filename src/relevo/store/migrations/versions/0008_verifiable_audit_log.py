"""A log an auditor can verify alone: audit events become leaves of a Merkle tree (their place,
the salted hash of their details, the leaf hash), the tree's frontier and signed checkpoints are
kept, and both engines refuse to change or delete an event or a checkpoint.

Events recorded before this revision become the first leaves, in the order they were recorded.

Revision ID: 0008
Revises: 0007
"""

import json
import secrets

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from relevo.audit.leaf import details_digest, leaf_data
from relevo.audit.merkle import Frontier, leaf_hash
from relevo.store.types import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON().with_variant(JSONB(), 'postgresql')
APPEND_ONLY = ('audit_events', 'audit_checkpoints')


def _backfill(conn) -> Frontier:
    events = sa.table('audit_events', sa.column('id', sa.Integer), sa.column('at', UTCDateTime),
                      sa.column('actor', sa.String), sa.column('action', sa.String), sa.column('subject', sa.String),
                      sa.column('details', JSON_DOC), sa.column('seq', sa.BigInteger), sa.column('salt', sa.String),
                      sa.column('details_sha256', sa.String), sa.column('leaf_hash', sa.String))
    tree = Frontier()
    rows = conn.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    for row in rows:
        details = row['details'] if isinstance(row['details'], dict) else json.loads(row['details'])
        salt = secrets.token_bytes(16)
        digest = details_digest(salt, details)
        leaf = leaf_hash(leaf_data(tree.size, row['at'], row['actor'], row['action'], row['subject'], digest))
        conn.execute(events.update().where(events.c.id == row['id']).values(
            seq=tree.size, salt=salt.hex(), details_sha256=digest, leaf_hash=leaf.hex()))
        tree.append(leaf)
    return tree


def upgrade() -> None:
    conn = op.get_bind()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('salt', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('details_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('leaf_hash', sa.String(length=64), nullable=True))
    tree = _backfill(conn)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for column in ('seq', 'salt', 'details_sha256', 'leaf_hash'):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])
        batch_op.drop_column('content_sha256')
    op.create_table(
        'audit_tree',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('frontier', JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_tree')),
    )
    op.execute(sa.table('audit_tree', sa.column('id'), sa.column('size'), sa.column('frontier', JSON_DOC))
               .insert().values(id=1, size=tree.size, frontier=[h.hex() for h in tree.nodes]))
    op.create_table(
        'audit_checkpoints',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tree_size', sa.BigInteger(), nullable=False),
        sa.Column('root_hash', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints')),
    )
    op.create_index('ix_audit_checkpoints_tree_size', 'audit_checkpoints', ['tree_size'], unique=False)
    # The database itself refuses to rewrite history, whoever connects.
    if conn.dialect.name == 'sqlite':
        for table in APPEND_ONLY:
            for verb in ('UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: no {verb}'); END")
    else:
        op.execute("""
            CREATE FUNCTION relevo_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% are append-only: no %', TG_TABLE_NAME, TG_OP;
            END $$""")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION relevo_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION relevo_append_only()")


def downgrade() -> None:
    raise NotImplementedError("the audit log's leaves cannot be taken back")
