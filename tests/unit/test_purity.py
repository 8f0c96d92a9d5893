"""The domain (`portal/plans`) imports nothing from Flask, SQLAlchemy, Stripe or WTForms."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLANS = ROOT / "portal" / "plans"
FORBIDDEN = ("flask", "sqlalchemy", "stripe", "wtforms")


def is_forbidden(module_name):
    top = module_name.split(".")[0]
    return top in FORBIDDEN or top.startswith("flask_")


@pytest.mark.parametrize(
    ("name", "forbidden"),
    [
        pytest.param("flask", True, id="flask is forbidden"),
        pytest.param("flask_login", True, id="flask_login is forbidden"),
        pytest.param("sqlalchemy.orm", True, id="sqlalchemy.orm is forbidden"),
        pytest.param("stripe", True, id="stripe is forbidden"),
        pytest.param("wtforms.validators", True, id="wtforms.validators is forbidden"),
        pytest.param("holidays", False, id="holidays is allowed"),
        pytest.param("flasky", False, id="flasky is not flask"),
    ],
)
def test_what_counts_as_a_forbidden_module(name, forbidden):
    assert is_forbidden(name) is forbidden


def test_importing_the_domain_in_a_fresh_interpreter_loads_no_web_or_database_module():
    program = "import json, sys, portal.plans; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = json.loads(run.stdout)

    assert "portal.plans" in loaded
    assert [name for name in loaded if is_forbidden(name)] == []


def imported_modules(path):
    """Every module an ``import`` statement of ``path`` names, wherever it sits in the file."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


SOURCES = sorted(PLANS.rglob("*.py"))


def test_the_domain_has_sources_to_scan():
    assert {path.name for path in SOURCES} >= {
        "__init__.py",
        "terms.py",
        "money.py",
        "catalog.py",
        "loading.py",
        "requests.py",
        "pricing.py",
        "sla.py",
    }


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(path, id=f"{path.relative_to(ROOT)} imports nothing forbidden")
        for path in SOURCES
    ],
)
def test_no_domain_file_imports_a_web_or_database_module(path):
    assert [name for name in imported_modules(path) if is_forbidden(name)] == []


def test_the_domain_reads_neither_the_clock_nor_the_environment():
    # Prices and deadlines come from values passed in (Cosmic Python): no date.today(), no
    # datetime.now(), no os.environ inside portal/plans.
    clock_or_environment = {("date", "today"), ("datetime", "now"), ("datetime", "utcnow")}
    clock_or_environment.add(("os", "environ"))
    found = [
        f"{path.name}:{node.lineno} {node.value.id}.{node.attr}"
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and (node.value.id, node.attr) in clock_or_environment
    ]
    assert found == []
