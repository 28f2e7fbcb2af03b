"""Every call to Slack goes through here, from the outbox: retries, rate limits and pacing live here."""
from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from integration.config import Config
from integration.core.retry_after import retry_after
from integration.core.digest import DigestItem, digest_chunks, digest_message
from integration.inbound import short
from integration.storage.outbox import Claimed, Deferred, Delivered, DryRun, Failed, RetryLater

# Errors that retrying cannot fix: recorded as failed and shown by `escalator outbox`.
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_auth",
             "account_inactive", "token_revoked", "msg_too_long", "no_text", "invalid_arguments",
             "missing_scope", "not_authed", "user_not_found", "cannot_dm_bot", "restricted_action",
             "user_not_in_channel"}
MAX_INLINE_WAIT = 2  # seconds: a longer Retry-After goes back to the outbox instead of blocking the worker


class ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, but only for short waits; longer ones are rescheduled durably."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        return _retry_after(response.headers) <= MAX_INLINE_WAIT


def _retry_after(headers) -> float:
    return retry_after(headers, missing=1.0, unreadable=30.0)


class ChannelPacer:
    """About one message per second per channel, Slack's chat.postMessage limit."""

    def __init__(self, interval: float = 1.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.monotonic, self.last, self.lock = interval, monotonic, {}, threading.Lock()

    def wait_for(self, channel: str) -> float:
        with self.lock:
            now = self.monotonic()
            ready = self.last.get(channel, -1e9) + self.interval
            if now < ready:
                return ready - now
            self.last[channel] = now
            return 0.0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class SlackGateway:
    def __init__(self, client: WebClient | None, pacer: ChannelPacer | None = None,
                 response_hosts: tuple[str, ...] = ("https://hooks.slack.com/",), dashboard_url: str | None = None,
                 now: Callable[[], dt.datetime] = _utcnow) -> None:
        self.client, self.pacer, self.response_hosts = client, pacer or ChannelPacer(), response_hosts
        self.dashboard_url, self.now = dashboard_url, now

    def deliver(self, action: Claimed):
        if self.client is None:
            return DryRun("SLACK_BOT_TOKEN not set: recorded, not sent")
        if action.kind == "respond":
            return self._respond(action.payload)
        if action.kind == "open_view":
            return self._open_view(action.payload)
        if action.kind != "post_message":
            return Failed(f"unknown Slack action kind {action.kind!r}")
        payload = action.payload
        if payload.get("ephemeral_user"):
            return self._post_ephemeral(payload)
        if _stale(action, self.now()):
            return Delivered(STALE)
        wait = self.pacer.wait_for(payload["channel"])
        if wait:
            return RetryLater("pacing: one message per second per channel", after=dt.timedelta(seconds=wait))
        return self._post(payload["channel"], payload["text"], payload.get("blocks"), payload.get("thread_ts"))

    def deliver_batch(self, actions: list[Claimed]) -> dict[int, object]:
        """One round's Slack actions: per channel, several steps (or reminders) of one level become one digest.

        A channel gets at most one message per round; whatever its pacing slot cannot take is Deferred
        (not an attempt) and regrouped next round, so a storm drains as a few digests, not a message a second.
        """
        outcomes: dict[int, object] = {}
        channels: dict[str, list[Claimed]] = {}
        now = self.now()
        for action in actions:
            if self.client is None or action.kind != "post_message" or action.payload.get("ephemeral_user"):
                outcomes[action.id] = self.deliver(action)
            elif _stale(action, now):
                outcomes[action.id] = Delivered(STALE)
            else:
                channels.setdefault(action.payload["channel"], []).append(action)
        for channel, rows in channels.items():
            outcomes |= self._deliver_channel(channel, rows)
        return outcomes

    def _deliver_channel(self, channel: str, rows: list[Claimed]) -> dict[int, object]:
        outcomes: dict[int, object] = {}
        for unit in _units(rows):
            wait = self.pacer.wait_for(channel)
            if wait:
                deferred = Deferred(dt.timedelta(seconds=wait), "pacing: one message per second per channel")
                return outcomes | {row.id: deferred for row in rows if row.id not in outcomes}
            if len(unit) == 1:
                payload = unit[0].payload
                outcome = self._post(channel, payload["text"], payload.get("blocks"), payload.get("thread_ts"))
            else:
                message = digest_message([DigestItem.from_json(r.payload["digest"]) for r in unit],
                                         dashboard_url=self.dashboard_url)
                outcome = self._post(channel, message["text"], message["blocks"], None, digest_of=len(unit))
            outcomes |= {row.id: outcome for row in unit}
        return outcomes

    def _post(self, channel: str, text: str, blocks, thread_ts, digest_of: int = 0):
        try:
            response = self.client.chat_postMessage(channel=channel, text=text, blocks=blocks, thread_ts=thread_ts,
                                                    unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            return outcome_of_error(exc)
        except (OSError, TimeoutError) as exc:  # urllib's connection errors and timeouts
            return RetryLater(f"{exc.__class__.__name__}: {exc}")
        suffix = f" (digest of {digest_of} notifications)" if digest_of else ""
        return Delivered(f"posted to {channel} at ts {response.get('ts')}{suffix}")

    def _post_ephemeral(self, payload: dict):
        """Seen by one member only (a CSAT prompt to the ticket's requester)."""
        try:
            self.client.chat_postEphemeral(channel=payload["channel"], user=payload["ephemeral_user"],
                                           text=payload["text"], blocks=payload.get("blocks"))
        except SlackApiError as exc:
            return outcome_of_error(exc)
        except (OSError, TimeoutError) as exc:
            return RetryLater(f"{exc.__class__.__name__}: {exc}")
        return Delivered(f"shown to {payload['ephemeral_user']} only, in {payload['channel']}")

    def _open_view(self, payload: dict):
        """A modal (billing's reason or invoice dialog); an expired trigger cannot be retried: click again."""
        try:
            self.client.views_open(trigger_id=payload["trigger_id"], view=payload["view"])
        except SlackApiError as exc:
            if exc.response.get("error") in ("expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"):
                return Failed(f"Slack refused the dialog: {exc.response.get('error')} (click the button again)")
            return outcome_of_error(exc)
        except (OSError, TimeoutError) as exc:
            return RetryLater(f"{exc.__class__.__name__}: {exc}")
        return Delivered("dialog opened")

    def _respond(self, payload: dict):
        url = payload.get("url")
        # A response_url comes inside a signed Slack request; still, we only ever post to Slack's hosts.
        if not isinstance(url, str) or not url.startswith(self.response_hosts):
            return Failed(f"response_url {short(url)} is not a Slack address")
        try:
            response = WebhookClient(url, timeout=10).send_dict(payload["message"])
        except (OSError, TimeoutError) as exc:  # urllib's connection errors and timeouts
            return RetryLater(f"{exc.__class__.__name__}: {exc}")
        status = response.status_code
        if status >= 500 or status == 429:
            return RetryLater(f"response_url answered {status}",
                              after=dt.timedelta(seconds=_retry_after(response.headers)) if status == 429 else None)
        if status >= 400:
            return Failed(f"response_url refused it ({status}): {str(response.body)[:200]}")
        return Delivered("answered through response_url")


STALE = "dropped: already past due"  # a warning whose instant passed: the breach message says it better
DIGESTED = ("step", "reminder")


def _stale(action: Claimed, now: dt.datetime) -> bool:
    digest = action.payload.get("digest")
    return bool(digest) and DigestItem.from_json(digest).past_due(now)


def _units(rows: list[Claimed]) -> list[list[Claimed]]:
    """What to post, oldest first: a digest per (kind, level) with two or more rows, else each row alone."""
    groups: dict[tuple, list[Claimed]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        digest = row.payload.get("digest") or {}
        key = (digest.get("kind"), digest.get("level")) if digest.get("kind") in DIGESTED else ("single", row.id)
        groups.setdefault(key, []).append(row)
    units: list[list[Claimed]] = []
    for group in groups.values():
        if len(group) == 1:
            units.append(group)
            continue
        items = [(DigestItem.from_json(r.payload["digest"]), r) for r in group]
        row_of = {id(item): row for item, row in items}
        units += [[row_of[id(item)] for item in chunk] for chunk in digest_chunks([item for item, _ in items])]
    return units


def outcome_of_error(exc: SlackApiError):
    response = exc.response
    error = response.get("error") if hasattr(response, "get") else None
    if response.status_code == 429 or error == "ratelimited":
        return RetryLater("Slack rate limited the post", after=dt.timedelta(seconds=_retry_after(response.headers)))
    if error in PERMANENT:
        return Failed(f"Slack refused it: {error}")
    return RetryLater(f"Slack answered {response.status_code}: {error or 'no error code'}")


def build_slack_gateway(config: Config) -> SlackGateway:
    if config.slack_dry_run:
        return SlackGateway(None)
    return SlackGateway(build_slack_client(config), response_hosts=response_hosts(config),
                        dashboard_url=config.public_url)


def build_slack_client(config: Config) -> WebClient | None:
    if config.slack_dry_run:
        return None
    return WebClient(token=config.slack_bot_token, base_url=config.slack_api_url, timeout=10,
                     retry_handlers=[ConnectionErrorRetryHandler(), ShortRateLimitRetry(max_retry_count=2)])


def response_hosts(config: Config) -> tuple[str, ...]:
    """Slack's own hosts, plus the configured API's origin (a self-hosted fake in tests)."""
    parts = urlsplit(config.slack_api_url)
    return ("https://hooks.slack.com/", f"{parts.scheme}://{parts.netloc}/")
