"""The import contract (DESIGN.md, Layout): the core is pure and the arrows run one way.

webhooks -> core <- storage and the vendor clients; only the app factory, the runtime, the shared services
and the CLI wire them together. Every import counts, module-level or inside a function.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("integration", "webhooks")
# Third-party packages that mean I/O or a framework: never in the core.
EDGE_LIBRARIES = ("flask", "werkzeug", "sqlalchemy", "alembic", "psycopg", "zenpy", "slack_sdk", "requests",
                  "urllib3", "gunicorn", "click", "yaml", "marshmallow", "socket", "http", "urllib", "os",
                  "subprocess", "threading")
WIRING = ("integration.app", "integration.runtime", "integration.services", "integration.cli")
# Who may import whom, by package prefix (the longest matching prefix rules).
FORBIDDEN = {
    "integration.core": ("integration.", "webhooks"),  # except integration.core and the mappings' model
    "integration.mappings": ("integration.storage", "integration.zendesk", "integration.slack", "webhooks",
                             "integration.dashboard", "integration.reports") + WIRING,
    "integration.storage": ("integration.zendesk", "integration.slack", "webhooks", "integration.dashboard",
                            "integration.reports") + WIRING,
    "integration.zendesk": ("webhooks", "integration.dashboard", "integration.reports") + WIRING,
    "integration.slack": ("webhooks", "integration.dashboard", "integration.reports") + WIRING,
    "integration.reports": ("webhooks", "integration.dashboard") + WIRING,
    "integration.dashboard": ("webhooks", "integration.reports") + WIRING,
    "integration.sidebar": ("webhooks", "integration.reports") + WIRING,
    "webhooks": WIRING,
}
CORE_MAY_IMPORT = ("integration.core", "integration.mappings.model")


def modules() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found.append((name, path))
    return found


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, prefix: str) -> bool:
    prefix = prefix.rstrip(".")
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, imported: set[str]) -> list[str]:
    rules = [p for p in FORBIDDEN if _under(module, p)]
    if not rules:
        return []
    rule = max(rules, key=len)
    found = []
    for name in sorted(imported):
        if rule == "integration.core":
            if any(_under(name, lib) for lib in EDGE_LIBRARIES):
                found.append(f"{module} imports {name} (an edge library)")
            elif (_under(name, "integration") or _under(name, "webhooks")) and not any(
                    _under(name, allowed) for allowed in CORE_MAY_IMPORT) and name != "integration":
                found.append(f"{module} imports {name} (outside the core)")
        elif any(_under(name, banned) for banned in FORBIDDEN[rule]) and not _under(name, rule):
            found.append(f"{module} imports {name} (against the arrows from {rule})")
    return found


def test_the_core_is_pure_and_the_arrows_run_one_way():
    problems = [v for module, path in modules() for v in violations(module, imports_of(path))]
    assert problems == []


@pytest.mark.parametrize("module, imported, expected", [
    ("integration.core.decide", {"sqlalchemy.orm"}, "edge library"),
    ("integration.core.decide", {"integration.slack.views"}, "outside the core"),
    ("integration.core.decide", {"integration.mappings.store"}, "outside the core"),
    ("integration.storage.repo", {"integration.zendesk.client"}, "against the arrows"),
    ("webhooks.slack", {"integration.app"}, "against the arrows"),
])
def test_the_contract_catches_a_wrong_arrow(module, imported, expected):
    assert expected in " ".join(violations(module, imported))


def test_the_contract_allows_the_core_its_own_types():
    assert violations("integration.core.decide", {"integration.core.sla.ticket", "integration.mappings.model",
                                                  "datetime", "holidays"}) == []


def test_no_product_module_is_over_300_lines():
    long = {str(path.relative_to(REPO)): n for _, path in modules()
            if (n := len(path.read_text().splitlines())) > 300}
    assert long == {}
