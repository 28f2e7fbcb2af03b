"""The history rows folded into a ticket's clock checkpoint (integration.core.compaction): appended when a
decision compacts, read only by reports and by a decision that needs the whole history back."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from integration.core.checkpoint import ClockCheckpoint
from integration.core.compaction import whole_history, whole_rows
from integration.core.history import HistoryRow, row_from_json, row_to_json
from integration.core.state import TicketState
from integration.storage.models import HistoryArchive


def append(session: Session, state: TicketState, now: dt.datetime) -> None:
    """Keep the rows the decision moved out of the live history (after the ticket's row exists)."""
    if state.archived:
        session.add(HistoryArchive(ticket_id=state.id, rows=[row_to_json(r) for r in state.archived], archived_at=now))


def archived_rows(session: Session, ticket_ids: list[int]) -> dict[int, list[HistoryRow]]:
    found: dict[int, list[HistoryRow]] = {}
    query = select(HistoryArchive.ticket_id, HistoryArchive.rows).where(HistoryArchive.ticket_id.in_(ticket_ids))
    for ticket_id, stored in session.execute(query.order_by(HistoryArchive.id)):
        found.setdefault(ticket_id, []).extend(row_from_json(r) for r in stored)
    return found


def unfold(session: Session, state: TicketState) -> TicketState:
    """The state with its whole history and no checkpoint; the archive moves back into it (the next
    compaction archives it again), so the saved ticket never holds a row twice."""
    archive = archived_rows(session, [state.id]).get(state.id, [])
    session.execute(delete(HistoryArchive).where(HistoryArchive.ticket_id == state.id))
    return whole_history(archive, state)


def whole_histories(session: Session, live: dict[int, tuple[tuple[HistoryRow, ...], dict | None]]) \
        -> dict[int, tuple[HistoryRow, ...]]:
    """Each ticket's whole history from its live rows and stored checkpoint (reports and anything else that is
    not a decision): {ticket id: (live rows, tickets.clock_checkpoint)} in, {ticket id: rows} out."""
    archives = archived_rows(session, [ticket_id for ticket_id, (_, checkpoint) in live.items() if checkpoint])
    return {ticket_id: whole_rows(archives.get(ticket_id, []), rows, ClockCheckpoint.from_json(checkpoint))
            for ticket_id, (rows, checkpoint) in live.items()}
