"""`escalator serve`: the web app on the embedded default (production runs gunicorn, see Procfile)."""
from __future__ import annotations

import logging

import click


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, envvar="PORT", type=int)
def serve(host: str, port: int) -> None:
    """Run the service on the embedded default."""
    from werkzeug.serving import run_simple

    from integration.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app()
    run_simple(host, port, app, threaded=True, use_reloader=False)
