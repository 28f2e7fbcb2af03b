"""Slack → Zendesk (worker side): a customer's reply in a ticket's thread becomes a public comment by them.

The author is the Zendesk end-user with the Slack user's email (created in the ticket's organization when
missing; never an agent). Files are uploaded (Zendesk uploads API) or, over the limit, linked. A reply to a
solved or pending ticket reopens it; a reply to a closed one opens a follow-up ticket, and the thread follows it.
"""
from __future__ import annotations

import urllib.request

from slack_sdk.errors import SlackApiError

from integration.core.state import Action
from integration.core.threads import SLACK_TARGET, customer_comment, help_center_url
from integration.slack.gateway import outcome_of_error as slack_outcome
from integration.storage import threads
from integration.storage.outbox import Claimed, Deferred, Delivered, DryRun, Failed
from integration.zendesk.client import api_url
from integration.zendesk.outcomes import outcome_of_error as zendesk_outcome

MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Zendesk's attachment limit
REOPENED_BY_REPLY = ("pending", "solved")  # what a requester's reply moves back to open in Zendesk


class NotMirrored(Exception):
    """Retrying cannot help (no email, an agent's email, a ticket that moved): recorded as failed."""


class ZendeskThreadWriter:
    def __init__(self, zenpy, slack, store: threads.Threads, budget, *, subdomain: str | None,
                 file_hosts: tuple[str, ...] = ("https://files.slack.com/",),
                 max_upload_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.zenpy, self.slack, self.store, self.budget, self.subdomain = zenpy, slack, store, budget, subdomain
        self.file_hosts, self.max_upload_bytes = file_hosts, max_upload_bytes

    def deliver(self, action: Claimed):
        if self.zenpy is None or self.slack is None:
            return DryRun("Zendesk or Slack credentials not set: nothing was posted to Zendesk")
        wait = self.budget.spend(account=4 + len(action.payload.get("files") or ()))
        if wait:
            return Deferred(wait, "waiting for Zendesk's rate budget")
        try:
            return self._comment(action)
        except NotMirrored as exc:
            return Failed(str(exc))
        except SlackApiError as exc:
            return slack_outcome(exc)
        except Exception as exc:  # noqa: BLE001 - Zendesk's errors, mapped in one place
            return zendesk_outcome(exc, action.ticket_id)

    def _comment(self, action: Claimed):
        payload = action.payload
        ticket = self._json("GET", f"tickets/{payload['ticket_id']}.json")["ticket"]
        if ticket.get("organization_id") != payload["organization_id"]:
            raise NotMirrored(f"ticket {ticket['id']} is not organization {payload['organization_id']}'s any more")
        person = self.slack.users_info(user=payload["user"])["user"]
        profile = person.get("profile") or {}
        name = profile.get("real_name") or person.get("real_name") or person.get("name") or "Slack user"
        author = self._end_user(profile.get("email"), name, payload["organization_id"])
        uploads, links = self._files(payload.get("files") or ())
        comment = {"body": customer_comment(name, payload["text"], links), "public": True, "author_id": author}
        if uploads:
            comment["uploads"] = uploads
        if ticket["status"] == "closed":
            return self._follow_up(action, ticket, comment, author)
        if action.attempts > 1 and self._already_there(ticket["id"], comment):
            return Delivered(f"comment already on ticket #{ticket['id']} (an earlier answer was lost)")
        body = {"ticket": {"comment": comment}}
        if ticket["status"] in REOPENED_BY_REPLY:
            body["ticket"]["status"] = "open"
        result = self._json("PUT", f"tickets/{ticket['id']}.json", body)
        self._mark_ours(ticket["id"], result)
        return Delivered(f"public comment on ticket #{ticket['id']} by user {author}")

    def _end_user(self, email: str | None, name: str, organization_id: int) -> int:
        if not email:
            raise NotMirrored("the Slack user's email is not visible (users:read.email): no Zendesk author")
        users = self._json("GET", "users/search.json", params={"query": f"email:{email}"}).get("users", [])
        match = next((u for u in users if (u.get("email") or "").lower() == email.lower()), None)
        if match is not None and match.get("role") != "end-user":
            raise NotMirrored(f"{email} belongs to a Zendesk {match.get('role')}; a customer's words are never "
                              "posted as staff")
        if match is not None:
            return match["id"]
        created = self._json("POST", "users.json", {"user": {"name": name, "email": email, "role": "end-user",
                                                             "organization_id": organization_id, "verified": True}})
        return created["user"]["id"]

    def _files(self, files) -> tuple[list[str], list[tuple[str, str]]]:
        uploads, links = [], []
        for shared in files:
            info = self.slack.files_info(file=shared["id"])["file"]
            name = info.get("name") or shared.get("name") or "file"
            url = info.get("url_private_download") or info.get("url_private") or ""
            if int(info.get("size") or 0) > self.max_upload_bytes or not url.startswith(self.file_hosts):
                links.append((name, info.get("permalink") or url))
                continue
            content = self._download(url)
            result = self._json("POST", "uploads.json", params={"filename": name}, data=content,
                                headers={"Content-Type": info.get("mimetype") or "application/octet-stream"})
            uploads.append(result["upload"]["token"])
        return uploads, links

    def _download(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.slack.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a Slack host, checked above
            return response.read(self.max_upload_bytes + 1)

    def _follow_up(self, action: Claimed, ticket: dict, comment: dict, author: int):
        body = {"ticket": {"via_followup_source_id": ticket["id"], "subject": f"Follow-up: {ticket.get('subject') or ''}"[:120],
                           "comment": comment, "requester_id": author, "organization_id": ticket["organization_id"],
                           "tags": ["escalator_slack"]}}
        created = self._json("POST", "tickets.json", body, headers={"Idempotency-Key": action.idempotency_key})["ticket"]
        payload = action.payload
        self.store.follow(ticket["id"], created["id"])
        link = help_center_url(self.subdomain, created["id"])
        text = f"Ticket #{ticket['id']} was closed, so your reply opened ticket #{created['id']}" + \
            (f": <{link}|follow it here>" if link else "") + ". We continue in this thread."
        self.store.enqueue(Action(SLACK_TARGET, "notice", {"ticket_id": created["id"], "text": text},
                                  f"thread-followup-{payload['channel']}-{payload['ts']}"), created["id"])
        return Delivered(f"ticket #{ticket['id']} is closed: opened follow-up #{created['id']}")

    def _already_there(self, ticket_id: int, comment: dict) -> bool:
        comments = self._json("GET", f"tickets/{ticket_id}/comments.json",
                              params={"sort_order": "desc", "per_page": 100}).get("comments", [])
        return any(c.get("author_id") == comment["author_id"] and (c.get("plain_body") or c.get("body")) == comment["body"]
                   for c in comments)

    def _mark_ours(self, ticket_id: int, result: dict) -> None:
        for event in (result.get("audit") or {}).get("events", []):
            if event.get("type") == "Comment" and event.get("id"):
                self.store.mark_ours(event["id"], ticket_id)

    def _json(self, method: str, path: str, body: dict | None = None, *, params=None, data=None, headers=None) -> dict:
        response = self.zenpy.tickets.session.request(method, api_url(self.subdomain, path), json=body, params=params,
                                                      data=data, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()

