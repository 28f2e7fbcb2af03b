"""Application factory: nothing is read from the environment or built at import time."""
from __future__ import annotations

import datetime as dt
from typing import Callable, Mapping

from flask import Flask, current_app, jsonify
from sqlalchemy import text

from integration.config import Config
from integration.storage.decisions import utcnow
from integration.services import Services, build_services, log_mode
from integration.dashboard.web import blueprint as dashboard
from integration.dashboard.metrics import metrics
from integration.reports.web import blueprint as reports_blueprint
from integration.sidebar.web import blueprint as sidebar_api
from webhooks.slack import blueprint as slack_webhooks
from webhooks.zendesk import blueprint as zendesk_webhooks


def create_app(config: Config | Mapping[str, object] | None = None, *,
               now: Callable[[], dt.datetime] = utcnow, services: Services | None = None) -> Flask:
    if not isinstance(config, Config):
        config = Config.from_env().with_overrides(config)
    app = Flask("escalator")
    app.extensions["escalator.services"] = services or build_services(config, now)
    log_mode(config)
    app.register_blueprint(zendesk_webhooks)
    app.register_blueprint(slack_webhooks)
    app.register_blueprint(dashboard)
    app.register_blueprint(reports_blueprint)
    app.register_blueprint(sidebar_api)
    app.add_url_rule("/metrics", "metrics", metrics)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    return app


def services_of(app: Flask) -> Services:
    return app.extensions["escalator.services"]


def healthz():
    return jsonify(status="ok")


def readyz():
    services = services_of(current_app)
    body: dict = {"status": "ready"}
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        body["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        body["status"], body["database"] = "not ready", f"unreachable: {exc.__class__.__name__}"
    current = services.mappings.current
    body["mappings"] = {"fingerprint": current.fingerprint, "source": current.source}
    if services.mappings.last_error is not None:
        # Still ready: the last good mappings keep serving, but the rejected edit must be visible.
        body["mappings"]["rejected_edit"] = [str(e) for e in services.mappings.last_error.errors]
    return jsonify(body), 200 if body["status"] == "ready" else 503
