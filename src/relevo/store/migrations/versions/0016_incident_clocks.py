"""Incidents' regulatory clocks (AI Act serious-incident reports, GDPR breach notification).

Revision ID: 0016
Revises: 0015
"""

from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'incident_clocks',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('regime', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('aware_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('classified_by', sa.String(length=200), nullable=False),
        sa.Column('classified_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reminded', sa.String(length=10), nullable=True),
        sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reported_by', sa.String(length=200), nullable=True),
        sa.Column('report_reference', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_incident_clocks_incident_id_incidents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_clocks')),
        sa.UniqueConstraint('incident_id', 'regime', name='uq_incident_clocks_incident_id'),
    )


def downgrade() -> None:
    op.drop_table('incident_clocks')
