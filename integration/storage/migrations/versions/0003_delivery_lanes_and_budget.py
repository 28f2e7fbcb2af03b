"""delivery: outbox lanes, claim tokens and expiry; the account-wide rate budget

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(sa.Column('lane', sa.Integer(), nullable=False, server_default='2'))
        batch.add_column(sa.Column('claim_token', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('expires_at', integration.storage.models.UtcDateTime(timezone=True), nullable=True))
    op.create_index('ix_outbox_lane', 'outbox', ['status', 'target', 'lane', 'id'])
    op.create_index('ix_outbox_expires', 'outbox', ['expires_at'], postgresql_where=sa.text('expires_at IS NOT NULL'),
                    sqlite_where=sa.text('expires_at IS NOT NULL'))
    op.create_table('rate_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('bucket', sa.String(length=32), nullable=False),
    sa.Column('at', integration.storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_rate_events_bucket_at', 'rate_events', ['bucket', 'at'])
    op.create_table('rate_buckets',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('held_until', integration.storage.models.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('rate_buckets')
    op.drop_index('ix_rate_events_bucket_at', table_name='rate_events')
    op.drop_table('rate_events')
    op.drop_index('ix_outbox_expires', table_name='outbox')
    op.drop_index('ix_outbox_lane', table_name='outbox')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('expires_at')
        batch.drop_column('claim_token')
        batch.drop_column('lane')
