"""Zendesk → Slack (worker side): a ticket's public agent comments and status lines, posted in its thread.

Each post carries message metadata (event_type escalator_mirror, the outbox key), so the events Slack sends
back for it are recognised, and a retry after a lost answer finds the first post instead of doubling it.
"""
from __future__ import annotations

import datetime as dt
from slack_sdk.errors import SlackApiError

from integration.core.threads import MIRROR_EVENT, agent_post, help_center_url, to_mrkdwn
from integration.slack.binding import bind_channel
from integration.slack.gateway import outcome_of_error as slack_outcome
from integration.storage import threads
from integration.storage.outbox import Claimed, Deferred, Delivered, DryRun, Failed, RetryLater
from integration.zendesk.client import api_url
from integration.zendesk.outcomes import outcome_of_error as zendesk_outcome


class SlackThreadPoster:
    def __init__(self, slack, zenpy, sessions, mappings, pacer, budget, *, subdomain: str | None) -> None:
        self.slack, self.zenpy, self.sessions, self.mappings = slack, zenpy, sessions, mappings
        self.pacer, self.budget, self.subdomain = pacer, budget, subdomain

    def deliver(self, action: Claimed):
        if self.slack is None:
            return DryRun("SLACK_BOT_TOKEN not set: recorded, not sent")
        try:
            return self._deliver(action)
        except SlackApiError as exc:
            return slack_outcome(exc)
        except (OSError, TimeoutError) as exc:
            return RetryLater(f"{exc.__class__.__name__}: {exc}")

    def _deliver(self, action: Claimed):
        payload, ticket_id = action.payload, action.payload["ticket_id"]
        with self.sessions() as session:
            row = threads.active(session, ticket_id) if action.kind != "end_thread" else None
            thread = threads.view(row) if row else None
        if action.kind == "end_thread":
            return self._post(action, payload["channel"], payload["thread_ts"], payload["text"])
        if thread is None:
            return Delivered("the ticket has no thread any more: not posted")
        if not self._still_customers(thread.channel_id, thread.organization_id):
            return Failed(f"channel {thread.channel_id} is not organization {thread.organization_id}'s any more")
        if action.kind == "start_thread":
            return self._start(action, thread)
        if thread.thread_ts is None:
            return RetryLater("the thread's opening post has no ts yet")
        if action.kind == "status_line":
            link = help_center_url(self.subdomain, ticket_id)
            text = f"{payload['text']}" + (f" · <{link}|ticket #{ticket_id}>" if link else f" · ticket #{ticket_id}")
            return self._post(action, thread.channel_id, thread.thread_ts, text)
        if action.kind == "notice":
            return self._post(action, thread.channel_id, thread.thread_ts, payload["text"])
        if action.kind == "comment_to_slack":
            return self._comment(action, thread)
        return Failed(f"unknown thread action kind {action.kind!r}")

    def _still_customers(self, channel: str, organization_id: int) -> bool:
        binding = bind_channel(self.mappings.current, channel)
        return binding.kind == "customer" and binding.organization.zendesk_id == organization_id

    def _start(self, action: Claimed, thread):
        payload = action.payload
        outcome = self._post(action, thread.channel_id, payload.get("thread_ts"), payload["text"], payload.get("blocks"))
        if isinstance(outcome, Delivered) and thread.thread_ts is None:
            with self.sessions.begin() as session:
                row = threads.active(session, thread.ticket_id)
                if row is not None and row.thread_ts is None:
                    row.thread_ts = payload.get("thread_ts") or outcome.detail.rsplit(" ", 1)[-1]
        return outcome

    def _comment(self, action: Claimed, thread):
        payload = action.payload
        if self.zenpy is None:
            return DryRun("Zendesk credentials not set: the comment's text is not read")
        wait = self.pacer.wait_for(thread.channel_id)
        if wait:
            return Deferred(dt.timedelta(seconds=wait), "pacing: one message per second per channel")
        spend = self.budget.spend(account=1)
        if spend:
            return Deferred(spend, "waiting for Zendesk's rate budget")
        try:
            comment = self._zendesk_comment(thread.ticket_id, payload["comment_id"])
        except Exception as exc:  # noqa: BLE001 - Zendesk's errors, mapped in one place
            return zendesk_outcome(exc, thread.ticket_id)
        if comment is not None and comment.get("public") is False:
            return Delivered("the comment is an internal note now: not posted")
        body = to_mrkdwn((comment or {}).get("plain_body") or payload["body"], (comment or {}).get("html_body"))
        files = [(a.get("file_name") or "attachment", a.get("content_url")) for a in (comment or {}).get("attachments", [])
                 if a.get("content_url")]
        return self._post(action, thread.channel_id, thread.thread_ts, agent_post(payload["author"], body, files),
                          paced=False)

    def _zendesk_comment(self, ticket_id: int, comment_id: str) -> dict | None:
        response = self.zenpy.tickets.session.get(
            api_url(self.subdomain, f"tickets/{ticket_id}/comments.json"),
            params={"sort_order": "desc", "per_page": 100}, timeout=10)
        response.raise_for_status()
        return next((c for c in response.json().get("comments", []) if str(c.get("id")) == comment_id), None)

    def _post(self, action: Claimed, channel: str, thread_ts: str | None, text: str, blocks=None, paced: bool = True):
        if paced:
            wait = self.pacer.wait_for(channel)
            if wait:
                return Deferred(dt.timedelta(seconds=wait), "pacing: one message per second per channel")
        if action.attempts > 1 and thread_ts and self._already_posted(channel, thread_ts, action.idempotency_key):
            return Delivered(f"already posted in {channel} (an earlier attempt's answer was lost)")
        response = self.slack.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False,
            metadata={"event_type": MIRROR_EVENT, "event_payload": {"ticket_id": action.ticket_id,
                                                                    "key": action.idempotency_key}})
        return Delivered(f"posted to {channel} at ts {response.get('ts')}")

    def _already_posted(self, channel: str, thread_ts: str, key: str) -> bool:
        replies = self.slack.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True, limit=200)
        return any(((m.get("metadata") or {}).get("event_payload") or {}).get("key") == key
                   for m in replies.get("messages", []))


def poster(slack_client, zenpy, services, pacer, budget) -> SlackThreadPoster:
    return SlackThreadPoster(slack_client, zenpy, services.sessions, services.mappings, pacer, budget,
                             subdomain=services.config.zendesk_subdomain)

