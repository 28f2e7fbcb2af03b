"""From mappings to the clock's Policy: which calendar, targets and pauses apply to (customer, priority)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays

from integration.core.customers import Customer
from integration.mappings.model import Mappings, Tier
from integration.core.sla.calendar import BusinessClock, Calendar
from integration.core.sla.priority import Priority
from integration.core.sla.ticket import Policy


@dataclass(frozen=True)
class ClosedDays:
    """A customer's closed local days: public holidays of a country (optionally a subdivision) plus extras."""

    country: str | None
    subdivision: str | None
    extra: frozenset[dt.date]

    def __post_init__(self) -> None:
        calendar = holidays.country_holidays(self.country, subdiv=self.subdivision) if self.country else None
        object.__setattr__(self, "_holidays", calendar)

    def __call__(self, day: dt.date) -> bool:
        return day in self.extra or (self._holidays is not None and day in self._holidays)

    def name_of(self, day: dt.date) -> str | None:
        if day in self.extra:
            return "closed date from organizations.yaml"
        return self._holidays.get(day) if self._holidays is not None else None


def policy_for(mappings: Mappings, customer: Customer, priority: Priority) -> Policy:
    tier = mappings.tiers[customer.tier]
    calendar = mappings.calendars[tier.calendar_for(priority)]
    clock = clock_for(calendar, customer.timezone, closed_days(customer))
    return Policy(
        clock=clock,
        first_response=dt.timedelta(seconds=tier.first_response[priority].seconds_on(calendar)),
        resolution=dt.timedelta(seconds=tier.resolution[priority].seconds_on(calendar)),
        pause_statuses=tier.pause_statuses,
        label=describe(tier, priority, calendar, customer.timezone),
        resolution_from_first_response=tier.resolution_starts == "first_response",
    )


def closed_days(customer: Customer) -> ClosedDays:
    return _closed_days(customer.holiday_country, customer.holiday_subdivision, customer.closed_dates)


@lru_cache(maxsize=1024)
def _closed_days(country: str | None, subdivision: str | None, extra: frozenset[dt.date]) -> ClosedDays:
    return ClosedDays(country, subdivision, extra)


# Clocks cache their closed-day lookups, so reusing one per (calendar, zone, holidays) keeps them warm.
@lru_cache(maxsize=1024)
def clock_for(calendar: Calendar, timezone: str, closed: ClosedDays) -> BusinessClock:
    return BusinessClock(calendar, timezone, closed)


def describe(tier: Tier, priority: Priority, calendar: Calendar, timezone: str) -> str:
    fr, res = tier.first_response[priority].text, tier.resolution[priority].text
    starts = ", resolution from the first response" if tier.resolution_starts == "first_response" else ""
    return (f"{tier.name}/{priority.value}: first response {fr}, resolution {res}{starts} "
            f"on {calendar.name} ({timezone})")
