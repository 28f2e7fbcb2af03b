"""/metrics under the Procfile's gunicorn of two worker processes: counters summed over both, never going back."""
from __future__ import annotations

import pytest

import concurrent.futures as futures
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from integration.storage.db import upgrade
from tests.harness import TEST_MAPPINGS

COUNTED = re.compile(r'^escalator_webhook_requests_total\{outcome="unconfigured",source="zendesk"\} (\S+)$', re.M)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def counted(base: str) -> float:
    match = COUNTED.search(requests.get(f"{base}/metrics", timeout=5).text)
    return float(match.group(1)) if match else 0.0


@pytest.mark.slow  # real time or a real browser/process: .ci/run runs it
def test_two_worker_processes_report_one_monotonic_count(tmp_path):
    url = f"sqlite:///{tmp_path}/metrics.db"
    upgrade(url)
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale from an earlier run")  # must be cleaned at start
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "MAPPINGS_DIR": str(TEST_MAPPINGS),
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env.pop("ZENDESK_WEBHOOK_SECRET", None)  # every webhook is refused (503) and counted as unconfigured
    procfile = (Path(__file__).parent.parent / "Procfile").read_text()
    assert "-c python:integration.cli.gunicorn_conf --workers 2" in procfile
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:integration.cli.gunicorn_conf",
                               "--workers", "2", "--bind", f"127.0.0.1:{port}", "integration.app:create_app()"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)
        while len(list(metrics_dir.glob("histogram_*.db"))) < 2:  # each process writes one once its app is up
            assert time.monotonic() < deadline, "the second worker process did not start"
            time.sleep(0.1)
        assert counted(base) == 0

        def post(_):
            return requests.post(f"{base}/webhooks/zendesk", data=b"{}", timeout=5).status_code

        seen = []
        with futures.ThreadPoolExecutor(8) as pool:
            for total in (40, 80):
                assert set(pool.map(post, range(40))) == {503}
                scrapes = [counted(base) for _ in range(6)]  # each reaches one process or the other
                seen += scrapes
                assert scrapes == [total] * 6, scrapes
        assert seen == sorted(seen)
        counters = {p.name for p in metrics_dir.glob("counter_*.db")}
        assert len(counters) >= 2 and "counter_999999.db" not in counters  # both processes counted, stale gone
    finally:
        server.terminate()
        server.wait(timeout=15)
