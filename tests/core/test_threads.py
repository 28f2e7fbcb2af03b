"""The pure rules of a ticket's thread: what is mirrored, and how Zendesk's text reads in Slack."""
from integration.core.threads import (ENDED_LINE, ThreadView, classify_slack_message, customer_comment,
                                      slack_to_text, to_mrkdwn, zendesk_event_actions)

THREAD = ThreadView(ticket_id=7, organization_id=1001, channel_id="C1", thread_ts="100.1")


def event(kind, organization="1001", status="OPEN", **inner):
    return {"id": "e1", "type": f"zen:event-type:ticket.{kind}", "detail": {"id": "7", "organization_id": organization,
                                                                             "status": status}, "event": inner}


def comment(public=True, staff=True):
    return {"comment": {"id": "9", "body": "hi", "is_public": public,
                        "author": {"id": "5", "is_staff": staff, "name": "Ana"}}}


def test_html_becomes_mrkdwn():
    html = ('<p>Try <strong>this</strong> &amp; <em>that</em>:</p><ul><li>one</li><li><code>two</code></li></ul>'
            '<p><a href="https://x.example/a?b=1">the <b>guide</b></a> <a href="javascript:alert(1)">bad</a></p>')
    assert to_mrkdwn("", html) == ("Try *this* &amp; _that_:\n\n• one\n• `two`\n\n"
                                   "<https://x.example/a?b=1|the *guide*> bad")


def test_markdown_becomes_mrkdwn_and_slack_text_becomes_plain():
    assert to_mrkdwn("**Bold** and [link](https://x.example) <b>", None) == \
        "*Bold* and <https://x.example|link> &lt;b&gt;"
    assert slack_to_text("see <https://x.example|docs> &amp; <mailto:a@b.example>") == \
        "see docs (https://x.example) & mailto:a@b.example"
    assert customer_comment("Maria", "ok", [("big.zip", "https://s.example/f")]) == \
        "ok\nbig.zip: https://s.example/f\n\n(from Slack, Maria)"


def test_only_public_agent_comments_are_mirrored():
    assert zendesk_event_actions("ticket.comment_added", event("comment_added", **comment(public=False)), THREAD) == \
        ([], "")
    assert zendesk_event_actions("ticket.comment_added", event("comment_added", **comment(staff=False)), THREAD) == \
        ([], "")
    (action,), _ = zendesk_event_actions("ticket.comment_added", event("comment_added", **comment()), THREAD)
    assert action.kind == "comment_to_slack" and action.idempotency_key == "thread-out-7-9"


def test_status_lines_once_per_status_and_a_move_ends_the_thread():
    (line,), status = zendesk_event_actions("ticket.status_changed", event("status_changed", status="PENDING"), THREAD)
    assert line.payload["text"] == "Waiting for your reply" and status == "pending"
    assert zendesk_event_actions("ticket.status_changed", event("status_changed", status="PENDING"),
                                 ThreadView(7, 1001, "C1", "100.1", "pending")) == ([], "")
    (end,), status = zendesk_event_actions("ticket.comment_added", event("comment_added", "1005", **comment()), THREAD)
    assert (end.kind, end.payload["text"], status) == ("end_thread", ENDED_LINE, "ended")


def test_slack_messages_we_ignore():
    ours = {"type": "message", "channel": "C1", "user": "U1", "ts": "2.0", "thread_ts": "1.0", "bot_id": "B1"}
    assert classify_slack_message(ours).kind == "ignore"
    tagged = {**ours, "bot_id": None, "metadata": {"event_type": "escalator_mirror"}}
    assert classify_slack_message(tagged).kind == "ignore"
    reply = {"type": "message", "channel": "C1", "user": "U1", "ts": "2.0", "thread_ts": "1.0", "text": "hi"}
    assert classify_slack_message(reply).kind == "reply"
    assert classify_slack_message({**reply, "thread_ts": "2.0"}).kind == "top_level"
    unfurl = {"type": "message", "subtype": "message_changed", "channel": "C1", "message": reply,
              "previous_message": reply}
    assert classify_slack_message(unfurl).kind == "ignore"
