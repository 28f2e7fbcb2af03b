"""`/support status #N` names the ticket's thread, when it has one (issue 12)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from integration.storage import threads


def with_thread(session: Session, message: dict, ticket_id: int) -> dict:
    row = threads.active(session, ticket_id)
    if row is None or row.thread_ts is None:
        return message
    seconds = row.thread_ts.split(".")[0]
    line = (f"Its conversation is the thread started <!date^{seconds}^{{date_short_pretty}} at {{time}}|earlier> "
            f"in <#{row.channel_id}>: replies there reach the agent, and the agent's replies appear there.")
    return {**message, "blocks": message["blocks"] + [{"type": "context",
                                                       "elements": [{"type": "mrkdwn", "text": line}]}]}
