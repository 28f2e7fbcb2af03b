"""`escalator zendesk install`: the three custom ticket fields, the webhook (and its signing secret),
and the four triggers, created or brought up to date through the Zendesk API.

Idempotent: objects are found by id (the field ids already in zendesk.yaml) or by title/name (prefix
"Escalator: "), compared with what they should be, and only the differences are sent; a second run
reads and writes nothing. `dry_run` reads and prints what it would do.

Everything goes through the session `build_zenpy` gives zenpy (auth, and the 429 hook raising
ZendeskRateLimited) with `api_url`, as plain JSON: comparing objects needs their JSON, and zenpy's
Webhook/Trigger objects serialize whole objects on update. API shapes: developer.zendesk.com Ticket
Fields, Webhooks ("Creating webhooks with the API", signing_secret), Triggers and the conditions
reference. Zendesk accepts either `conditional_ticket_events` (connected to triggers) or event types
on one webhook, never both, and each webhook has its own signing secret; the service verifies one
secret, so only the trigger webhook is installed.
"""
from __future__ import annotations

import hmac
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import requests
import yaml

from integration.mappings.errors import MappingsError
from integration.mappings.loader import load_from_bytes, load_mappings, read_files
from integration.zendesk.client import ZendeskRateLimited, api_url

PREFIX = "Escalator: "
WEBHOOK_NAME = "Escalator"
WEBHOOK_PATH = "/webhooks/zendesk"
MANAGED = "Managed by `escalator zendesk install`; edits here are overwritten by the next install."
DEFAULT_SECRET_FILE = Path("instance") / "zendesk_webhook_secret"
TRIGGER_SUBSCRIPTION = "conditional_ticket_events"
WEBHOOK_READ_ONLY = ("id", "created_at", "created_by", "updated_at", "updated_by", "signing_secret", "external_source")


@dataclass(frozen=True)
class FieldSpec:
    key: str  # its line in zendesk.yaml
    title: str
    description: str


FIELDS = (
    FieldSpec("tier_field_id", "SLA tier", "The organization's SLA tier. Written by Escalator."),
    FieldSpec("first_response_due_field_id", "First response due (UTC)",
              "When the first public agent reply is due, ISO-8601 UTC. Written by Escalator."),
    FieldSpec("resolution_due_field_id", "Resolution due (UTC)",
              "When the resolution is due, ISO-8601 UTC; empty while the clock is paused. Written by Escalator."),
)

# tests/fixtures/zendesk/trigger_template.json.txt and the README hold the same text (a test checks).
TRIGGER_TEMPLATE = """{
  "schema": "escalator.zendesk.trigger/1",
  "event": "ticket_updated",
  "ticket": {
    "id": "{{ticket.id}}",
    "external_id": "{{ticket.external_id}}",
    "status": "{{ticket.status}}",
    "priority": "{{ticket.priority}}",
    "ticket_type": "{{ticket.ticket_type}}",
    "via": "{{ticket.via}}",
    "tags": "{{ticket.tags}}",
    "assignee_id": "{{ticket.assignee.id}}",
    "created_at": "{{ticket.created_at_with_timestamp}}",
    "updated_at": "{{ticket.updated_at_with_timestamp}}"
  },
  "organization": {
    "id": "{{ticket.organization.id}}",
    "external_id": "{{ticket.organization.external_id}}"
  },
  "requester": {
    "id": "{{ticket.requester.id}}",
    "email": "{{ticket.requester.email}}",
    "locale": "{{ticket.requester.locale}}"
  },
  "current_user": {
    "id": "{{current_user.id}}",
    "role": "{{current_user.role}}"
  },
  "latest_comment": {
    "id": "{{ticket.latest_comment.id}}",
    "is_public": "{{ticket.latest_comment.is_public}}"
  },
  "satisfaction": {
    "current_rating": "{{satisfaction.current_rating}}"
  }
}
"""


def trigger_body(event: str) -> str:
    body = TRIGGER_TEMPLATE.replace('"event": "ticket_updated"', f'"event": "{event}"')
    assert body.count(f'"event": "{event}"') == 1
    return body


def _condition(field_name: str, operator: str, value: Any) -> dict:
    return {"field": field_name, "operator": operator, "value": value}


def trigger_specs(api_user_id: int) -> list[tuple[str, str, list[dict]]]:
    """(title, event, `all` conditions) of the four triggers in the README."""
    created, changed = _condition("update_type", "is", "Create"), _condition("update_type", "is", "Change")
    return [
        (f"{PREFIX}ticket created", "ticket_created", [created]),
        # "Current user is not <the API user>": our own updates never come back as trigger calls.
        (f"{PREFIX}ticket updated", "ticket_updated", [changed, _condition("role", "is_not", str(api_user_id))]),
        (f"{PREFIX}public agent reply", "agent_replied_public",
         [changed, _condition("comment_is_public", "is", "true"), _condition("role", "is", "agent")]),
        (f"{PREFIX}satisfaction rated", "satisfaction_rated", [_condition("satisfaction_score", "changed", None)]),
    ]


class InstallError(Exception):
    pass


class ZendeskApiError(InstallError):
    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"Zendesk answered {method} {path} with {status}: {body[:500]}")
        self.status = status


class ZendeskJson:
    """JSON calls on zenpy's session (auth + the 429 hook), honouring ZENPY_FORCE_* through api_url.

    A 429 waits Retry-After and tries again (saying so through `on_wait`); a GET that fails
    transiently (5xx, connection, timeout) is retried with backoff; writes are never repeated blindly.
    """

    def __init__(self, session: requests.Session, subdomain: str | None, *, timeout: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep,
                 on_wait: Callable[[str], None] = lambda message: None, get_retries: int = 5) -> None:
        self.session, self.subdomain, self.timeout = session, subdomain, timeout
        self.sleep, self.on_wait, self.get_retries = sleep, on_wait, get_retries

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else api_url(self.subdomain, path)

    def request(self, method: str, path: str, *, params: dict | None = None, body: Any = None) -> Any:
        attempt = 0
        while True:
            try:
                response = self.session.request(method, self.url(path), params=params, json=body,
                                                timeout=self.timeout)
            except ZendeskRateLimited as limited:
                self.on_wait(f"Zendesk rate limit: waiting {limited.retry_after:g}s (Retry-After) before "
                             f"{method} {path.split('?')[0]}")
                self.sleep(limited.retry_after)
                continue
            except (requests.ConnectionError, requests.Timeout) as exc:
                if method != "GET" or attempt >= self.get_retries:
                    raise InstallError(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc
                attempt = self._back_off(attempt, method, path, exc.__class__.__name__)
                continue
            if response.status_code >= 500 and method == "GET" and attempt < self.get_retries:
                attempt = self._back_off(attempt, method, path, f"HTTP {response.status_code}")
                continue
            if response.status_code >= 400:
                raise ZendeskApiError(method, path.split("?")[0], response.status_code, response.text)
            return response.json() if response.content else None

    def _back_off(self, attempt: int, method: str, path: str, why: str) -> int:
        delay = min(2 ** attempt, 30)
        self.on_wait(f"{why} on {method} {path.split('?')[0]}: trying again in {delay}s")
        self.sleep(delay)
        return attempt + 1

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def items(self, path: str, key: str, **params: Any) -> Iterator[dict]:
        """Every item of a list, following cursor (`meta.has_more` + `links.next`) or offset (`next_page`)."""
        page = self.get(path, **params)
        while True:
            yield from page.get(key) or []
            links, meta = page.get("links") or {}, page.get("meta") or {}
            following = links.get("next") if meta.get("has_more") else page.get("next_page")
            if not following:
                return
            page = self.get(following)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    writes: int = 0


class Installer:
    def __init__(self, api: ZendeskJson, *, public_url: str, mappings_dir: str | Path, secret_file: str | Path,
                 dry_run: bool = False, echo: Callable[[str], None] = print,
                 environ: dict[str, str] | None = None) -> None:
        self.api, self.dry_run, self.echo = api, dry_run, echo
        self.endpoint = public_url.rstrip("/") + WEBHOOK_PATH
        self.mappings_dir, self.secret_file = Path(mappings_dir), Path(secret_file)
        self.environ = os.environ if environ is None else environ
        self.report = Report()

    def run(self) -> Report:
        field_ids = self.install_fields()
        self.write_field_ids(field_ids)
        webhook_id = self.install_webhook()
        self.store_secret(webhook_id)
        me = self.api.get("users/me.json")["user"]["id"]
        self.install_triggers(webhook_id, me)
        return self.report

    def say(self, what: str, outcome: str) -> None:
        self.report.lines.append(f"{what}: {outcome}")
        self.echo(f"{what}: {outcome}")

    def write(self, method: str, path: str, body: Any) -> Any:
        self.report.writes += 1
        return self.api.request(method, path, body=body)

    # -- (a) ticket fields -------------------------------------------------------
    def install_fields(self) -> dict[str, int | None]:
        existing = list(self.api.items("ticket_fields.json", "ticket_fields"))
        by_id = {f["id"]: f for f in existing}
        known = self._yaml_ids()
        ids: dict[str, int | None] = {}
        for spec in FIELDS:
            wanted = {"type": "text", "title": spec.title, "description": spec.description, "active": True}
            current = by_id.get(known.get(spec.key)) or next(
                (f for f in existing if (f.get("title") or "").strip().lower() == spec.title.lower()), None)
            what = f'ticket field "{spec.title}"'
            if current is not None and current.get("type") != "text":
                raise InstallError(f'{what} exists (id {current["id"]}) with type {current.get("type")!r}, '
                                   "not text: rename or delete it in Zendesk, then run install again")
            if current is None:
                if self.dry_run:
                    self.say(what, "would create (text field)")
                    ids[spec.key] = None
                    continue
                created = self.write("POST", "ticket_fields.json", {"ticket_field": wanted})["ticket_field"]
                self.say(what, f"created (id {created['id']})")
                ids[spec.key] = created["id"]
                continue
            ids[spec.key] = current["id"]
            changes = {k: v for k, v in wanted.items() if k != "type" and current.get(k) != v}
            if not changes:
                self.say(what, f"unchanged (id {current['id']})")
            elif self.dry_run:
                self.say(what, f"would update {', '.join(changes)} (id {current['id']})")
            else:
                self.write("PUT", f"ticket_fields/{current['id']}.json", {"ticket_field": changes})
                self.say(what, f"updated {', '.join(changes)} (id {current['id']})")
        return ids

    def _yaml_ids(self) -> dict[str, int]:
        try:
            data = yaml.safe_load((self.mappings_dir / "zendesk.yaml").read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            return {}
        fields = data.get("fields") if isinstance(data, dict) else None
        return {k: v for k, v in (fields or {}).items() if isinstance(v, int) and not isinstance(v, bool)}

    def write_field_ids(self, ids: dict[str, int | None]) -> None:
        path = self.mappings_dir / "zendesk.yaml"
        what = str(path)
        original = path.read_text(encoding="utf-8")
        text, changed = set_field_ids(original, {k: v for k, v in ids.items() if v is not None})
        pending = [k for k, v in ids.items() if v is None]
        if self.dry_run:
            planned = [*changed, *(f"{k} (id of the new field)" for k in pending)]
            self.say(what, f"would set {', '.join(planned)}" if planned else "unchanged")
            return
        if not changed:
            self.say(what, "unchanged")
            return
        contents = read_files(self.mappings_dir)
        contents["zendesk.yaml"] = text.encode("utf-8")
        try:
            load_from_bytes(self.mappings_dir, contents)
        except MappingsError as error:
            raise InstallError(f"not writing {path}: the mappings would not validate\n{error}\n"
                               f"the field ids are {ids}") from None
        _atomic_write(path, text, mode=None)
        try:
            load_mappings(self.mappings_dir)
        except MappingsError as error:
            _atomic_write(path, original, mode=None)
            raise InstallError(f"{path} rolled back: the mappings did not validate after the edit\n{error}") from None
        self.say(what, f"set {', '.join(changed)} (validated)")

    # -- (b) webhook and its signing secret ------------------------------------
    def install_webhook(self) -> str | None:
        wanted = {"name": WEBHOOK_NAME, "endpoint": self.endpoint, "http_method": "POST", "request_format": "json",
                  "status": "active", "subscriptions": [TRIGGER_SUBSCRIPTION],
                  "description": f"Escalator: Zendesk triggers to {self.endpoint}. {MANAGED}"}
        named = [w for w in self.api.items("webhooks", "webhooks") if w.get("name") == WEBHOOK_NAME]
        current = next((w for w in named if TRIGGER_SUBSCRIPTION in (w.get("subscriptions") or [])), None)
        what = f'webhook "{WEBHOOK_NAME}"'
        if current is None and named:
            raise InstallError(f"{what} (id {named[0]['id']}) is subscribed to Zendesk events, not connected to "
                               "triggers, and Zendesk cannot change that: rename or delete it, then run again")
        if current is None:
            if self.dry_run:
                self.say(what, f"would create (POST {self.endpoint}, JSON, triggers)")
                return None
            created = self.write("POST", "webhooks", {"webhook": wanted})["webhook"]
            self.say(what, f"created (id {created['id']}, endpoint {self.endpoint})")
            return created["id"]
        changes = {k: v for k, v in wanted.items() if _norm(current.get(k)) != _norm(v)}
        if not changes:
            self.say(what, f"unchanged (id {current['id']})")
        elif self.dry_run:
            self.say(what, f"would update {', '.join(changes)} (id {current['id']})")
        else:  # PUT (Update Webhook) takes the whole object; what is not ours (e.g. custom headers) is kept
            kept = {k: v for k, v in current.items() if k not in WEBHOOK_READ_ONLY}
            self.write("PUT", f"webhooks/{current['id']}", {"webhook": {**kept, **wanted}})
            self.say(what, f"updated {', '.join(changes)} (id {current['id']})")
        return current["id"]

    def store_secret(self, webhook_id: str | None) -> None:
        what = f"signing secret → {self.secret_file}"
        if self.dry_run:
            self.say(what, "would fetch the webhook's signing secret and write it (mode 0600)")
            return
        secret = self.api.get(f"webhooks/{webhook_id}/signing_secret")["signing_secret"]["secret"]
        try:
            stored = self.secret_file.read_text(encoding="utf-8").strip()
        except OSError:
            stored = None
        mode_ok = stored is not None and (self.secret_file.stat().st_mode & 0o777) == 0o600
        if stored is not None and hmac.compare_digest(stored, secret) and mode_ok:
            self.say(what, "unchanged (mode 0600)")
        else:
            self.secret_file.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.secret_file, secret + "\n", mode=0o600)
            self.say(what, "written (mode 0600; the secret itself is never printed)")
        configured = self.environ.get("ZENDESK_WEBHOOK_SECRET")
        if configured and hmac.compare_digest(configured.strip(), secret):
            self.echo("ZENDESK_WEBHOOK_SECRET in this environment already matches the webhook's secret.")
        else:
            state = "differs from" if configured else "is not set to"
            self.echo(f"ZENDESK_WEBHOOK_SECRET here {state} the webhook's secret. Give it to the service, "
                      f"e.g.:\n  export ZENDESK_WEBHOOK_SECRET=\"$(cat {self.secret_file})\"\n"
                      "(or your platform's config set command with the same value), then restart it.")

    # -- (c) triggers ------------------------------------------------------------
    def install_triggers(self, webhook_id: str | None, api_user_id: int) -> None:
        existing: dict[str, dict] = {}
        for trigger in self.api.items("triggers.json", "triggers"):
            title = trigger.get("title") or ""
            if not title.startswith(PREFIX):
                continue
            if title in existing:  # the first one is kept up to date; a copy would notify twice
                self.echo(f'note: trigger "{title}" exists twice (ids {existing[title]["id"]} and {trigger["id"]}); '
                          f"deactivate or delete {trigger['id']}")
                continue
            existing[title] = trigger
        for title, event, conditions in trigger_specs(api_user_id):
            wanted = {"title": title, "active": True, "description": MANAGED,
                      "conditions": {"all": conditions, "any": []},
                      "actions": [{"field": "notification_webhook",
                                   "value": [webhook_id or "<new webhook>", trigger_body(event)]}]}
            current = existing.get(title)
            what = f'trigger "{title}"'
            if current is None:
                if self.dry_run:
                    self.say(what, f'would create (event "{event}")')
                    continue
                created = self.write("POST", "triggers.json", {"trigger": wanted})["trigger"]
                self.say(what, f"created (id {created['id']})")
                continue
            changes = [k for k in ("title", "active", "description", "conditions", "actions")
                       if _comparable(k, current.get(k)) != _comparable(k, wanted[k])]
            if not changes:
                self.say(what, f"unchanged (id {current['id']})")
            elif self.dry_run:
                self.say(what, f"would update {', '.join(changes)} (id {current['id']})")
            else:
                self.write("PUT", f"triggers/{current['id']}.json", {"trigger": {k: wanted[k] for k in changes}})
                self.say(what, f"updated {', '.join(changes)} (id {current['id']})")


def _norm(value: Any) -> Any:
    """Zendesk may give back "true" for True, 123 as "123", null for "": compare values as it stores them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def _comparable(key: str, value: Any) -> Any:
    if key == "conditions":
        value = value or {}
        return {part: [(c.get("field"), c.get("operator"), _norm(c.get("value"))) for c in value.get(part) or []]
                for part in ("all", "any")}
    if key == "actions":
        out = []
        for action in value or []:
            item = _norm(action.get("value"))
            if action.get("field") == "notification_webhook" and isinstance(item, list) and len(item) == 2:
                try:
                    item = [item[0], json.loads(item[1])]  # the body as JSON: whitespace is not a difference
                except (TypeError, ValueError):
                    pass
            out.append((action.get("field"), item))
        return out
    return _norm(value)


def set_field_ids(text: str, ids: dict[str, int]) -> tuple[str, list[str]]:
    """Put each id on its `key: value` line of zendesk.yaml, keeping comments and their column."""
    changed = []
    for key, new in ids.items():
        pattern = re.compile(rf"^(?P<lead>[ \t]*{re.escape(key)}[ \t]*:[ \t]*)(?P<value>[^#\s]*)(?P<gap>[ \t]*)"
                             r"(?P<rest>#.*)?$", re.MULTILINE)
        found = list(pattern.finditer(text))
        if len(found) != 1:
            raise InstallError(f"zendesk.yaml: expected one `{key}:` line under `fields:`, found {len(found)}; "
                               f"set `{key}: {new}` by hand")
        match = found[0]
        old = match["value"]
        if old == str(new):
            continue
        gap = match["gap"]
        if match["rest"]:
            gap = " " * max(1, len(gap) + len(old) - len(str(new)))
        line = f"{match['lead']}{new}{gap}{match['rest'] or ''}"
        text = text[:match.start()] + line + text[match.end():]
        changed.append(f"{key}: {old or 'null'} → {new}")
    return text, changed


def _atomic_write(path: Path, text: str, *, mode: int | None) -> None:
    """Write to a temporary file beside `path` and rename it over: readers see the old or the new file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode if mode is not None else _mode_of(path))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644
