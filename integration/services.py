"""Everything the web app and the worker share, built once from a Config (no globals)."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from integration.config import Config
from integration.core.context import Context
from integration.storage.decisions import Ingestor, utcnow
from integration.mappings.store import MappingsStore
from integration.storage.db import make_engine, make_sessions

log = logging.getLogger("escalator")


@dataclass
class Metrics:
    webhooks: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count_webhook(self, source: str, outcome: str) -> None:
        with self.lock:
            self.webhooks[(source, outcome)] += 1


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
    from integration.reports.credit_standing import month_standing

    return Services(config=config, mappings=mappings, engine=engine, sessions=sessions,
                    ingestor=Ingestor(sessions, mappings, now, context_for(config)), metrics=Metrics(), now=now,
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
