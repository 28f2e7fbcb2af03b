"""Settings, read from the environment only when asked (by the app factory or the CLI)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping


@dataclass(frozen=True)
class Config:
    database_url: str = "sqlite:///instance/escalator.db"
    mappings_dir: str = "mappings"
    mappings_poll_seconds: float = 2.0
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = field(default=None, repr=False)
    zendesk_webhook_secret: str | None = field(default=None, repr=False)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = "https://slack.com/api/"
    admin_user: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    public_url: str | None = None  # where users reach this service (the dashboard), for links in Slack digests
    outbox_lease_seconds: float = 60.0  # a claimed action whose worker died is retried after this
    # Zendesk's per-minute limits for the whole account (every process shares one budget in the database).
    zendesk_account_rate_limit: int = 700
    zendesk_ticket_update_rate_limit: int = 100
    # After updates go out, the next ones gather this long into one Update Many job (a storm: few big jobs).
    zendesk_gather_seconds: float = 0.5
    # The worker decides queued webhooks when woken (NOTIFY, or in-process); this poll is the fallback.
    inbox_poll_seconds: float = 0.5
    # The worker's delivery threads lower their CPU priority by this much (nice; 0: not at all; Linux, where
    # it is kept per thread), so that on a machine shared with the web processes, answering webhooks and
    # deciding them come before delivering.
    delivery_nice: int = 10
    # Accept unsigned Zendesk/Slack webhooks when no secret is set. Development only; logged loudly.
    insecure_dev_webhooks: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Config":
        env = os.environ if environ is None else environ
        values = {name: env[var] for name, var in _ENV.items() if env.get(var)}
        if "mappings_poll_seconds" in values:
            values["mappings_poll_seconds"] = float(values["mappings_poll_seconds"])
        if "outbox_lease_seconds" in values:
            values["outbox_lease_seconds"] = float(values["outbox_lease_seconds"])
        for name in ("zendesk_gather_seconds", "inbox_poll_seconds"):
            if name in values:
                values[name] = float(values[name])
        for name in ("zendesk_account_rate_limit", "zendesk_ticket_update_rate_limit", "delivery_nice"):
            if name in values:
                values[name] = int(values[name])
        if "insecure_dev_webhooks" in values:
            values["insecure_dev_webhooks"] = values["insecure_dev_webhooks"].lower() in ("1", "true", "yes")
        return cls(**values)

    def with_overrides(self, overrides: Mapping[str, object] | None) -> "Config":
        return replace(self, **dict(overrides or {}))

    @property
    def zendesk_dry_run(self) -> bool:
        return not (self.zendesk_subdomain and self.zendesk_email and self.zendesk_api_token)

    @property
    def slack_dry_run(self) -> bool:
        return not self.slack_bot_token

    def sqlite_directory(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != "sqlite:///:memory:":
            return Path(self.database_url[len(prefix):]).parent
        return None


_ENV = {
    "database_url": "DATABASE_URL",
    "mappings_dir": "MAPPINGS_DIR",
    "mappings_poll_seconds": "MAPPINGS_POLL_SECONDS",
    "zendesk_subdomain": "ZENDESK_SUBDOMAIN",
    "zendesk_email": "ZENDESK_EMAIL",
    "zendesk_api_token": "ZENDESK_API_TOKEN",
    "zendesk_webhook_secret": "ZENDESK_WEBHOOK_SECRET",
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_api_url": "SLACK_API_URL",
    "admin_user": "ESCALATOR_ADMIN_USER",
    "admin_password": "ESCALATOR_ADMIN_PASSWORD",
    "public_url": "ESCALATOR_PUBLIC_URL",
    "insecure_dev_webhooks": "ESCALATOR_INSECURE_DEV_WEBHOOKS",
    "outbox_lease_seconds": "OUTBOX_LEASE_SECONDS",
    "zendesk_account_rate_limit": "ZENDESK_ACCOUNT_RATE_LIMIT",
    "zendesk_ticket_update_rate_limit": "ZENDESK_TICKET_UPDATE_RATE_LIMIT",
    "zendesk_gather_seconds": "ZENDESK_GATHER_SECONDS",
    "inbox_poll_seconds": "INBOX_POLL_SECONDS",
    "delivery_nice": "DELIVERY_NICE",
}
