"""`escalator zendesk app package`: the Zendesk sidebar app, zipped for a private app upload."""
from __future__ import annotations

from pathlib import Path

import click


@click.group("app")
def app() -> None:
    """The Zendesk sidebar app (zendesk_app/): SLA countdowns, owner and Acknowledge on every ticket."""


@app.command("package")
@click.option("--url", "public_url", required=True, metavar="https://HOST",
              help="This service's public address: the app calls <url>/api/v1 and only that host gets the token.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("escalator-zendesk-app.zip"),
              show_default=True, help="Where to write the zip.")
@click.option("--app-dir", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="The app's source (default: zendesk_app/ of this installation).")
def package(public_url: str, out: Path, app_dir: Path | None) -> None:
    """Check the app against Zendesk's manifest rules and write the zip to upload as a private app."""
    from integration.zendesk.app_package import APP_DIR, AppFiles, AppPackageError, package as build

    try:
        data = build(AppFiles.read(app_dir or APP_DIR), public_url)
    except AppPackageError as error:
        raise click.ClickException(str(error)) from None
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data)} bytes). Upload it in Zendesk: Admin Center > Apps and integrations > "
               "Zendesk Support apps > Upload private app. Settings: Escalator service URL "
               f"{public_url.rstrip('/')} and an API token from `escalator api-token create --name zendesk-app`.")
