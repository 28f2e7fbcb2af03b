"""Opening a Zendesk ticket from Slack (worker side): read the message and the person, create, decide, reply."""
from __future__ import annotations

from slack_sdk.errors import SlackApiError
from zenpy.lib.api_objects import Comment as ZendeskComment
from zenpy.lib.api_objects import Ticket as ZendeskTicket

from integration.storage.outbox import Claimed, Delivered, DryRun, Failed
from integration.core.signals import Comment, TicketSignal
from integration.core import customer_views as views
from integration.slack.desk import view_of
from integration.slack.gateway import outcome_of_error as slack_outcome
from integration.core.state import Action
from integration.core.threads import SLACK_TARGET
from integration.storage import threads
from integration.storage.models import SlackOrigin, Ticket
from integration.storage.repo import enqueue
from integration.zendesk.client import api_url
from integration.zendesk.outcomes import outcome_of_error as zendesk_outcome
from integration.zendesk.payloads import parse_time


class TicketOpener:
    def __init__(self, zenpy, slack, ingestor, *, subdomain: str | None) -> None:
        self.zenpy, self.slack, self.ingestor, self.subdomain = zenpy, slack, ingestor, subdomain

    def deliver(self, action: Claimed):
        if self.zenpy is None or self.slack is None:
            return DryRun("Zendesk or Slack credentials not set: nothing was done in Zendesk")
        if action.kind == "take_ownership":
            return self._guarded(lambda: self._take_ownership(action))
        return self._guarded(lambda: self._open(action))

    def _guarded(self, work):
        try:
            return work()
        except SlackApiError as exc:
            return slack_outcome(exc)
        except LookupError as exc:
            return Failed(str(exc))
        except Exception as exc:  # noqa: BLE001 - Zendesk's errors, mapped in one place
            return zendesk_outcome(exc, None)

    def _take_ownership(self, action: Claimed):
        payload = action.payload
        person = self.slack.users_info(user=payload["user"])["user"]
        email = ((person.get("profile") or {}).get("email") or "").lower()
        agents = [u for u in self.zenpy.users.search(query=f"email:{email}") if u.role in ("agent", "admin")] \
            if email else []
        if not agents:
            self._answer(payload, f"I could not find a Zendesk agent with your Slack email ({email or 'none'}); "
                                  f"ticket #{payload['ticket_id']} was acknowledged but not reassigned.")
            return Failed(f"no Zendesk agent with email {email or '(none)'}")
        name = (person.get("profile") or {}).get("real_name") or person.get("name")
        self.zenpy.tickets.update(ZendeskTicket(id=payload["ticket_id"], assignee_id=agents[0].id, comment=ZendeskComment(
            body=f"{name} took ownership from Slack (escalation level {payload['level']}).", public=False)))
        self._answer(payload, f"You now own ticket #{payload['ticket_id']} in Zendesk.")
        return Delivered(f"ticket {payload['ticket_id']} assigned to {agents[0].id}")

    def _answer(self, payload: dict, text: str) -> None:
        if not payload.get("response_url"):
            return
        with self.ingestor.sessions.begin() as session:
            enqueue(session, Action("slack", "respond", {"url": payload["response_url"],
                                                         "message": {"response_type": "ephemeral", "text": text}},
                                    f"owner-answer-{payload['ticket_id']}-{payload['user']}-{payload['level']}"),
                    ticket_id=None, now=self.ingestor.now())

    def _open(self, action: Claimed):
        payload = action.payload
        text = payload["text"] or self._message_text(payload["channel"], payload["message_ts"])
        person = self.slack.users_info(user=payload["user"])["user"]
        ticket = self._create(action.idempotency_key, payload["organization_id"], text, person)
        self._decide_and_reply(ticket, person, payload)
        return Delivered(f"opened ticket #{ticket['id']}")

    def _message_text(self, channel: str, ts: str) -> str:
        history = self.slack.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        messages = [m for m in history.get("messages", []) if m.get("ts") == ts]
        if not messages:
            raise LookupError(f"message {ts} is not in channel {channel} any more")
        return messages[0].get("text") or "(no text)"

    def _create(self, key: str, organization_id: int, text: str, person: dict) -> dict:
        profile = person.get("profile") or {}
        name = profile.get("real_name") or person.get("real_name") or person.get("name") or "Slack user"
        body = {"ticket": {
            "subject": text.splitlines()[0][:120] if text.strip() else "Support request from Slack",
            "comment": {"body": f"{text}\n\n(opened from Slack by {name})", "public": True},
            "organization_id": organization_id,
            "tags": ["escalator_slack"],
        }}
        if profile.get("email"):
            body["ticket"]["requester"] = {"email": profile["email"], "name": name}
        # zenpy cannot send headers; Zendesk's Idempotency-Key makes a retried create return the first ticket.
        response = self.zenpy.tickets.session.post(api_url(self.subdomain, "tickets.json"), json=body,
                                                   headers={"Idempotency-Key": key}, timeout=15)
        response.raise_for_status()
        return response.json()["ticket"]

    def _decide_and_reply(self, ticket: dict, person: dict, payload: dict) -> None:
        created = parse_time(ticket["created_at"], "ticket.created_at")
        email = ((person.get("profile") or {}).get("email") or "").lower() or None
        signal = TicketSignal(
            ticket_id=ticket["id"], kind="snapshot", at=created, created_at=created, status=ticket.get("status"),
            zendesk_priority=ticket.get("priority") or "", organization_id=ticket.get("organization_id"),
            organization_known=True, requester_email=email, subject=ticket.get("subject") or "",
            description=ticket.get("description") or "", tags=tuple(ticket.get("tags") or ()),
            comments=(Comment(at=created, public=True, by_agent=False),), authoritative=True,
            source_key=f"opened:{ticket['id']}")
        self.ingestor.ingest(source="worker", dedup_key=signal.source_key, event_type="snapshot",
                             payload={"ticket_id": ticket["id"], "from": "slack"}, signal=signal)
        with self.ingestor.sessions.begin() as session:
            session.merge(SlackOrigin(ticket_id=ticket["id"], channel_id=payload["channel"], user_id=payload["user"],
                                      opened_at=self.ingestor.now()))
            view = view_of(session.get(Ticket, ticket["id"]), self.ingestor.context, customer=True)
            message = views.opened(view)
            reply = {"ticket_id": ticket["id"], "channel": payload["channel"], "text": message["text"],
                     "blocks": message["blocks"], "thread_ts": payload.get("message_ts")}
            # The ticket's thread: the customer's message, or (for /support) our reply once it has its ts.
            threads.bind(session, ticket_id=ticket["id"], organization_id=payload["organization_id"],
                         channel_id=payload["channel"], thread_ts=payload.get("message_ts"), now=self.ingestor.now())
            enqueue(session, Action(SLACK_TARGET, "start_thread", reply, f"opened-{ticket['id']}"),
                    ticket_id=ticket["id"], now=self.ingestor.now())
