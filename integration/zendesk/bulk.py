"""Many tickets at once through Update Many Tickets (PUT /api/v2/tickets/update_many.json).

One request reads every ticket's updated_stamp (show_many), one submits up to 100 tickets each with its own
changes and note as safe updates, and a few polls read the job's per-ticket results: a storm of 1,000
breaches costs tens of requests instead of thousands, and stays far inside Update Ticket's 100 a minute.
"""
from __future__ import annotations

import datetime as dt
import time

from integration.storage.outbox import Claimed, Deferred, Delivered, Failed, RetryLater
from integration.zendesk.outcomes import zendesk_ticket

POLL_EVERY = (0.25, 0.5, 1.0, 1.0, 2.0)  # seconds between job status reads, then every 2 s
POLL_FOR = 120.0  # give up reading a job after this long; its tickets are retried (safe updates)
# Job item errors that retrying cannot fix (a single PUT's 404 or 422): the action fails, with Zendesk's words.
PERMANENT = ("RecordNotFound", "TicketNotFound", "TicketUpdateFailed", "RecordInvalid", "PermissionDenied")


def deliver_bulk(gateway, actions: list[Claimed]) -> dict:
    missing = [a for a in actions if not a.payload.get("updated_stamp")]
    wait = gateway.budget.spend(account=2 if missing else 1)
    if wait:
        return {a.id: Deferred(wait, "Zendesk rate budget") for a in actions}
    try:
        stamps = {a.id: a.payload.get("updated_stamp") for a in actions}
        if missing:
            stamps |= _read_stamps(gateway, missing)
        job = gateway.zenpy.tickets.update([zendesk_ticket(a.payload, stamps[a.id]) for a in actions
                                            if stamps[a.id]])
    except Exception as exc:  # noqa: BLE001 - the whole job failed before Zendesk queued it
        return {a.id: gateway.error_outcome(exc, a.ticket_id) for a in actions}
    outcomes = {a.id: Failed(f"ticket {a.ticket_id} does not exist in Zendesk") for a in actions if not stamps[a.id]}
    results = _poll(gateway, job.id)
    if results is None:
        return outcomes | {a.id: RetryLater(f"Zendesk job {job.id} did not finish in {POLL_FOR:.0f} s")
                           for a in actions if a.id not in outcomes}
    by_ticket = {r.get("id"): r for r in results}
    for action in actions:
        if action.id not in outcomes:
            outcomes[action.id] = _item_outcome(gateway, action, by_ticket.get(action.payload["ticket_id"]), job.id)
    return outcomes


def _read_stamps(gateway, actions: list[Claimed]) -> dict[int, str | None]:
    ids = [a.payload["ticket_id"] for a in actions]
    found = {t.id: t.updated_at for t in gateway.zenpy.tickets(ids=ids)}
    stamps = {a.id: found.get(a.payload["ticket_id"]) for a in actions}
    gateway.remember_many([(a, {"updated_stamp": stamps[a.id]}) for a in actions if stamps[a.id]])
    return stamps


def _poll(gateway, job_id: str) -> list[dict] | None:
    started, polls = time.monotonic(), 0
    while time.monotonic() - started < POLL_FOR:
        time.sleep(POLL_EVERY[min(polls, len(POLL_EVERY) - 1)])
        polls += 1
        wait = gateway.budget.spend(account=1)
        if wait:
            time.sleep(min(wait.total_seconds(), 5.0))
            continue
        try:
            job = gateway.zenpy.job_status(id=job_id)
        except Exception:  # noqa: BLE001 - a failed poll is polled again
            continue
        if job.status == "completed":
            return [_result_dict(r) for r in (job.results or [])]
        if job.status == "failed":
            return []
    return None


def _result_dict(result) -> dict:
    if isinstance(result, dict):
        return result
    return {key: getattr(result, key, None) for key in ("id", "success", "status", "error", "details", "index")}


def _item_outcome(gateway, action: Claimed, result: dict | None, job_id: str):
    if result is None:
        return RetryLater(f"Zendesk job {job_id} says nothing of ticket {action.ticket_id}")
    if result.get("success"):
        return Delivered(f"updated in Zendesk job {job_id}")
    error, details = result.get("error") or "", result.get("details") or result.get("status") or ""
    if error == "UpdateConflict":
        return gateway.after_conflict(action)
    if error in PERMANENT:
        return Failed(f"Zendesk refused ticket {action.ticket_id} in job {job_id}: {error} {details}".strip())
    return RetryLater(f"Zendesk job {job_id}, ticket {action.ticket_id}: {error} {details}".strip(),
                      after=dt.timedelta(seconds=5))
