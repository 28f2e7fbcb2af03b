"""gunicorn settings for a web process of several workers (the Procfile's `web`, and `escalator serve`).

Metrics hold across its processes: each worker process writes its counters and histograms to files in
PROMETHEUS_MULTIPROC_DIR and a scrape of any one of them sums all the files. The directory is emptied
here, in the master, before any worker starts (stale files of an earlier run would add to the counts),
and prometheus_client must not be imported before it is set (it reads the setting at import).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def prepare_metrics_dir() -> str:
    path = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR")
                or Path(tempfile.gettempdir()) / f"escalator-metrics-{os.getpid()}")
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return str(path)


def child_exit(server, worker) -> None:
    """A worker process gone: its live gauges leave the sums; its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_starting(server) -> None:
    """The master, before it starts any worker (the Procfile: -c python:integration.cli.gunicorn_conf)."""
    prepare_metrics_dir()
