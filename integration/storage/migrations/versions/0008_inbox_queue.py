"""inbox_events queue: the parsed signal, decide_after, attempts and decided_at (the worker decides)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbox_events') as batch:
        batch.add_column(sa.Column('signal', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('decide_after', integration.storage.models.UtcDateTime(timezone=True),
                                   nullable=True))
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('decided_at', integration.storage.models.UtcDateTime(timezone=True),
                                   nullable=True))
    op.create_index('ix_inbox_undecided', 'inbox_events', ['decide_after'],
                    postgresql_where=sa.text('decide_after IS NOT NULL'),
                    sqlite_where=sa.text('decide_after IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_inbox_undecided', table_name='inbox_events')
    with op.batch_alter_table('inbox_events') as batch:
        batch.drop_column('decided_at')
        batch.drop_column('attempts')
        batch.drop_column('decide_after')
        batch.drop_column('signal')
