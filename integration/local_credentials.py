"""The embedded default's own secrets: an admin login and a Zendesk webhook secret, made on first run.

`escalator serve` (and `escalator demo`, which only reads them) call this; the app factory never does,
so gunicorn on `create_app()` in production (Procfile) cannot pick them up by accident.

- Only on the embedded default: a SQLite database. Its directory (`instance/` by default) holds
  `local-credentials.json`, mode 0600, created once with `secrets` and reused on later runs.
- The environment always wins: `ESCALATOR_ADMIN_USER`/`ESCALATOR_ADMIN_PASSWORD` (as a pair) and
  `ZENDESK_WEBHOOK_SECRET` replace the file's values.
- Nothing is generated when the database is not SQLite (production) or when any of those secrets is
  already in the environment (a configured deployment): an existing file may still fill the gaps.
"""
from __future__ import annotations

import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from integration.config import Config

log = logging.getLogger("escalator")
FILE_NAME = "local-credentials.json"
ADMIN_USER = "admin"
MODE = 0o600


class LocalCredentialsError(Exception):
    pass


@dataclass(frozen=True)
class LocalCredentials:
    admin_user: str
    admin_password: str
    zendesk_webhook_secret: str


@dataclass(frozen=True)
class Resolved:
    """The config to run with, and where its secrets came from (for the start-up banner)."""

    config: Config
    path: Path | None  # the credentials file, when one is used
    created: bool  # made on this run
    admin_from_file: bool
    secret_from_file: bool


def credentials_path(config: Config) -> Path | None:
    """`<directory of the SQLite database>/local-credentials.json`; None when not on SQLite."""
    directory = config.sqlite_directory()
    return None if directory is None else directory / FILE_NAME


def generate() -> LocalCredentials:
    return LocalCredentials(admin_user=ADMIN_USER, admin_password=secrets.token_urlsafe(18),
                            zendesk_webhook_secret=secrets.token_urlsafe(32))


def resolve(config: Config, *, create: bool) -> Resolved:
    """Fill what the environment left unset from the local file, making the file first if allowed."""
    path = credentials_path(config)
    admin_set = bool(config.admin_user or config.admin_password)
    secret_set = bool(config.zendesk_webhook_secret)
    if path is None or (admin_set and secret_set):
        return Resolved(config, None, False, False, False)
    created = False
    stored = load(path)
    if stored is None:
        if not create or admin_set or secret_set:
            return Resolved(config, None, False, False, False)
        stored, created = write_new(path)
    filled = replace(
        config,
        admin_user=config.admin_user if admin_set else stored.admin_user,
        admin_password=config.admin_password if admin_set else stored.admin_password,
        zendesk_webhook_secret=config.zendesk_webhook_secret if secret_set else stored.zendesk_webhook_secret,
    )
    return Resolved(filled, path, created, admin_from_file=not admin_set, secret_from_file=not secret_set)


def load(path: Path) -> LocalCredentials | None:
    if not path.exists():
        return None
    return _load_or_raise(path)


def write_new(path: Path) -> tuple[LocalCredentials, bool]:
    """Create the file with mode 0600 (never briefly wider); if another process won the race, read its."""
    path.parent.mkdir(parents=True, exist_ok=True)
    credentials = generate()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, MODE)
    except FileExistsError:
        return _load_or_raise(path), False
    with os.fdopen(descriptor, "w") as handle:
        json.dump({"admin_user": credentials.admin_user, "admin_password": credentials.admin_password,
                   "zendesk_webhook_secret": credentials.zendesk_webhook_secret}, handle, indent=2)
        handle.write("\n")
    log.info("generated a local admin login and Zendesk webhook secret in %s (mode 0600)", path)
    return credentials, True


def _load_or_raise(path: Path) -> LocalCredentials:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o): narrowing it to 0600", path, mode)
        path.chmod(MODE)
    try:
        document = json.loads(path.read_text())
        return LocalCredentials(admin_user=_text(document, "admin_user"),
                                admin_password=_text(document, "admin_password"),
                                zendesk_webhook_secret=_text(document, "zendesk_webhook_secret"))
    except (ValueError, TypeError, AttributeError) as exc:
        raise LocalCredentialsError(f"{path} is not a valid credentials file ({exc}); "
                                    "delete it to generate a new one") from None


def _text(document: dict, key: str) -> str:
    value = document[key] if key in document else None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value
