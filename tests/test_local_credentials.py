"""The embedded default's generated admin login and webhook secret: made once, 0600, reused, env wins."""
import json
import stat

import pytest

from integration.config import Config
from integration.local_credentials import FILE_NAME, LocalCredentialsError, credentials_path, resolve


def sqlite_config(tmp_path, **environ) -> Config:
    return Config.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/instance/escalator.db", **environ})


def test_first_run_generates_a_private_file_beside_the_database_and_later_runs_reuse_it(tmp_path):
    first = resolve(sqlite_config(tmp_path), create=True)
    path = tmp_path / "instance" / FILE_NAME
    assert first.path == path and first.created and first.admin_from_file and first.secret_from_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = first.config
    assert config.admin_user == "admin" and len(config.admin_password) >= 20
    assert len(config.zendesk_webhook_secret) >= 40 and config.zendesk_webhook_secret != config.admin_password
    assert json.loads(path.read_text())["admin_password"] == config.admin_password

    again = resolve(sqlite_config(tmp_path), create=True)
    assert not again.created
    assert (again.config.admin_password, again.config.zendesk_webhook_secret) == \
        (config.admin_password, config.zendesk_webhook_secret)


def test_never_a_fixed_default(tmp_path):
    one = resolve(sqlite_config(tmp_path / "one"), create=True).config
    two = resolve(sqlite_config(tmp_path / "two"), create=True).config
    assert one.admin_password != two.admin_password
    assert one.zendesk_webhook_secret != two.zendesk_webhook_secret


def test_the_environment_wins_over_the_file(tmp_path):
    stored = resolve(sqlite_config(tmp_path), create=True).config
    admin = resolve(sqlite_config(tmp_path, ESCALATOR_ADMIN_USER="ops", ESCALATOR_ADMIN_PASSWORD="from-env"),
                    create=True)
    assert (admin.config.admin_user, admin.config.admin_password) == ("ops", "from-env")
    assert not admin.admin_from_file
    assert admin.secret_from_file and admin.config.zendesk_webhook_secret == stored.zendesk_webhook_secret

    secret = resolve(sqlite_config(tmp_path, ZENDESK_WEBHOOK_SECRET="env-secret"), create=True)
    assert secret.config.zendesk_webhook_secret == "env-secret" and not secret.secret_from_file
    assert secret.config.admin_password == stored.admin_password


def test_an_admin_login_is_a_pair_the_file_does_not_complete(tmp_path):
    resolve(sqlite_config(tmp_path), create=True)
    half = resolve(sqlite_config(tmp_path, ESCALATOR_ADMIN_USER="ops"), create=True).config
    assert (half.admin_user, half.admin_password) == ("ops", None)  # the dashboard says what to set


@pytest.mark.parametrize("environ", [
    {"DATABASE_URL": "postgresql+psycopg://app@db.internal/escalator"},
    {"ZENDESK_WEBHOOK_SECRET": "configured"},
    {"ESCALATOR_ADMIN_USER": "ops", "ESCALATOR_ADMIN_PASSWORD": "configured"},
])
def test_production_never_generates(tmp_path, environ):
    config = Config.from_env({"DATABASE_URL": f"sqlite:///{tmp_path}/escalator.db", **environ})
    resolved = resolve(config, create=True)
    assert resolved.config == config and resolved.path is None
    assert not (tmp_path / FILE_NAME).exists()


def test_reading_only_never_creates(tmp_path):
    config = sqlite_config(tmp_path)
    resolved = resolve(config, create=False)
    assert resolved.config == config and not credentials_path(config).exists()


def test_a_readable_file_is_narrowed_and_a_broken_one_is_refused(tmp_path):
    config = sqlite_config(tmp_path)
    resolve(config, create=True)
    path = credentials_path(config)
    path.chmod(0o644)
    resolve(config, create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text('{"admin_user": "admin"}')
    with pytest.raises(LocalCredentialsError, match="delete it"):
        resolve(config, create=True)


def test_no_credentials_file_for_an_in_memory_database():
    assert credentials_path(Config(database_url="sqlite:///:memory:")) is None
