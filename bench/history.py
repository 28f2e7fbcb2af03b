"""Decision cost against history length: one ticket, 1,000 events, the latency of deciding event N against
the first-event baseline measured in the same run.

    .venv/bin/python bench/history.py [--events 1000] [--mix comments|flapping] [--no-checkpoint]

Each decision is what the worker does for a Zendesk event: the ticket's columns read back into a TicketState
(integration.storage.repo.state_of: the live history rows and the clock checkpoint, from their JSON text as
the database driver hands it over), decide() (placing the event, replaying the live history from the
checkpoint, compacting when the live history is past its bound), and the state written back
(repo.write_state, the JSON columns encoded as the driver does, plus the rows a compaction archives).
`comments` (the default) is a conversation: end-user comments, internal notes and agent replies, with a
pending/open round every 25 events; `flapping` changes the status on every event (every transition is kept).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integration.core.decide import decide  # noqa: E402
from integration.core.history import row_to_json  # noqa: E402
from integration.core.signals import Comment, TicketSignal, Transition  # noqa: E402
from integration.mappings.loader import load_mappings  # noqa: E402
from integration.storage.models import Ticket  # noqa: E402
from integration.storage.repo import state_of, write_state  # noqa: E402

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = 360000000102  # the shipped-mappings example in tests/fixtures/mappings: pro, 24x7


def signal(n: int, mix: str, status: str) -> tuple[TicketSignal, str]:
    at = START + dt.timedelta(minutes=3 * n)
    base = dict(ticket_id=1, at=at, created_at=START, zendesk_priority="normal", organization_id=ORG,
                organization_known=True, subject="Exports time out", source_key=f"e{n}")
    if mix == "flapping" or n % 25 == 0:
        new = "pending" if status == "open" else "open"
        return TicketSignal(kind="status_changed", status=new, **base,
                            transition=Transition(at, "status", new, status, True)), new
    kind = n % 3
    comment = Comment(at=at, public=kind != 1, by_agent=kind != 0)
    return TicketSignal(kind="comment_added", status=status, comments=(comment,), **base), status


JSON_COLUMNS = ("history", "clock_checkpoint", "sla", "escalation", "written", "tags")


def stored(row: Ticket) -> dict:
    """The row's JSON columns as text, as the driver writes them."""
    return {name: json.dumps(getattr(row, name)) for name in JSON_COLUMNS}


def loaded(columns: dict, row: Ticket) -> Ticket:
    for name, text in columns.items():
        setattr(row, name, json.loads(text))
    return row


def run(events: int, mix: str, checkpoint: bool = True) -> tuple[list[float], Ticket, int]:
    mappings = load_mappings(Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mappings")
    if not checkpoint:  # mappings without a fingerprint never make a checkpoint: the whole history every time
        mappings = replace(mappings, fingerprint="")
    first = TicketSignal(ticket_id=1, kind="snapshot", at=START, created_at=START, status="open",
                         zendesk_priority="normal", organization_id=ORG, organization_known=True,
                         subject="Exports time out", authoritative=True, source_key="read")
    row = Ticket(id=1)
    write_state(row, decide(mappings, None, first, START).state, START)
    columns, status, costs, archived = stored(row), "open", [], []
    for n in range(1, events + 1):
        event, status = signal(n, mix, status)
        now = event.at + dt.timedelta(seconds=5)
        began = time.perf_counter()
        state = state_of(loaded(columns, row))
        decision = decide(mappings, state, event, now)
        write_state(row, decision.state, now)
        columns = stored(row)
        if decision.state.archived:
            archived.append(json.dumps([row_to_json(r) for r in decision.state.archived]))
        costs.append(time.perf_counter() - began)
    return costs, row, sum(len(json.loads(chunk)) for chunk in archived)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--mix", choices=("comments", "flapping"), default="comments")
    parser.add_argument("--no-checkpoint", action="store_true", help="never compact: the cost without checkpoints")
    args = parser.parse_args()
    costs, row, archived = run(args.events, args.mix, checkpoint=not args.no_checkpoint)
    window = max(5, args.events // 50)
    baseline = statistics.median(costs[:window])
    last = statistics.median(costs[-window:])
    print(f"mix={args.mix} events={args.events}")
    print(f"first {window} events: median {baseline * 1000:.2f} ms per decision (baseline)")
    print(f"last {window} events:  median {last * 1000:.2f} ms per decision")
    print(f"ratio last/first: {last / baseline:.2f}")
    print(f"live history rows at the end: {len(row.history)}; archived: {archived}; "
          f"checkpoint: {'yes' if row.clock_checkpoint else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
