"""One Retry-After rule for Zendesk and Slack."""
import pytest

from integration.core.retry_after import retry_after


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "2.5"}, 2.5),
    ({"Retry-After": ["3"]}, 3.0),  # slack-sdk gives header values as lists
    ({"Retry-After": "-4"}, 0.0),
    ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, 30.0),  # an HTTP date: not read, the careful default
    ({"Retry-After": []}, 30.0),
    ({}, 1.0),
])
def test_retry_after(headers, expected):
    assert retry_after(headers, missing=1.0, unreadable=30.0) == expected
