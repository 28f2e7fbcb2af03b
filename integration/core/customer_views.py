"""What Slack users read (pure Block Kit builders). Times render in each reader's own timezone."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from integration.core.sla_summary import SlaSummary

USAGE = ("`/support <what is wrong>` opens a ticket · `/support status [#id]` · "
         "`/support escalate #id <reason>` · `/support who #id` (staff) · `/support sla [YYYY-MM]` · "
         "`/support credit [YYYY-MM]` · `/support help`")


CSAT_ACTION = "csat_rate"
ESCALATE_ACTION = "ticket_escalate"
NEUTRAL_OWNER = "a senior support lead"
# Who may read a customer-channel message, for the outbox to address (payload key AUDIENCE):
AUDIENCE = "audience"
REQUESTER_ONLY = "requester"  # ephemeral, to the member who opened the ticket in that channel; else not sent
OPENED_HERE = "opened_here"  # the channel, only for a ticket opened in that channel; else not sent
CSAT_WORDS = {1: "Very dissatisfied", 2: "Dissatisfied", 3: "Neutral", 4: "Satisfied", 5: "Very satisfied"}


@dataclass(frozen=True)
class TicketView:
    id: int
    subject: str
    status: str
    tier: str | None
    priority: str | None
    level: int
    sla: SlaSummary
    url: str


def slack_time(when: str | dt.datetime | None) -> str:
    """Slack shows <!date^…> in the reader's timezone; the fallback is UTC."""
    if not when:
        return "—"
    instant = when if isinstance(when, dt.datetime) else dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
    fallback = instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def _message(text: str, blocks: list | None = None, *, public: bool = False) -> dict:
    return {"response_type": "in_channel" if public else "ephemeral", "text": text,
            "blocks": blocks or [_section(text)]}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def plain(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")[:300]


def help_message(problem: str = "") -> dict:
    return _message((f"{problem}\n" if problem else "") + USAGE)


def refusal(text: str) -> dict:
    return _message(text)


def ticket_not_found(ticket_id: int) -> dict:
    # The same words for a ticket that does not exist and for another organization's ticket.
    return _message(f"I can't find ticket #{ticket_id} for this channel. Check the number, or use "
                    f"`/support status` to list your open tickets.")


def _sla_line(view: TicketView) -> str:
    parts = []
    for entry, label in ((view.sla.first_response, "first response"), (view.sla.resolution, "resolution")):
        state = entry.state
        if state == "running":
            parts.append(f"{label} due {slack_time(entry.due)}")
        elif state:
            parts.append(f"{label} {state}")
    return "; ".join(parts) or "no SLA yet"


def status_list(views: list[TicketView], organization: str) -> dict:
    if not views:
        return _message(f"{organization} has no open tickets.")
    lines = [f"*<{v.url}|#{v.id}>* {plain(v.subject)} — {v.status}, {v.priority}; {_sla_line(v)}" for v in views]
    return _message(f"{len(views)} open ticket(s) for {organization}",
                    [_section(f"*Open tickets for {organization}*")] + [_section(line) for line in lines[:40]])


def ticket_status(view: TicketView) -> dict:
    text = f"*<{view.url}|#{view.id}>* {plain(view.subject)}\nStatus {view.status}, {view.tier} tier, " \
           f"{view.priority} priority.\n{_sla_line(view).capitalize()}."
    return _message(f"Ticket #{view.id}: {view.status}", [_section(text), _escalate_button(view.id)])


def who(view: TicketView, owner: str, timers: list[tuple[str, str]]) -> dict:
    pending = ", ".join(f"{kind} at {slack_time(at)}" for kind, at in timers) or "none"
    text = (f"*<{view.url}|#{view.id}>* {plain(view.subject)}\nLevel {view.level}: {owner}. "
            f"Status {view.status}, {view.tier}/{view.priority}.\n{_sla_line(view).capitalize()}.\n"
            f"Timers: {pending}.")
    return _message(f"Ticket #{view.id}: level {view.level}, {owner}", [_section(text)])


def opening(text: str) -> dict:
    return _message(f"Opening a ticket for: “{plain(text)[:120]}”. I'll post its number here in a moment.")


def opened(view: TicketView) -> dict:
    text = (f"Ticket *<{view.url}|#{view.id}>* is open: {view.tier} tier, {view.priority} priority. "
            f"First response due {slack_time(view.sla.first_response.due)}.")
    return _message(f"Ticket #{view.id} is open", [_section(text), _escalate_button(view.id)], public=True)


def escalation_confirmed(ticket_id: int, level: int, role: str | None) -> dict:
    """role None: a customer reads it (no internal titles); staff read the role and level."""
    if role is None:
        return _message(f"Escalation of ticket #{ticket_id} received: {NEUTRAL_OWNER} now owns it.", public=True)
    return _message(f"Escalation of ticket #{ticket_id} received: it is now with our {role} (level {level}).",
                    public=True)


def escalation_received(ticket_id: int, *, customer: bool, repeated: bool = False) -> dict:
    """The immediate answer: the request is recorded and decided by the worker a moment later."""
    if repeated:
        return _message(f"Your request on ticket #{ticket_id} was already received.")
    if customer:  # customers never read internal role names
        return _message(f"Escalation of ticket #{ticket_id} received: the team is told now and will follow up.",
                        public=True)
    return _message(f"Escalation of ticket #{ticket_id} received: any new step is posted to its owner's channel.",
                    public=True)


def csat_prompt(ticket_id: int, subject: str) -> dict:
    """Shown to the ticket's requester only: the outbox addresses it (see REQUESTER_ONLY) or drops it."""
    buttons = [{"type": "button", "action_id": f"{CSAT_ACTION}_{score}", "value": f"{ticket_id}:{score}",
                "text": {"type": "plain_text", "text": f"{score} · {CSAT_WORDS[score]}"}} for score in range(1, 6)]
    return {"text": f"Ticket #{ticket_id} is solved. How did we do?", AUDIENCE: REQUESTER_ONLY,
            "blocks": [_section(f"Ticket *#{ticket_id}* ({plain(subject)}) is solved. How did we do?"),
                       {"type": "actions", "block_id": f"csat:{ticket_id}", "elements": buttons}]}


def csat_thanks(ticket_id: int, score: int, escalated: bool) -> dict:
    tail = f" We're sorry: {NEUTRAL_OWNER} will follow up with you." if escalated else ""
    return _message(f"Thanks for rating ticket #{ticket_id} {score}/5.{tail}", public=False)


def _escalate_button(ticket_id: int) -> dict:
    return {"type": "actions", "block_id": f"escalate:{ticket_id}", "elements": [
        {"type": "button", "action_id": ESCALATE_ACTION, "value": str(ticket_id),
         "text": {"type": "plain_text", "text": "Ask to escalate"}}]}
