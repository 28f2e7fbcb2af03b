"""A ticket's Slack thread (pure): what a Zendesk event or a Slack message means for the mirror, and the text."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from integration.core.state import Action

SLACK_TARGET, ZENDESK_TARGET = "slack_thread", "zendesk_thread"
MIRROR_EVENT = "escalator_mirror"  # Slack message metadata on every post of ours: never mirrored back
STATUS_LINES = {
    "pending": "Waiting for your reply",
    "hold": "On hold: we are waiting on something on our side and will update you here",
    "solved": "Solved — reply here to reopen",
}
ENDED_LINE = "This ticket is no longer followed in this channel."
MAX_SLACK_TEXT = 3900  # below Slack's 4,000 characters for a message's text


@dataclass(frozen=True)
class ThreadView:
    ticket_id: int
    organization_id: int
    channel_id: str
    thread_ts: str | None
    last_status: str | None = None


@dataclass(frozen=True)
class SlackMessage:
    """What a Slack `message` event asks of the mirror."""

    kind: str  # reply | edit | top_level | ignore
    channel: str = ""
    ts: str = ""
    thread_ts: str = ""
    user: str = ""
    text: str = ""
    files: tuple[dict, ...] = ()
    reason: str = ""


def help_center_url(subdomain: str | None, ticket_id: int) -> str | None:
    return f"https://{subdomain}.zendesk.com/hc/requests/{ticket_id}" if subdomain else None


def classify_slack_message(event: dict) -> SlackMessage:
    subtype = event.get("subtype")
    if subtype == "message_deleted" or event.get("deleted_ts"):
        return SlackMessage("ignore", reason="deletions are not mirrored")
    edited = subtype == "message_changed"
    message = (event.get("message") or {}) if edited else event
    if not isinstance(message, dict) or not isinstance(message.get("metadata") or {}, dict) \
            or not isinstance(message.get("files") or [], list):
        return SlackMessage("ignore", reason="not a message Slack sends")
    if message.get("bot_id") or message.get("app_id") or subtype in ("bot_message", "channel_join", "channel_leave") \
            or (message.get("metadata") or {}).get("event_type") == MIRROR_EVENT:
        return SlackMessage("ignore", reason="a bot's or our own message")
    previous = event.get("previous_message") if isinstance(event.get("previous_message"), dict) else {}
    if edited and message.get("text") == previous.get("text"):
        return SlackMessage("ignore", reason="an edit that changed no text (e.g. an unfurl)")
    user, ts = str(message.get("user") or ""), str(message.get("ts") or "")
    if not user or not ts:
        return SlackMessage("ignore", reason="no user or ts")
    thread_ts = str(message.get("thread_ts") or "")
    files = tuple(f for f in message.get("files") or () if isinstance(f, dict) and f.get("id"))
    fields = dict(channel=str(event.get("channel") or ""), ts=ts, thread_ts=thread_ts, user=user,
                  text=str(message.get("text") or ""), files=files)
    if thread_ts and thread_ts != ts:
        return SlackMessage("edit" if edited else "reply", **fields)
    return SlackMessage("ignore", reason="an edit of a top-level message") if edited else \
        SlackMessage("top_level", **fields)


def slack_reply_action(thread: ThreadView, message: SlackMessage) -> Action:
    """A customer's reply (or its edit) in a bound thread, to become a public comment on the ticket."""
    text = message.text if message.kind == "reply" else f"edited: {message.text}"
    files = [{k: f.get(k) for k in ("id", "name", "size", "mimetype", "url_private_download", "permalink")}
             for f in message.files]
    key = f"thread-in-{message.channel}-{message.ts}" + ("" if message.kind == "reply" else f"-edit-{hash_text(text)}")
    payload = {"ticket_id": thread.ticket_id, "organization_id": thread.organization_id, "channel": message.channel,
               "thread_ts": message.thread_ts, "ts": message.ts, "user": message.user, "text": text, "files": files}
    return Action(ZENDESK_TARGET, "comment_from_slack", payload, key)


def hash_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def zendesk_event_actions(event_type: str, document: dict, thread: ThreadView | None) -> tuple[list[Action], str]:
    """What a Zendesk event subscription body means for a ticket's thread: actions, and the new status line (or
    "ended" when the ticket left the thread's organization)."""
    if thread is None or not event_type.startswith("ticket."):
        return [], ""
    detail, event = document.get("detail") or {}, document.get("event") or {}
    organization = _int(detail.get("organization_id"))
    ticket_id, event_id = thread.ticket_id, str(document.get("id") or "")
    if organization != thread.organization_id:
        # Moved to another organization: the old channel hears one neutral line, and nothing after it.
        return [Action(SLACK_TARGET, "end_thread", {"ticket_id": ticket_id, "text": ENDED_LINE,
                                                      "channel": thread.channel_id, "thread_ts": thread.thread_ts},
                       f"thread-end-{ticket_id}-{thread.channel_id}-{thread.thread_ts}")], "ended"
    if event_type == "ticket.comment_added":
        comment = event.get("comment") or {}
        author = comment.get("author") or {}
        if comment.get("is_public") is not True or author.get("is_staff") is not True:
            return [], ""  # internal notes never leave Zendesk; the customer's own words are already theirs
        payload = {"ticket_id": ticket_id, "comment_id": str(comment.get("id") or ""),
                   "author": str(author.get("name") or "Support"), "body": str(comment.get("body") or "")}
        return [Action(SLACK_TARGET, "comment_to_slack", payload, f"thread-out-{ticket_id}-{payload['comment_id']}")], ""
    if event_type == "ticket.status_changed":
        status = str(detail.get("status") or "").strip().lower()
        if status in STATUS_LINES and status != thread.last_status:
            return [Action(SLACK_TARGET, "status_line", {"ticket_id": ticket_id, "status": status,
                                                         "text": STATUS_LINES[status]},
                           f"thread-status-{ticket_id}-{event_id}")], status
        return [], status if status in ("open", "new") else ""
    return [], ""


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def agent_post(author: str, text: str, attachments: list[tuple[str, str]]) -> str:
    lines = [f"*{_escape(author)}*", text.strip()]
    lines += [f"<{url}|{_escape(name)}>" for name, url in attachments]
    post = "\n".join(line for line in lines if line)
    return post if len(post) <= MAX_SLACK_TEXT else post[:MAX_SLACK_TEXT - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(body: str, html_body: str | None = None) -> str:
    """Zendesk's comment, HTML when we have it (the agent's formatting), else its markdown-ish plain body."""
    if html_body and "<" in html_body:
        parser = _Mrkdwn()
        parser.feed(html_body)
        parser.close()
        return re.sub(r"\n{3,}", "\n\n", "".join(parser.out)).strip()
    return _markdown(body)


def _markdown(text: str) -> str:
    text = _escape(text)
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"<\2|\1>", text)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: f"*{m.group(1) or m.group(2)}*", text)
    text = re.sub(r"(?m)^#{1,6}\s+(.+)$", r"*\1*", text)
    text = re.sub(r"(?m)^\s*[-*]\s+", "• ", text)
    return text.strip()


class _Mrkdwn(HTMLParser):
    MARKS = {"strong": "*", "b": "*", "em": "_", "i": "_", "code": "`", "s": "~", "del": "~"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[str | None] = []
        self.pre = False

    def handle_starttag(self, tag, attrs):
        if tag in self.MARKS and not self.pre:
            self.out.append(self.MARKS[tag])
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if href.startswith(("http://", "https://", "mailto:")) else None)
            if self.links[-1]:
                self.out.append(f"<{self.links[-1]}|")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n• ")
        elif tag == "pre":
            self.pre = True
            self.out.append("\n```")
        elif tag in ("p", "div", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4"):
            self.out.append("\n" + ("> " if tag == "blockquote" else ""))
            if tag.startswith("h"):
                self.out.append("*")

    def handle_endtag(self, tag):
        if tag in self.MARKS and not self.pre:
            self.out.append(self.MARKS[tag])
        elif tag == "a" and self.links:
            if self.links.pop():
                self.out.append(">")
        elif tag == "pre":
            self.pre = False
            self.out.append("```\n")
        elif tag in ("p", "div", "ul", "ol", "blockquote"):
            self.out.append("\n")
        elif tag in ("h1", "h2", "h3", "h4"):
            self.out.append("*\n")

    def handle_data(self, data):
        text = _escape(data)
        if self.links and self.links[-1]:
            text = text.replace("|", "¦").replace(">", "&gt;")
        self.out.append(text)



def slack_to_text(text: str) -> str:
    """A Slack message's mrkdwn as a Zendesk comment's plain text: links spelled out, entities decoded."""
    text = re.sub(r"<((?:https?|mailto):[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<((?:https?|mailto):[^>]+)>", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def customer_comment(name: str, text: str, links: list[tuple[str, str]]) -> str:
    lines = [slack_to_text(text) or "(no text)"]
    lines += [f"{file_name}: {url}" for file_name, url in links]
    return "\n".join(lines) + f"\n\n(from Slack, {name})"
