"""The `promodesk COMMAND ...` parser: one sub-parser per module named in COMMANDS."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import traceback
from pathlib import Path
from typing import NoReturn

from promodesk import APP_NAME
from promodesk.cli import COMMANDS
from promodesk.cli.common import say
from promodesk.domain.text import printable
from promodesk.vendors.redaction import install_log_redaction, redact

# Exit statuses every command shares: 0 done, 1 the work failed (the reason is printed),
# 2 the arguments were wrong (argparse's own), 130 cancelled with Ctrl+C.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        super().error(printable(message))  # it quotes the arguments, which may hold ESC


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=APP_NAME, description="promodesk from the command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in dict.fromkeys(COMMANDS.values()):
        module = importlib.import_module(f"promodesk.cli.{module_name}")
        module.register(commands)
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    try:
        result: int = args.run(args)
    except Exception as error:  # a bug: one line a user can report, not a traceback
        if os.environ.get("PROMODESK_DEBUG"):
            raise
        where = traceback.extract_tb(error.__traceback__)[-1]
        say(
            "error",
            f"promodesk hit an unexpected problem ({type(error).__name__}: {redact(str(error))} "
            f"at {Path(where.filename).name}:{where.lineno}). Please report it; set "
            "PROMODESK_DEBUG=1 to see the details.",
        )
        return EXIT_FAILED
    return result
