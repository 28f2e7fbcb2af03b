"""backfill progress: where `escalator backfill` stopped reading Zendesk's incremental ticket export

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # One row per export stream; the table is defined in integration/zendesk/backfill.py (PROGRESS).
    op.create_table('backfill_progress',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('tickets_read', sa.BigInteger(), nullable=False),
    sa.Column('tickets_ingested', sa.BigInteger(), nullable=False),
    sa.Column('started_at', integration.storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', integration.storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', integration.storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('backfill_progress')
