"""Which organization (and so which tier, timezone and holidays) a ticket belongs to.

Match order, first match wins: 1) Zendesk organization id, 2) organization name (case-insensitive,
exact), 3) the requester's email domain; otherwise the `default` entry of organizations.yaml.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from integration.mappings.model import Mappings, Organization


@dataclass(frozen=True)
class Customer:
    """The resolved service terms of one ticket's organization."""

    tier: str
    timezone: str
    holiday_country: str | None
    holiday_subdivision: str | None
    closed_dates: frozenset[dt.date]
    matched_by: str  # "zendesk_id" | "name" | "domain" | "default"
    organization: Organization | None = None

    @property
    def slack_channel_id(self) -> str | None:
        return self.organization.slack_channel_id if self.organization else None


def match_customer(
    mappings: Mappings,
    *,
    organization_id: int | None = None,
    organization_name: str | None = None,
    requester_email: str | None = None,
) -> Customer:
    org = mappings.organization_by_id(organization_id)
    if org is not None:
        return _from_organization(org, "zendesk_id")
    if organization_name:
        wanted = organization_name.strip().casefold()
        for org in mappings.organizations:
            if org.name and org.name.casefold() == wanted:
                return _from_organization(org, "name")
    domain = _email_domain(requester_email)
    if domain:
        for org in mappings.organizations:
            if domain in org.domains:
                return _from_organization(org, "domain")
    default = mappings.default
    return Customer(
        tier=default.tier,
        timezone=default.timezone,
        holiday_country=default.holiday_country,
        holiday_subdivision=default.holiday_subdivision,
        closed_dates=frozenset(),
        matched_by="default",
    )


def _from_organization(org: Organization, matched_by: str) -> Customer:
    return Customer(
        tier=org.tier,
        timezone=org.timezone,
        holiday_country=org.holiday_country,
        holiday_subdivision=org.holiday_subdivision,
        closed_dates=org.closed_dates,
        matched_by=matched_by,
        organization=org,
    )


def _email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None
