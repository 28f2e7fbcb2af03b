"""GET /metrics in Prometheus' text format.

Webhook counts are this process's (each gunicorn worker reports its own; Prometheus sums them);
everything else is read from the database, so every process reports the same state.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, current_app
from sqlalchemy import func, select

from integration.core.statuses import OPEN_STATUSES
from integration.storage.models import OutboxAction, Ticket, Timer



def metrics() -> Response:
    services = current_app.extensions["escalator.services"]
    now = services.now()
    lines: list[str] = []
    _family(lines, "escalator_webhook_requests_total", "counter", "Webhook requests by source and outcome.",
            [({"source": s, "outcome": o}, n) for (s, o), n in sorted(services.metrics.webhooks.items())])
    with services.sessions() as session:
        depth = session.execute(select(OutboxAction.target, OutboxAction.status, func.count())
                                .group_by(OutboxAction.target, OutboxAction.status)).all()
        _family(lines, "escalator_outbox_actions", "gauge", "Outbox actions by target and status.",
                [({"target": t, "status": s}, n) for t, s, n in depth])
        oldest = session.execute(select(OutboxAction.target, func.min(OutboxAction.created_at))
                                 .where(OutboxAction.status == "pending").group_by(OutboxAction.target)).all()
        _family(lines, "escalator_outbox_oldest_pending_seconds", "gauge", "Age of the oldest pending action.",
                [({"target": t}, round((now - _aware(at)).total_seconds(), 3)) for t, at in oldest])
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
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def _family(lines: list[str], name: str, kind: str, help_text: str, samples) -> None:
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    for labels, value in samples:
        rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{name}{{{rendered}}} {value}" if rendered else f"{name} {value}")


def _escape(value) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.timezone.utc)
