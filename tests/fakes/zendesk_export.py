"""Bulk reads of the fake Zendesk: the cursor-based incremental ticket export and the ticket count.

`GET /api/v2/incremental/tickets/cursor.json?start_time=<unix>` (first request) or `?cursor=<c>`
(every later one), with `per_page` (at most 1000, the default), `include=users` (side-loads the
requesters, submitters and assignees of the page) and `exclude_deleted`. The answer is
`{"tickets", "after_url", "after_cursor", "before_url", "before_cursor", "end_of_stream"}`: tickets in
`generated_timestamp` then id order, each with its `generated_timestamp`; `after_cursor` is given on
every page (at the end too, so a client can poll for later changes). The cursor encodes the last
ticket's (timestamp, id) like Zendesk's (`base64("1576613539.0||467|")`), so it never expires and a
ticket changed later comes back later in the stream. Sources: developer.zendesk.com "Incremental
Exports" (cursor-based export, JSON format, side-loads; 10 requests a minute); not emulated: the
most recent minute being left out, and the rate limit (tests inject 429s with `rate_limit_next`).
`GET /api/v2/tickets/count.json` -> `{"count": {"value", "refreshed_at"}}`.
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
from datetime import datetime
from typing import Any, Callable, Iterable
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tests.fakes.zendesk_state import ZendeskError, ZendeskState

MAX_PER_PAGE = 1000


def generated_timestamp(ticket: dict[str, Any]) -> int:
    if ticket.get("generated_timestamp") is not None:
        return int(ticket["generated_timestamp"])
    return int(datetime.fromisoformat(ticket["updated_at"].replace("Z", "+00:00")).timestamp())


def encode_cursor(timestamp: int, ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"{timestamp}.0||{ticket_id}|".encode()).decode()


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        stamp, _, rest = base64.urlsafe_b64decode(cursor.encode()).decode().partition("||")
        return int(float(stamp)), int(rest.rstrip("|"))
    except (ValueError, UnicodeDecodeError):
        raise ZendeskError(400, {"error": "InvalidPaginationParameter",
                                 "description": "cursor is invalid"}) from None


def seed_tickets(state: ZendeskState, rows: Iterable[dict[str, Any]]) -> int:
    """Add many tickets at once (each row holds "id" and any ticket fields); returns how many."""
    count = 0
    for row in rows:
        row = dict(row)
        state.add_ticket(row.pop("id", None), row)
        count += 1
    return count


class ExportRoutes:
    def __init__(self, app: Any) -> None:
        self.app = app

    def routes(self) -> list[tuple[str, str, Callable[..., Response]]]:
        return [
            ("GET", r"/api/v2/incremental/tickets/cursor\.json", self.export_tickets),
            ("GET", r"/api/v2/tickets/count\.json", self.count_tickets),
        ]

    @staticmethod
    def json(status: int, body: Any) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")

    def count_tickets(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        state: ZendeskState = self.app.state
        return self.json(200, {"count": {"value": len(state.tickets), "refreshed_at": state.now()}})

    def export_tickets(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        state: ZendeskState = self.app.state
        has_start, has_cursor = "start_time" in query, bool(query.get("cursor"))
        if has_start == has_cursor:
            raise ZendeskError(400, {"error": "InvalidPaginationParameter",
                                     "description": "give either start_time (first request) or cursor"})
        per_page = min(max(int(query.get("per_page") or MAX_PER_PAGE), 1), MAX_PER_PAGE)
        ordered = sorted((generated_timestamp(t), t["id"]) for t in state.tickets.values())
        if has_cursor:
            after = decode_cursor(query["cursor"])
            start = bisect.bisect_right(ordered, after)
        else:
            after = (int(query["start_time"]) - 1, 2 ** 62)
            start = bisect.bisect_left(ordered, (int(query["start_time"]), -1))
        keys = ordered[start:start + per_page]
        tickets = []
        for stamp, ticket_id in keys:
            ticket = copy.deepcopy(state.tickets[ticket_id])
            ticket["generated_timestamp"] = stamp
            tickets.append(ticket)
        if keys:
            after_cursor = encode_cursor(*keys[-1])
        else:  # nothing (yet): the same position, to poll again later
            after_cursor = query["cursor"] if has_cursor else encode_cursor(*after)
        base = f"{request.host_url.rstrip('/')}{request.path}"
        extra = {k: query[k] for k in ("per_page", "include", "exclude_deleted") if k in query}
        answer: dict[str, Any] = {
            "tickets": tickets,
            "after_url": f"{base}?{urlencode({'cursor': after_cursor, **extra})}",
            "after_cursor": after_cursor,
            "before_url": None,
            "before_cursor": None,
            "end_of_stream": start + per_page >= len(ordered),
        }
        if "users" in (query.get("include") or "").split(","):
            ids = {t[k] for t in tickets for k in ("requester_id", "submitter_id", "assignee_id") if t.get(k)}
            answer["users"] = [copy.deepcopy(state.users[i]) for i in sorted(ids) if i in state.users]
        return self.json(200, answer)
