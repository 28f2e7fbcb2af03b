"""In-memory Zendesk account used by the fake server (tests/fakes/zendesk.py).

Pure data logic, no HTTP: tickets, comments, users, organizations, and the
way Zendesk merges a ticket update (PUT /api/v2/tickets/{id}.json). Shapes
follow the public Ticketing API; see docs/zendesk-facts.md for sources.
Every method is called with the server's lock held.
"""

from __future__ import annotations

import copy
import itertools
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from tests.fakes import zendesk_audits as audits

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
PRIORITIES = ("urgent", "high", "normal", "low")


class ZendeskError(Exception):
    """An API error the server renders as JSON: (status, body)."""

    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(status, body)
        self.status = status
        self.body = body


def not_found() -> ZendeskError:
    return ZendeskError(404, {"error": "RecordNotFound", "description": "Not found"})


def record_invalid(details: dict[str, Any]) -> ZendeskError:
    return ZendeskError(
        422,
        {"error": "RecordInvalid", "description": "Record validation errors", "details": details},
    )


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tags(value: Any) -> list[str]:
    """Zendesk splits tags on spaces; keep order, drop duplicates and blanks."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split()
    out: list[str] = []
    for item in value:
        for tag in str(item).split():
            if tag not in out:
                out.append(tag)
    return out


class ZendeskState:
    def __init__(self, subdomain: str, clock: Callable[[], datetime]):
        self.subdomain = subdomain
        self.clock = clock
        self.tickets: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.audits: dict[int, list[dict[str, Any]]] = {}  # tests/fakes/zendesk_audits.py
        self.users: dict[int, dict[str, Any]] = {}
        self.organizations: dict[int, dict[str, Any]] = {}
        self.rejected: dict[int, tuple[int, dict[str, Any]]] = {}
        self.idempotency: dict[str, tuple[Any, int, dict[str, Any]]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}  # job statuses (tests/fakes/zendesk_bulk.py)
        # Admin objects (tests/fakes/zendesk_admin.py); webhook ids are strings, as Zendesk's are.
        self.ticket_fields: dict[int, dict[str, Any]] = {}
        self.webhooks: dict[str, dict[str, Any]] = {}
        self.webhook_secrets: dict[str, str] = {}
        self.triggers: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(50_000)
        self.uploads: dict[str, dict[str, Any]] = {}  # token -> the attachment it will become
        self.upload_content: dict[int, bytes] = {}  # attachment id -> bytes
        self._event_ids = itertools.count(7_000_000)

    # -- helpers -------------------------------------------------------------
    def now(self) -> str:
        return iso(self.clock())

    def next_stamp(self, previous: str | None) -> str:
        """updated_at for a write: max(now, previous + 1 s), so every write moves it strictly forward
        (second resolution) and a stale updated_stamp can never match again."""
        try:
            floor = datetime.fromisoformat(str(previous).replace("Z", "+00:00")) + timedelta(seconds=1)
        except ValueError:  # None (a ticket being created) or not a timestamp
            return self.now()
        return iso(max(self.clock(), floor if floor.tzinfo else floor.replace(tzinfo=timezone.utc)))

    def next_id(self) -> int:
        return next(self._ids)

    def url(self, path: str) -> str:
        return f"https://{self.subdomain}.zendesk.com/api/v2/{path}"

    # -- seeding -------------------------------------------------------------
    def add_organization(self, org_id: int | None, fields: dict[str, Any]) -> dict[str, Any]:
        org_id = org_id or self.next_id()
        now = self.now()
        org = {
            "id": org_id,
            "url": self.url(f"organizations/{org_id}.json"),
            "name": f"Organization {org_id}",
            "external_id": None,
            "details": "",
            "notes": "",
            "domain_names": [],
            "group_id": None,
            "shared_tickets": False,
            "shared_comments": False,
            "tags": [],
            "organization_fields": {},
            "created_at": now,
            "updated_at": now,
        }
        org.update(fields)
        self.organizations[org_id] = org
        return org

    def add_user(self, user_id: int | None, fields: dict[str, Any]) -> dict[str, Any]:
        user_id = user_id or self.next_id()
        now = self.now()
        user = {
            "id": user_id,
            "url": self.url(f"users/{user_id}.json"),
            "name": f"User {user_id}",
            "email": f"user{user_id}@example.com",
            "role": "end-user",
            "locale": "en-US",
            "time_zone": "UTC",
            "organization_id": None,
            "external_id": None,
            "tags": [],
            "active": True,
            "verified": True,
            "suspended": False,
            "user_fields": {},
            "created_at": now,
            "updated_at": now,
        }
        user.update(fields)
        self.users[user_id] = user
        return user

    def add_ticket(self, ticket_id: int | None, fields: dict[str, Any]) -> dict[str, Any]:
        ticket_id = ticket_id or self.next_id()
        fields = dict(fields)
        description = fields.pop("description", "Something is broken")
        now = self.now()
        requester_id = fields.get("requester_id")
        if requester_id is not None and requester_id not in self.users:
            self.add_user(requester_id, {"organization_id": fields.get("organization_id")})
        ticket = {
            "id": ticket_id,
            "url": self.url(f"tickets/{ticket_id}.json"),
            "external_id": None,
            "type": None,
            "subject": f"Ticket {ticket_id}",
            "raw_subject": None,
            "description": description,
            "priority": None,  # Zendesk leaves it empty ("-") unless someone sets it
            "status": "open",
            "requester_id": requester_id,
            "submitter_id": requester_id,
            "assignee_id": None,
            "organization_id": None,
            "group_id": None,
            "collaborator_ids": [],
            "follower_ids": [],
            "tags": [],
            "custom_fields": [],
            "satisfaction_rating": None,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": None}},
            "is_public": True,
            "due_at": None,
            "created_at": now,
            "updated_at": now,
        }
        ticket.update(fields)
        ticket["tags"] = _tags(ticket["tags"])
        ticket["raw_subject"] = ticket["raw_subject"] or ticket["subject"]
        self.tickets[ticket_id] = ticket
        self.comments.setdefault(ticket_id, [])
        creation = audits.create_audit(self, ticket)
        if description and not self.comments[ticket_id]:
            comment = self.add_comment(
                ticket_id,
                {"body": description, "public": True, "author_id": requester_id,
                 "created_at": ticket["created_at"], "audit_id": creation["id"]},
            )
            creation["events"].append(audits.comment_event(comment))
        return ticket

    def add_comment(self, ticket_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        if ticket_id not in self.tickets:
            raise not_found()
        body = fields.get("body") or ""
        html_body = fields.get("html_body") or f"<div class=\"zd-comment\"><p>{body}</p></div>"
        comment = {
            "id": fields.get("id") or next(self._event_ids),
            "type": "Comment",
            "author_id": fields.get("author_id"),
            "body": body or html_body,
            "html_body": html_body,
            "plain_body": body,
            "public": bool(fields.get("public", True)),
            "attachments": [copy.deepcopy(self.uploads[t]) for t in fields.get("uploads") or () if t in self.uploads],
            "audit_id": fields.get("audit_id") or next(self._event_ids),
            "via": {"channel": fields.get("via_channel", "api"), "source": {"from": {}, "to": {}, "rel": None}},
            "metadata": {"system": {}, "custom": {}},
            "created_at": fields.get("created_at") or self.now(),
        }
        self.comments[ticket_id].append(comment)
        if not fields.get("audit_id"):  # a comment seeded on its own is an audit of its own
            audits.record(self, ticket_id, comment["created_at"], comment["author_id"],
                          [audits.comment_event(comment)], comment["audit_id"])
        return comment

    # -- ticket writes -------------------------------------------------------
    def _check_writable(self, ticket_id: int, ticket: dict[str, Any] | None) -> None:
        if ticket_id in self.rejected:
            status, body = self.rejected[ticket_id]
            raise ZendeskError(status, copy.deepcopy(body))
        if ticket is not None and ticket["status"] == "closed":
            raise record_invalid(
                {"status": [{"description": "Status: closed prevents ticket update",
                             "error": "ClosedTicket"}]}
            )

    def _validate(self, data: dict[str, Any]) -> None:
        details: dict[str, list[dict[str, str]]] = {}
        if "status" in data and data["status"] not in STATUSES:
            details["status"] = [{"description": f"Status: {data['status']} is not valid",
                                  "error": "InvalidValue"}]
        if "priority" in data and data["priority"] not in PRIORITIES + (None, ""):
            details["priority"] = [{"description": f"Priority: {data['priority']} is not valid",
                                    "error": "InvalidValue"}]
        if "assignee_id" in data and data["assignee_id"] is not None \
                and data["assignee_id"] not in self.users:
            details["assignee"] = [{"description": "Assignee: is invalid", "error": "InvalidValue"}]
        if details:
            raise record_invalid(details)

    def update_ticket(self, ticket_id: int, data: dict[str, Any], author_id: int) -> dict[str, Any]:
        """Merge `data` (the body's "ticket" object) the way Zendesk does."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            self._check_writable(ticket_id, None)
            raise not_found()
        self._check_writable(ticket_id, ticket)
        if data.get("safe_update") and data.get("updated_stamp") != ticket["updated_at"]:
            raise ZendeskError(409, {
                "error": "UpdateConflict",
                "description": "Safe Update prevented the update due to outdated ticket data. "
                               "Please fetch the latest ticket data and try again.",
            })
        self._validate(data)
        events: list[dict[str, Any]] = []

        def change(field: str, value: Any) -> None:
            previous = ticket.get(field)
            if previous != value:
                ticket[field] = value
                events.append({"id": next(self._event_ids), "type": "Change",
                               "field_name": field, "value": value, "previous_value": previous})

        for field in ("status", "priority", "group_id", "assignee_id", "subject", "type",
                      "organization_id", "requester_id", "external_id", "due_at"):
            if field in data:
                change(field, data[field])
        tags = list(ticket["tags"])
        if "tags" in data:
            tags = _tags(data["tags"])
        for tag in _tags(data.get("additional_tags")):
            if tag not in tags:
                tags.append(tag)
        removed = set(_tags(data.get("remove_tags")))
        tags = [t for t in tags if t not in removed]
        change("tags", tags)
        for key in ("custom_fields", "fields"):
            for item in data.get(key) or []:
                fields = ticket["custom_fields"]
                existing = next((f for f in fields if f["id"] == item["id"]), None)
                if existing is None:
                    fields.append({"id": item["id"], "value": item.get("value")})
                    events.append({"id": next(self._event_ids), "type": "Change",
                                   "field_name": str(item["id"]), "value": item.get("value"),
                                   "previous_value": None})
                elif existing["value"] != item.get("value"):
                    events.append({"id": next(self._event_ids), "type": "Change",
                                   "field_name": str(item["id"]), "value": item.get("value"),
                                   "previous_value": existing["value"]})
                    existing["value"] = item.get("value")
        comment_in = data.get("comment")
        audit_id = next(self._event_ids)
        if comment_in and (comment_in.get("body") or comment_in.get("html_body")):
            comment = self.add_comment(ticket_id, {
                "body": comment_in.get("body") or "",
                "html_body": comment_in.get("html_body"),
                "public": comment_in.get("public", True),
                "author_id": comment_in.get("author_id") or author_id,
                "audit_id": audit_id,
                "uploads": comment_in.get("uploads"),
            })
            events.append({k: comment[k] for k in
                           ("id", "type", "author_id", "body", "html_body", "plain_body",
                            "public", "attachments", "audit_id")})
        ticket["updated_at"] = self.next_stamp(ticket["updated_at"])
        audit = {
            "id": audit_id,
            "ticket_id": ticket_id,
            "created_at": ticket["updated_at"],
            "author_id": author_id,
            "metadata": {"system": {"client": "Zenpy"}, "custom": {}},
            "via": {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}},
            "events": events,
        }
        if events:
            audits.record(self, ticket_id, audit["created_at"], author_id, copy.deepcopy(events), audit_id)
        return {"ticket": copy.deepcopy(ticket), "audit": audit}

    def create_ticket(self, data: dict[str, Any], author_id: int) -> dict[str, Any]:
        comment = data.get("comment") or {}
        if not (comment.get("body") or comment.get("html_body")):
            raise record_invalid({"description": [{"description": "Description: cannot be blank",
                                                   "error": "BlankValue"}]})
        self._validate(data)
        source = data.get("via_followup_source_id")
        if source is not None and (source not in self.tickets or self.tickets[source]["status"] != "closed"):
            raise record_invalid({"via_followup_source_id": [{"description": "Follow-up source: must be a closed "
                                                                              "ticket", "error": "InvalidValue"}]})
        fields = {k: v for k, v in data.items()
                  if k not in ("comment", "requester", "additional_tags", "remove_tags")}
        requester = data.get("requester")
        if requester and not fields.get("requester_id"):
            email = requester.get("email")
            user = next((u for u in self.users.values() if email and u["email"] == email), None)
            if user is None:
                user = self.add_user(None, {"email": email, "name": requester.get("name") or email})
            fields["requester_id"] = user["id"]
        fields.setdefault("requester_id", author_id)
        if fields.get("organization_id") is None:
            fields["organization_id"] = self.users.get(fields["requester_id"], {}).get("organization_id")
        fields.setdefault("status", "new")
        fields["description"] = ""
        fields["via"] = {"channel": "api", "source": {"from": {}, "to": {}, "rel": None}}
        if source is not None:
            fields["via"] = {"channel": "api", "source": {"from": {"ticket_id": source}, "to": {}, "rel": "follow_up"}}
            fields.pop("via_followup_source_id")
        ticket = self.add_ticket(None, fields)
        ticket["description"] = comment.get("body") or comment.get("html_body")
        ticket["updated_at"] = None  # the first write stamps it with now, like created_at
        result = self.update_ticket(ticket["id"], {"comment": {**comment, "author_id":
                                    comment.get("author_id") or fields["requester_id"]}}, author_id)
        result["audit"]["events"].insert(0, {"id": next(self._event_ids), "type": "Create",
                                             "field_name": "status", "value": ticket["status"]})
        return result

    # -- reads ---------------------------------------------------------------
    def search_tickets(self, query: str) -> list[dict[str, Any]]:
        """Minimal Zendesk search: type:ticket, status<x, status:x, priority:x,
        organization:<id>, organization_id:<id>, tags:x, requester:<email|id>."""
        order = {s: i for i, s in enumerate(STATUSES)}
        results = []
        for ticket in sorted(self.tickets.values(), key=lambda t: t["id"]):
            ok = True
            for term in query.split():
                key, op, value = term, ":", ""
                for sep in ("<=", ">=", "<", ">", ":"):
                    if sep in term:
                        key, value = term.split(sep, 1)
                        op = sep
                        break
                value = value.strip('"')
                if key == "type":
                    ok = value == "ticket"
                elif key == "status" and value in order:
                    s, v = order[ticket["status"]], order[value]
                    ok = {":": s == v, "<": s < v, ">": s > v, "<=": s <= v, ">=": s >= v}[op]
                elif key == "priority":
                    ok = ticket["priority"] == value
                elif key in ("organization", "organization_id"):
                    ok = str(ticket["organization_id"]) == value
                elif key in ("tags", "tag"):
                    ok = value in ticket["tags"]
                elif key == "requester":
                    user = self.users.get(ticket["requester_id"] or -1, {})
                    ok = value in (str(ticket["requester_id"]), user.get("email"))
                if not ok:
                    break
            if ok:
                results.append({**copy.deepcopy(ticket), "result_type": "ticket"})
        return results

    def search_users(self, query: str) -> list[dict[str, Any]]:
        value = query.split(":", 1)[1] if query.startswith(("email:", "name:")) else query
        value = value.strip().strip('"').lower()
        return [copy.deepcopy(u) for u in self.users.values()
                if value and (value == (u.get("email") or "").lower()
                              or value in (u.get("name") or "").lower())]

    def add_upload(self, filename: str, content: bytes, content_type: str) -> dict[str, Any]:
        attachment_id = self.next_id()
        token = f"upload-{attachment_id}"
        attachment = {"id": attachment_id, "file_name": filename, "content_type": content_type,
                      "size": len(content), "inline": False, "deleted": False,
                      "content_url": f"https://{self.subdomain}.zendesk.com/attachments/token/{token}/?name={filename}",
                      "url": self.url(f"attachments/{attachment_id}.json")}
        self.uploads[token] = attachment
        self.upload_content[attachment_id] = content
        return {"token": token, "expires_at": self.now(), "attachment": copy.deepcopy(attachment),
                "attachments": [copy.deepcopy(attachment)]}
