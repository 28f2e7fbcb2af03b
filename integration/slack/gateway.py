"""Every call to Slack goes through here, from the outbox: retries, rate limits and pacing live here."""
from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Callable
from urllib.parse import urlsplit

import requests

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from integration.config import Config
from integration.storage.outbox import Claimed, Delivered, DryRun, Failed, RetryLater

# Errors that retrying cannot fix: recorded as failed and shown by `escalator outbox`.
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "invalid_auth",
             "account_inactive", "token_revoked", "msg_too_long", "no_text", "invalid_arguments",
             "missing_scope", "not_authed", "user_not_found", "cannot_dm_bot", "restricted_action"}
MAX_INLINE_WAIT = 2  # seconds: a longer Retry-After goes back to the outbox instead of blocking the worker


class ShortRateLimitRetry(RateLimitErrorRetryHandler):
    """slack-sdk's 429 handler, but only for short waits; longer ones are rescheduled durably."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        return _retry_after(response.headers) <= MAX_INLINE_WAIT


def _retry_after(headers) -> float:
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return 30.0
    return 1.0


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


class SlackGateway:
    def __init__(self, client: WebClient | None, pacer: ChannelPacer | None = None,
                 response_hosts: tuple[str, ...] = ("https://hooks.slack.com/",)) -> None:
        self.client, self.pacer, self.response_hosts = client, pacer or ChannelPacer(), response_hosts

    def deliver(self, action: Claimed):
        if self.client is None:
            return DryRun("SLACK_BOT_TOKEN not set: recorded, not sent")
        if action.kind == "respond":
            return self._respond(action.payload)
        if action.kind != "post_message":
            return Failed(f"unknown Slack action kind {action.kind!r}")
        payload = action.payload
        wait = self.pacer.wait_for(payload["channel"])
        if wait:
            return RetryLater("pacing: one message per second per channel", after=dt.timedelta(seconds=wait))
        try:
            response = self.client.chat_postMessage(channel=payload["channel"], text=payload["text"],
                                                    blocks=payload.get("blocks"),
                                                    thread_ts=payload.get("thread_ts"),
                                                    unfurl_links=False, unfurl_media=False)
        except SlackApiError as exc:
            return outcome_of_error(exc)
        except (OSError, TimeoutError) as exc:  # urllib's connection errors and timeouts
            return RetryLater(f"{exc.__class__.__name__}: {exc}")
        return Delivered(f"posted to {payload['channel']} at ts {response.get('ts')}")


    def _respond(self, payload: dict):
        url = payload["url"]
        # A response_url comes inside a signed Slack request; still, we only ever post to Slack's hosts.
        if not url.startswith(self.response_hosts):
            return Failed(f"response_url {url[:60]} is not a Slack address")
        try:
            response = requests.post(url, json=payload["message"], timeout=10)
        except requests.RequestException as exc:
            return RetryLater(f"{exc.__class__.__name__}: {exc}")
        if response.status_code >= 500 or response.status_code == 429:
            return RetryLater(f"response_url answered {response.status_code}",
                              after=dt.timedelta(seconds=_retry_after(response.headers)) if response.status_code == 429 else None)
        if response.status_code >= 400:
            return Failed(f"response_url refused it ({response.status_code}): {response.text[:200]}")
        return Delivered("answered through response_url")


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
    return SlackGateway(build_slack_client(config), response_hosts=response_hosts(config))


def build_slack_client(config: Config) -> WebClient | None:
    if config.slack_dry_run:
        return None
    return WebClient(token=config.slack_bot_token, base_url=config.slack_api_url, timeout=10,
                     retry_handlers=[ConnectionErrorRetryHandler(), ShortRateLimitRetry(max_retry_count=2)])


def response_hosts(config: Config) -> tuple[str, ...]:
    """Slack's own hosts, plus the configured API's origin (a self-hosted fake in tests)."""
    parts = urlsplit(config.slack_api_url)
    return ("https://hooks.slack.com/", f"{parts.scheme}://{parts.netloc}/")
