"""slack_origins: the channel and member each Slack-opened ticket came from (customer channel privacy)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slack_origins',
    sa.Column('ticket_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('channel_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=True),
    sa.Column('opened_at', integration.storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('ticket_id')
    )
    op.create_index('ix_slack_origins_channel_id', 'slack_origins', ['channel_id'])
    op.create_index('ix_slack_origins_user_id', 'slack_origins', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_slack_origins_user_id', table_name='slack_origins')
    op.drop_index('ix_slack_origins_channel_id', table_name='slack_origins')
    op.drop_table('slack_origins')
