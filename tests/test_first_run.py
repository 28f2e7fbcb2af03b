"""A first run, as a newcomer does it: `escalator serve`, the printed login, `escalator demo`, the dashboard.

Real processes (gunicorn with the worker in its serving process) on a free port, a temporary SQLite
database whose directory receives the generated credentials, Debian's Chromium driven by Playwright.
"""
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.harness import REPO
from tests.test_dashboard import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

ESCALATOR = str(Path(sys.executable).with_name("escalator"))
SECRETS = ("ESCALATOR_ADMIN_USER", "ESCALATOR_ADMIN_PASSWORD", "ZENDESK_WEBHOOK_SECRET", "ZENDESK_SUBDOMAIN",
           "ZENDESK_EMAIL", "ZENDESK_API_TOKEN", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
           "ESCALATOR_INSECURE_DEV_WEBHOOKS", "DATABASE_URL", "PORT")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Lines:
    """Everything a process prints on stdout, read by a thread so the pipe never fills."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def until(self, pattern: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(re.search(pattern, line) for line in list(self.lines)):
                return "".join(self.lines)
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r}; printed:\n{''.join(self.lines)}")


@pytest.fixture
def first_run(tmp_path):
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env |= {"DATABASE_URL": f"sqlite:///{instance}/escalator.db", "MAPPINGS_DIR": str(REPO / "mappings"),
            "PYTHONUNBUFFERED": "1"}
    port = free_port()
    stderr = open(tmp_path / "serve.err", "w+")
    server = subprocess.Popen([ESCALATOR, "serve", "--port", str(port)], cwd=tmp_path, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=stderr)
    try:
        printed = Lines(server).until(r"try it:")
        yield {"server": server, "printed": printed, "env": env, "url": f"http://127.0.0.1:{port}",
               "instance": instance, "stderr": tmp_path / "serve.err"}
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        stderr.close()


@pytest.mark.slow
def test_serve_prints_a_login_the_demo_fills_the_dashboard_and_ctrl_c_stops_it(first_run):
    from playwright.sync_api import sync_playwright

    url, printed, env = first_run["url"], first_run["printed"], first_run["env"]
    credentials = first_run["instance"] / "local-credentials.json"
    login = re.search(r"login: user (\S+)\s+password (\S+)", printed)
    assert login, printed
    user, password = login.groups()
    stored = json.loads(credentials.read_text())
    assert (user, password) == ("admin", stored["admin_password"]) and stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert f"Dashboard: {url}/" in printed and f"zendesk_webhook_secret in {credentials}" in printed
    assert stored["zendesk_webhook_secret"] not in printed  # where it is, never what it is

    demo = subprocess.run([ESCALATOR, "demo", "--url", url], env=env, cwd=first_run["instance"].parent,
                          capture_output=True, text=True, timeout=60)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "sent 20 of 20 signed Zendesk events" in demo.stdout
    escalated = {int(n) for n in re.findall(r"#(\d+) .*→ (?:first response|resolution) breached", demo.stdout)}
    assert len(escalated) == 4, demo.stdout

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(http_credentials={"username": user, "password": password}).new_page()
        page.goto(f"{url}/?refresh=1")
        page.wait_for_function("document.querySelectorAll('#escalations tbody tr').length >= 4", timeout=30000)
        rows = page.locator("#open-tickets tbody tr")
        assert rows.count() == 14
        states = page.locator("#open-tickets tbody tr td:nth-child(5)").all_inner_texts()
        assert {"warning", "breached", "on track", "paused"} <= set(states), states
        shown = {int(t.split("\t")[0].lstrip("#")) for t in page.locator("#escalations tbody tr").all_inner_texts()}
        assert escalated <= shown
        for ticket in escalated:
            text = page.locator(f'#open-tickets tr[data-id="{ticket}"]').inner_text()
            assert "breached" in text and ("Support Manager" in text or "Customer Success" in text), text
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "first-run.png"), full_page=True)
        browser.close()

    outbox = subprocess.run([ESCALATOR, "outbox", "--limit", "200"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert outbox.returncode == 0, outbox.stderr
    assert "dry_run  zendesk/update_ticket" in outbox.stdout and "dry_run  slack/post_message" in outbox.stdout

    server = first_run["server"]
    server.send_signal(signal.SIGINT)  # Ctrl-C
    assert server.wait(timeout=15) == 0
    log = first_run["stderr"].read_text()
    assert "Booting worker" in log and log.count("worker started") == 1 and "worker stopped" in log
    assert "development server" not in log
