"""slack threads: each ticket's conversation in its customer's channel

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_threads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger(), nullable=False),
    sa.Column('organization_id', sa.BigInteger(), nullable=False),
    sa.Column('channel_id', sa.String(length=32), nullable=False),
    sa.Column('thread_ts', sa.String(length=32), nullable=True),
    sa.Column('last_status', sa.String(length=16), nullable=True),
    sa.Column('created_at', integration.storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', integration.storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_slack_threads_ticket_id', 'slack_threads', ['ticket_id'])
    op.create_index('ix_slack_threads_channel_ts', 'slack_threads', ['channel_id', 'thread_ts'])


def downgrade() -> None:
    op.drop_index('ix_slack_threads_channel_ts', table_name='slack_threads')
    op.drop_index('ix_slack_threads_ticket_id', table_name='slack_threads')
    op.drop_table('slack_threads')
