"""`escalator serve`: the embedded default on gunicorn, with the worker in the same process.

One gunicorn worker process (gthread: a few request threads) serves the app; that process, once it
has loaded the app, also starts the outbox/timer worker thread (gunicorn's `post_worker_init` hook)
and stops it when it exits (`worker_exit`). The worker thread therefore lives only in the process
that serves, after the fork: the master starts none, and a worker process gunicorn replaces takes
its thread with it. Ctrl-C (SIGINT) or SIGTERM stops the master, which stops that process.
Production runs gunicorn on `create_app()` and `escalator worker` separately (Procfile).
"""
from __future__ import annotations

import sys
import threading
from pathlib import Path

import click
from gunicorn.app.base import BaseApplication

from integration.cli.gunicorn_conf import child_exit, prepare_metrics_dir
from integration.config import Config
from integration.local_credentials import Resolved

THREADS = 8  # request threads in the one serving process; SQLite writers queue on one lock anyway


class EmbeddedServer(BaseApplication):
    """gunicorn, configured in code (no config file, no command line of its own)."""

    def __init__(self, config: Config, *, host: str, port: int, with_worker: bool, banner: str) -> None:
        self.config, self.with_worker, self.banner = config, with_worker, banner
        self.options = {
            "bind": f"{host}:{port}", "workers": 1, "worker_class": "gthread", "threads": THREADS,
            "graceful_timeout": 5, "timeout": 30, "proc_name": "escalator",
            "accesslog": None, "control_socket_disable": True,  # no shared $HOME/.gunicorn socket
            "when_ready": self._ready, "post_worker_init": self._start_worker, "worker_exit": self._stop_worker,
            "child_exit": child_exit,
        }
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        super().__init__(prog="escalator serve")

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings newer gunicorns added are skipped on older ones
                self.cfg.set(key, value)

    def load(self):
        from integration.app import create_app

        return create_app(self.config)

    def _ready(self, server) -> None:
        click.echo(self.banner)

    def _start_worker(self, gunicorn_worker) -> None:
        if not self.with_worker:
            return
        from integration.app import services_of
        from integration.runtime import build_worker

        worker = build_worker(services_of(gunicorn_worker.wsgi))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=worker.run_forever, args=(self._stop,), name="escalator-worker",
                                        daemon=True)
        self._thread.start()

    def _stop_worker(self, server, gunicorn_worker) -> None:
        if self._stop is not None and self._thread is not None:
            self._stop.set()
            self._thread.join(timeout=5)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, envvar="PORT", type=int)
@click.option("--with-worker/--no-worker", default=True, show_default=True,
              help="Run the outbox worker in the serving process too (the embedded default).")
def serve(host: str, port: int, with_worker: bool) -> None:
    """Migrate the database, then serve HTTP (gunicorn) with the worker in the same process."""
    from integration.local_credentials import LocalCredentialsError, resolve
    from integration.runtime import configure_logging
    from integration.storage.db import upgrade

    configure_logging()
    try:
        resolved = resolve(Config.from_env(), create=True)
    except LocalCredentialsError as exc:
        raise click.ClickException(str(exc)) from None
    upgrade(resolved.config.database_url)
    prepare_metrics_dir()  # a worker process gunicorn replaces keeps its counts (see gunicorn_conf)
    EmbeddedServer(resolved.config, host=host, port=port, with_worker=with_worker,
                   banner=banner(resolved, f"http://{host}:{port}/")).run()


def banner(resolved: Resolved, url: str) -> str:
    config = resolved.config
    lines = ["", f"Escalator is running. Dashboard: {url}"]
    if config.admin_user and config.admin_password:
        if resolved.admin_from_file:
            lines.append(f"  login: user {config.admin_user}  password {config.admin_password}"
                         f"  (generated, kept in {resolved.path})")
        else:
            lines.append(f"  login: user {config.admin_user} (ESCALATOR_ADMIN_USER/ESCALATOR_ADMIN_PASSWORD)")
    else:
        lines.append("  dashboard disabled: set ESCALATOR_ADMIN_USER and ESCALATOR_ADMIN_PASSWORD")
    if resolved.secret_from_file:
        lines.append(f"  Zendesk webhook secret: zendesk_webhook_secret in {resolved.path}")
    elif config.zendesk_webhook_secret:
        lines.append("  Zendesk webhook secret: from ZENDESK_WEBHOOK_SECRET")
    else:
        lines.append("  Zendesk webhooks refused (503): ZENDESK_WEBHOOK_SECRET is not set")
    if config.zendesk_dry_run or config.slack_dry_run:
        lines.append("  dry-run: actions are recorded, not sent; `escalator outbox` lists them")
    lines.append(f"  try it: {_program()} demo --url {url.rstrip('/')}   (Ctrl-C stops the server)")
    return "\n".join(lines) + "\n"


def _program() -> str:
    """How this command was started (`.venv/bin/escalator` from `make run`), to print a runnable line."""
    started = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    return str(started) if started is not None and started.name == "escalator" else "escalator"
