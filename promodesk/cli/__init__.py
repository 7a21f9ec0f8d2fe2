"""Command-line use of the same services the window uses (no Qt is loaded).

Each command lives in its own module here, which declares its arguments in `register()` and
does its work in the function it sets as the parser's `run` default. `COMMANDS` names them so
that `promodesk.app` can tell a command from a window option without importing any of them.
"""

from __future__ import annotations

# Command name -> module under promodesk.cli.
COMMANDS: dict[str, str] = {
    "import": "imports",
    "sandbox": "sandbox",
    "accounts": "accounts",
    "sync": "live",
    "do": "live",
    "history": "live",
    "bulk": "bulk",
    "check-codes": "check_codes",
    "generate-codes": "generate_codes",
    "export-allocations": "export_allocations",
    "report": "report",
    "import-redemptions": "redemptions",
}


def main(argv: list[str]) -> int:
    from promodesk.cli.main import run

    return run(argv)
