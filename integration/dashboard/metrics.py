"""GET /metrics in Prometheus' text format.

Counters and histograms come from prometheus_client, summed over every process when gunicorn runs several
(PROMETHEUS_MULTIPROC_DIR, see integration.services.Metrics); everything else is read from the database at
scrape time, so every process reports the same state.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, current_app
from sqlalchemy import func, select

from integration.core.statuses import OPEN_STATUSES
from integration.storage import inbox, rate_budget
from integration.storage.models import InboxEvent, OutboxAction, Ticket, Timer
from integration.zendesk.budget import ACCOUNT, TICKET_UPDATE



def metrics() -> Response:
    services = current_app.extensions["escalator.services"]
    now = services.now()
    lines: list[str] = []
    with services.sessions() as session:
        _queue(lines, session, services, now)
        depth = session.execute(select(OutboxAction.target, OutboxAction.status, func.count())
                                .group_by(OutboxAction.target, OutboxAction.status)).all()
        _family(lines, "escalator_outbox_actions", "gauge", "Outbox actions by target and status.",
                [({"target": t, "status": s}, n) for t, s, n in depth])
        oldest = session.execute(select(OutboxAction.target, OutboxAction.lane, func.min(OutboxAction.created_at))
                                 .where(OutboxAction.status == "pending")
                                 .group_by(OutboxAction.target, OutboxAction.lane)).all()
        _family(lines, "escalator_outbox_oldest_pending_seconds", "gauge",
                "Age of the oldest pending action, by target and lane (0 escalation steps, 1 SLA fields, 2 the rest).",
                [({"target": t, "lane": str(lane)}, round((now - _aware(at)).total_seconds(), 3))
                 for t, lane, at in oldest])
        due = session.scalar(select(func.count()).select_from(Timer).where(Timer.fired_at.is_(None),
                                                                           Timer.due_at <= now))
        _family(lines, "escalator_timers_due", "gauge", "Timers due and not fired yet.", [({}, due)])
        levels = session.execute(select(Ticket.level, func.count()).where(Ticket.status.in_(OPEN_STATUSES))
                                 .group_by(Ticket.level)).all()
        _family(lines, "escalator_open_tickets_by_level", "gauge", "Open tickets by escalation level.",
                [({"level": str(level)}, n) for level, n in sorted(levels)])
        for target, column in (("first_response", Ticket.first_response_state), ("resolution", Ticket.resolution_state)):
            states = session.execute(select(column, func.count()).where(column.is_not(None)).group_by(column)).all()
            _family(lines, f"escalator_{target}_targets", "gauge", f"Tickets by {target.replace('_', ' ')} state.",
                    [({"state": state}, n) for state, n in sorted(states)])
    text = services.metrics.render().decode() + "\n".join(lines) + "\n"
    return Response(text, mimetype="text/plain; version=0.0.4")


def _queue(lines: list[str], session, services, now: dt.datetime) -> None:
    """What an operator pages on: events waiting for a decision, the rate budget, Zendesk work in flight."""
    oldest = inbox.oldest_undecided(session)
    _family(lines, "escalator_inbox_lag_seconds", "gauge", "Age of the oldest webhook not decided yet (0: none).",
            [({}, round(max((now - oldest).total_seconds(), 0.0), 3) if oldest else 0)])
    waiting = session.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.decide_after.is_not(None)))
    _family(lines, "escalator_inbox_undecided", "gauge", "Webhooks recorded and not decided yet.", [({}, waiting)])
    limits = {ACCOUNT: services.config.zendesk_account_rate_limit,
              TICKET_UPDATE: services.config.zendesk_ticket_update_rate_limit}
    _family(lines, "escalator_zendesk_rate_budget_remaining", "gauge",
            "Zendesk requests left in the current minute of the account-wide budget, by bucket.",
            [({"bucket": b}, max(limit - rate_budget.spent(session, b, now), 0)) for b, limit in limits.items()])
    flying = session.scalar(select(func.count()).select_from(OutboxAction).where(
        OutboxAction.target == "zendesk", OutboxAction.status == "pending", OutboxAction.lease_until > now))
    _family(lines, "escalator_zendesk_in_flight", "gauge",
            "Zendesk actions claimed by a worker and not yet recorded (an Update Many job being polled, a call "
            "under way).", [({}, flying)])


def _family(lines: list[str], name: str, kind: str, help_text: str, samples) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.timezone.utc)
