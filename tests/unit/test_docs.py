"""The README's commands work after set-up, and the docs do not send readers outside the repo."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
CODE_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def promodesk_lines() -> list[str]:
    lines = []
    for block in CODE_BLOCK.findall(README):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if re.search(r"(^|/)promodesk\b", command.split(" ")[0] if command else ""):
                lines.append(command)
    return lines


def test_the_readme_calls_the_command_where_set_up_puts_it() -> None:
    lines = promodesk_lines()
    assert len(lines) >= 5
    for line in lines:
        assert line.startswith(".venv/bin/promodesk "), line  # bare `promodesk` is not on PATH


# Commands whose first word is a group of sub-commands (`accounts list`, `sandbox serve`).
GROUPS = ("accounts", "sandbox")


@pytest.mark.parametrize("line", promodesk_lines())
def test_each_readme_command_runs(line: str) -> None:
    words = line.split()[1:]
    if "--selftest" in words:
        pytest.skip("the self-test opens the window: tests/unit/test_cli.py runs it")
    if "--version" not in words:
        # The command itself, asked for its help: the README's placeholders (ACCOUNT, FILE...)
        # are not real values.
        words = [*words[: 2 if words[0] in GROUPS else 1], "--help"]
    installed = Path(sys.executable).parent / "promodesk"  # what `scripts/dev setup` made
    done = subprocess.run([str(installed), *words], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize("name", ["README.md", "DEVELOPERS.md"])
def test_the_docs_stay_inside_the_repository(name: str) -> None:
    assert "../shared" not in (REPO / name).read_text(encoding="utf-8")
