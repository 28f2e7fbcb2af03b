"""`escalator serve`: the web app on the embedded default (production runs gunicorn, see Procfile)."""
from __future__ import annotations

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, envvar="PORT", type=int)
@click.option("--with-worker/--no-worker", default=True, show_default=True,
              help="Run the outbox worker in this process too (the embedded default).")
def serve(host: str, port: int, with_worker: bool) -> None:
    """Run the service: migrate the database, serve HTTP and (by default) the worker in one process."""
    from werkzeug.serving import run_simple

    from integration.app import create_app, services_of
    from integration.runtime import configure_logging, start_worker_thread
    from integration.storage.db import upgrade

    configure_logging()
    app = create_app()
    services = services_of(app)
    upgrade(services.config.database_url)
    stop = start_worker_thread(services) if with_worker else None
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if stop is not None:
            stop.set()
