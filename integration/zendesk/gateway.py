"""Every call to Zendesk goes through here: ticket updates and authoritative reads, from the outbox."""
from __future__ import annotations

import datetime as dt
import json
import logging

import requests
from zenpy.lib.api_objects import Comment as ZendeskComment
from zenpy.lib.api_objects import Ticket as ZendeskTicket
from zenpy.lib.exception import APIException, RecordNotFoundException

from integration.storage.outbox import Claimed, Delivered, DryRun, Failed, RetryLater
from integration.zendesk.client import TokenBucket, ZendeskRateLimited
from integration.zendesk.snapshot import read_snapshot
from integration.core.zendesk_update import UPDATE_FIELDS as FIELDS

log = logging.getLogger("escalator.zendesk")


class ZendeskGateway:
    def __init__(self, zenpy, ingestor, *, bucket: TokenBucket | None = None) -> None:
        self.zenpy, self.ingestor, self.bucket = zenpy, ingestor, bucket or TokenBucket()

    def deliver(self, action: Claimed):
        if self.zenpy is None:
            return DryRun("Zendesk credentials not set: recorded, not sent")
        try:
            if action.kind == "update_ticket":
                return self._update(action)
            if action.kind == "fetch_ticket":
                return self._fetch(action)
            return Failed(f"unknown Zendesk action kind {action.kind!r}")
        except ZendeskRateLimited as exc:
            return RetryLater(str(exc), after=dt.timedelta(seconds=exc.retry_after))
        except RecordNotFoundException:
            return Failed(f"ticket {action.ticket_id} does not exist in Zendesk (404)")
        except (APIException, requests.HTTPError) as exc:
            return _from_http_error(exc)
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError) as exc:
            return RetryLater(f"{exc.__class__.__name__}: {exc}")

    def _update(self, action: Claimed):
        payload = action.payload
        marker = payload.get("marker")
        # An earlier attempt may have reached Zendesk before we could record it (a crash, a timeout):
        # the note and the fields travel in one PUT, so finding the note means all of it landed.
        if marker and action.attempts > 1 and self._has_note(payload["ticket_id"], marker):
            return Delivered(f"already applied (found {marker} on the ticket)")
        wait = self.bucket.take()
        if wait:
            return RetryLater("holding under Zendesk's ticket update limit", after=dt.timedelta(seconds=wait))
        changes = {name: payload[name] for name in FIELDS if name in payload}
        if payload.get("note"):
            changes["comment"] = ZendeskComment(body=payload["note"], public=False)
        self.zenpy.tickets.update(ZendeskTicket(id=payload["ticket_id"], **changes))
        return Delivered()

    def _has_note(self, ticket_id: int, marker: str) -> bool:
        return any(marker in (c.body or "") for c in self.zenpy.tickets.comments(ticket=ticket_id))

    def _fetch(self, action: Claimed):
        ticket_id = action.payload["ticket_id"]
        signal = read_snapshot(self.zenpy, ticket_id, source_key=f"snapshot:{action.idempotency_key}")
        result = self.ingestor.ingest(source="worker", dedup_key=signal.source_key, event_type="snapshot",
                                      payload={"ticket_id": ticket_id, "read_for": action.idempotency_key},
                                      signal=signal)
        return Delivered(f"read ticket {ticket_id}: {result.outcome}")


def _from_http_error(exc) -> RetryLater | Failed:
    response = getattr(exc, "response", None)
    status = response.status_code if response is not None else None
    body = _body(exc, response)
    if status is None or status >= 500 or status in (408, 409):
        return RetryLater(f"Zendesk answered {status}: {body}")
    return Failed(f"Zendesk refused it ({status}): {body}")


def _body(exc, response) -> str:
    try:
        return json.dumps(response.json())[:500] if response is not None else str(exc)[:500]
    except ValueError:
        return (response.text or str(exc))[:500]
