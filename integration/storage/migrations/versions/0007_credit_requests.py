"""credit_requests: service-credit requests from the customer's ask to the invoice

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-12
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = integration.storage.models.UtcDateTime(timezone=True)
    op.create_table('credit_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.BigInteger(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.String(length=32), nullable=True),
    sa.Column('breaches', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=255), nullable=False),
    sa.Column('channel_id', sa.String(length=255), nullable=True),
    sa.Column('requested_at', utc, nullable=False),
    sa.Column('investigation_due_at', utc, nullable=False),
    sa.Column('decided_at', utc, nullable=True),
    sa.Column('decided_by', sa.String(length=255), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('apply_due_at', utc, nullable=True),
    sa.Column('applied_at', utc, nullable=True),
    sa.Column('invoice', sa.String(length=100), nullable=True),
    sa.Column('reminded_at', utc, nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'month', name='uq_credit_org_month')
    )
    op.create_index('ix_credit_requests_status', 'credit_requests', ['status'])


def downgrade() -> None:
    op.drop_index('ix_credit_requests_status', table_name='credit_requests')
    op.drop_table('credit_requests')
