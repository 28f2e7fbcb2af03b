"""Plain inputs for the core's unit tests: the tests' mapping files, loaded, and a few instants and signals."""
from __future__ import annotations

import dataclasses
import datetime as dt

from integration.core.customers import match_customer
from integration.core.signals import TicketSignal
from integration.core.sla.ticket import State, Target, TargetStatus
from integration.mappings.loader import load_mappings
from tests.harness import TEST_MAPPINGS

UTC = dt.timezone.utc
# Monday 2 March 2026, 14:00 UTC = 09:00 in New York (EST).
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC)

MAPPINGS = load_mappings(TEST_MAPPINGS)  # custom Zendesk fields not installed (ids null)
# The same, after `escalator zendesk install` wrote the three field ids.
INSTALLED = dataclasses.replace(MAPPINGS, zendesk=dataclasses.replace(
    MAPPINGS.zendesk, tier_field_id=9001, first_response_due_field_id=9002, resolution_due_field_id=9003))

# In tests/fixtures/mappings/organizations.yaml: enterprise, 24x7, America/New_York, Slack channel C05NWLOGIST.
NORTHWIND = 360000000101
# Pro tier, 24x7, Europe/Berlin, no Slack channel.
BRANDT = 360000000102


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def customer(organization_id: int = NORTHWIND):
    return match_customer(MAPPINGS, organization_id=organization_id)


def snapshot(ticket_id: int = 7, *, at: dt.datetime = T0, created_at: dt.datetime = T0, priority: str = "urgent",
             organization_id: int = NORTHWIND, authoritative: bool = True, **fields) -> TicketSignal:
    """What the worker reads from the Zendesk API (authoritative) or a webhook says (not authoritative)."""
    return TicketSignal(ticket_id=ticket_id, kind="snapshot", at=at, created_at=created_at, status="open",
                        zendesk_priority=priority, organization_id=organization_id, organization_known=True,
                        subject="Checkout is down", authoritative=authoritative, source_key=f"api-{ticket_id}",
                        **fields)


def tick(ticket_id: int = 7, *, at: dt.datetime) -> TicketSignal:
    """A timer of the ticket fell due."""
    return TicketSignal(ticket_id=ticket_id, kind="tick", at=at, source_key=f"tick-{at.isoformat()}")


def target(which: Target, state: State, *, due: dt.datetime | None, warning: dt.datetime | None = None,
           length: dt.timedelta = minutes(15), elapsed: dt.timedelta = dt.timedelta(0),
           breached_at: dt.datetime | None = None) -> TargetStatus:
    return TargetStatus(which, state, due, warning, elapsed, length - elapsed, length, None, breached_at)


def running_sla(first_due: dt.datetime = T0 + minutes(15), resolution_due: dt.datetime = T0 + minutes(120),
                ) -> dict[Target, TargetStatus]:
    """Enterprise critical from T0: first response 15m (warning at 12m), resolution 2h (warning at 96m)."""
    return {
        Target.FIRST_RESPONSE: target(Target.FIRST_RESPONSE, State.RUNNING, due=first_due,
                                      warning=first_due - minutes(3)),
        Target.RESOLUTION: target(Target.RESOLUTION, State.RUNNING, due=resolution_due,
                                  warning=resolution_due - minutes(24), length=minutes(120)),
    }
