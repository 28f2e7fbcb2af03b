"""Writing the installed field ids into zendesk.yaml (comments kept) and files atomically."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from integration.zendesk.json_api import ZendeskCallError


class InstallError(ZendeskCallError):
    pass


def set_field_ids(text: str, ids: dict[str, int]) -> tuple[str, list[str]]:
    """Put each id on its `key: value` line of zendesk.yaml, keeping comments and their column."""
    changed = []
    for key, new in ids.items():
        pattern = re.compile(rf"^(?P<lead>[ \t]*{re.escape(key)}[ \t]*:[ \t]*)(?P<value>[^#\s]*)(?P<gap>[ \t]*)"
                             r"(?P<rest>#.*)?$", re.MULTILINE)
        found = list(pattern.finditer(text))
        if len(found) != 1:
            raise InstallError(f"zendesk.yaml: expected one `{key}:` line under `fields:`, found {len(found)}; "
                               f"set `{key}: {new}` by hand")
        match = found[0]
        old = match["value"]
        if old == str(new):
            continue
        gap = match["gap"]
        if match["rest"]:
            gap = " " * max(1, len(gap) + len(old) - len(str(new)))
        line = f"{match['lead']}{new}{gap}{match['rest'] or ''}"
        text = text[:match.start()] + line + text[match.end():]
        changed.append(f"{key}: {old or 'null'} → {new}")
    return text, changed


def atomic_write(path: Path, text: str, *, mode: int | None) -> None:
    """Write to a temporary file beside `path` and rename it over: readers see the old or the new file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, mode if mode is not None else _mode_of(path))
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o644
