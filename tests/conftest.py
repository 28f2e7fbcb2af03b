import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from integration.storage.db import make_engine, make_sessions
from tests.db import backends, database_url
from tests.harness import TEST_MAPPINGS

settings.register_profile("dev", max_examples=200, deadline=None)
# CI draws the same examples on every run (a failure there is reproducible, never a coin toss); `make test`
# on a developer's machine keeps drawing new ones.
settings.register_profile(
    "ci", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def mappings_dir() -> Path:
    """The tests' own copy of the mapping files (tests pin ids and lines to it); the shipped `mappings/` is
    the admins' example, checked by tests/test_mappings_shipped.py only, and may change freely."""
    return TEST_MAPPINGS


@pytest.fixture(params=backends())
def database(request, tmp_path):
    """A migrated, empty database URL: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def sessions(database):
    """Sessions on the `database` fixture's migrated database (the engine disposed after the test)."""
    engine = make_engine(database)
    yield make_sessions(engine)
    engine.dispose()
