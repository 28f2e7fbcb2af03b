"""WSGI app of the fake Zendesk: routing, basic auth, injected faults, call log.

Used through FakeZendesk in tests/fakes/zendesk.py, which runs it on a real
socket so that the real zenpy client (and requests/urllib3 underneath) talks to it.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode

from werkzeug.wrappers import Request, Response

from tests.fakes.zendesk_admin import AdminRoutes
from tests.fakes.zendesk_audits import AuditRoutes
from tests.fakes.zendesk_bulk import BulkRoutes
from tests.fakes.zendesk_export import ExportRoutes
from tests.fakes.zendesk_limits import RateLimiter
from tests.fakes.zendesk_state import ZendeskError, ZendeskState, not_found


@dataclass(frozen=True)
class Call:
    """One request the fake received (recorded before any fault is applied); `at` is its arrival
    time on the fake's monotonic clock (time.monotonic unless enforce_rate_limits(clock=) set one)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    status: int = 0
    at: float = 0.0

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class Fault:
    kind: str  # "fail" | "rate_limit" | "delay"
    remaining: int
    method: str | None = None
    path: str | None = None
    status: int = 500
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes = b""
    content_type: str = "text/plain"
    when: str = "before"

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and \
            (self.path is None or path.startswith(self.path))


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")


class FakeZendeskApp:
    def __init__(self, state: ZendeskState, email: str, token: str, lock: threading.RLock):
        self.state = state
        self.email = email
        self.token = token
        self.lock = lock
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.agent_id = 0  # the user the API token belongs to; set by FakeZendesk
        self.stopping = threading.Event()
        self.monotonic: Callable[[], float] = time.monotonic
        self.limiter: RateLimiter | None = None  # tests/fakes/zendesk_limits.py
        self.job_delay = 0.2  # seconds a bulk job stays queued (tests/fakes/zendesk_bulk.py)
        self.fail_jobs: list[str] = []
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/api/v2/tickets/show_many\.json"), self.show_many),
            ("POST", re.compile(r"/api/v2/tickets\.json"), self.create_ticket),
            ("GET", re.compile(r"/api/v2/tickets/(\d+)\.json"), self.show_ticket),
            ("PUT", re.compile(r"/api/v2/tickets/(\d+)\.json"), self.update_ticket),
            ("GET", re.compile(r"/api/v2/tickets/(\d+)/comments\.json"), self.list_comments),
            ("GET", re.compile(r"/api/v2/tickets/(\d+)/tags\.json"), self.tags),
            ("PUT", re.compile(r"/api/v2/tickets/(\d+)/tags\.json"), self.tags),
            ("POST", re.compile(r"/api/v2/tickets/(\d+)/tags\.json"), self.tags),
            ("DELETE", re.compile(r"/api/v2/tickets/(\d+)/tags\.json"), self.tags),
            ("GET", re.compile(r"/api/v2/users/search\.json"), self.search_users),
            ("POST", re.compile(r"/api/v2/users\.json"), self.create_user),
            ("POST", re.compile(r"/api/v2/uploads\.json"), self.upload),
            ("GET", re.compile(r"/api/v2/users/(\d+)\.json"), self.show_user),
            ("GET", re.compile(r"/api/v2/organizations/(\d+)\.json"), self.show_organization),
            ("GET", re.compile(r"/api/v2/search\.json"), self.search),
        ]
        extra = AdminRoutes(self).routes() + ExportRoutes(self).routes() + BulkRoutes(self).routes() + \
            AuditRoutes(self).routes()
        for method, pattern, handler in extra:
            self.routes.append((method, re.compile(pattern), handler))

    # -- WSGI ----------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw and request.path != "/api/v2/uploads.json" else (raw or None)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        query = {k: v[-1] for k, v in parse_qs(request.query_string.decode(), keep_blank_values=True).items()}
        refused, limit_headers = None, {}
        with self.lock:
            index, at = len(self.calls), self.monotonic()
            self.calls.append(Call(request.method, request.path, query, body, dict(request.headers), 0, at))
            fault = self._take_fault(request.method, request.path)
            if self.limiter is not None and (fault is None or fault.kind == "delay"):
                refused, limit_headers = self.limiter.admit(request.method, request.path, at, self._active_jobs)
        # A "before" delay (hold_next) sleeps without the lock, then applies; "after" applies, then sleeps.
        if refused is None and fault is not None and fault.kind == "delay" and fault.when == "before":
            self.stopping.wait(fault.seconds)
        response = refused or self._respond(request, body, query, fault)
        response.headers.update(limit_headers)
        if refused is None and fault is not None and fault.kind == "delay" and fault.when == "after":
            self.stopping.wait(fault.seconds)
        with self.lock:
            self.calls[index] = dataclasses.replace(self.calls[index], status=response.status_code)
        return response

    def _active_jobs(self) -> list[float]:
        return [j["_due"] for j in self.state.jobs.values() if j["status"] in ("queued", "working")]

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None

    def _respond(self, request: Request, body: Any, query: dict[str, str], fault: Fault | None) -> Response:
        if fault is not None and fault.kind in ("fail", "rate_limit"):
            return Response(fault.body, status=fault.status, headers=fault.headers,
                            content_type=fault.content_type)
        if not self._authorized(request):
            return json_response(401, {"error": "Couldn't authenticate you"},
                                 {"WWW-Authenticate": 'Basic realm="Web Password"'})
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                try:
                    with self.lock:
                        return handler(request, body, query,
                                       *[int(g) if g.isdigit() else g for g in match.groups()])
                except ZendeskError as exc:
                    return json_response(exc.status, exc.body)
        return json_response(404, {"error": "InvalidEndpoint", "description": "Not found"})

    @staticmethod
    def json(status: int, body: Any) -> Response:
        return json_response(status, body)

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == f"{self.email}/token" and password == self.token

    @staticmethod
    def _ticket_body(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("ticket"), dict):
            raise ZendeskError(400, {"error": "InvalidParameter",
                                     "description": "Parameter ticket is required"})
        return body["ticket"]

    # -- handlers (called with the lock held) --------------------------------
    def show_ticket(self, request: Request, body: Any, query: dict[str, str], ticket_id: int) -> Response:
        ticket = self.state.tickets.get(ticket_id)
        if ticket is None:
            raise not_found()
        return json_response(200, {"ticket": copy.deepcopy(ticket)})

    def update_ticket(self, request: Request, body: Any, query: dict[str, str], ticket_id: int) -> Response:
        result = self.state.update_ticket(ticket_id, self._ticket_body(body), self.agent_id)
        return json_response(200, result)

    def create_ticket(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        key = request.headers.get("Idempotency-Key")
        fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if key and key in self.state.idempotency:
            seen, status, result = self.state.idempotency[key]
            if seen != fingerprint:
                return json_response(400, {
                    "error": "IdempotentRequestError",
                    "description": "Request parameters do not match the original request "
                                   "made with this Idempotency-Key",
                })
            return json_response(status, result, {"x-idempotency-lookup": "hit"})
        result = self.state.create_ticket(self._ticket_body(body), self.agent_id)
        headers = {"Location": result["ticket"]["url"]}
        if key:
            self.state.idempotency[key] = (fingerprint, 201, copy.deepcopy(result))
            headers["x-idempotency-lookup"] = "miss"
        return json_response(201, result, headers)

    def show_many(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        ids = [int(i) for i in query.get("ids", "").split(",") if i.strip().isdigit()]
        tickets = [copy.deepcopy(self.state.tickets[i]) for i in ids if i in self.state.tickets]
        return json_response(200, {"tickets": tickets, "next_page": None,
                                   "previous_page": None, "count": len(tickets)})

    def list_comments(self, request: Request, body: Any, query: dict[str, str], ticket_id: int) -> Response:
        if ticket_id not in self.state.tickets:
            raise not_found()
        comments = sorted(self.state.comments[ticket_id], key=lambda c: (c["created_at"], c["id"]))
        if query.get("sort_order") == "desc":
            comments.reverse()
        base = f"{request.host_url.rstrip('/')}{request.path}"
        if "page[size]" in query or "page[after]" in query:
            return self._with_users(self._cursor_page(comments, query, base), query)
        per_page = min(int(query.get("per_page", 100)), 100)
        page = max(int(query.get("page", 1)), 1)
        chunk = comments[(page - 1) * per_page: page * per_page]

        def link(n: int) -> str | None:
            if n < 1 or (n - 1) * per_page >= len(comments):
                return None
            return f"{base}?{urlencode({'page': n, 'per_page': per_page})}"

        return self._with_users(json_response(200, {
            "comments": copy.deepcopy(chunk), "next_page": link(page + 1), "previous_page": link(page - 1),
            "count": len(comments)}), query)

    def _with_users(self, response: Response, query: dict[str, str]) -> Response:
        """`include=users` side-loads the comments' authors."""
        if "users" not in (query.get("include") or "").split(","):
            return response
        body = json.loads(response.get_data())
        ids = sorted({c["author_id"] for c in body["comments"] if c.get("author_id") in self.state.users})
        body["users"] = [copy.deepcopy(self.state.users[i]) for i in ids]
        return json_response(200, body)

    @staticmethod
    def _cursor_page(items: list[dict[str, Any]], query: dict[str, str], base: str) -> Response:
        size = min(int(query.get("page[size]", 100)), 100)
        start = 0
        if query.get("page[after]"):
            start = int(base64.urlsafe_b64decode(query["page[after]"]).decode())
        chunk = items[start: start + size]
        end = start + len(chunk)
        after = base64.urlsafe_b64encode(str(end).encode()).decode() if chunk else None
        before = base64.urlsafe_b64encode(str(start).encode()).decode() if chunk else None
        has_more = end < len(items)
        return json_response(200, {
            "comments": copy.deepcopy(chunk),
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {
                "next": f"{base}?page[size]={size}&page[after]={after}" if has_more else None,
                "prev": f"{base}?page[size]={size}&page[before]={before}" if start else None,
            },
        })

    def tags(self, request: Request, body: Any, query: dict[str, str], ticket_id: int) -> Response:
        ticket = self.state.tickets.get(ticket_id)
        if ticket is None:
            raise not_found()
        if request.method != "GET":
            tags = (body or {}).get("tags") or []
            key = {"PUT": "additional_tags", "POST": "tags", "DELETE": "remove_tags"}[request.method]
            self.state.update_ticket(ticket_id, {key: tags}, self.agent_id)
        return json_response(200, {"tags": list(self.state.tickets[ticket_id]["tags"])})

    def show_user(self, request: Request, body: Any, query: dict[str, str], user_id: int) -> Response:
        user = self.state.users.get(user_id)
        if user is None:
            raise not_found()
        return json_response(200, {"user": copy.deepcopy(user)})

    def search_users(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        if "external_id" in query:
            users = [copy.deepcopy(u) for u in self.state.users.values()
                     if str(u.get("external_id")) == query["external_id"]]
        else:
            users = self.state.search_users(query.get("query", ""))
        return json_response(200, {"users": users, "next_page": None,
                                   "previous_page": None, "count": len(users)})

    def show_organization(self, request: Request, body: Any, query: dict[str, str], org_id: int) -> Response:
        org = self.state.organizations.get(org_id)
        if org is None:
            raise not_found()
        return json_response(200, {"organization": copy.deepcopy(org)})

    def search(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        results = self.state.search_tickets(query.get("query", ""))
        return json_response(200, {"results": results, "facets": None, "next_page": None,
                                   "previous_page": None, "count": len(results)})

    def create_user(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        """POST /api/v2/users.json: 422 when the email is taken (Zendesk's "Email: … is already being used")."""
        user = (body or {}).get("user") if isinstance(body, dict) else None
        if not isinstance(user, dict) or not user.get("name"):
            raise ZendeskError(422, {"error": "RecordInvalid", "description": "Record validation errors",
                                     "details": {"name": [{"description": "Name: cannot be blank"}]}})
        email = (user.get("email") or "").lower()
        if email and any((u.get("email") or "").lower() == email for u in self.state.users.values()):
            raise ZendeskError(422, {"error": "RecordInvalid", "description": "Record validation errors",
                                     "details": {"email": [{"description": f"Email: {email} is already being used"
                                                                           " by another user", "error": "DuplicateValue"}]}})
        created = self.state.add_user(None, {k: v for k, v in user.items() if k != "identities"})
        return json_response(201, {"user": copy.deepcopy(created)})

    def upload(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        """POST /api/v2/uploads.json?filename=…: the raw bytes in the body; a token for a comment's `uploads`."""
        if not query.get("filename"):
            raise ZendeskError(400, {"error": "InvalidParameter", "description": "filename is required"})
        content = body if isinstance(body, bytes) else (json.dumps(body).encode() if body is not None else b"")
        return json_response(201, {"upload": self.state.add_upload(query["filename"], content,
                                                                   request.mimetype or "application/binary")})
