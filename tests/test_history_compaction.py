"""Issue 10 item 5 through storage: a ticket with a long history is decided from its clock checkpoint and live
rows, and ends exactly where deciding on its whole history ends: after compaction, after a mapping edit, and
after an event from before the checkpoint (on SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import shutil

from sqlalchemy import func, select

from integration.core.compaction import BOUNDS
from integration.core.decide import decide
from integration.core.signals import Comment, TicketSignal, Transition
from integration.mappings.loader import load_mappings
from integration.mappings.store import MappingsStore
from integration.storage import repo
from integration.storage.decisions import Ingestor
from integration.storage.history_archive import archived_rows
from integration.storage.models import HistoryArchive, Ticket, Timer
from tests.harness import TEST_MAPPINGS

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROWTH = 360000000103  # extended hours, Asia/Kolkata: a calendar where the replay's instants matter


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> dt.datetime:
        return self.at


def signals(count: int, ticket_id: int = 5):
    """A ticket's life: status flapping with priority changes and an agent reply now and then."""
    status, priorities = "open", ("normal", "high", "low", "urgent")
    yield TicketSignal(ticket_id=ticket_id, kind="snapshot", at=START, created_at=START, status="open",
                       zendesk_priority="normal", organization_id=GROWTH, organization_known=True,
                       subject="Exports time out", authoritative=True, source_key="read")
    for n in range(1, count):
        at = START + dt.timedelta(minutes=7 * n)
        base = dict(ticket_id=ticket_id, at=at, created_at=START, organization_id=GROWTH, organization_known=True,
                    zendesk_priority=priorities[(n // 40) % 4], source_key=f"e{n}")
        if n % 13 == 0:
            yield TicketSignal(kind="comment_added", status=status, comments=(Comment(at, True, True),), **base)
            continue
        new = {"open": "pending", "pending": "hold", "hold": "open", "solved": "open"}[status] if n % 50 else "solved"
        yield TicketSignal(kind="status_changed", status=new, transition=Transition(at, "status", new, status, True),
                           **base)
        status = new


def reference(mappings, ticket_signals, nows):
    """decide() on the whole history every time: mappings without a fingerprint never make a checkpoint."""
    whole, state = dataclasses.replace(mappings, fingerprint=""), None
    for signal, now in zip(ticket_signals, nows):
        decision = decide(whole, state, signal, now)
        state, timers = decision.state, decision.timers
    return dataclasses.replace(state, written={"timers": sorted((t.kind, t.due_at) for t in timers)})


def ingested(ingestor: Ingestor, clock: Clock, ticket_signals) -> list[dt.datetime]:
    nows = []
    for signal in ticket_signals:
        clock.at = signal.at + dt.timedelta(seconds=20)
        nows.append(clock.at)
        ingestor.ingest(source="zendesk", dedup_key=signal.source_key + str(signal.ticket_id),
                        event_type=signal.kind, payload={}, signal=signal)
    return nows


def stored(sessions, ticket_id: int):
    with sessions() as session:
        row = session.get(Ticket, ticket_id)
        timers = sorted((t.kind, t.due_at) for t in session.scalars(select(Timer).where(Timer.ticket_id == ticket_id)))
        chunks = session.scalar(select(func.count()).select_from(HistoryArchive)
                                .where(HistoryArchive.ticket_id == ticket_id))
        return repo.state_of(row), timers, chunks, archived_rows(session, [ticket_id]).get(ticket_id, [])


def same_clock(ours, theirs) -> None:
    assert (ours.sla, ours.status, ours.tier, ours.priority, ours.level) == \
        (theirs.sla, theirs.status, theirs.tier, theirs.priority, theirs.level)


def make_ingestor(sessions, directory, clock) -> Ingestor:
    return Ingestor(sessions, MappingsStore(directory, min_interval=0), now=clock)


def test_a_long_history_is_decided_from_its_checkpoint_as_from_the_whole_history(sessions):
    clock = Clock()
    ingestor = make_ingestor(sessions, TEST_MAPPINGS, clock)
    life = list(signals(300))
    reopened = START + dt.timedelta(minutes=7 * 300)
    life.append(TicketSignal(ticket_id=5, kind="status_changed", at=reopened, created_at=START, status="open",
                             organization_id=GROWTH, organization_known=True, zendesk_priority="high",
                             transition=Transition(reopened, "status", "open", "pending", True), source_key="last"))
    nows = ingested(ingestor, clock, life)
    state, timers, chunks, archive = stored(sessions, 5)
    whole = reference(load_mappings(TEST_MAPPINGS), life, nows)
    same_clock(state, whole)
    assert state.checkpoint is not None and len(state.history) <= BOUNDS.limit and chunks >= 2
    assert sorted(archive + [r for r in state.history if r.at > state.checkpoint.upto], key=lambda r: r.at) == \
        sorted(whole.history, key=lambda r: r.at)  # the archive keeps every row for audit and reports
    assert timers == whole.written["timers"] and [kind for kind, _ in timers] == \
        ["resolution_breach", "resolution_warning"]


def test_a_mapping_edit_after_compaction_still_moves_the_due_times(sessions, tmp_path):
    directory = tmp_path / "mappings"
    shutil.copytree(TEST_MAPPINGS, directory)
    clock = Clock()
    ingestor = make_ingestor(sessions, directory, clock)
    life = list(signals(220))
    nows = ingested(ingestor, clock, life)
    before, _, _, _ = stored(sessions, 5)
    assert before.checkpoint is not None
    tiers = directory / "tiers.yaml"
    tiers.write_text(tiers.read_text().replace("calendar: extended ", "calendar: 24x7 ", 1))
    clock.at += dt.timedelta(minutes=5)
    assert ingestor.redecide_after_mapping_edit() == 1
    after, _, _, archive = stored(sessions, 5)
    edited = load_mappings(directory)
    assert edited.tiers["growth"].calendar == "24x7"
    whole = reference(edited, life + [TicketSignal(ticket_id=5, kind="tick", at=clock.at)], nows + [clock.at])
    same_clock(after, whole)
    assert after.sla != before.sla
    assert after.checkpoint is not None and after.checkpoint.basis != before.checkpoint.basis
    assert archive and len(after.history) <= BOUNDS.limit


def test_an_event_from_before_the_checkpoint_is_decided_on_the_whole_history(sessions):
    clock = Clock()
    ingestor = make_ingestor(sessions, TEST_MAPPINGS, clock)
    life = list(signals(220))
    nows = ingested(ingestor, clock, life)
    before, _, _, _ = stored(sessions, 5)
    upto = before.checkpoint.upto
    late_at = START + dt.timedelta(minutes=22)  # the ticket was open then: a change folded long ago
    assert late_at <= upto
    # Zendesk says the ticket was solved then (a webhook delivered very late): its resolution clock stopped there.
    late = TicketSignal(ticket_id=5, kind="status_changed", at=late_at, created_at=START, status="solved",
                        organization_id=GROWTH, organization_known=True, zendesk_priority="low", source_key="late")
    clock.at = nows[-1] + dt.timedelta(minutes=1)
    ingestor.ingest(source="zendesk", dedup_key="late", event_type="status_changed", payload={}, signal=late)
    after, _, _, _ = stored(sessions, 5)
    whole = reference(load_mappings(TEST_MAPPINGS), life + [late], nows + [clock.at])
    same_clock(after, whole)
    assert after.sla.resolution.elapsed_seconds < before.sla.resolution.elapsed_seconds
    assert after.sla.first_response.elapsed_seconds < before.sla.first_response.elapsed_seconds  # met at the solve
    assert after.checkpoint is not None  # made again at once: the whole history was past the bound
