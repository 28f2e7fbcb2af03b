"""What a Zendesk request sends and what its answer means for the outbox: one place for both."""
from __future__ import annotations

import datetime as dt
import json
import logging

import requests
from zenpy.lib.api_objects import Comment as ZendeskComment
from zenpy.lib.api_objects import Ticket as ZendeskTicket
from zenpy.lib.exception import APIException, RecordNotFoundException

from integration.core.zendesk_update import UPDATE_FIELDS as FIELDS
from integration.storage.outbox import Deferred, Failed, RetryLater
from integration.zendesk.client import ZendeskRateLimited

log = logging.getLogger("escalator.zendesk")


def zendesk_ticket(payload: dict, stamp: str | None) -> ZendeskTicket:
    changes = {name: payload[name] for name in FIELDS if name in payload}
    if payload.get("note"):
        changes["comment"] = ZendeskComment(body=payload["note"], public=False)
    if stamp:
        changes |= {"safe_update": True, "updated_stamp": stamp}
    return ZendeskTicket(id=payload["ticket_id"], **changes)


def outcome_of_error(exc: Exception, ticket_id: int | None):
    """The one mapping from a Zendesk call's error to what the outbox does next."""
    if isinstance(exc, ZendeskRateLimited):
        return Deferred(dt.timedelta(seconds=exc.retry_after), "Zendesk answered 429")
    if isinstance(exc, RecordNotFoundException):
        return Failed(f"ticket {ticket_id} does not exist in Zendesk (404)")
    if isinstance(exc, (APIException, requests.HTTPError)):
        return _from_http_error(exc)
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError)):
        return RetryLater(f"{exc.__class__.__name__}: {exc}")
    log.exception("unexpected error from Zendesk for ticket %s", ticket_id)
    return RetryLater(f"{exc.__class__.__name__}: {exc}")


def is_conflict(exc: APIException) -> bool:
    response = getattr(exc, "response", None)
    return response is not None and response.status_code == 409


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
