"""One place for each rule, read from the source: SQL only in `connector/store/`, account changes
only through the service layer, sign-ins only through the gate."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONNECTOR = ROOT / "connector"
SQL = re.compile(
    r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I | re.S
)


def _modules(outside_store: bool = True) -> list[Path]:
    return [
        path
        for path in CONNECTOR.rglob("*.py")
        if not (outside_store and (CONNECTOR / "store") in path.parents)
    ]


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _calls(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                names.add(func.attr)
            elif isinstance(func, ast.Name):
                names.add(func.id)
    return names


def test_no_sql_outside_the_store() -> None:
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = _imports(tree)
        if any(name == "sqlalchemy" or name.startswith("sqlalchemy.") for name in imports):
            offenders.append(f"{path.relative_to(ROOT)} imports sqlalchemy")
        if any(name.startswith("connector.store.schema") for name in imports):
            offenders.append(f"{path.relative_to(ROOT)} imports the tables")
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and SQL.search(text):
                offenders.append(f"{path.relative_to(ROOT)} holds SQL: {text[:40]!r}")
    assert offenders == []


def test_api_cli_and_form_change_accounts_only_through_the_service() -> None:
    """Routes and commands translate; the service writes accounts and their status events."""
    for relative in (
        "api/routes/accounts.py",
        "cli/accounts.py",
        "cli/demo.py",
        "forms/pages.py",
        "forms/api.py",
    ):
        tree = ast.parse((CONNECTOR / relative).read_text(encoding="utf-8"))
        calls = _calls(tree)
        assert not calls & {"update_account", "append_event", "insert_account", "delete_account"}, (
            relative
        )
    for relative, expected in (
        (
            "api/routes/accounts.py",
            {"pause", "resume", "update_credentials", "rollback_credentials"},
        ),
        ("cli/accounts.py", {"create_account", "remove_account"}),
    ):
        calls = _calls(ast.parse((CONNECTOR / relative).read_text(encoding="utf-8")))
        assert expected <= calls, (relative, expected - calls)


def test_only_the_service_writes_status_events() -> None:
    writers = []
    for path in _modules(outside_store=False):
        text = path.read_text(encoding="utf-8")
        if "ACCOUNT_STATUS_CHANGED" in text and path.name != "domain.py":
            writers.append(str(path.relative_to(CONNECTOR)))
    assert writers == ["accounts/service.py"]


def test_the_connector_never_uses_a_guard_that_permits_everything() -> None:
    for path in _modules(outside_store=False):
        assert "RecordedSignIns" not in path.read_text(encoding="utf-8"), path
