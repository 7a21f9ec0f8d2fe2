"""Command-line use of the same services the window uses (no Qt is loaded).

promodesk import FILE... [--workspace PATH] [--loyalty-id ID]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from promodesk import APP_NAME
from promodesk.domain.jobs import CancelToken, JobCancelled, Progress
from promodesk.services.paths import default_workspace
from promodesk.services.workspace_session import (
    EXPECTED_ERRORS,
    build_workspace_indexes,
    import_into,
)
from promodesk.store.importers.base import ImportHints
from promodesk.store.workspace import create_workspace


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=APP_NAME, description="promodesk from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser(
        "import",
        help="import saved exports into a workspace",
        description="Import saved exports (Optimove allocation exports and unique-code files, "
        "Altcraft and impact.com JSON/XML responses, other workspaces) into a workspace. "
        "Progress goes to stderr. Exit status 0 when every file was imported, 1 otherwise.",
    )
    importing.add_argument("files", nargs="+", type=Path, metavar="FILE")
    importing.add_argument(
        "--workspace",
        type=Path,
        default=None,
        help=f"workspace file to import into (created if missing; default: {default_workspace()})",
    )
    importing.add_argument(
        "--loyalty-id",
        default=None,
        help="the Altcraft loyalty program the files belong to (Altcraft exports do not say)",
    )
    args = parser.parse_args(argv)
    if args.command == "import":
        return run_import(args.files, args.workspace or default_workspace(), args.loyalty_id)
    return 2  # pragma: no cover - argparse rejects unknown commands


class ProgressLine:
    """Progress on stderr: one updating line on a terminal, a line per 10% otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_step = -1
        self._last_draw = 0.0

    def __call__(self, update: Progress) -> None:
        fraction = update.fraction
        percent = f"{fraction:4.0%}" if fraction is not None else "  …"
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw > 0.1 or fraction == 1.0:
                self._last_draw = now
                self.stream.write(f"\r{percent} {update.message[:70]:<70}")
                self.stream.flush()
            return
        step = int((fraction or 0) * 10)
        if step != self._last_step:
            self._last_step = step
            print(f"{percent} {update.message}", file=self.stream, flush=True)

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 76 + "\r")
            self.stream.flush()


def run_import(files: list[Path], workspace: Path, loyalty_id: str | None) -> int:
    progress = ProgressLine()
    token = CancelToken()
    try:
        if not workspace.exists():
            create_workspace(workspace, label=workspace.stem)
            print(f"created workspace {workspace}", file=sys.stderr)
        outcome = import_into(
            workspace,
            files,
            cancel=token,
            progress=progress,
            hints=ImportHints(loyalty_id=loyalty_id),
        )
        if outcome.imported_any:
            build_workspace_indexes(workspace, cancel=token, progress=progress)
    except KeyboardInterrupt:
        progress.done()
        print("cancelled: nothing from this run was kept", file=sys.stderr)
        return 130
    except JobCancelled:
        progress.done()
        print("cancelled: nothing from this run was kept", file=sys.stderr)
        return 130
    except EXPECTED_ERRORS as error:
        progress.done()
        print(f"error: {error}", file=sys.stderr)
        return 1
    progress.done()
    for line in outcome.summaries:
        print(f"imported {line}", file=sys.stderr)
    for line in outcome.warnings:
        print(f"warning: {line}", file=sys.stderr)
    for line in outcome.errors:
        print(f"error: {line}", file=sys.stderr)
    print(f"workspace: {workspace}", file=sys.stderr)
    return 1 if outcome.errors else 0
