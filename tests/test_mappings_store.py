"""Hot reload: good edits are picked up, bad ones never replace the last good mappings."""
from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

import pytest

from integration.mappings.errors import MappingsError
from integration.mappings.store import MappingsStore

LOGGER = "test.mappings.store"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 1.0) -> None:
        self.now += seconds


class Files:
    """The mapping files in tmp_path; every write gets a new, distinct mtime."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.mtime_ns = 1_700_000_000_000_000_000

    def replace(self, name: str, old: str, new: str) -> None:
        path = self.directory / name
        text = path.read_text()
        assert text.count(old) == 1
        path.write_text(text.replace(old, new))
        self.touch(name)

    def touch(self, name: str) -> None:
        self.mtime_ns += 1_000_000_000
        os.utime(self.directory / name, ns=(self.mtime_ns, self.mtime_ns))


@pytest.fixture
def files(mappings_dir: Path, tmp_path: Path) -> Files:
    shutil.copytree(mappings_dir, tmp_path / "mappings")
    return Files(tmp_path / "mappings")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(files: Files, clock: Clock, caplog) -> MappingsStore:
    caplog.set_level(logging.INFO, logger=LOGGER)
    made = MappingsStore(files.directory, logger=logging.getLogger(LOGGER), min_interval=1.0, monotonic=clock)
    caplog.clear()
    return made


def records(caplog, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == level]


def test_first_load(files: Files, clock: Clock, caplog) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    store = MappingsStore(files.directory, logger=logging.getLogger(LOGGER), monotonic=clock)
    assert store.current.escalation.renotify_minutes == 30
    assert store.last_error is None and store.loaded_at.tzinfo is not None
    assert store.current.fingerprint[:12] in records(caplog, logging.INFO)[0].getMessage()


def test_first_load_of_bad_mappings_raises(files: Files, clock: Clock) -> None:
    files.replace("organizations.yaml", "tier: pro", "tier: platinum")
    with pytest.raises(MappingsError) as caught:
        MappingsStore(files.directory, monotonic=clock)
    assert "'platinum' is not a tier" in str(caught.value)


def test_missing_directory_raises(tmp_path: Path, clock: Clock) -> None:
    with pytest.raises(MappingsError, match="no such directory"):
        MappingsStore(tmp_path / "nowhere", monotonic=clock)


def test_valid_edit_is_picked_up_after_min_interval(store: MappingsStore, files: Files, clock: Clock, caplog) -> None:
    before = store.current
    files.replace("escalation.yaml", "renotify_minutes: 30", "renotify_minutes: 45")
    clock.advance(0.5)
    assert store.current is before  # not looked at yet
    clock.advance(0.5)
    after = store.current
    assert after.escalation.renotify_minutes == 45
    assert after.fingerprint != before.fingerprint
    [info] = records(caplog, logging.INFO)
    assert after.fingerprint[:12] in info.getMessage() and before.fingerprint[:12] in info.getMessage()
    assert store.last_error is None


def test_unchanged_files_are_not_reloaded(store: MappingsStore, files: Files, clock: Clock, caplog) -> None:
    before = store.current
    files.touch("tiers.yaml")  # new mtime, same bytes
    clock.advance(5)
    assert store.current is before
    assert records(caplog, logging.INFO) == []


def test_invalid_edit_keeps_last_good_and_logs_once(store: MappingsStore, files: Files, clock: Clock, caplog) -> None:
    good = store.current
    loaded_at = store.loaded_at
    files.replace("organizations.yaml", "tier: pro", "tier: platinum")
    clock.advance()
    assert store.current is good
    assert store.loaded_at == loaded_at
    assert isinstance(store.last_error, MappingsError)
    assert [str(e) for e in store.last_error.errors] == [
        f"{files.directory}/organizations.yaml:69 organizations[1].tier: "
        "'platinum' is not a tier (starter, growth, scale, pro, enterprise)"
    ]
    [error] = records(caplog, logging.ERROR)
    assert "MAPPINGS REJECTED" in error.getMessage()
    assert "'platinum' is not a tier" in error.getMessage()
    assert good.fingerprint[:12] in error.getMessage()

    for _ in range(3):  # polling on: the same bad version is not logged again
        clock.advance()
        assert store.current is good
    files.touch("organizations.yaml")  # saved again without changes
    clock.advance()
    assert store.current is good
    assert len(records(caplog, logging.ERROR)) == 1

    files.replace("organizations.yaml", "tier: platinum", "tier: gold")  # another bad version: logged
    clock.advance()
    assert store.current is good
    assert len(records(caplog, logging.ERROR)) == 2
    assert "'gold' is not a tier" in records(caplog, logging.ERROR)[1].getMessage()


def test_fixing_the_files_recovers(store: MappingsStore, files: Files, clock: Clock, caplog) -> None:
    good = store.current
    files.replace("organizations.yaml", "tier: pro", "tier: platinum")
    clock.advance()
    assert store.current is good and store.last_error is not None
    # (not scale: Brandt names a dedicated CSM, which scale does not offer)
    files.replace("organizations.yaml", "tier: platinum", "tier: enterprise  # fixed")
    clock.advance()
    fixed = store.current
    assert fixed is not good
    assert fixed.organizations[1].tier == "enterprise"
    assert store.last_error is None
    assert fixed.fingerprint[:12] in records(caplog, logging.INFO)[-1].getMessage()
    # the same mistake again is a new bad version after a good one: logged again
    files.replace("organizations.yaml", "tier: enterprise  # fixed", "tier: platinum")
    clock.advance()
    assert store.current is fixed
    assert len(records(caplog, logging.ERROR)) == 2


def test_reverting_a_bad_edit_clears_the_error(store: MappingsStore, files: Files, clock: Clock) -> None:
    good = store.current
    files.replace("organizations.yaml", "tier: pro", "tier: platinum")
    clock.advance()
    store.current
    files.replace("organizations.yaml", "tier: platinum", "tier: pro")  # back to the loaded bytes
    clock.advance()
    assert store.current is good
    assert store.last_error is None


def test_deleted_file_keeps_last_good(store: MappingsStore, files: Files, clock: Clock, caplog) -> None:
    good = store.current
    (files.directory / "priority.yaml").unlink()
    clock.advance()
    assert store.current is good
    assert "missing file" in str(store.last_error)
    assert len(records(caplog, logging.ERROR)) == 1


def test_concurrent_readers_reload_once(store: MappingsStore, files: Files, clock: Clock, caplog) -> None:
    files.replace("escalation.yaml", "renotify_minutes: 30", "renotify_minutes: 20")
    clock.advance()
    barrier = threading.Barrier(8)
    seen: list[int] = []

    def read() -> None:
        barrier.wait()
        seen.append(store.current.escalation.renotify_minutes)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert store.current.escalation.renotify_minutes == 20
    assert len(records(caplog, logging.INFO)) == 1
