"""history_archive and tickets.clock_checkpoint: decisions read a bounded history (issue 10)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-09
"""
from alembic import op
import sqlalchemy as sa
import integration.storage.models
from integration.core.history import parse_iso


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('history_archive',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ticket_id', sa.BigInteger(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('archived_at', integration.storage.models.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_history_archive_ticket_id'), 'history_archive', ['ticket_id'], unique=False)
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('clock_checkpoint', sa.JSON(), nullable=True))


def downgrade() -> None:
    # Back to whole histories: each checkpointed ticket gets its archived rows back in front of its live ones.
    connection = op.get_bind()
    archive = sa.table('history_archive', sa.column('id'), sa.column('ticket_id'), sa.column('rows', sa.JSON()))
    tickets = sa.table('tickets', sa.column('id'), sa.column('history', sa.JSON()),
                       sa.column('clock_checkpoint', sa.JSON()))
    folded: dict[int, list] = {}
    for ticket_id, rows in connection.execute(sa.select(archive.c.ticket_id, archive.c.rows).order_by(archive.c.id)):
        folded.setdefault(ticket_id, []).extend(rows)
    for ticket_id, history, checkpoint in connection.execute(
            sa.select(tickets.c.id, tickets.c.history, tickets.c.clock_checkpoint)
            .where(tickets.c.clock_checkpoint.is_not(None))):
        upto = parse_iso(checkpoint["upto"])
        later = [r for r in history or [] if parse_iso(r["at"]) > upto]
        connection.execute(sa.update(tickets).where(tickets.c.id == ticket_id)
                           .values(history=folded.get(ticket_id, []) + later))
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('clock_checkpoint')
    op.drop_index(op.f('ix_history_archive_ticket_id'), table_name='history_archive')
    op.drop_table('history_archive')
