"""Hot reload: the current Mappings, re-read when the files change, never replaced by a bad version."""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

from integration.mappings.errors import MappingIssue, MappingsError
from integration.mappings.loader import FILES, fingerprint_of, load_from_bytes, no_directory_error, read_files
from integration.mappings.model import Mappings

Signature = tuple[tuple[str, int, int] | tuple[str, None, None], ...]


def _signature(directory: Path) -> Signature:
    """(name, mtime_ns, size) per file; (name, None, None) when it is missing."""
    out: list = []
    for name in FILES:
        try:
            st = os.stat(directory / name)
            out.append((name, st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


class MappingsStore:
    """Holds the last good Mappings of `directory` and reloads them when the files change.

    The first load happens in the constructor and raises MappingsError: the service must not start
    on bad mappings. After that, `current` looks at the files' (mtime_ns, size) at most every
    `min_interval` seconds (by `monotonic`); on a change it reloads. A bad version never replaces
    the good one: its errors are logged at ERROR once per distinct bad version, and kept in
    `last_error` until a good version loads. Thread-safe; no background thread.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        logger: logging.Logger | None = None,
        min_interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self._path = Path(directory)
        self.logger = logger or logging.getLogger("escalator.mappings")
        self.min_interval = min_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self.last_error: MappingsError | None = None
        self._logged_bad: str | None = None  # fingerprint of the bad version already logged
        self._signature = _signature(self._path)
        contents = read_files(self._path)
        self._mappings = self._load(contents)  # raises MappingsError: refuse to start
        self.loaded_at = dt.datetime.now(dt.timezone.utc)
        self._checked_at = monotonic()
        self.logger.info("mappings loaded from %s (fingerprint %s)", directory, self._mappings.fingerprint[:12])

    def _load(self, contents) -> Mappings:
        if not self._path.is_dir():
            raise no_directory_error(self.directory)
        return load_from_bytes(self.directory, contents)

    @property
    def current(self) -> Mappings:
        """The last good Mappings, after reloading them if the files changed since the last look."""
        if self._monotonic() - self._checked_at >= self.min_interval:
            self.refresh(force=False, if_due=True)
        return self._mappings

    def refresh(self, *, force: bool = False, if_due: bool = False) -> bool:
        """Look at the files now; reload if they changed (or `force`). True if a new version loaded.

        `if_due`: only if min_interval has passed since the last look (another thread may just
        have looked).
        """
        with self._lock:
            if if_due and self._monotonic() - self._checked_at < self.min_interval:
                return False
            self._checked_at = self._monotonic()
            signature = _signature(self._path)
            if signature == self._signature and not force:
                return False
            self._signature = signature
            contents = read_files(self._path) if self._path.is_dir() else {}
            fingerprint = fingerprint_of(contents)
            if fingerprint == self._mappings.fingerprint:
                # touched, or edited back to the good version: nothing new to load
                self._recovered()
                return False
            try:
                mappings = self._load(contents)
            except MappingsError as error:
                self._rejected(error)
                return False
            except OSError as error:  # unreadable file; treat like a bad version
                self._rejected(MappingsError(
                    [MappingIssue(str(self.directory), None, "", f"cannot read the files: {error}")],
                    directory=str(self.directory), fingerprint=fingerprint,
                ))
                return False
            previous = self._mappings.fingerprint
            self._mappings = mappings
            self.loaded_at = dt.datetime.now(dt.timezone.utc)
            self.last_error = None
            self._logged_bad = None
            self.logger.info(
                "mappings reloaded from %s (fingerprint %s, was %s)",
                self.directory, mappings.fingerprint[:12], previous[:12],
            )
            return True

    def _rejected(self, error: MappingsError) -> None:
        self.last_error = error
        if error.fingerprint and error.fingerprint == self._logged_bad:
            return  # this bad version was logged already
        self._logged_bad = error.fingerprint
        self.logger.error(
            "MAPPINGS REJECTED: %s has %d error%s; still using the version loaded at %s (fingerprint %s). "
            "Fix the files (check with `escalator mappings check %s`):\n%s",
            self.directory, len(error.errors), "" if len(error.errors) == 1 else "s",
            self.loaded_at.isoformat(timespec="seconds"), self._mappings.fingerprint[:12], self.directory,
            "\n".join(f"  {issue}" for issue in error.errors),
        )

    def _recovered(self) -> None:
        if self.last_error is not None:
            self.logger.info(
                "mappings in %s are back to the loaded version (fingerprint %s)",
                self.directory, self._mappings.fingerprint[:12],
            )
        self.last_error = None
        self._logged_bad = None
