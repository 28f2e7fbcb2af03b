"""`escalator zendesk install`: the three custom ticket fields, the two webhooks (and their signing
secrets) and the four triggers, created or brought up to date through the Zendesk API.

Idempotent: objects are found by id (the field ids already in zendesk.yaml) or by title/name (prefix
"Escalator: "), compared with what they should be, and only the differences are sent; a second run
reads and writes nothing. `dry_run` reads and prints what it would do.

Everything goes through the session `build_zenpy` gives zenpy (auth, and the 429 hook raising
ZendeskRateLimited) with `api_url`, as plain JSON: comparing objects needs their JSON, and zenpy's
Webhook/Trigger objects serialize whole objects on update. API shapes: developer.zendesk.com Ticket
Fields, Webhooks ("Creating webhooks with the API", signing_secret), Triggers and the conditions
reference. Zendesk accepts either `conditional_ticket_events` (connected to triggers) or event types
on one webhook, never both, and each webhook has its own signing secret: two webhooks are installed,
and the secret file holds both secrets comma-separated, as ZENDESK_WEBHOOK_SECRET takes them.
"""
from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from integration.mappings.errors import MappingsError
from integration.mappings.loader import load_from_bytes, load_mappings, read_files
from integration.zendesk.install_files import InstallError, atomic_write, set_field_ids
from integration.zendesk.install_specs import (EVENT_SUBSCRIPTIONS, EVENTS_WEBHOOK_NAME, FIELDS, MANAGED, PREFIX,
                                               TRIGGER_SUBSCRIPTION, WEBHOOK_NAME, WEBHOOK_PATH, WEBHOOK_READ_ONLY,
                                               comparable, normalized, trigger_body, trigger_specs)
from integration.zendesk.json_api import ZendeskJson
from integration.zendesk.signature import webhook_secrets

DEFAULT_SECRET_FILE = Path("instance") / "zendesk_webhook_secret"


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
        hooks = list(self.api.items("webhooks", "webhooks"))
        webhook_id = self.install_webhook(hooks, WEBHOOK_NAME, [TRIGGER_SUBSCRIPTION])
        events_id = self.install_webhook(hooks, EVENTS_WEBHOOK_NAME, list(EVENT_SUBSCRIPTIONS))
        self.store_secret([webhook_id, events_id])
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
        atomic_write(path, text, mode=None)
        try:
            load_mappings(self.mappings_dir)
        except MappingsError as error:
            atomic_write(path, original, mode=None)
            raise InstallError(f"{path} rolled back: the mappings did not validate after the edit\n{error}") from None
        self.say(what, f"set {', '.join(changed)} (validated)")

    # -- (b) webhooks and their signing secrets ----------------------------------
    def install_webhook(self, hooks: list[dict], name: str, subscriptions: list[str]) -> str | None:
        for_triggers = subscriptions == [TRIGGER_SUBSCRIPTION]
        serves = "triggers" if for_triggers else "ticket events"
        wanted = {"name": name, "endpoint": self.endpoint, "http_method": "POST", "request_format": "json",
                  "status": "active", "subscriptions": subscriptions,
                  "description": f"Escalator: Zendesk {serves} to {self.endpoint}. {MANAGED}"}
        named = [w for w in hooks if w.get("name") == name]
        current = next((w for w in named if (TRIGGER_SUBSCRIPTION in (w.get("subscriptions") or [])) == for_triggers),
                       None)
        what = f'webhook "{name}"'
        if current is None and named:
            other = "subscribed to Zendesk events, not connected to triggers" if for_triggers else \
                "connected to triggers, not subscribed to Zendesk events"
            raise InstallError(f"{what} (id {named[0]['id']}) is {other}, and Zendesk cannot change that: "
                               "rename or delete it, then run again")
        if current is None:
            if self.dry_run:
                self.say(what, f"would create (POST {self.endpoint}, JSON, {serves})")
                return None
            created = self.write("POST", "webhooks", {"webhook": wanted})["webhook"]
            self.say(what, f"created (id {created['id']}, endpoint {self.endpoint}, {serves})")
            return created["id"]
        changes = {k: v for k, v in wanted.items() if _stored(k, current.get(k)) != _stored(k, v)}
        if not changes:
            self.say(what, f"unchanged (id {current['id']})")
        elif self.dry_run:
            self.say(what, f"would update {', '.join(changes)} (id {current['id']})")
        else:  # PUT (Update Webhook) takes the whole object; what is not ours (e.g. custom headers) is kept
            kept = {k: v for k, v in current.items() if k not in WEBHOOK_READ_ONLY}
            self.write("PUT", f"webhooks/{current['id']}", {"webhook": {**kept, **wanted}})
            self.say(what, f"updated {', '.join(changes)} (id {current['id']})")
        return current["id"]

    def store_secret(self, webhook_ids: list[str | None]) -> None:
        what = f"signing secrets → {self.secret_file}"
        if self.dry_run:
            self.say(what, "would fetch both webhooks' signing secrets and write them, comma-separated (mode 0600)")
            return
        secrets = [self.api.get(f"webhooks/{hook}/signing_secret")["signing_secret"]["secret"] for hook in webhook_ids]
        joined = ",".join(secrets)
        try:
            stored = self.secret_file.read_text(encoding="utf-8").strip()
        except OSError:
            stored = None
        mode_ok = stored is not None and (self.secret_file.stat().st_mode & 0o777) == 0o600
        if stored is not None and hmac.compare_digest(stored.encode(), joined.encode()) and mode_ok:
            self.say(what, "unchanged (mode 0600)")
        else:
            self.secret_file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.secret_file, joined + "\n", mode=0o600)
            self.say(what, "written (mode 0600; the secrets themselves are never printed)")
        configured = [c.encode() for c in webhook_secrets(self.environ.get("ZENDESK_WEBHOOK_SECRET"))]
        if all(any(hmac.compare_digest(c, s.encode()) for c in configured) for s in secrets):
            self.echo("ZENDESK_WEBHOOK_SECRET in this environment already holds both webhooks' secrets.")
        else:
            state = "lacks one of" if configured else "is not set to"
            self.echo(f"ZENDESK_WEBHOOK_SECRET here {state} the webhooks' secrets. Give the service both, "
                      f"comma-separated as in the file, e.g.:\n"
                      f"  export ZENDESK_WEBHOOK_SECRET=\"$(cat {self.secret_file})\"\n"
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
                       if comparable(k, current.get(k)) != comparable(k, wanted[k])]
            if not changes:
                self.say(what, f"unchanged (id {current['id']})")
            elif self.dry_run:
                self.say(what, f"would update {', '.join(changes)} (id {current['id']})")
            else:
                self.write("PUT", f"triggers/{current['id']}.json", {"trigger": {k: wanted[k] for k in changes}})
                self.say(what, f"updated {', '.join(changes)} (id {current['id']})")


def _stored(key: str, value: Any) -> Any:
    """As Zendesk stores it; subscriptions are a set (their order is not ours to keep)."""
    return sorted(normalized(value or [])) if key == "subscriptions" else normalized(value)
