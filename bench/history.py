"""Decision cost against history length: one ticket, 1,000 events, the latency of deciding event N against
the first-event baseline measured in the same run.

    .venv/bin/python bench/history.py [--events 1000] [--mix comments|flapping]

Each decision is what the request path does for a Zendesk event: the stored history read back from its
JSON rows, decide() (placing the event and replaying the clock), and the rows written back as JSON.
`comments` (the default) is a conversation: end-user comments, internal notes and agent replies, with a
pending/open round every 25 events; `flapping` changes the status on every event (the worst case: every
transition is kept, so the cost still grows with their number).
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integration.core.decide import decide  # noqa: E402
from integration.core.history import row_from_json, row_to_json  # noqa: E402
from integration.core.signals import Comment, TicketSignal, Transition  # noqa: E402
from integration.mappings.loader import load_mappings  # noqa: E402

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


def run(events: int, mix: str) -> list[float]:
    mappings = load_mappings(Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "mappings")
    first = TicketSignal(ticket_id=1, kind="snapshot", at=START, created_at=START, status="open",
                         zendesk_priority="normal", organization_id=ORG, organization_known=True,
                         subject="Exports time out", authoritative=True, source_key="read")
    state = decide(mappings, None, first, START).state
    stored, status, costs = [row_to_json(r) for r in state.history], "open", []
    for n in range(1, events + 1):
        event, status = signal(n, mix, status)
        began = time.perf_counter()
        loaded = replace(state, history=tuple(row_from_json(r) for r in stored))
        decision = decide(mappings, loaded, event, event.at + dt.timedelta(seconds=5))
        state = decision.state or loaded
        stored = [row_to_json(r) for r in state.history]
        costs.append(time.perf_counter() - began)
    return costs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--mix", choices=("comments", "flapping"), default="comments")
    args = parser.parse_args()
    costs = run(args.events, args.mix)
    window = max(5, args.events // 50)
    baseline = statistics.median(costs[:window])
    last = statistics.median(costs[-window:])
    print(f"mix={args.mix} events={args.events}")
    print(f"first {window} events: median {baseline * 1000:.2f} ms per decision (baseline)")
    print(f"last {window} events:  median {last * 1000:.2f} ms per decision")
    print(f"ratio last/first: {last / baseline:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
