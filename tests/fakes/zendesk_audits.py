"""The fake Zendesk's ticket audit log: `GET /api/v2/tickets/{id}/audits.json`.

Zendesk keeps one audit per change to a ticket, at the instant it was made: `Create` events with the
first values when the ticket is created, `Change` events (field_name, value, previous_value) and
`Comment` events (public, author_id, body) later. The list is oldest first; with `page[size]` (what
zenpy sends) it is cursor-paginated like the comments: `{"audits", "meta": {"has_more",
"after_cursor", "before_cursor"}, "links": {"next", "prev"}}`, else offset-paginated
(`next_page`, `previous_page`, `count`). Source: developer.zendesk.com "Ticket Audits" (List Audits
for a Ticket; at most 100 per page; changes made by triggers appear in the same audit).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

from werkzeug.wrappers import Request, Response


TRACKED = ("status", "priority", "organization_id", "group_id", "assignee_id", "tags")


def create_audit(state, ticket: dict[str, Any]) -> dict[str, Any]:
    """The audit of a ticket's creation, at its created_at (seeded tickets included)."""
    events = [{"id": next(state._event_ids), "type": "Create", "field_name": name, "value": ticket.get(name)}
              for name in TRACKED]
    return record(state, ticket["id"], ticket["created_at"], ticket.get("requester_id"), events)


def comment_event(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: comment[k] for k in ("id", "type", "author_id", "body", "html_body", "plain_body", "public",
                                    "attachments", "audit_id")}


def record(state, ticket_id: int, at: str, author_id: int | None,
           events: list[dict[str, Any]], audit_id: int | None = None) -> dict[str, Any]:
    audit = {"id": audit_id or next(state._event_ids), "ticket_id": ticket_id, "created_at": at,
             "author_id": author_id, "metadata": {"system": {"client": "Zenpy"}, "custom": {}},
             "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}, "events": events}
    state.audits.setdefault(ticket_id, []).append(audit)
    return audit


class AuditRoutes:
    def __init__(self, app) -> None:
        self.app = app

    def routes(self) -> list[tuple[str, str, Callable[..., Response]]]:
        return [("GET", r"/api/v2/tickets/(\d+)/audits\.json", self.list_audits)]

    def list_audits(self, request: Request, body: Any, query: dict[str, str], ticket_id: int) -> Response:
        state = self.app.state
        if ticket_id not in state.tickets:
            return self.app.json(404, {"error": "RecordNotFound", "description": "Not found"})
        audits = sorted(state.audits.get(ticket_id, []), key=lambda a: (a["created_at"], a["id"]))
        base = f"{request.host_url.rstrip('/')}{request.path}"
        if "page[size]" in query or "page[after]" in query:
            response = self.app._cursor_page(audits, query, base)
            page = response.get_json()
            page["audits"] = page.pop("comments")
            return self.app.json(200, page)
        return self.app.json(200, {"audits": copy.deepcopy(audits), "next_page": None, "previous_page": None,
                                   "count": len(audits)})
