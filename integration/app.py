"""Application factory: nothing is read from the environment or built at import time."""
from __future__ import annotations

import logging
from typing import Mapping

from flask import Flask, jsonify

from integration.config import Config
from integration.mappings.store import MappingsStore

log = logging.getLogger("escalator")


def create_app(config: Config | Mapping[str, object] | None = None) -> Flask:
    if not isinstance(config, Config):
        config = Config.from_env().with_overrides(config)
    app = Flask("escalator")
    app.extensions["escalator.config"] = config
    app.extensions["escalator.mappings"] = MappingsStore(
        config.mappings_dir, logger=log, min_interval=config.mappings_poll_seconds
    )
    _log_mode(config)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    return app


def mappings_store(app: Flask) -> MappingsStore:
    return app.extensions["escalator.mappings"]


def healthz():
    return jsonify(status="ok")


def readyz():
    from flask import current_app

    store = mappings_store(current_app)
    current = store.current
    body = {
        "status": "ready",
        "mappings": {"fingerprint": current.fingerprint, "source": current.source},
    }
    if store.last_error is not None:
        # Still ready: the last good mappings keep serving, but the rejected edit must be visible.
        body["mappings"]["rejected_edit"] = [str(e) for e in store.last_error.errors]
    return jsonify(body)


def _log_mode(config: Config) -> None:
    if config.zendesk_dry_run:
        log.warning("Zendesk credentials not set: DRY-RUN, Zendesk actions are recorded, not sent")
    if config.slack_dry_run:
        log.warning("SLACK_BOT_TOKEN not set: DRY-RUN, Slack messages are recorded, not sent")
