"""What an inbound event says about a ticket, once verified and parsed; only trustworthy values are set.

Parsers (Zendesk webhooks, the worker's authoritative API read, Slack) all produce a TicketSignal;
`decide` consumes it. A field left as None means "this event does not say".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields

ZENDESK_PRIORITIES = ("urgent", "high", "normal", "low")


@dataclass(frozen=True)
class Comment:
    at: dt.datetime
    public: bool
    by_agent: bool

    def to_json(self) -> dict:
        return {"at": self.at.isoformat(), "public": self.public, "by_agent": self.by_agent}

    @classmethod
    def from_json(cls, data: dict) -> "Comment":
        return cls(at=dt.datetime.fromisoformat(data["at"]), public=data["public"], by_agent=data["by_agent"])


@dataclass(frozen=True)
class TicketSignal:
    ticket_id: int
    kind: str  # created | updated | comment | status | … | snapshot | tick | acknowledge | escalation_request
    at: dt.datetime | None  # when it happened in Zendesk (not when we received it); None: unknown
    created_at: dt.datetime | None = None
    status: str | None = None
    zendesk_priority: str | None = None  # "" = Zendesk says the ticket has no priority
    organization_id: int | None = None
    organization_known: bool = False  # True when the event states the organization (even "none")
    requester_email: str | None = None
    subject: str | None = None
    description: str | None = None
    comments: tuple[Comment, ...] = ()
    tags: tuple[str, ...] | None = None
    satisfaction: str | None = None  # good | bad | offered | unoffered
    escalation_request: str | None = None  # a customer's reason, from Slack
    executive: bool = False  # the request is an executive complaint
    actor: str | None = None  # who acted (Slack user id) for requests and acknowledgements
    ack_level: int | None = None  # kind="acknowledge": the level acknowledged
    csat: int | None = None  # kind="csat": the customer's rating, 1-5
    actor_team: str | None = None  # the actor's Slack team (Slack Connect: a customer's own team)
    authoritative: bool = False  # read from the API by the worker: complete and trusted
    untrusted: tuple[str, ...] = field(default=())  # fields the payload carried that we could not trust
    source_key: str = ""  # the inbound event's dedup key, so follow-up actions are idempotent too

    def to_json(self) -> dict:
        """What the inbox keeps for the worker to decide later; from_json gives back an equal signal."""
        data: dict = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name in _INSTANTS:
                value = value.isoformat() if value is not None else None
            elif spec.name == "comments":
                value = [comment.to_json() for comment in value]
            elif isinstance(value, tuple):
                value = list(value)
            data[spec.name] = value
        return data

    @classmethod
    def from_json(cls, data: dict) -> "TicketSignal":
        known = {spec.name for spec in fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        for name in _INSTANTS:
            if values.get(name) is not None:
                values[name] = dt.datetime.fromisoformat(values[name])
        values["comments"] = tuple(Comment.from_json(c) for c in values.get("comments", ()))
        for name in ("tags", "untrusted"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return cls(**values)

    @property
    def needs_refresh(self) -> bool:
        """A ticket we must read from the API before deciding (through the worker)."""
        return bool(self.untrusted) and not self.authoritative


_INSTANTS = ("at", "created_at")
