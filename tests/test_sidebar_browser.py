"""The packaged Zendesk app in headless Chromium, against the real API, with a stand-in for Zendesk.

The stand-in replaces the ZAF SDK script (same URL) with a client offering get/metadata/request/on/invoke and
the injected clock now(); its request() goes through a Python "proxy" that does what Zendesk's does: refuses a
domain not in the manifest's domainWhitelist and puts the secure setting into the header, so the token never
enters the page.
"""
import datetime as dt
import json
import threading
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from werkzeug.serving import make_server

from integration.app import create_app
from integration.cli import cli
from integration.config import Config
from integration.services import build_services
from integration.storage.db import upgrade
from tests.harness import Clock, mappings_for_tests
from tests.sidebar_seed import NOW, seed
from tests.test_dashboard import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow  # a browser, several pages, and the ticket.save refresh delay

DOCS = Path(__file__).resolve().parent.parent / "docs"
SDK = "https://static.zdassets.com/zendesk_app_framework_sdk/2.0/zaf_sdk.min.js"
APP_ORIGIN = "https://zendesk-app.test"
SERVICE = "https://escalator.test"
AGENT = {"id": 424242, "name": "Ana Agent", "groups": [{"id": 360000200003, "name": "Customer Success"}]}
STAND_IN = """
(function () {
  var cfg = window.__zafConfig, handlers = {}, calls = [];
  var client = {
    now: function () { return window.__zafNow; },
    get: function (path) {
      var out = {};
      if (path === 'ticket.id') out[path] = cfg.ticketId;
      if (path === 'currentUser') out.currentUser = cfg.user;
      return Promise.resolve(out);
    },
    metadata: function () { return Promise.resolve({ settings: cfg.settings }); },
    request: function (options) {
      calls.push({ url: options.url, type: options.type });
      return window.zafProxy(options).then(function (answer) {
        if (answer.status >= 200 && answer.status < 300) return JSON.parse(answer.body);
        return Promise.reject({ status: answer.status, responseText: answer.body });
      });
    },
    on: function (name, fn) { (handlers[name] = handlers[name] || []).push(fn); },
    invoke: function () { calls.push({ invoke: Array.prototype.slice.call(arguments) }); return Promise.resolve({}); }
  };
  window.__zaf = {
    calls: calls,
    trigger: function (name) { return (handlers[name] || []).map(function (fn) { return fn(); }); }
  };
  window.ZAFClient = { init: function () {
    setTimeout(function () { window.__zaf.trigger('app.registered'); }, 0);
    return client;
  } };
})();
"""


class Proxy:
    """Zendesk's request proxy, as the app relies on it."""

    def __init__(self, manifest: dict, backend: str, token: str) -> None:
        self.whitelist, self.backend, self.token = manifest["domainWhitelist"], backend, token
        self.secure = {p["name"] for p in manifest["parameters"] if p.get("secure")}
        self.reachable, self.seen = True, []

    def __call__(self, options: dict) -> dict:
        parts = urlsplit(options["url"])
        assert parts.hostname in self.whitelist and options.get("secure") is True
        headers = dict(options.get("headers") or {})
        assert headers == {"Authorization": "Bearer {{setting.api_token}}"} and "api_token" in self.secure
        headers["Authorization"] = headers["Authorization"].replace("{{setting.api_token}}", self.token)
        self.seen.append((options["type"], parts.path))
        if not self.reachable:
            return {"status": 0, "body": ""}
        if options.get("data") is not None:
            headers["Content-Type"] = options["contentType"]
        response = requests.request(options["type"], self.backend + parts.path + (f"?{parts.query}" if parts.query else ""),
                                    data=options.get("data"), headers=headers, timeout=5)
        return {"status": response.status_code, "body": response.text}


@pytest.fixture
def zendesk(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/sidebar.db"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    clock = Clock(NOW)
    config = Config(database_url=url, mappings_dir=str(mappings_for_tests(tmp_path)))
    services = build_services(config, clock)
    seed(services)
    runner = CliRunner()
    token = runner.invoke(cli, ["api-token", "create", "--name", "zendesk-app"]).stdout.splitlines()[0]
    packaged = runner.invoke(cli, ["zendesk", "app", "package", "--url", SERVICE, "--out", str(tmp_path / "app.zip")])
    assert packaged.exit_code == 0, packaged.output
    with zipfile.ZipFile(tmp_path / "app.zip") as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    server = make_server("127.0.0.1", 0, create_app(config, services=services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = Proxy(json.loads(files["manifest.json"]), f"http://127.0.0.1:{server.server_port}", token)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield Zendesk(browser, files, proxy, clock)
        browser.close()
    server.shutdown()
    services.engine.dispose()


class Zendesk:
    def __init__(self, browser, files, proxy, clock) -> None:
        self.browser, self.files, self.proxy, self.clock = browser, files, proxy, clock

    def open(self, page_path: str, ticket_id: int | None = None, user: dict = AGENT):
        context = self.browser.new_context(timezone_id="Europe/Berlin", viewport={"width": 340, "height": 760})
        page = context.new_page()
        page.route(SDK, lambda route: route.fulfill(body=STAND_IN, content_type="application/javascript"))
        page.route(f"{APP_ORIGIN}/**", lambda route: route.fulfill(
            body=self.files[urlsplit(route.request.url).path.lstrip("/")],
            content_type={"html": "text/html", "js": "application/javascript", "css": "text/css"}.get(
                route.request.url.rsplit(".", 1)[-1], "application/octet-stream")))
        page.expose_function("zafProxy", self.proxy)
        config = {"ticketId": ticket_id, "user": user, "settings": {"service_url": SERVICE}}
        page.add_init_script(f"window.__zafConfig = {json.dumps(config)}; window.__zafNow = {self._ms()};")
        page.goto(f"{APP_ORIGIN}/{page_path}")
        return page

    def _ms(self) -> int:
        return int(self.clock().timestamp() * 1000)

    def advance(self, page, **delta) -> None:
        """Time passes for the service and in the browser alike."""
        self.clock.advance(**delta)
        page.evaluate(f"window.__zafNow = {self._ms()}")


def text(page, selector: str) -> str:
    return page.locator(selector).inner_text()


def test_countdown_and_live_warning_on_a_fresh_ticket(zendesk):
    page = zendesk.open("assets/iframe.html", 101)
    page.wait_for_selector("#state[data-state='on track']")
    first = '[data-target="first_response"]'
    assert text(page, f"{first} .countdown") == "due in 13m 00s"
    # Due 15:13 UTC: 16:13 for the agent (Berlin), 11:13 for the customer (New York).
    assert "16:13 your time" in text(page, f"{first} .when") and "11:13 customer (America/New_York)" in text(page, first)
    assert text(page, "#policy") == "enterprise · critical priority"
    assert "Zendesk priority field" in text(page, "#reason") and "Northwind Logistics" in text(page, "#reason")
    assert text(page, "#owner") == "Level 1 · Support Agent" and page.locator("#acknowledge").count() == 0
    zendesk.advance(page, minutes=10, seconds=30)  # past 80 % of the 15 minutes: warning, without a refresh
    page.wait_for_selector("#state[data-state='warning']")
    page.wait_for_function("document.querySelector('[data-target=first_response] .countdown').textContent"
                           " === 'due in 2m 30s'")
    zendesk.advance(page, minutes=3)
    page.wait_for_selector("#state[data-state='breached']")
    page.wait_for_function("document.querySelector('[data-target=first_response] .countdown').textContent"
                           " === 'breached by 30s'")
    assert page.locator("#notice").is_hidden()


def test_breached_ticket_owner_steps_and_acknowledge(zendesk):
    page = zendesk.open("assets/iframe.html", 103)
    page.wait_for_selector("#state[data-state='breached']")
    assert text(page, '[data-target="first_response"] .countdown') == "breached by 2h 45m"
    assert text(page, '[data-target="resolution"] .countdown') == "breached by 1h 00m"
    assert text(page, "#owner") == "Level 3 · Customer Success"
    assert text(page, "#owner-why") == "Why: resolution target breached."
    assert "first-response target breached" in text(page, "#steps li[data-level='3']")
    assert "Customer told that Customer Success" in text(page, "#commitments")
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "sidebar.png"), full_page=True)
    page.click("#acknowledge")
    page.wait_for_selector("#acknowledge", state="detached")
    assert "acknowledged by Ana Agent (Zendesk user 424242)" in text(page, "#steps li[data-level='3']")
    assert ("POST", "/api/v1/tickets/103/acknowledge") in zendesk.proxy.seen
    assert "reminder" not in text(page, "#commitments")
    other = zendesk.open("assets/iframe.html", 102, user={"id": 7, "name": "Bo", "groups": [{"id": 1}]})
    other.wait_for_selector("#state[data-state='warning']")
    assert other.locator("#acknowledge").count() == 0


def test_someone_outside_the_owning_group_is_told_who_must_acknowledge(zendesk):
    page = zendesk.open("assets/iframe.html", 103, user={"id": 7, "name": "Bo", "groups": [{"id": 360000200001}]})
    page.wait_for_selector("#state[data-state='breached']")
    assert page.locator("#acknowledge").count() == 0
    assert text(page, "#ack-area") == "Waiting for Customer Success to acknowledge level 3."


def test_paused_ticket_says_since_when(zendesk):
    page = zendesk.open("assets/iframe.html", 104)
    page.wait_for_selector("#state[data-state='paused']")
    resolution = '[data-target="resolution"]'
    assert text(page, f"{resolution} .countdown") == "paused"
    assert text(page, f"{resolution} .when") == "since Mon 16 Mar, 15:00 your time (1h 00m)"
    assert page.locator('[data-target="first_response"]').get_attribute("data-state") == "met"


def test_unreachable_service_shows_when_it_last_heard_and_saves_refresh(zendesk):
    page = zendesk.open("assets/iframe.html", 102)
    page.wait_for_selector("#state[data-state='warning']")
    assert text(page, "#heard").startswith("Last heard from Escalator at 16:00:00")
    zendesk.proxy.reachable = False
    zendesk.advance(page, seconds=31)  # the 30 s refresh fails
    page.wait_for_selector("#notice:not([hidden])")
    notice = text(page, "#notice")
    assert "Can't reach Escalator: Escalator is unreachable" in notice and "at 16:00:00" in notice
    assert "not current" in notice
    assert page.locator("#state").get_attribute("class") == "chip stale"
    assert text(page, "#state") == "warning as of 16:00:00"
    zendesk.proxy.reachable = True
    calls = len(zendesk.proxy.seen)
    assert page.evaluate("window.__zaf.trigger('ticket.save')") == [True]  # never holds up the agent's save
    page.wait_for_selector("#notice", state="hidden", timeout=6000)  # refreshed a few seconds after the save
    assert len(zendesk.proxy.seen) > calls and text(page, "#state") == "warning"
    zendesk.proxy.reachable = False
    page.evaluate("window.__zaf.trigger('ticket.updated')")
    page.wait_for_selector("#notice:not([hidden])")


def test_unknown_ticket_and_revoked_token_say_so(zendesk):
    page = zendesk.open("assets/iframe.html", 999)
    page.wait_for_selector("#notice:not([hidden])")
    assert "ticket 999 is not known to Escalator" in text(page, "#notice")
    CliRunner().invoke(cli, ["api-token", "revoke", "zendesk-app"])
    refused = zendesk.open("assets/iframe.html", 101)
    refused.wait_for_selector("#notice:not([hidden])")
    assert "the API token was refused" in text(refused, "#notice")


def test_nav_bar_queue_with_filters(zendesk):
    page = zendesk.open("assets/queue.html")
    page.wait_for_selector("#breached tr")
    assert [r.get_attribute("data-id") for r in page.locator("#breached tr").all()] == ["103"]
    assert [r.get_attribute("data-id") for r in page.locator("#nearest tr").all()] == ["102", "101", "106", "104"]
    assert "due in 2m 00s" in text(page, '#nearest tr[data-id="102"]')
    page.select_option("select[name=tier]", "growth")
    page.wait_for_function("document.querySelectorAll('#nearest tr').length === 1")
    assert page.locator("#nearest tr").get_attribute("data-id") == "104" and page.locator("#breached tr").count() == 0
    page.select_option("select[name=tier]", "")
    page.select_option("select[name=level]", "3")
    page.wait_for_function("document.querySelectorAll('#nearest tr').length === 0")
    page.click('#breached tr[data-id="103"]')
    assert page.evaluate("window.__zaf.calls.filter(c => c.invoke).map(c => c.invoke)") == [["routeTo", "ticket", 103]]
