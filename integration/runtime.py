"""Wiring the worker from a Config: the Zendesk gateway (or dry-run) and the services it shares."""
from __future__ import annotations

import datetime as dt
import logging
import threading
from functools import partial

from zenpy import Zenpy

from integration.core.threads import SLACK_TARGET, ZENDESK_TARGET
from integration.services import Services
from integration.slack.thread_mirror import poster as thread_poster
from integration.storage.threads import Threads
from integration.zendesk.thread_comments import ZendeskThreadWriter
from integration.storage.credits import remind_overdue
from integration.storage.csat_alerts import DailyCsatAlerts
from integration.slack.requests_in_zendesk import TicketOpener
from integration.storage.listen import listen_for_queued, listens
from integration.slack.pacing import SharedChannelPacer
from integration.slack.gateway import SlackGateway, build_slack_gateway, response_hosts
from integration.worker import Worker
from integration.zendesk.client import build_zenpy
from integration.zendesk.budget import ACCOUNT, TICKET_UPDATE, ZendeskBudget
from integration.zendesk.dry_run import DryRunZendesk
from integration.zendesk.gateway import ZendeskGateway

log = logging.getLogger("escalator")


def build_worker(services: Services, *, zenpy: Zenpy | None = None, slack: SlackGateway | None = None) -> Worker:
    """The worker of `escalator worker` and `serve`. Tests pass `zenpy` and `slack` pointed at their fakes;
    left out, both are built from the config (no Zendesk credentials: dry-run)."""
    config = services.config
    budget = zendesk_budget(services)
    if zenpy is None and not config.zendesk_dry_run:
        zenpy = build_zenpy(config, on_response=lambda r: budget.observe(r.headers))
    if slack is None:
        slack = build_slack_gateway(config)
        slack.pacer = SharedChannelPacer(services.sessions, services.now)
    zendesk = DryRunZendesk(services.sessions, services.ingestor) if zenpy is None \
        else ZendeskGateway(zenpy, services.ingestor, budget, gather=config.zendesk_gather_seconds)
    deliverers = {"zendesk": zendesk, "slack": slack,
                  "open": TicketOpener(zenpy, slack.client, services.ingestor, subdomain=config.zendesk_subdomain),
                  SLACK_TARGET: thread_poster(slack.client, zenpy, services, slack.pacer, budget),
                  ZENDESK_TARGET: ZendeskThreadWriter(zenpy, slack.client, Threads(services.sessions, services.now),
                                                      budget, subdomain=config.zendesk_subdomain,
                                                      file_hosts=slack_file_hosts(config))}
    ingestor = services.ingestor
    return Worker(services.sessions, deliverers, now=services.now,
                  lease=dt.timedelta(seconds=config.outbox_lease_seconds),
                  tickers=(ingestor.fire_due_timers, ingestor.redecide_after_mapping_edit, budget.forget_old,
                           lambda: remind_overdue(services.sessions, services.mappings.current, services.now()),
                           DailyCsatAlerts(services.sessions, lambda: services.mappings.current, ingestor.context,
                                           services.now)),
                  inbox=partial(ingestor.decide_queued, inbox_batch(config)), wake=ingestor.wake,
                  poll=config.inbox_poll_seconds, delivery_nice=config.delivery_nice,
                  listen=partial(listen_for_queued, config.database_url) if listens(config.database_url) else None)


def inbox_batch(config) -> int:
    # SQLite has one writer: a decision batch holds it, and webhooks from other processes wait behind it (in
    # SQLite's busy handler), so batches stay small there. PostgreSQL locks rows: webhooks never wait.
    return 8 if config.database_url.startswith("sqlite") else 200


def slack_file_hosts(config) -> tuple[str, ...]:
    """Where shared files may be downloaded from with the bot token: Slack's file host (or the configured API's)."""
    return ("https://files.slack.com/",) + response_hosts(config)[1:]


def zendesk_budget(services: Services) -> ZendeskBudget:
    config = services.config
    return ZendeskBudget(services.sessions, services.now, {ACCOUNT: config.zendesk_account_rate_limit,
                                                           TICKET_UPDATE: config.zendesk_ticket_update_rate_limit})


def start_worker_thread(services: Services) -> threading.Event:
    stop = threading.Event()
    worker = build_worker(services)
    threading.Thread(target=worker.run_forever, args=(stop,), name="escalator-worker", daemon=True).start()
    return stop


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
