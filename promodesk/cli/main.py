"""The `promodesk COMMAND ...` parser: one sub-parser per module named in COMMANDS."""

from __future__ import annotations

import argparse
import importlib
import logging

from promodesk import APP_NAME
from promodesk.cli import COMMANDS
from promodesk.vendors.redaction import install_log_redaction

# Exit statuses every command shares: 0 done, 1 the work failed (the reason is printed),
# 2 the arguments were wrong (argparse's own), 130 cancelled with Ctrl+C.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="promodesk from the command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in dict.fromkeys(COMMANDS.values()):
        module = importlib.import_module(f"promodesk.cli.{module_name}")
        module.register(commands)
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    result: int = args.run(args)
    return result
