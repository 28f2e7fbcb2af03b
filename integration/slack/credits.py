"""`/support credit`, `/support sla`, and billing's credit buttons and dialogs. Answers are private to the asker."""
from __future__ import annotations

from integration.core import credit_messages as texts
from integration.core.credits import CreditError, month_of
from integration.core.customer_views import _message, refusal
from integration.core.state import Action
from integration.inbound import bounded_id
from integration.slack.binding import Binding
from integration.storage import credits as store


def credit_command(services, binding: Binding, month: str, user: str | None, channel: str | None) -> dict:
    if binding.kind != "customer":
        return refusal("Ask for a service credit in your organization's channel.")
    now = services.now()
    month = month or month_of(now, back=1)
    if month >= month_of(now):
        return _message(f"Credits are requested for a month that has ended; {month} has not. "
                        f"`/support sla {month}` shows it so far.")
    org_id = binding.organization.zendesk_id
    standing = services.month_standing(org_id, month, now)
    if not standing.eligibility.eligible:
        return texts.customer_nothing(standing.eligibility)
    state, created = store.request_credit(services.sessions, services.mappings.current, standing.eligibility,
                                          by=user or "a channel member", note="asked in Slack", channel=channel,
                                          now=now)
    return texts.customer_requested(state, created)


def sla_command(services, binding: Binding, month: str) -> dict:
    if binding.kind != "customer":
        return refusal("`/support sla` shows an organization's own service levels: ask in its channel.")
    now = services.now()
    month = month or month_of(now)
    if month > month_of(now):
        return _message(f"{month} has not started yet.")
    org_id = binding.organization.zendesk_id
    standing = services.month_standing(org_id, month, now)
    with services.sessions() as session:
        requests = [store.state_of(r) for r in store.list_requests(session, organization_id=org_id)][-6:]
    return texts.sla_view(standing, requests, so_far=month == month_of(now))


def _billing(services, payload: dict) -> bool:
    channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
    return channel in services.mappings.current.escalation.billing_slack_channel_ids


def approve_button(services, payload: dict, action: dict) -> str:
    from integration.slack.handlers import _respond

    request_id = bounded_id(action.get("value"))
    if not _billing(services, payload) or request_id is None:
        return _respond(services, payload, refusal("Credit requests are decided in the billing channel."))
    user = (payload.get("user") or {}).get("id") or "billing"
    try:
        state = store.decide(services.sessions, services.mappings.current, request_id, approved=True, by=user,
                             reason="", now=services.now())
    except CreditError as exc:
        return _respond(services, payload, _message(str(exc)))
    return _respond(services, payload, _message(f"Credit request #{state.id} approved; the customer is told."))


def dialog_button(services, payload: dict, action: dict) -> str:
    """Deny and Mark applied ask for text (a reason, an invoice): Slack opens a modal from the click's trigger_id."""
    from integration.slack.handlers import _respond

    request_id = bounded_id(action.get("value"))
    trigger = payload.get("trigger_id")
    if not _billing(services, payload) or request_id is None or not trigger:
        return _respond(services, payload, refusal("Credit requests are decided in the billing channel."))
    if action["action_id"] == texts.DENY_ACTION:
        view = texts.reason_modal(texts.DENY_VIEW, request_id, "Deny credit", "Reason (the customer reads it)",
                                  "Deny")
    else:
        view = texts.reason_modal(texts.APPLIED_VIEW, request_id, "Credit applied", "Invoice reference",
                                  "Mark applied")
    # A trigger_id is valid for 3 seconds: the worker opens it at once; if it was too late, click again.
    work = Action("slack", "open_view", {"trigger_id": trigger, "view": view}, f"view-{trigger}")
    services.ingestor.enqueue_action(source="slack", dedup_key=f"dialog:{trigger}", action=work,
                                     payload={"request": request_id, "action": action["action_id"]})
    return f"asking for {'a reason' if action['action_id'] == texts.DENY_ACTION else 'the invoice'}"


def view_submission(services, payload: dict) -> dict | None:
    """None closes the modal; a dict is Slack's response_action showing the problem under the input."""
    view = payload["view"]
    request_id = bounded_id(view.get("private_metadata"))
    text = view.get("value") or ""
    user = (payload.get("user") or {}).get("id") or "billing"
    if request_id is None or view.get("callback_id") not in (texts.DENY_VIEW, texts.APPLIED_VIEW):
        return _problem("This dialog is not one of ours.")
    try:
        if view["callback_id"] == texts.DENY_VIEW:
            store.decide(services.sessions, services.mappings.current, request_id, approved=False, by=user,
                         reason=text, now=services.now())
        else:
            store.applied(services.sessions, services.mappings.current, request_id, invoice=text, by=user,
                          now=services.now())
    except CreditError as exc:
        return _problem(str(exc))
    return None


def _problem(text: str) -> dict:
    return {"response_action": "errors", "errors": {texts.INPUT_BLOCK: text[:150]}}
