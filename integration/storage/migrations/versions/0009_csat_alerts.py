"""csat_alerts: the daily CSAT alert, once per organization and local day

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('csat_alerts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('organization_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('ratings', sa.Integer(), nullable=False),
    sa.Column('average', sa.String(length=8), nullable=True),
    sa.Column('alerted', sa.Boolean(), nullable=False),
    sa.Column('checked_at', integration.storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'day', name='uq_csat_alert_org_day')
    )


def downgrade() -> None:
    op.drop_table('csat_alerts')
