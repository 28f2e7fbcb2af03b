"""Plain JSON calls to Zendesk (install, backfill): what is retried, how long it waits, what is never repeated."""
import pytest

from integration.config import Config
from integration.zendesk.client import build_zenpy
from integration.zendesk.json_api import ZendeskApiError, ZendeskCallError, ZendeskJson
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)


@pytest.fixture
def api(fake_zendesk):
    config = Config(zendesk_subdomain=fake_zendesk.subdomain, zendesk_email=fake_zendesk.email,
                    zendesk_api_token=fake_zendesk.token)
    waits, messages = [], []
    client = ZendeskJson(build_zenpy(config).tickets.session, config.zendesk_subdomain, sleep=waits.append,
                         on_wait=messages.append, get_retries=2)
    fake_zendesk.seed_ticket(7, subject="hello")
    return client, waits, messages


def test_429s_are_waited_out_and_5xx_gets_back_off(api, fake_zendesk):
    client, waits, messages = api
    fake_zendesk.rate_limit_next(3, retry_after=4, method="GET")
    fake_zendesk.fail_next(2, 503, method="GET")
    assert client.get("tickets/7.json")["ticket"]["subject"] == "hello"
    assert waits == [4, 4, 4, 1, 2]
    assert messages[0] == "Zendesk rate limit: waiting 4s (Retry-After) before GET tickets/7.json"
    assert messages[-1] == "HTTP 503 on GET tickets/7.json: trying again in 2s"


def test_a_get_gives_up_after_its_retries(api, fake_zendesk):
    client, waits, _ = api
    fake_zendesk.fail_next(3, 502, method="GET")
    with pytest.raises(ZendeskApiError) as failed:
        client.get("tickets/7.json")
    assert failed.value.status == 502 and waits == [1, 2]


def test_a_write_is_never_repeated_blindly(api, fake_zendesk):
    client, waits, _ = api
    fake_zendesk.fail_next(1, 500, method="PUT")
    with pytest.raises(ZendeskApiError):
        client.request("PUT", "tickets/7.json", body={"ticket": {"subject": "x"}})
    assert waits == [] and len(fake_zendesk.calls_to("PUT", "/api/v2/tickets/7.json")) == 1


def test_a_connection_failure_is_a_call_error(api, fake_zendesk):
    client, waits, _ = api
    client.session.mount("http://", _Refusing())
    with pytest.raises(ZendeskCallError, match="ConnectionError"):
        client.get("tickets/7.json")
    assert waits == [1, 2]


class _Refusing:
    def send(self, *args, **kwargs):
        import requests
        raise requests.ConnectionError("refused")

    def close(self):
        pass
