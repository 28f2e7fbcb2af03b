"""Queue indexes over the rows still waiting: undecided inbox events, pending outbox actions (issue 11)

The worker's claim takes the oldest undecided events (ORDER BY id LIMIT n). Indexed by decide_after, it was
answered by walking the primary key from the first event ever received, every decided row included: 11 ms
a claim with 6,600 rows kept, and growing with every webhook. Over the undecided rows only, in id order, a
claim reads just the rows it returns, however long the inbox's history.

An outbox claim takes only each ticket's oldest pending action per target; that lookup, once per candidate,
now probes the pending actions of that ticket alone (before: the pending rows of every ticket, O(n²) a claim).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

UNDECIDED = sa.text('decide_after IS NOT NULL')
PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index('ix_inbox_queue', 'inbox_events', ['id'], postgresql_where=UNDECIDED, sqlite_where=UNDECIDED)
    op.drop_index('ix_inbox_undecided', table_name='inbox_events')
    op.create_index('ix_outbox_pending_ticket', 'outbox', ['target', 'ticket_id', 'id'], postgresql_where=PENDING,
                    sqlite_where=PENDING)


def downgrade() -> None:
    op.drop_index('ix_outbox_pending_ticket', table_name='outbox')
    op.create_index('ix_inbox_undecided', 'inbox_events', ['decide_after'], postgresql_where=UNDECIDED,
                    sqlite_where=UNDECIDED)
    op.drop_index('ix_inbox_queue', table_name='inbox_events')
