import datetime as dt

import pytest

from integration.zendesk.signature import SignatureError, sign, verify
from tests.fakes.zendesk import sign_webhook

SECRET = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
BODY = b'{"type":"zen:event-type:ticket.created"}'
STAMP = "2026-03-02T14:05:31Z"
NOW = dt.datetime(2026, 3, 2, 14, 6, tzinfo=dt.timezone.utc)


def test_our_signature_matches_the_independent_implementation_in_the_fake():
    assert sign(SECRET, STAMP, BODY) == sign_webhook(SECRET, BODY, STAMP)


def test_valid_signature_passes():
    verify(SECRET, sign(SECRET, STAMP, BODY), STAMP, BODY, NOW)


@pytest.mark.parametrize("secret, signature, stamp, body, message", [
    (None, "x", STAMP, BODY, "no webhook secret"),
    ("", "x", STAMP, BODY, "no webhook secret"),
    (SECRET, None, STAMP, BODY, "missing"),
    (SECRET, "abc", None, BODY, "missing"),
    (SECRET, sign(SECRET, STAMP, BODY), STAMP, BODY + b" ", "does not match"),
    (SECRET, sign("other", STAMP, BODY), STAMP, BODY, "does not match"),
    (SECRET, sign(SECRET, STAMP, BODY), "2026-03-02T14:05:32Z", BODY, "does not match"),
    (SECRET, sign(SECRET, "2026-03-02T13:55:00Z", BODY), "2026-03-02T13:55:00Z", BODY, "outside the 5-minute"),
    (SECRET, sign(SECRET, "2026-03-02T14:12:00Z", BODY), "2026-03-02T14:12:00Z", BODY, "outside the 5-minute"),
    (SECRET, sign(SECRET, "yesterday", BODY), "yesterday", BODY, "not ISO-8601"),
    (SECRET, sign(SECRET, "", b""), "", b"", "missing"),
])
def test_refusals(secret, signature, stamp, body, message):
    with pytest.raises(SignatureError, match=message):
        verify(secret, signature, stamp, body, NOW)


def test_empty_body_signed_correctly_is_accepted():
    verify(SECRET, sign(SECRET, STAMP, b""), STAMP, b"", NOW)


@pytest.mark.parametrize("configured", [f"{SECRET},other", f"other, {SECRET}", f" {SECRET} ,, "])
def test_a_signature_made_with_any_listed_secret_passes(configured):
    verify(configured, sign(SECRET, STAMP, BODY), STAMP, BODY, NOW)


@pytest.mark.parametrize("configured, signature, message", [
    (f"{SECRET},other", sign("third", STAMP, BODY), "does not match"),
    (f"{SECRET},other", sign(f"{SECRET},other", STAMP, BODY), "does not match"),  # the list is not a secret
    (" , ", sign("", STAMP, BODY), "no webhook secret"),
    (f"{SECRET},other", "é", "not base64"),
])
def test_a_list_of_secrets_refuses_every_other_signature(configured, signature, message):
    with pytest.raises(SignatureError, match=message):
        verify(configured, signature, STAMP, BODY, NOW)
