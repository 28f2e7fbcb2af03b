"""What billing and customers read about credit requests (pure Block Kit builders)."""
from __future__ import annotations

from integration.core.credits import Breach, CreditState, Eligibility, MonthStanding, compliance, money
from integration.core.customer_views import _message, _section, plain, slack_time

APPROVE_ACTION = "credit_approve"
DENY_ACTION = "credit_deny"
APPLIED_ACTION = "credit_applied"
DENY_VIEW = "credit_deny_view"  # a modal's callback_id; its private_metadata holds the request id
APPLIED_VIEW = "credit_applied_view"
INPUT_BLOCK, INPUT_ACTION = "credit_input", "credit_input_value"


def _breach_lines(breaches: tuple[Breach, ...], limit: int = 15) -> str:
    lines = [f"• #{b.ticket_id}: {b.hours} h late → {money(b.amount)}{' (still unanswered)' if b.provisional else ''}"
             for b in breaches[:limit]]
    if len(breaches) > limit:
        lines.append(f"… and {len(breaches) - limit} more (`escalator credits list`)")
    return "\n".join(lines)


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": value}
    return button | ({"style": style} if style else {})


def billing_request(state: CreditState, org_name: str, eligible: Eligibility, note: str) -> dict:
    text = (f"Credit request #{state.id}: {plain(org_name)}, {state.month}, eligible {money(state.amount)}"
            f"{' (capped at 25% of the monthly fee)' if eligible.capped else ''}; "
            f"investigate by {slack_time(state.investigation_due)}")
    body = text + "\n" + _breach_lines(eligible.breaches) + (f"\nNote: {plain(note)}" if note else "")
    actions = {"type": "actions", "elements": [
        _button("Approve", APPROVE_ACTION, str(state.id), "primary"),
        _button("Deny", DENY_ACTION, str(state.id), "danger")]}
    return {"text": text, "blocks": [_section(body[:2900]), actions]}


def billing_approved(state: CreditState, org_name: str) -> dict:
    text = (f"Credit request #{state.id} ({plain(org_name)}, {state.month}) approved by {_who(state.decided_by)}: "
            f"apply {money(state.amount)} by {slack_time(state.apply_due)}, then mark it applied "
            f"(`escalator credits applied {state.id} --invoice REF` or the button)")
    return {"text": text, "blocks": [_section(text), {"type": "actions", "elements": [
        _button("Mark applied", APPLIED_ACTION, str(state.id), "primary")]}]}


def billing_note(text: str) -> dict:
    return {"text": text, "blocks": [_section(text)]}


def billing_reminder(state: CreditState, org_name: str, kind: str) -> dict:
    if kind == "investigation":
        text = (f"Reminder: credit request #{state.id} ({plain(org_name)}, {state.month}, {money(state.amount)}) "
                f"was due to be investigated by {slack_time(state.investigation_due)}: approve or deny it")
        return billing_request_buttons(text, state.id)
    text = (f"Reminder: approved credit #{state.id} ({plain(org_name)}, {state.month}, {money(state.amount)}) "
            f"was due on an invoice by {slack_time(state.apply_due)}: apply it and mark it applied")
    return {"text": text, "blocks": [_section(text), {"type": "actions", "elements": [
        _button("Mark applied", APPLIED_ACTION, str(state.id), "primary")]}]}


def billing_request_buttons(text: str, request_id: int) -> dict:
    return {"text": text, "blocks": [_section(text), {"type": "actions", "elements": [
        _button("Approve", APPROVE_ACTION, str(request_id), "primary"),
        _button("Deny", DENY_ACTION, str(request_id), "danger")]}]}


def customer_outcome(state: CreditState) -> dict:
    if state.status == "approved":
        text = (f"Your service credit request #{state.id} for {state.month} is approved: {money(state.amount)} "
                f"will be credited on an invoice by {slack_time(state.apply_due)}.")
    elif state.status == "denied":
        text = f"Your service credit request #{state.id} for {state.month} was not approved: {plain(state.reason)}"
    else:
        text = f"Your service credit #{state.id} for {state.month} ({money(state.amount)}) is on invoice " \
               f"{plain(state.invoice)}."
    return {"text": text, "blocks": [_section(text)]}


def customer_requested(state: CreditState, created: bool) -> dict:
    if not created:
        return _message(f"A credit request for {state.month} already exists (#{state.id}): "
                        f"{describe_status(state)}.")
    return _message(f"Credit request #{state.id} recorded for {state.month}: eligible {money(state.amount)}. "
                    f"Our SLA team investigates by {slack_time(state.investigation_due)}; you will hear the outcome "
                    "here.")


def customer_nothing(eligible: Eligibility) -> dict:
    return _message(f"No credit request was made for {eligible.month}: {eligible.why_none}.")


def describe_status(state: CreditState) -> str:
    if state.status == "investigating":
        return f"{money(state.amount)}, being investigated (due {slack_time(state.investigation_due)})"
    if state.status == "approved":
        return f"{money(state.amount)} approved, to be applied by {slack_time(state.apply_due)}"
    if state.status == "denied":
        return f"denied: {plain(state.reason)}"
    return f"{money(state.amount)} applied on invoice {plain(state.invoice)}"


def reason_modal(view: str, request_id: int, title: str, label: str, submit: str) -> dict:
    """Slack's modal asking billing for a denial's reason or an invoice reference."""
    return {"type": "modal", "callback_id": view, "private_metadata": str(request_id),
            "title": {"type": "plain_text", "text": title[:24]},
            "submit": {"type": "plain_text", "text": submit[:24]},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": INPUT_BLOCK, "label": {"type": "plain_text", "text": label},
                        "element": {"type": "plain_text_input", "action_id": INPUT_ACTION, "multiline":
                                    view == DENY_VIEW, "max_length": 500 if view == DENY_VIEW else 100}}]}


def _who(user: str | None) -> str:
    if user and user[:1] in "UW" and user.isalnum():
        return f"<@{user}>"
    return plain(user or "billing")


def sla_view(standing: MonthStanding, requests: list[CreditState], so_far: bool) -> dict:
    """`/support sla`: the asker's organization only, shown to the asker only."""
    eligible = standing.eligibility
    credit = f"{money(eligible.amount)}{' (so far)' if so_far else ''}" if eligible.eligible else \
        f"none ({eligible.why_none})"
    breached = ", ".join(f"#{t}" for t in standing.breached_tickets[:20]) or "none"
    lines = [f"*Your service levels, {standing.month}{' so far' if so_far else ''}* "
             f"({standing.tickets} ticket{'' if standing.tickets == 1 else 's'})",
             f"First response: {compliance(standing.first_response)}",
             f"Resolution: {compliance(standing.resolution)}",
             f"Tickets with a breached target: {breached}",
             f"Service credit eligible: {credit}"]
    if standing.excluded:
        lines.append(f"Outside the SLA (exclusions): {standing.excluded} ticket(s)")
    if requests:
        lines.append("Credit requests: " + "; ".join(f"#{r.id} {r.month}: {describe_status(r)}" for r in requests))
    else:
        lines.append("Credit requests: none (`/support credit YYYY-MM` asks for one)")
    return _message("\n".join(lines))
