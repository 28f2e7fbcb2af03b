"""Everything the web app and the worker share, built once from a Config (no globals)."""
from __future__ import annotations

import datetime as dt
import logging
import os
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from integration.config import Config
from integration.core.context import Context
from integration.storage.decisions import Ingestor, utcnow
from integration.mappings.store import MappingsStore
from integration.storage.db import make_engine, make_record_engine, make_sessions

log = logging.getLogger("escalator")


class Metrics:
    """Counters and histograms of this service (prometheus_client). Under gunicorn with several processes
    PROMETHEUS_MULTIPROC_DIR is set (`escalator serve`, the Procfile's gunicorn config): every process writes
    its own file there and a scrape of any process sums them all, so counters only ever go up."""

    LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

    def __init__(self) -> None:
        # Imported here: the multiprocess switch is read when prometheus_client is first imported, which must
        # come after `escalator serve` has set the directory (see integration.cli.gunicorn_conf).
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter("escalator_webhook_requests", "Webhook requests by source and outcome.",
                                ["source", "outcome"], registry=self.registry)
        self.decisions = Histogram("escalator_decision_latency_seconds",
                                   "From a webhook's receipt to its decision by the worker.",
                                   buckets=self.LATENCY_BUCKETS, registry=self.registry)

    def count_webhook(self, source: str, outcome: str) -> None:
        self.webhooks.labels(source, outcome).inc()

    def observe_decision(self, seconds: float) -> None:
        self.decisions.observe(seconds)

    def render(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector

        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        return generate_latest(merged)


@dataclass
class Services:
    config: Config
    mappings: MappingsStore
    engine: Engine
    sessions: sessionmaker[Session]
    ingestor: Ingestor
    metrics: Metrics
    now: Callable[[], dt.datetime]
    # (organization id, "YYYY-MM", as of) → MonthStanding: the report's figures for credits and `/support sla`
    month_standing: Callable | None = None


def build_services(config: Config, now: Callable[[], dt.datetime] = utcnow) -> Services:
    mappings = MappingsStore(config.mappings_dir, logger=log, min_interval=config.mappings_poll_seconds)
    engine = make_engine(config.database_url)
    sessions = make_sessions(engine)
    record_engine = make_record_engine(config.database_url, engine)
    from integration.reports.credit_standing import month_standing

    metrics = Metrics()
    return Services(config=config, mappings=mappings, engine=engine, sessions=sessions,
                    ingestor=Ingestor(sessions, mappings, now, context_for(config), on_decided=metrics.observe_decision,
                                      record_engine=record_engine),
                    metrics=metrics, now=now,
                    month_standing=lambda org, month, at: month_standing(sessions, mappings.current, org, month, at))


def context_for(config: Config) -> Context:
    if config.zendesk_subdomain:
        return Context(zendesk_url=f"https://{config.zendesk_subdomain}.zendesk.com")
    return Context()


def log_mode(config: Config) -> None:
    if config.zendesk_dry_run:
        log.warning("Zendesk credentials not set: DRY-RUN, Zendesk actions are recorded, not sent "
                    "(see `escalator outbox`)")
    if config.slack_dry_run:
        log.warning("SLACK_BOT_TOKEN not set: DRY-RUN, Slack messages are recorded, not sent")
    if config.insecure_dev_webhooks:
        log.warning("ESCALATOR_INSECURE_DEV_WEBHOOKS is set: UNSIGNED webhooks are accepted when no secret "
                    "is configured. Never use this in production.")
