"""The README starts with exactly two set-up commands, and CI runs the second one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```(?:sh|bash)\n(.+?)\n```", text)


def test_the_readme_opens_with_a_serve_command_and_a_test_command():
    commands = readme_commands()[:2]
    assert "flask --app app run" in commands[0]
    assert commands[1] == "./scripts/test"
    assert "pytest" in (ROOT / "scripts" / "test").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command_verbatim():
    assert readme_commands()[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
