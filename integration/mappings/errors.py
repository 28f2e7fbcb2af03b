"""Mapping errors that name the file, the line and the key path an admin has to fix."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class MappingIssue:
    """One problem in the mapping files.

    `file` is the path as the loader was given it (``mappings/organizations.yaml``); `line` is
    1-based, or None when there is no line to point at (a missing file); `path` is the key path
    inside the file (``organizations[3].tier``, list indices from 0), empty for the whole file.
    """

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.path:
            return f"{where} {self.path}: {self.message}"
        return f"{where} {self.message}"

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.path, self.message)


def sorted_issues(issues: Iterable[MappingIssue]) -> list[MappingIssue]:
    """Sorted by file, then line; duplicates dropped."""
    return sorted(set(issues), key=lambda issue: issue.sort_key)


class MappingsError(Exception):
    """The mapping files are not valid; `.errors` lists every problem found, sorted by file and line.

    `fingerprint` identifies the bytes that were rejected (hot reload logs each bad version once).
    """

    def __init__(self, errors: Iterable[MappingIssue], *, directory: str = "", fingerprint: str = ""):
        self.errors: list[MappingIssue] = sorted_issues(errors)
        self.directory = directory
        self.fingerprint = fingerprint
        super().__init__(self._text())

    def _text(self) -> str:
        count = len(self.errors)
        head = f"{count} error{'s' if count != 1 else ''}" + (f" in {self.directory}" if self.directory else "")
        return "\n".join([head, *(str(issue) for issue in self.errors)])

    def __str__(self) -> str:
        return self._text()
