"""The queued events of given tickets, indexed: the worker's held_back check each round (issue 11)

Before deciding a claim, the worker looks for older queued events of the claimed tickets outside it (another
worker's, or a retry's), so that every ticket's events are decided in order. With only the ticket index and the
queue index (0011) to choose from, and no statistics yet (a new deploy's first minutes), PostgreSQL intersected
the ticket index with every id below the claim: 6 ms a round at 9,000 events, and growing. SQLite read every
event the claimed tickets ever had. Over the queued rows only, by ticket, the check reads what it returns.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

UNDECIDED = sa.text('decide_after IS NOT NULL')


def upgrade() -> None:
    op.create_index('ix_inbox_queue_ticket', 'inbox_events', ['ticket_id', 'id'], postgresql_where=UNDECIDED,
                    sqlite_where=UNDECIDED)


def downgrade() -> None:
    op.drop_index('ix_inbox_queue_ticket', table_name='inbox_events')
