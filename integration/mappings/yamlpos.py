"""YAML to plain Python with the line of every key and value, and duplicate keys detected.

PyYAML's `safe_load` forgets where things were and silently keeps the last of two equal keys, so
we compose the node tree ourselves and remember positions by key path (a tuple of keys and list
indices, e.g. ``("organizations", 3, "tier")``).

Scalars follow YAML 1.2's core schema rather than PyYAML's YAML 1.1 defaults: only true/false are
booleans (``NO``, Norway's holiday code, stays a string; so do yes/no/on/off), ``18:00`` is not a
base-60 number, ``010`` is ten (not octal), and dates stay strings (checked by the schema, so that
``2025-02-30`` is an error with a line instead of a crash).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers: dict = {}


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
# decimal, as in YAML 1.2 (PyYAML would read 010 as octal 8 and fail on 09)
_Loader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: int(loader.construct_scalar(node), 10))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


@dataclass
class Document:
    """A parsed file: `data` as plain dicts/lists/scalars, plus where each path was written."""

    data: Any
    key_lines: dict[Path, int] = field(default_factory=dict)  # path -> line of its key
    value_lines: dict[Path, int] = field(default_factory=dict)  # path -> line of its value
    # (path of the repeated key, its line, line of the first occurrence); the first one is kept
    duplicates: list[tuple[Path, int, int]] = field(default_factory=list)
    # (path, line, message) for structures we cannot turn into data (non-scalar keys, alias loops)
    problems: list[tuple[Path, int, str]] = field(default_factory=list)

    def line(self, path: Path, *, at_key: bool = False) -> int:
        """The line to report for `path`.

        A value's own line (for a nested mapping or list: the line of its key); with `at_key`, the
        line of the key itself. A path that is not in the file (a missing key) reports the line of
        the nearest enclosing mapping or list item that is.
        """
        path = tuple(path)
        if at_key and path in self.key_lines:
            return self.key_lines[path]
        while path:
            if path in self.value_lines:
                return self.value_lines[path]
            path = path[:-1]
        return self.value_lines.get((), 1)

    def has(self, path: Path) -> bool:
        return tuple(path) in self.value_lines


def format_path(path: Path) -> str:
    """``("organizations", 3, "tier")`` -> ``organizations[3].tier``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse(text: str) -> Document:
    """Parse one YAML document. Raises yaml.YAMLError (with a mark) on syntax errors."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        doc = Document(data=None)
        if root is not None:
            doc.data = _build(root, (), loader, doc, frozenset())
        return doc
    finally:
        loader.dispose()


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _build(node: yaml.Node, path: Path, loader: _Loader, doc: Document, seen: frozenset[int]) -> Any:
    key_line = doc.key_lines.get(path)
    is_empty_scalar = isinstance(node, yaml.ScalarNode) and node.value == "" and node.style is None
    if key_line is not None and (not isinstance(node, yaml.ScalarNode) or is_empty_scalar):
        doc.value_lines[path] = key_line  # nested block, or `key:` with nothing after it
    else:
        doc.value_lines[path] = _line(node)
    if id(node) in seen:
        doc.problems.append((path, _line(node), "an alias refers to itself (recursive anchors are not allowed)"))
        return None
    if isinstance(node, yaml.MappingNode):
        seen = seen | {id(node)}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                doc.problems.append((path, _line(key_node), "keys must be plain words, not lists or mappings"))
                continue
            key = key_node.value  # keys stay as written: `no:` is the key "no", `24x7:` is "24x7"
            child = path + (key,)
            if key in result:
                doc.duplicates.append((child, _line(key_node), doc.key_lines[child]))
                continue
            doc.key_lines[child] = _line(key_node)
            result[key] = _build(value_node, child, loader, doc, seen)
        return result
    if isinstance(node, yaml.SequenceNode):
        seen = seen | {id(node)}
        return [_build(item, path + (i,), loader, doc, seen) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError):  # e.g. `!!int 0x1F`, `!!float abc`
        doc.problems.append((path, _line(node), f"{node.value!r} cannot be read as {node.tag.rsplit(':', 1)[-1]}"))
        return None


def error_line(error: yaml.YAMLError) -> int:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    return mark.line + 1 if mark is not None else 1


_HINTS = (
    ("'\\t'", "indent with spaces, not tabs"),
    ("block end", "check the indentation: the keys of one mapping line up, list items start with '- '"),
    ("mapping values are not allowed", "check the indentation, and quote values that contain ': '"),
    ("end of stream", "a quote or bracket is not closed"),
)


def error_message(error: yaml.YAMLError) -> str:
    """`YAML syntax error: …` in one line, with the context PyYAML gives and a hint for common slips."""
    problem = getattr(error, "problem", None)
    context = getattr(error, "context", None)
    if not problem:
        return f"YAML syntax error: {' '.join(str(error).split())}"
    text = f"YAML syntax error: {problem}"
    context_mark = getattr(error, "context_mark", None)
    if context:
        text += f" ({context}"
        if context_mark is not None:
            text += f" at line {context_mark.line + 1}"
        text += ")"
    hint = next((hint for marker, hint in _HINTS if marker in problem), None)
    return f"{text}; {hint}" if hint else text
