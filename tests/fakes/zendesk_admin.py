"""Admin objects of the fake Zendesk: custom ticket fields, webhooks, triggers, /users/me.

Shapes follow the public API reference (developer.zendesk.com: Ticket Fields, Webhooks, Triggers):
- ticket fields: `GET/POST /api/v2/ticket_fields.json`, `GET/PUT /api/v2/ticket_fields/{id}.json`;
  the list also holds the system fields (subject, status, ...), as Zendesk's does.
- webhooks (no `.json` suffix, string ids): `GET/POST /api/v2/webhooks`, `GET/PUT/PATCH
  /api/v2/webhooks/{id}` (PUT and PATCH answer 204), `GET/POST /api/v2/webhooks/{id}/signing_secret`;
  cursor pagination (`page[size]`, `meta.has_more`, `links.next`). A webhook is either connected to
  triggers (`subscriptions == ["conditional_ticket_events"]`) or subscribed to events, never both.
- triggers: `GET/POST /api/v2/triggers.json`, `GET/PUT /api/v2/triggers/{id}.json`, offset
  pagination (`per_page`, `page`, `next_page`); a `notification_webhook` action must name a webhook.
The error bodies of the webhooks API (`{"errors": [{"code", "title"}]}`) are [unconfirmed]. Data
lives in ZendeskState (so `reset()` clears it); every function runs with the server's lock held.
"""

from __future__ import annotations

import copy
import json
import secrets
from typing import Any, Callable
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from tests.fakes.zendesk_state import ZendeskError, ZendeskState, not_found, record_invalid

FIELD_TYPES = ("text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "partialcreditcard",
               "multiselect", "tagger", "lookup")
SYSTEM_FIELDS = (("subject", "Subject"), ("description", "Description"), ("status", "Status"),
                 ("tickettype", "Type"), ("priority", "Priority"), ("group", "Group"), ("assignee", "Assignee"))
TRIGGER_WEBHOOKS = "conditional_ticket_events"


def _webhook_error(status: int, code: str, title: str) -> ZendeskError:
    return ZendeskError(status, {"errors": [{"code": code, "title": title}]})


def _base(request: Request) -> str:
    return f"{request.host_url.rstrip('/')}{request.path}"


def _body(body: Any, key: str) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise ZendeskError(400, {"error": "InvalidParameter", "description": f"Parameter {key} is required"})
    return body[key]


class AdminRoutes:
    """Route handlers; `app` is the FakeZendeskApp (its .state and .agent_id are read per call)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def state(self) -> ZendeskState:
        return self.app.state

    def routes(self) -> list[tuple[str, str, Callable[..., Response]]]:
        return [
            ("GET", r"/api/v2/users/me\.json", self.me),
            ("GET", r"/api/v2/ticket_fields\.json", self.list_fields),
            ("POST", r"/api/v2/ticket_fields\.json", self.create_field),
            ("GET", r"/api/v2/ticket_fields/(\d+)\.json", self.show_field),
            ("PUT", r"/api/v2/ticket_fields/(\d+)\.json", self.update_field),
            ("GET", r"/api/v2/webhooks", self.list_webhooks),
            ("POST", r"/api/v2/webhooks", self.create_webhook),
            ("GET", r"/api/v2/webhooks/(\w+)", self.show_webhook),
            ("PUT", r"/api/v2/webhooks/(\w+)", self.replace_webhook),
            ("PATCH", r"/api/v2/webhooks/(\w+)", self.patch_webhook),
            ("GET", r"/api/v2/webhooks/(\w+)/signing_secret", self.show_secret),
            ("POST", r"/api/v2/webhooks/(\w+)/signing_secret", self.reset_secret),
            ("GET", r"/api/v2/triggers\.json", self.list_triggers),
            ("POST", r"/api/v2/triggers\.json", self.create_trigger),
            ("GET", r"/api/v2/triggers/(\d+)\.json", self.show_trigger),
            ("PUT", r"/api/v2/triggers/(\d+)\.json", self.update_trigger),
        ]

    @staticmethod
    def json(status: int, body: Any) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")

    # -- users/me --------------------------------------------------------------
    def me(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        return self.json(200, {"user": copy.deepcopy(self.state.users[self.app.agent_id])})

    # -- ticket fields -----------------------------------------------------------
    def _ensure_system_fields(self) -> None:
        if self.state.ticket_fields:
            return
        for position, (kind, title) in enumerate(SYSTEM_FIELDS):
            self._store_field({"type": kind, "title": title, "removable": False, "position": position})

    def _store_field(self, data: dict[str, Any], field_id: int | None = None) -> dict[str, Any]:
        field_id = field_id or self.state.next_id()
        now = self.state.now()
        existing = self.state.ticket_fields.get(field_id, {})
        field = {
            "id": field_id, "url": self.state.url(f"ticket_fields/{field_id}.json"), "type": "text",
            "title": "", "raw_title": "", "description": "", "raw_description": "", "agent_description": None,
            "position": 9999, "active": True, "required": False, "collapsed_for_agents": False,
            "regexp_for_validation": None, "title_in_portal": "", "raw_title_in_portal": "",
            "visible_in_portal": False, "editable_in_portal": False, "required_in_portal": False, "tag": None,
            "removable": True, "key": None, "created_at": now, **existing, **data, "updated_at": now,
        }
        field["raw_title"] = data.get("raw_title", field["title"])
        field["raw_description"] = data.get("raw_description", field["description"])
        field["title_in_portal"] = field["title_in_portal"] or field["title"]
        self.state.ticket_fields[field_id] = field
        return field

    def list_fields(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        self._ensure_system_fields()
        fields = [copy.deepcopy(f) for f in self.state.ticket_fields.values()]
        return self.json(200, {"ticket_fields": fields, "next_page": None, "previous_page": None,
                               "count": len(fields)})

    def _field(self, field_id: int) -> dict[str, Any]:
        self._ensure_system_fields()
        if field_id not in self.state.ticket_fields:
            raise not_found()
        return self.state.ticket_fields[field_id]

    def show_field(self, request: Request, body: Any, query: dict[str, str], field_id: int) -> Response:
        return self.json(200, {"ticket_field": copy.deepcopy(self._field(field_id))})

    def create_field(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        self._ensure_system_fields()
        data = _body(body, "ticket_field")
        details = {}
        if data.get("type") not in FIELD_TYPES:
            details["type"] = [{"description": f"Type: {data.get('type')} is not valid", "error": "InvalidValue"}]
        if not data.get("title"):
            details["title"] = [{"description": "Title: cannot be blank", "error": "BlankValue"}]
        if details:
            raise record_invalid(details)
        return self.json(201, {"ticket_field": copy.deepcopy(self._store_field(dict(data)))})

    def update_field(self, request: Request, body: Any, query: dict[str, str], field_id: int) -> Response:
        field = self._field(field_id)
        data = _body(body, "ticket_field")
        if "type" in data and data["type"] != field["type"]:
            raise record_invalid({"type": [{"description": "Type: cannot be changed", "error": "InvalidValue"}]})
        return self.json(200, {"ticket_field": copy.deepcopy(self._store_field(dict(data), field_id))})

    # -- webhooks --------------------------------------------------------------
    def _check_webhook(self, hook: dict[str, Any]) -> None:
        for name in ("name", "endpoint", "http_method", "request_format", "status"):
            if not hook.get(name):
                raise _webhook_error(400, "InvalidValue", f"{name} is required")
        subscriptions = hook.get("subscriptions") or []
        if TRIGGER_WEBHOOKS in subscriptions and len(subscriptions) > 1:
            raise _webhook_error(400, "InvalidValue", "A webhook connected to triggers or automations can't "
                                                      "subscribe to Zendesk events")
        if any(s != TRIGGER_WEBHOOKS and not s.startswith("zen:event-type:") for s in subscriptions):
            raise _webhook_error(400, "InvalidValue", "unknown subscription")

    def _webhook(self, webhook_id: str) -> dict[str, Any]:
        hook = self.state.webhooks.get(str(webhook_id))
        if hook is None:
            raise _webhook_error(404, "WebhookNotFound", "Webhook not found")
        return hook

    def list_webhooks(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        hooks = [copy.deepcopy(h) for h in self.state.webhooks.values()]
        if query.get("filter[name_contains]"):
            hooks = [h for h in hooks if query["filter[name_contains]"].lower() in h["name"].lower()]
        size = min(int(query.get("page[size]", 100)), 100)
        start = int(query.get("page[after]") or 0)
        chunk, end = hooks[start:start + size], start + size
        more = end < len(hooks)
        return self.json(200, {
            "webhooks": chunk,
            "meta": {"has_more": more, "after_cursor": str(end) if more else None, "before_cursor": None},
            "links": {"next": f"{_base(request)}?{urlencode({'page[size]': size, 'page[after]': end})}"
                      if more else None, "prev": None},
        })

    def create_webhook(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        data = dict(_body(body, "webhook"))
        self._check_webhook(data)
        webhook_id = "01" + secrets.token_hex(12).upper()
        now = self.state.now()
        hook = {"id": webhook_id, "name": "", "description": None, "status": "active", "subscriptions": [],
                "endpoint": "", "http_method": "POST", "request_format": "json", "created_at": now,
                "created_by": str(self.app.agent_id), **data, "updated_at": now, "updated_by": str(self.app.agent_id)}
        hook.pop("signing_secret", None)  # cannot be set through the API
        self.state.webhooks[webhook_id] = hook
        self.state.webhook_secrets[webhook_id] = secrets.token_urlsafe(32)
        return self.json(201, {"webhook": copy.deepcopy(hook)})

    def show_webhook(self, request: Request, body: Any, query: dict[str, str], webhook_id: str) -> Response:
        return self.json(200, {"webhook": copy.deepcopy(self._webhook(webhook_id))})

    def _change_webhook(self, webhook_id: str, data: dict[str, Any], replace: bool) -> Response:
        hook = self._webhook(webhook_id)
        kept = {k: hook[k] for k in ("id", "created_at", "created_by")}
        merged = {**({} if replace else hook), **data, **kept}
        self._check_webhook(merged)
        was_trigger = TRIGGER_WEBHOOKS in hook["subscriptions"]
        if "subscriptions" in data and (TRIGGER_WEBHOOKS in merged["subscriptions"]) != was_trigger:
            raise _webhook_error(400, "InvalidValue", "A webhook's connection method cannot be changed")
        merged.pop("signing_secret", None)
        merged["updated_at"], merged["updated_by"] = self.state.now(), str(self.app.agent_id)
        self.state.webhooks[webhook_id] = merged
        return Response(status=204)

    def replace_webhook(self, request: Request, body: Any, query: dict[str, str], webhook_id: str) -> Response:
        return self._change_webhook(webhook_id, dict(_body(body, "webhook")), replace=True)

    def patch_webhook(self, request: Request, body: Any, query: dict[str, str], webhook_id: str) -> Response:
        return self._change_webhook(webhook_id, dict(_body(body, "webhook")), replace=False)

    def show_secret(self, request: Request, body: Any, query: dict[str, str], webhook_id: str) -> Response:
        self._webhook(webhook_id)
        return self.json(200, {"signing_secret": {"algorithm": "SHA256",
                                                  "secret": self.state.webhook_secrets[webhook_id]}})

    def reset_secret(self, request: Request, body: Any, query: dict[str, str], webhook_id: str) -> Response:
        self._webhook(webhook_id)
        self.state.webhook_secrets[webhook_id] = secrets.token_urlsafe(32)
        return self.json(201, {"signing_secret": {"algorithm": "SHA256",
                                                  "secret": self.state.webhook_secrets[webhook_id]}})

    # -- triggers --------------------------------------------------------------
    def _check_trigger(self, data: dict[str, Any]) -> None:
        details = {}
        if not data.get("title"):
            details["title"] = [{"description": "Title: cannot be blank", "error": "BlankValue"}]
        if not data.get("actions"):
            details["actions"] = [{"description": "Actions: cannot be blank", "error": "BlankValue"}]
        conditions = data.get("conditions") or {}
        if not (conditions.get("all") or conditions.get("any")):
            details["conditions"] = [{"description": "Conditions: cannot be blank", "error": "BlankValue"}]
        for action in data.get("actions") or []:
            if action.get("field") == "notification_webhook":
                value = action.get("value") or []
                if len(value) != 2 or str(value[0]) not in self.state.webhooks:
                    details["actions"] = [{"description": "Webhook is invalid", "error": "InvalidValue"}]
        if details:
            raise record_invalid(details)

    def _store_trigger(self, data: dict[str, Any], trigger_id: int | None = None) -> dict[str, Any]:
        trigger_id = trigger_id or self.state.next_id()
        now = self.state.now()
        existing = self.state.triggers.get(trigger_id, {})
        position = existing.get("position", len(self.state.triggers) + 1)
        trigger = {"id": trigger_id, "url": self.state.url(f"triggers/{trigger_id}.json"), "title": "",
                   "raw_title": "", "active": True, "position": position, "default": False,
                   "description": None, "category_id": "10001", "conditions": {"all": [], "any": []},
                   "actions": [], "created_at": now, **existing, **data, "updated_at": now}
        trigger["raw_title"] = trigger["title"]
        conditions = trigger["conditions"]
        trigger["conditions"] = {"all": list(conditions.get("all") or []), "any": list(conditions.get("any") or [])}
        self.state.triggers[trigger_id] = trigger
        return trigger

    def list_triggers(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        triggers = sorted(self.state.triggers.values(), key=lambda t: (t["position"], t["id"]))
        if query.get("active") in ("true", "false"):
            triggers = [t for t in triggers if t["active"] == (query["active"] == "true")]
        per_page = min(int(query.get("per_page", 100)), 100)
        page = max(int(query.get("page", 1)), 1)
        chunk = triggers[(page - 1) * per_page: page * per_page]

        def link(n: int) -> str | None:
            if n < 1 or (n - 1) * per_page >= len(triggers):
                return None
            return f"{_base(request)}?{urlencode({'page': n, 'per_page': per_page})}"

        return self.json(200, {"triggers": copy.deepcopy(chunk), "next_page": link(page + 1),
                               "previous_page": link(page - 1), "count": len(triggers)})

    def _trigger(self, trigger_id: int) -> dict[str, Any]:
        if trigger_id not in self.state.triggers:
            raise not_found()
        return self.state.triggers[trigger_id]

    def show_trigger(self, request: Request, body: Any, query: dict[str, str], trigger_id: int) -> Response:
        return self.json(200, {"trigger": copy.deepcopy(self._trigger(trigger_id))})

    def create_trigger(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        data = dict(_body(body, "trigger"))
        self._check_trigger(data)
        return self.json(201, {"trigger": copy.deepcopy(self._store_trigger(data))})

    def update_trigger(self, request: Request, body: Any, query: dict[str, str], trigger_id: int) -> Response:
        merged = {**self._trigger(trigger_id), **_body(body, "trigger")}
        self._check_trigger(merged)
        return self.json(200, {"trigger": copy.deepcopy(self._store_trigger(merged, trigger_id))})
