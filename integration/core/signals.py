"""What an inbound event says about a ticket, once verified and parsed; only trustworthy values are set.

Parsers (Zendesk webhooks, the worker's authoritative API read, Slack) all produce a TicketSignal;
`decide` consumes it. A field left as None means "this event does not say".
"""
from __future__ import annotations

import datetime as dt
from dataclasses import MISSING, dataclass, field, fields

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
class Transition:
    """A field's change at the instant Zendesk says it happened (an event subscription, or the audit log)."""

    at: dt.datetime
    field: str  # status | priority | organization
    current: str | int | None  # status: "open"; priority: "normal" ("" = none); organization: an id or None
    previous: str | int | None = None
    previous_known: bool = False  # the event states the previous value (the audit log's Create rows do not)

    def to_json(self) -> dict:
        return {"at": self.at.isoformat(), "field": self.field, "current": self.current, "previous": self.previous,
                "previous_known": self.previous_known}

    @classmethod
    def from_json(cls, data: dict) -> "Transition":
        return cls(at=dt.datetime.fromisoformat(data["at"]), field=data["field"], current=data["current"],
                   previous=data.get("previous"), previous_known=data.get("previous_known", False))


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
    transition: Transition | None = None  # a *_changed event: what changed, from what, at `at`
    timeline: tuple[Transition, ...] | None = None  # the audit log: every value each field took, from creation
    authoritative: bool = False  # read from the API by the worker: complete and trusted
    untrusted: tuple[str, ...] = field(default=())  # fields the payload carried that we could not trust
    source_key: str = ""  # the inbound event's dedup key, so follow-up actions are idempotent too

    def to_json(self) -> dict:
        """What the inbox keeps for the worker to decide later; from_json gives back an equal signal. Fields
        left at their default are left out (from_json restores them): a webhook's signal sets a few of 25."""
        data: dict = {}
        for name, default in _DEFAULTS:
            value = getattr(self, name)
            if value == default and name not in _REQUIRED:
                continue
            if name in _INSTANTS:
                value = value.isoformat() if value is not None else None
            elif name == "comments":
                value = [comment.to_json() for comment in value]
            elif name == "transition":
                value = value.to_json() if value is not None else None
            elif name == "timeline":
                value = [step.to_json() for step in value] if value is not None else None
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
        return data

    @classmethod
    def from_json(cls, data: dict) -> "TicketSignal":
        known = {spec.name for spec in fields(cls)}
        values = {name: value for name, value in data.items() if name in known}
        for name in _INSTANTS:
            if values.get(name) is not None:
                values[name] = dt.datetime.fromisoformat(values[name])
        values["comments"] = tuple(Comment.from_json(c) for c in values.get("comments", ()))
        if values.get("transition") is not None:
            values["transition"] = Transition.from_json(values["transition"])
        if values.get("timeline") is not None:
            values["timeline"] = tuple(Transition.from_json(step) for step in values["timeline"])
        for name in ("tags", "untrusted"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return cls(**values)

    @property
    def needs_refresh(self) -> bool:
        """A ticket we must read from the API before deciding (through the worker)."""
        return bool(self.untrusted) and not self.authoritative


_INSTANTS = ("at", "created_at")
_DEFAULTS = tuple((spec.name, spec.default) for spec in fields(TicketSignal))
_REQUIRED = frozenset(name for name, default in _DEFAULTS if default is MISSING)
