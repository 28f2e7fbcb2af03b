"""Keeping what a decision reads bounded: the live history, a clock checkpoint, and the archive.

When the live history grows past `Bounds.limit` rows, the rows up to an instant `upto` are folded into a
ClockCheckpoint and move to the archive (storage keeps it for audit and reports; no decision reads it). The
live history keeps a summary of them, the rows at or before `upto` that the history questions still need
(integration.core.history, exclusions, timeline, csat_follow_up, sidebar_view) to answer as the whole
history would for any instant after `upto`:
- status: the first row of each of the last status runs that can tell a pause apart (pause statuses are
  pending and/or hold, so: the start of the trailing pending/hold run, the block before the last, the last);
- the latest policy row, the exclusion row current_exclusion picks, every public agent reply.
So the live history is that summary plus every row after `upto`; the archive plus those later rows is the
whole history, in its order.

A decision can start from the checkpoint only when everything it places is after `upto` and it uses the same
basis (mappings, customer) at a `now` no earlier than `upto`; otherwise decide raises FullHistoryNeeded and
storage gives it the whole history back (the checkpoint then dropped, made again at the next compaction).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from integration.core import history as rows
from integration.core.checkpoint import ClockCheckpoint, basis_of
from integration.core.customers import Customer
from integration.core.sla.ticket import replay_point
from integration.core.state import TicketState
from integration.mappings.model import Mappings

PAUSABLE = ("pending", "hold")  # every status a tier can pause on (mappings schema PAUSE_STATUSES)


@dataclass(frozen=True)
class Bounds:
    limit: int = 40  # compact when the live history holds more rows than this
    keep: int = 15  # rows left live at least: a late event among them needs no archive
    window: dt.timedelta = dt.timedelta(hours=1)  # and the rows of the last hour, up to `most` rows
    most: int = 25


BOUNDS = Bounds()


class FullHistoryNeeded(Exception):
    """The decision cannot start from the ticket's checkpoint; decide it again with the whole history."""


def require_fit(state: TicketState, mappings: Mappings, customer: Customer, placed: list[dt.datetime],
                now: dt.datetime) -> None:
    checkpoint = state.checkpoint
    if checkpoint is None:
        return
    if checkpoint.basis != basis_of(mappings, customer):
        raise FullHistoryNeeded("the mappings or the customer changed since the clock checkpoint")
    early = [at for at in placed if at <= checkpoint.upto]
    if early or now < checkpoint.upto:
        raise FullHistoryNeeded(f"an instant at or before the clock checkpoint {rows.iso(checkpoint.upto)}")


def whole_rows(archive: list[rows.HistoryRow], live: tuple[rows.HistoryRow, ...],
               checkpoint: ClockCheckpoint | None) -> tuple[rows.HistoryRow, ...]:
    """The whole history: the archive's rows, then the live ones after the checkpoint (not the summary)."""
    return tuple(archive) + tuple(r for r in live if checkpoint is None or r.at > checkpoint.upto)


def whole_history(archive: list[rows.HistoryRow], state: TicketState) -> TicketState:
    """The state with every row of its history and no checkpoint (`archive`: the rows stored so far)."""
    history = whole_rows(list(archive) + list(state.archived), state.history, state.checkpoint)
    return replace(state, history=history, checkpoint=None, archived=())


def compact(mappings: Mappings, customer: Customer, state: TicketState, now: dt.datetime,
            bounds: Bounds = BOUNDS) -> TicketState:
    """Fold the older rows into the checkpoint when the live history is past its bound (amortised: each
    compaction leaves at most `bounds.most` rows)."""
    basis = basis_of(mappings, customer)
    old = state.checkpoint
    upto = _cut(state.history, now, bounds) if len(state.history) > bounds.limit and basis else None
    if upto is None or (old is not None and upto <= old.upto):
        return state
    folded = [r for r in state.history if r.at <= upto]
    if old is None and not rows.policies(folded):
        return state  # the clock starts from the first policy row: nothing to fold before it
    clock = rows.to_clock_history(mappings, customer, state.created_at, folded, old)
    point = replay_point(clock, upto, mappings.escalation.warning_ratio)
    policy = rows.policy_in_force(mappings, folded, old)
    moved = tuple(r for r in folded if old is None or r.at > old.upto)
    return replace(state, checkpoint=ClockCheckpoint(upto, basis, policy.tier, policy.priority, point),
                   history=tuple(summary(folded)) + tuple(r for r in state.history if r.at > upto),
                   archived=state.archived + moved)


def _cut(history: tuple[rows.HistoryRow, ...], now: dt.datetime, bounds: Bounds) -> dt.datetime | None:
    """The instant to fold up to: all rows but the kept ones, never a row after `now`."""
    instants = sorted(r.at for r in history)
    recent = sum(1 for at in instants if at > now - bounds.window)
    kept = min(max(bounds.keep, recent), bounds.most)
    if kept >= len(instants):
        return None
    cut = instants[len(instants) - kept - 1]
    return cut if cut <= now else None


def summary(folded: list[rows.HistoryRow]) -> list[rows.HistoryRow]:
    """The folded rows the history questions still read (see the module docstring), in time order."""
    ordered = sorted(folded, key=lambda r: r.at)
    kept = _status_summary([r for r in ordered if isinstance(r, rows.StatusRow)])
    policies = rows.policies(ordered)
    kept += policies[-1:]
    exclusions = [r for r in ordered if isinstance(r, rows.ExclusionRow)]
    if exclusions:
        kept.append(max(exclusions, key=lambda r: r.at))  # the first of the latest: as current_exclusion picks
    kept += [r for r in ordered if isinstance(r, rows.CommentRow) and r.public and r.by_agent]
    keep = {id(r) for r in kept}
    return [r for r in ordered if id(r) in keep]


def _status_summary(ordered: list[rows.StatusRow]) -> list[rows.HistoryRow]:
    """First rows of the status blocks (a block: consecutive rows of one status) that the latest status and
    the start of the current pause need, whichever of pending and hold a tier pauses on."""
    blocks = [row for i, row in enumerate(ordered) if i == 0 or ordered[i - 1].status != row.status]
    if not blocks:
        return []
    run = len(blocks)
    while run > 0 and blocks[run - 1].status in PAUSABLE:
        run -= 1
    tail = blocks[run:] or blocks[-1:]
    return tail if len(tail) <= 3 else [tail[0]] + tail[-2:]
