"""What the sidebar app reads from the database: one ticket's view with its commitments."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from integration.core.sidebar_view import Commitment, ticket_view
from integration.mappings.model import Mappings
from integration.storage import repo
from integration.storage.models import CsatRating, OutboxAction, Timer

_CUSTOMER_NOTICE = re.compile(r"^slack-\d+-L(\d+)-customer-")
_SHOWN_STATUSES = {"done": "sent", "dry_run": "recorded (dry-run)", "pending": "queued", "failed": "failed",
                   "dropped": "dropped"}


def sidebar(session: Session, mappings: Mappings, ticket_id: int, now: dt.datetime) -> dict | None:
    state = repo.load_ticket(session, ticket_id)
    if state is None:
        return None
    return ticket_view(mappings, state, now, tuple(commitments(session, mappings, ticket_id)))


def commitments(session: Session, mappings: Mappings, ticket_id: int) -> list[Commitment]:
    found: list[Commitment] = []
    actions = session.scalars(select(OutboxAction).where(OutboxAction.ticket_id == ticket_id,
                                                         OutboxAction.target == "slack")
                              .order_by(OutboxAction.id)).all()
    for action in actions:
        status = _SHOWN_STATUSES.get(action.status, action.status)
        if action.idempotency_key.startswith(f"csat-prompt-{ticket_id}-"):
            found.append(Commitment("csat_follow_up", f"CSAT survey posted in the customer's Slack channel ({status})",
                                    action.created_at))
        elif match := _CUSTOMER_NOTICE.match(action.idempotency_key):
            level = int(match.group(1))
            role = _role(mappings, level)
            found.append(Commitment("customer_told", f"Customer told that {role} (level {level}) owns it and will "
                                                     f"follow up ({status})", action.created_at))
    for rating in session.scalars(select(CsatRating).where(CsatRating.ticket_id == ticket_id)
                                  .order_by(CsatRating.at)).all():
        score = f"{rating.score}/5 in Slack" if rating.score is not None else f"{rating.zendesk_score} in Zendesk"
        found.append(Commitment("csat_rating", f"Customer rated the ticket {score}", rating.at))
    reminder = session.scalar(select(Timer).where(Timer.ticket_id == ticket_id, Timer.kind == "renotify",
                                                  Timer.fired_at.is_(None)))
    if reminder is not None:
        found.append(Commitment("reminder", "The unacknowledged step is re-notified", reminder.due_at))
    return found


def _role(mappings: Mappings, level: int) -> str:
    levels = mappings.escalation.levels
    return levels[min(level, len(levels)) - 1].role if levels else f"level {level}"
