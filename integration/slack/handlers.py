"""What each Slack command, button and event does. Record and decide only: outbound work goes to the outbox."""
from __future__ import annotations

from integration.core.signals import TicketSignal
from integration.core import customer_views as views
from integration.slack.binding import Binding, bind_channel
from integration.slack.commands import parse_support
from integration.slack.thread_status import with_thread
from integration.slack.credits import credit_command, sla_command
from integration.slack.desk import open_tickets, pending_timers, requester_of, view_of, visible_ticket
from integration.core.state import Action
from integration.inbound import bounded_id


def handle_command(services, form: dict) -> dict:
    mappings = services.mappings.current
    binding = bind_channel(mappings, form.get("channel_id"))
    if binding.kind == "none":
        return views.refusal(binding.refusal)
    command = parse_support(form.get("text", ""))
    if command.kind == "help":
        return views.help_message()
    if command.kind == "invalid":
        return views.help_message(command.problem)
    if command.kind == "status":
        return _status(services, binding, command.ticket_id, form.get("user_id"))
    if command.kind == "who":
        return _who(services, binding, command.ticket_id)
    if command.kind == "credit":
        return credit_command(services, binding, command.text, form.get("user_id"), form.get("channel_id"))
    if command.kind == "sla":
        return sla_command(services, binding, command.text)
    if command.kind == "escalate":
        return escalate(services, binding, command.ticket_id, command.text, command.executive,
                        form.get("user_id"), f"cmd:{form.get('trigger_id')}")
    return _open(services, binding, form)


def _status(services, binding: Binding, ticket_id: int | None, user: str | None) -> dict:
    if binding.kind != "customer" and ticket_id is None:
        return views.help_message("In a staff channel, ask about one ticket: `/support status #123`.")
    customer = binding.kind == "customer"
    with services.sessions() as session:
        if ticket_id is None:
            tickets = open_tickets(session, binding, user)
            name = binding.organization.name or str(binding.organization.zendesk_id)
            return views.status_list([view_of(t, services.ingestor.context, customer=True) for t in tickets], name)
        ticket = visible_ticket(session, binding, ticket_id, user)
        if ticket is None:
            return views.ticket_not_found(ticket_id)
        return with_thread(session, views.ticket_status(view_of(ticket, services.ingestor.context, customer=customer)),
                           ticket_id)


def _who(services, binding: Binding, ticket_id: int) -> dict:
    if binding.kind != "staff":
        return views.refusal("`/support who` is for staff channels.")
    with services.sessions() as session:
        ticket = visible_ticket(session, binding, ticket_id)
        if ticket is None:
            return views.ticket_not_found(ticket_id)
        owner = services.mappings.current.escalation.owner(ticket.level).role
        return views.who(view_of(ticket, services.ingestor.context, customer=False), owner,
                         pending_timers(session, ticket_id))


def escalate(services, binding: Binding, ticket_id: int, reason: str, executive: bool, user: str | None,
             dedup_key: str) -> dict:
    with services.sessions() as session:
        if visible_ticket(session, binding, ticket_id, user) is None:
            return views.ticket_not_found(ticket_id)
    signal = TicketSignal(ticket_id=ticket_id, kind="escalation_request", at=None, escalation_request=reason,
                          executive=executive, actor=user)
    # Recorded here, decided by the worker: who owns the ticket next is posted when it is decided.
    result = services.ingestor.record(source="slack", dedup_key=dedup_key, event_type="escalation_request",
                                      payload={"ticket_id": ticket_id, "reason": reason, "user": user}, signal=signal)
    return views.escalation_received(ticket_id, customer=binding.kind != "staff",
                                     repeated=result.outcome == "duplicate")


def _open(services, binding: Binding, form: dict) -> dict:
    if binding.kind != "customer":
        return views.refusal("Open tickets from a customer's channel, so I know whose ticket it is.")
    text = form.get("text", "").strip()
    action = open_ticket_action(binding, text=text, user=form.get("user_id"), channel=form.get("channel_id"),
                                key=f"open-cmd-{form.get('trigger_id')}")
    services.ingestor.enqueue_action(source="slack", dedup_key=action.idempotency_key, action=action,
                                     payload={"command": form.get("command"), "text": text})
    return views.opening(text)


def open_ticket_action(binding: Binding, *, text: str | None, user: str | None, channel: str | None, key: str,
                       message_ts: str | None = None) -> Action:
    payload = {"organization_id": binding.organization.zendesk_id, "text": text, "user": user,
               "channel": channel, "message_ts": message_ts}
    return Action("open", "open_ticket", payload, key)


def handle_event(services, envelope: dict, document: dict) -> str:
    event = envelope["event"]
    item = event["item"]
    if event["type"] != "reaction_added" or event["reaction"] != "ticket" or item["type"] != "message":
        return f"'{event['type']}' events are not acted on"
    if not (item["channel"] and item["ts"] and envelope["event_id"]):
        return "a ticket reaction without item.channel, item.ts or event_id: ignored"
    binding = bind_channel(services.mappings.current, item.get("channel"))
    if binding.kind != "customer":
        return "reaction outside a customer channel: ignored"
    # Keyed by the message: two people reacting to one message open one ticket.
    action = open_ticket_action(binding, text=None, user=event.get("user"), channel=item.get("channel"),
                                key=f"open-react-{item.get('channel')}-{item.get('ts')}", message_ts=item.get("ts"))
    recorded = services.ingestor.enqueue_action(source="slack", dedup_key=f"event:{envelope.get('event_id')}",
                                                action=action, payload=document)
    return "opening a ticket" if recorded else "duplicate"


def handle_customer_escalate(services, payload: dict, action: dict) -> str:
    binding = bind_channel(services.mappings.current, _channel(payload))
    ticket_id = _int(action.get("value"))
    if binding.kind == "none" or ticket_id is None:
        return _respond(services, payload, views.refusal(binding.refusal or "That button is not valid here."))
    answer = escalate(services, binding, ticket_id, "asked from Slack", False, (payload.get("user") or {}).get("id"),
                      f"button:{payload.get('trigger_id')}")
    return _respond(services, payload, answer)


def handle_csat(services, payload: dict, action: dict) -> str:
    binding = bind_channel(services.mappings.current, _channel(payload))
    ticket_id, score = (_int(part) for part in (str(action.get("value", "")).split(":") + [""])[:2])
    if binding.kind != "customer" or ticket_id is None or score not in range(1, 6):
        return _respond(services, payload, views.refusal("Ratings are given in your organization's channel."))
    user = payload.get("user") or {}
    with services.sessions() as session:
        ticket = requester_of(session, binding, ticket_id, user.get("id"))
    if ticket is None:  # another member's ticket reads exactly like an unknown one
        return _respond(services, payload, views.ticket_not_found(ticket_id))
    signal = TicketSignal(ticket_id=ticket_id, kind="csat", at=None, csat=score, actor=user.get("id"),
                          actor_team=user.get("team_id"),
                          escalation_request=f"CSAT {score}/5 in Slack" if score < 4 else None)
    services.ingestor.record(source="slack", dedup_key=f"csat:{payload.get('trigger_id')}", event_type="csat",
                             payload={"ticket_id": ticket_id, "score": score, "user": user}, signal=signal)
    return _respond(services, payload, views.csat_thanks(ticket_id, score, score < 4))


def _respond(services, payload: dict, message: dict) -> str:
    url = payload.get("response_url")
    if url:
        key = f"respond-{payload.get('trigger_id')}-{payload.get('actions', [{}])[0].get('action_id')}"
        services.ingestor.enqueue_action(source="slack", dedup_key=key,
                                         action=Action("slack", "respond", {"url": url, "message": message}, key),
                                         payload={})
    return message["text"]


def _channel(payload: dict) -> str | None:
    return (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")


def _int(value) -> int | None:
    return bounded_id(value)
