"""In-memory Slack workspace used by the fake Web API (tests/fakes/slack.py).

Pure data logic, no HTTP: channels, users, posted messages, ephemeral
messages, reactions, and the checks Slack runs before it accepts a message.
Shapes follow the public Web API reference; sources and what is guessed are in
docs/slack-facts.md. Every method is called with the server's lock held.
"""

from __future__ import annotations

import copy
import json
import time
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

HOST_TEAM = "T0HOSTTEAM"
HOST_DOMAIN = "acme-support"
BOT_USER_ID = "U0ESCBOT01"
BOT_ID = "B0ESCBOT01"
APP_ID = "A0ESCALATR"
FIRST_TS_US = 1_717_000_000_000_000  # microseconds; first ts is "1717000000.000100"
TS_STEP_US = 100

MAX_TEXT = 40_000  # chat.postMessage: text over 40k characters -> msg_too_long
MAX_BLOCKS = 50  # blocks per message
# Block Kit length limits checked by the fake (see docs/slack-facts.md §5)
SECTION_TEXT, FIELD_TEXT, MAX_FIELDS = 3000, 2000, 10
HEADER_TEXT, BUTTON_TEXT, BUTTON_VALUE, ID_LEN = 150, 75, 2000, 255
ACTIONS_ELEMENTS, CONTEXT_ELEMENTS = 25, 10


class SlackError(Exception):
    """A Web API error: rendered as {"ok": false, "error": code, **extra} with `status`."""

    def __init__(self, error: str, status: int = 200, headers: dict[str, str] | None = None,
                 **extra: Any):
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.extra = extra


def as_bool(value: Any) -> bool:
    """Form bodies carry "true"/"1"; JSON bodies carry booleans."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def format_ts(us: int) -> str:
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def tz_offset(tz: str, at: datetime | None = None) -> int:
    """Seconds east of UTC at `at` (default now), as users.info reports it."""
    offset = (at or datetime.now(timezone.utc)).astimezone(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def block_problem(blocks: Any) -> tuple[str, str] | None:
    """(error, reason) if `blocks` would be refused by Slack, else None.

    Not a full Block Kit validator: it checks the shape (a JSON array of objects
    with a string `type`), the per-message count, and the length limits the app
    is most likely to hit with ticket text (section, fields, header, buttons).
    """
    if not isinstance(blocks, list):
        return "invalid_blocks_format", "blocks must be a JSON array"
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks", f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]"
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return "invalid_blocks", f"missing required field: type {where}"
        if "block_id" in block:
            if block["block_id"] in block_ids:
                return "invalid_blocks", f"block_id must be unique {where}/block_id"
            block_ids.add(block["block_id"])
        if len(str(block.get("block_id", ""))) > ID_LEN:
            return "invalid_blocks", f"must be less than {ID_LEN + 1} characters {where}/block_id"
        kind = block["type"]
        if kind == "section":
            if "text" not in block and "fields" not in block:
                return "invalid_blocks", f"must provide text or fields {where}"
            if len(_text_of(block.get("text"))) > SECTION_TEXT:
                return "invalid_blocks", f"must be less than {SECTION_TEXT + 1} characters {where}/text"
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS or any(len(_text_of(f)) > FIELD_TEXT for f in fields):
                return "invalid_blocks", f"fields too long or too many {where}/fields"
        elif kind == "header":
            text = block.get("text")
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                return "invalid_blocks", f"header text must be plain_text {where}/text"
            if len(_text_of(text)) > HEADER_TEXT:
                return "invalid_blocks", f"must be less than {HEADER_TEXT + 1} characters {where}/text"
        elif kind in ("actions", "context"):
            elements = block.get("elements")
            limit = ACTIONS_ELEMENTS if kind == "actions" else CONTEXT_ELEMENTS
            if not isinstance(elements, list) or not elements or len(elements) > limit:
                return "invalid_blocks", f"elements must hold 1..{limit} items {where}/elements"
            action_ids: set[str] = set()
            for j, element in enumerate(elements):
                if not isinstance(element, dict) or "type" not in element:
                    return "invalid_blocks", f"missing required field: type {where}/elements/{j}"
                if "action_id" in element:  # unique within the containing block
                    if element["action_id"] in action_ids:
                        return "invalid_blocks", f"action_id must be unique {where}/elements/{j}"
                    action_ids.add(element["action_id"])
                if element["type"] == "button":
                    if len(_text_of(element.get("text"))) > BUTTON_TEXT \
                            or len(str(element.get("value", ""))) > BUTTON_VALUE \
                            or len(str(element.get("action_id", ""))) > ID_LEN:
                        return "invalid_blocks", f"button field too long {where}/elements/{j}"
    return None


class SlackState:
    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock  # for posted_at (pacing checks), not for ts
        self.team = {"id": HOST_TEAM, "domain": HOST_DOMAIN, "name": "Acme Support"}
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: dict[str, list[dict[str, Any]]] = {}
        self.views: list[dict[str, Any]] = []  # modals opened (views.open)
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.accept_any_channel = False
        self.pacing: tuple[float, int, int] | None = None  # (per_second, burst, retry_after)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._next_us = FIRST_TS_US
        self.files: dict[str, dict[str, Any]] = {}  # files.info objects
        self.file_content: dict[str, bytes] = {}  # what GET url_private_download answers
        self.root_url = ""  # set by FakeSlack once it listens: files' download urls point here

    # -- seeding ---------------------------------------------------------------
    def add_channel(self, channel_id: str, name: str | None, *, is_ext_shared: bool = False,
                    is_im: bool = False, is_private: bool = False, is_archived: bool = False,
                    is_member: bool = True, user: str | None = None,
                    host_team: str = HOST_TEAM, shared_team_ids: list[str] | None = None,
                    **extra: Any) -> dict[str, Any]:
        if is_im:
            channel: dict[str, Any] = {
                "id": channel_id, "created": 1_700_000_000, "is_im": True, "is_org_shared": False,
                "context_team_id": host_team, "user": user or BOT_USER_ID,
                "is_user_deleted": False, "priority": 0,
            }
        else:
            teams = shared_team_ids or [host_team]
            channel = {
                "id": channel_id, "name": name, "name_normalized": name,
                "is_channel": not is_private, "is_group": is_private, "is_im": False,
                "is_mpim": False, "is_private": is_private, "created": 1_700_000_000,
                "is_archived": is_archived, "is_general": False, "unlinked": 0,
                "is_shared": is_ext_shared, "is_org_shared": False,
                "is_ext_shared": is_ext_shared, "is_pending_ext_shared": False,
                "pending_shared": [], "context_team_id": host_team,
                "conversation_host_id": host_team, "shared_team_ids": teams,
                "is_member": is_member, "creator": BOT_USER_ID,
                "topic": {"value": "", "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "previous_names": [],
            }
        channel.update(extra)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def add_user(self, user_id: str, *, team_id: str = HOST_TEAM, tz: str = "Europe/Berlin",
                 email: str | None = None, name: str | None = None,
                 real_name: str | None = None, is_bot: bool = False, deleted: bool = False,
                 **extra: Any) -> dict[str, Any]:
        name = name or user_id.lower()
        real_name = real_name or name
        profile = {"real_name": real_name, "real_name_normalized": real_name,
                   "display_name": name, "display_name_normalized": name,
                   "team": team_id, "status_text": "", "status_emoji": ""}
        if email is not None:
            profile["email"] = email
        user = {
            "id": user_id, "team_id": team_id, "name": name, "deleted": deleted,
            "real_name": real_name, "tz": tz, "tz_label": tz, "tz_offset": tz_offset(tz),
            "profile": profile, "is_admin": False, "is_owner": False, "is_bot": is_bot,
            "is_app_user": False, "is_restricted": False, "is_ultra_restricted": False,
            "updated": 1_700_000_000,
        }
        if team_id != self.team["id"]:
            user["is_stranger"] = False  # external member of a shared channel
        user.update(extra)
        self.users[user_id] = user
        return user

    # -- helpers ---------------------------------------------------------------
    def next_ts(self) -> str:
        self._next_us += TS_STEP_US
        return format_ts(self._next_us)

    def _channel(self, args: dict[str, Any], *, must_be_member: bool = True) -> str:
        channel_id = str(args.get("channel") or "")
        channel = self.channels.get(channel_id)
        if channel is None:
            if self.accept_any_channel and channel_id:
                return channel_id
            raise SlackError("channel_not_found")
        if channel.get("is_archived"):
            raise SlackError("is_archived")
        if must_be_member and not channel.get("is_im") and not channel.get("is_member", True):
            raise SlackError("not_in_channel")
        return channel_id

    @staticmethod
    def _content(args: dict[str, Any], *, required: bool = True) -> tuple[str | None, Any]:
        text = args.get("text")
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except ValueError:
                raise SlackError("invalid_blocks_format") from None
        if blocks is not None:
            problem = block_problem(blocks)
            if problem is not None:
                raise SlackError(problem[0], errors=[problem[1]])
        has_attachments = bool(args.get("attachments"))
        if required and not text and not blocks and not has_attachments:
            raise SlackError("no_text")
        if text is not None and len(str(text)) > MAX_TEXT:
            raise SlackError("msg_too_long")
        return (None if text is None else str(text)), blocks

    def _pace(self, channel_id: str) -> None:
        """Token bucket per channel when enforce_pacing() is on: 429 when empty."""
        if self.pacing is None:
            return
        rate, burst, retry_after = self.pacing
        now = self.clock()
        tokens, last = self._buckets.get(channel_id, (float(burst), now))
        tokens = min(float(burst), tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[channel_id] = (tokens, now)
            raise SlackError("ratelimited", status=429, headers={"Retry-After": str(retry_after)})
        self._buckets[channel_id] = (tokens - 1.0, now)

    def find_message(self, channel_id: str, ts: str) -> dict[str, Any]:
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise SlackError("message_not_found")

    @staticmethod
    def public(message: dict[str, Any]) -> dict[str, Any]:
        """The message as the API returns it (without the fake's bookkeeping)."""
        return {k: copy.deepcopy(v) for k, v in message.items()
                if k not in ("channel", "posted_at", "args", "history")}

    # -- API methods -----------------------------------------------------------
    def auth_test(self) -> dict[str, Any]:
        return {"url": f"https://{self.team['domain']}.slack.com/", "team": self.team["name"],
                "user": "escalator", "team_id": self.team["id"], "user_id": BOT_USER_ID,
                "bot_id": BOT_ID, "is_enterprise_install": False}

    def post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel(args)
        text, blocks = self._content(args)
        self._pace(channel_id)
        ts = self.next_ts()
        message: dict[str, Any] = {
            "type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID,
            "app_id": APP_ID, "team": self.team["id"], "text": text or "", "ts": ts,
        }
        if blocks is not None:
            message["blocks"] = blocks
        thread_ts = args.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            if as_bool(args.get("reply_broadcast", False)):
                message["reply_broadcast"] = True
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.messages.setdefault(channel_id, []).append(
            {**message, "channel": channel_id, "posted_at": self.clock(),
             "args": copy.deepcopy(args), "history": []})
        return {"channel": channel_id, "ts": ts, "message": copy.deepcopy(message)}

    def add_user_message(self, channel_id: str, user_id: str, text: str) -> dict[str, Any]:
        """A message a person posted (not the app): what a :ticket: reaction points at."""
        ts = self.next_ts()
        team = self.users.get(user_id, {}).get("team_id", self.team["id"])
        message = {"type": "message", "user": user_id, "team": team, "text": text, "ts": ts}
        self.messages.setdefault(channel_id, []).append(
            {**message, "channel": channel_id, "posted_at": self.clock(), "args": {}, "history": []})
        return copy.deepcopy(message)

    def conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel(args)
        latest = args.get("latest")
        inclusive = as_bool(args.get("inclusive", False))
        limit = int(args.get("limit") or 100)
        found = [m for m in self.messages.get(channel_id, []) if not m.get("thread_ts")
                 and (latest is None or float(m["ts"]) < float(latest)
                      or (inclusive and m["ts"] == str(latest)))]
        found.sort(key=lambda m: float(m["ts"]), reverse=True)
        return {"messages": [self.public(m) for m in found[:limit]], "has_more": len(found) > limit}

    def update_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel(args)
        message = self.find_message(channel_id, str(args.get("ts") or ""))
        text, blocks = self._content(args, required=False)
        if text is None and blocks is None and not args.get("attachments"):
            raise SlackError("no_text")
        message["history"].append({"text": message["text"], "blocks": message.get("blocks")})
        if text is not None:
            message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
        return {"channel": channel_id, "ts": message["ts"], "text": message["text"],
                "message": self.public(message)}

    def post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel(args)
        user = str(args.get("user") or "")
        if user not in self.users and not self.accept_any_channel:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(args)
        ts = self.next_ts()
        self.ephemerals.setdefault(channel_id, []).append({
            "ts": ts, "user": user, "text": text or "", "blocks": blocks,
            "thread_ts": args.get("thread_ts"), "posted_at": self.clock()})
        return {"message_ts": ts}

    def views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """Slack's views.open: a trigger_id is good once (reusing one is `exchanged_trigger_id`)."""
        trigger = str(args.get("trigger_id") or "")
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not trigger:
            raise SlackError("invalid_trigger_id")
        if any(v["trigger_id"] == trigger for v in self.views):
            raise SlackError("exchanged_trigger_id")
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("blocks"):
            raise SlackError("invalid_arguments")
        self.views.append({"trigger_id": trigger, "view": view})
        return {"view": {"id": f"V{len(self.views):08d}", **view}}

    def conversation_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise SlackError("channel_not_found")
        return {"channel": copy.deepcopy(channel)}

    def user_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for user in self.users.values():
            if user["profile"].get("email", "").lower() == email and email:
                return {"user": copy.deepcopy(user)}
        raise SlackError("users_not_found")

    def reactions_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel(args)
        name = str(args.get("name") or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        message = self.find_message(channel_id, str(args.get("timestamp") or ""))
        reactions = message.setdefault("reactions", [])
        for reaction in reactions:
            if reaction["name"] == name:
                if BOT_USER_ID in reaction["users"]:
                    raise SlackError("already_reacted")
                reaction["users"].append(BOT_USER_ID)
                reaction["count"] += 1
                return {}
        reactions.append({"name": name, "users": [BOT_USER_ID], "count": 1})
        return {}

    # -- threads and files (issue 12) -------------------------------------------
    def add_file(self, file_id: str, name: str, content: bytes, *, mimetype: str = "text/plain",
                 user: str = "", size: int | None = None) -> dict[str, Any]:
        """A file a person shared: files.info returns it; its url_private_download needs the bot token."""
        info = {"id": file_id, "created": 1_717_000_000, "timestamp": 1_717_000_000, "name": name,
                "title": name, "mimetype": mimetype, "filetype": name.rsplit(".", 1)[-1], "user": user,
                "size": len(content) if size is None else size, "mode": "hosted", "is_external": False,
                "url_private": f"{self.root_url}/files-pri/{self.team['id']}-{file_id}/{name}",
                "url_private_download": f"{self.root_url}/files-pri/{self.team['id']}-{file_id}/download/{name}",
                "permalink": f"https://{self.team['domain']}.slack.com/files/{user}/{file_id}/{name}"}
        self.files[file_id] = info
        self.file_content[file_id] = content
        return copy.deepcopy(info)

    def add_thread_reply(self, channel_id: str, user_id: str, text: str, thread_ts: str,
                         files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A person's reply in a thread (conversations.replies returns it); the event's `event` body."""
        ts = self.next_ts()
        team = self.users.get(user_id, {}).get("team_id", self.team["id"])
        message: dict[str, Any] = {"type": "message", "user": user_id, "team": team, "text": text, "ts": ts,
                                   "thread_ts": thread_ts, "channel": channel_id}
        if files:
            message["files"] = copy.deepcopy(files)
        self.messages.setdefault(channel_id, []).append(
            {**message, "posted_at": self.clock(), "args": {}, "history": []})
        return {k: copy.deepcopy(v) for k, v in message.items()}

    def conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel_id = self._channel(args)
        ts = str(args.get("ts") or "")
        found = [m for m in self.messages.get(channel_id, []) if m["ts"] == ts or m.get("thread_ts") == ts]
        if not found:
            raise SlackError("thread_not_found")
        found.sort(key=lambda m: float(m["ts"]))
        include_metadata = as_bool(args.get("include_all_metadata", False))
        public = [self.public(m) for m in found[: int(args.get("limit") or 1000)]]
        if not include_metadata:
            for message in public:
                message.pop("metadata", None)
        return {"messages": public, "has_more": False}

    def files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        info = self.files.get(str(args.get("file") or ""))
        if info is None:
            raise SlackError("file_not_found")
        return {"file": copy.deepcopy(info)}
