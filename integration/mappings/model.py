"""The validated, immutable form of the mapping files. The loader builds it; everything else reads it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from integration.core.sla.calendar import Calendar
from integration.core.sla.priority import Priority

TARGET_KINDS = ("first_response", "resolution")
# Seed 002/004: what is outside the SLA, and the Zendesk tag that says so by default.
DEFAULT_EXCLUSIONS = {
    "customer_caused": "sla_excluded_customer_caused",
    "third_party": "sla_excluded_third_party",
    "force_majeure": "sla_excluded_force_majeure",
}


@dataclass(frozen=True)
class Duration:
    """A target as written (`30m`, `4h`, `3d`); days depend on the calendar (see `seconds_on`)."""

    text: str
    minutes: int = 0  # the m and h parts, in minutes
    days: int = 0

    def seconds_on(self, calendar: Calendar) -> int:
        return self.minutes * 60 + self.days * calendar.day_seconds


@dataclass(frozen=True)
class Tier:
    name: str
    calendar: str  # name of a calendar in Mappings.calendars
    calendar_by_priority: dict[Priority, str]  # overrides, e.g. {CRITICAL: "24x7"}
    first_response: dict[Priority, Duration]
    resolution: dict[Priority, Duration]
    pause_statuses: frozenset[str]  # zendesk statuses that pause the resolution clock
    slack_channel: bool  # whether customers of this tier get the Slack channel features
    dedicated_csm: bool = False  # organizations of this tier may name a csm (organizations.yaml)
    resolution_starts: str = "created"  # created | first_response: when the resolution clock starts

    def calendar_for(self, priority: Priority) -> str:
        return self.calendar_by_priority.get(priority, self.calendar)


@dataclass(frozen=True)
class Csm:
    """An organization's dedicated Customer Success Manager."""

    zendesk_user_id: int
    slack_user_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Organization:
    zendesk_id: int
    tier: str
    timezone: str  # IANA name
    holiday_country: str | None  # python-holidays code, e.g. "US" or "DE"
    holiday_subdivision: str | None  # e.g. "CA" for California, optional
    closed_dates: frozenset[dt.date]
    name: str | None = None
    domains: tuple[str, ...] = ()
    slack_channel_id: str | None = None
    monthly_fee: float | None = None
    vip_requesters: tuple[str, ...] = ()  # emails whose tickets get the VIP floor
    csm: Csm | None = None  # only on tiers with dedicated_csm
    auto_ticket: bool = False  # every new top-level message in its Slack channel opens a ticket


@dataclass(frozen=True)
class DefaultOrganization:
    """What an unmapped organization gets."""

    tier: str
    timezone: str
    holiday_country: str | None
    holiday_subdivision: str | None = None


@dataclass(frozen=True)
class Owner:
    level: int
    role: str  # "Support Agent", …
    zendesk_group_id: int | None
    zendesk_assignee_id: int | None
    slack_channel_ids: tuple[str, ...]
    slack_user_ids: tuple[str, ...]
    raise_priority_to: Priority | None  # raise the ticket's priority to at least this on reaching the level
    customer_visible: bool  # tell the customer (Slack channel) when this level is reached


@dataclass(frozen=True)
class Escalation:
    levels: tuple[Owner, ...]  # ordered, level 1 first
    warning_ratio: float  # 0.8 = warn at 80% of a target
    executive_tag: str  # zendesk tag that marks an executive complaint
    renotify_minutes: int  # re-notify an unacknowledged step this often
    manager_level: int = 2  # warned about tickets below it (tickets at or above it warn the next level)
    staff_slack_channel_ids: tuple[str, ...] = ()  # staff channels that may look at any organization
    csat_follow_up_seconds: int = 24 * 3600  # answer a rating below 4 within this (wall-clock)
    exclusions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EXCLUSIONS))  # reason -> Zendesk tag
    billing_slack_channel_ids: tuple[str, ...] = ()  # the billing team: credit requests and their reminders
    csat_alert_below: float = 4.0  # the daily CSAT alert: previous day's average below this
    csat_alert_at_minutes: int = 9 * 60  # … sent at this local time of day (minutes after midnight)

    def owner(self, level: int) -> Owner:
        return self.levels[level - 1]


@dataclass(frozen=True)
class KeywordRule:
    priority: Priority
    keywords: tuple[str, ...]  # lower-case phrases matched on word boundaries in subject + description


@dataclass(frozen=True)
class PriorityRules:
    zendesk_to_priority: dict[str, Priority]  # "urgent" -> CRITICAL, …
    default: Priority  # when neither Zendesk nor a keyword says anything
    keyword_rules: tuple[KeywordRule, ...]  # first match wins, listed most urgent first
    vip_floor: Priority  # VIP requesters get at least this
    vip_requesters: tuple[str, ...]  # emails or @domain suffixes, lower-case

    @property
    def priority_to_zendesk(self) -> dict[Priority, str]:
        return {p: z for z, p in self.zendesk_to_priority.items()}


@dataclass(frozen=True)
class ZendeskFields:
    """Custom ticket field ids the service writes to (0 or None = not installed yet)."""

    tier_field_id: int | None
    first_response_due_field_id: int | None
    resolution_due_field_id: int | None


@dataclass(frozen=True)
class Mappings:
    calendars: dict[str, Calendar]
    tiers: dict[str, Tier]
    organizations: tuple[Organization, ...]
    default: DefaultOrganization
    escalation: Escalation
    priority: PriorityRules
    zendesk: ZendeskFields
    source: str = ""  # the directory it was loaded from
    fingerprint: str = ""  # hash of the files' bytes, to tell versions apart in logs and audit
    _by_id: dict[int, Organization] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({o.zendesk_id: o for o in self.organizations})

    def organization_by_id(self, zendesk_id: int | None) -> Organization | None:
        return self._by_id.get(zendesk_id) if zendesk_id is not None else None
