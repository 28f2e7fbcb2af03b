"""The Slack digest builder on plain values: count, worst first, cap, Acknowledge all, escaping, splitting."""
import datetime as dt

import pytest

from integration.core.digest import (MAX_BUTTON_VALUE, DigestItem, digest_chunks, digest_message, parse_ack_all,
                                     worst_first)
from integration.core.messages import ACK_ACTION, ACK_ALL_ACTION

UTC = dt.timezone.utc


def item(ticket_id, *, priority="high", late=0, level=2, kind="step", subject=None,
         why="first-response target breached", **extra):
    return DigestItem(kind, ticket_id, level, subject or f"Ticket {ticket_id}",
                      f"https://acme.zendesk.com/agent/tickets/{ticket_id}", "Northwind", "enterprise", priority,
                      why, late_by_seconds=late, **extra)


def rows(message):
    return [b for b in message["blocks"] if b.get("block_id", "").startswith("digest-row:")]


def buttons(message, action_id):
    found = [b["accessory"] for b in rows(message) if b.get("accessory", {}).get("action_id") == action_id]
    for block in message["blocks"]:
        found += [e for e in block.get("elements", []) if e.get("action_id") == action_id]
    return found


def test_header_counts_every_ticket_and_lists_the_worst_first():
    items = [item(1, priority="low", late=9000), item(2, priority="critical", late=60),
             item(3, priority="critical", late=600), item(4, priority="medium")]
    message = digest_message(items, dashboard_url="https://esc.example")
    assert "4 tickets escalated to level 2" in message["blocks"][0]["text"]["text"]
    assert message["text"].startswith("4 tickets escalated to level 2: #3, #2, #4, #1")
    assert [b["block_id"] for b in rows(message)] == [f"digest-row:{i}:2" for i in (3, 2, 4, 1)]
    assert "10m late" in rows(message)[0]["text"]["text"]
    assert [b["value"] for b in buttons(message, ACK_ACTION)] == ["3:2", "2:2", "4:2", "1:2"]


def test_at_most_ten_rows_then_and_more_with_a_dashboard_link_to_the_rest():
    items = [item(100 + i, late=i) for i in range(25)]
    message = digest_message(items, dashboard_url="https://esc.example/")
    assert len(rows(message)) == 10
    shown = [int(b["block_id"].split(":")[1]) for b in rows(message)]
    assert shown == list(range(124, 114, -1))  # most overdue first
    more = next(b["text"]["text"] for b in message["blocks"] if "more" in b.get("text", {}).get("text", ""))
    rest = ",".join(str(100 + i) for i in range(14, -1, -1))
    assert f"<https://esc.example/?tickets={rest}|15 more on the dashboard>" in more
    assert len(message["blocks"]) <= 50


def test_without_a_dashboard_url_the_rest_is_only_counted():
    message = digest_message([item(i) for i in range(12)], dashboard_url=None)
    assert any(b.get("text", {}).get("text") == "…and 2 more." for b in message["blocks"])


def test_acknowledge_all_lists_every_ticket_level_pair_and_parses_back():
    items = [item(35436 + i, level=3) for i in range(15)]
    (button,) = buttons(digest_message(items, dashboard_url=None), ACK_ALL_ACTION)
    assert parse_ack_all(button["value"]) == [(35436 + i, 3) for i in range(15)]
    assert button["text"]["text"] == "Acknowledge all 15"
    with pytest.raises(ValueError):
        parse_ack_all("1:2,oops")


def test_customer_text_cannot_inject_mentions_or_links():
    evil = item(7, subject="<!channel> <https://evil.example|click> & @here",
                why="escalation requested: <@U0BOSS> now")  # a customer's words, through /support escalate
    message = digest_message([evil, item(8)], dashboard_url=None)
    text = "\n".join(b["text"]["text"] for b in rows(message))
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; @here" in text
    assert "escalation requested: &lt;@U0BOSS&gt; now" in text
    assert "<!channel>" not in text and "<https://evil" not in text and "<@U0BOSS>" not in text


def test_too_many_pairs_for_one_button_split_into_several_digests():
    items = [item(1_000_000 + i) for i in range(400)]  # "1000000:2," is 10 characters: 200 fit in 2,000
    chunks = digest_chunks(items)
    assert [len(c) for c in chunks] == [200, 200]
    assert sorted(i.ticket_id for c in chunks for i in c) == sorted(i.ticket_id for i in items)
    for chunk in chunks:
        (button,) = buttons(digest_message(chunk, dashboard_url=None), ACK_ALL_ACTION)
        assert len(button["value"]) <= MAX_BUTTON_VALUE


def test_reminders_have_their_own_header():
    message = digest_message([item(1, kind="reminder"), item(2, kind="reminder")], dashboard_url=None)
    assert "Reminder: 2 escalations at level 2 still unacknowledged" in message["blocks"][0]["text"]["text"]


def test_items_round_trip_through_json_and_warnings_know_when_they_are_stale():
    warning = item(5, kind="warning", target="first_response", due_at="2026-03-02T14:15:00+00:00")
    assert DigestItem.from_json(warning.to_json()) == warning
    assert not warning.past_due(dt.datetime(2026, 3, 2, 14, 14, tzinfo=UTC))
    assert warning.past_due(dt.datetime(2026, 3, 2, 14, 15, tzinfo=UTC))
    assert not item(6).past_due(dt.datetime(2030, 1, 1, tzinfo=UTC))  # only warnings go stale
    assert worst_first([item(1, priority=None), item(2, priority="low")])[0].ticket_id == 2
