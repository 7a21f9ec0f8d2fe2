"""Command-line use of the same services the window uses (no Qt is loaded).

promodesk import FILE... [--workspace PATH] [--loyalty-id ID]
promodesk sandbox serve [--host H] [--port N] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
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
from promodesk.vendors.redaction import install_log_redaction


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
    sandbox = commands.add_parser("sandbox", help="fake Optimove, Altcraft and impact.com servers")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True)
    serve = sandbox_commands.add_parser(
        "serve",
        help="serve the three sandbox vendors on loopback",
        description="Serve fake Optimove, Altcraft and impact.com APIs (with demo data and "
        "demo credentials) until interrupted. Point an account's base URL at them.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument(
        "--json",
        action="store_true",
        help="print the base URLs and credentials as one JSON line, then serve",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_redaction()
    if args.command == "import":
        return run_import(args.files, args.workspace or default_workspace(), args.loyalty_id)
    if args.command == "sandbox":
        return run_sandbox(args.host, args.port, as_json=args.json)
    return 2  # pragma: no cover - argparse rejects unknown commands


def run_sandbox(host: str, port: int, *, as_json: bool) -> int:
    import asyncio

    from promodesk.services.sandbox import bind, build_sandbox, json_line, serve

    try:
        sock = bind(host, port)
    except OSError as error:
        print(f"error: cannot listen on {host}:{port} ({error.strerror})", file=sys.stderr)
        return 1

    def announce(description: dict[str, dict[str, str]]) -> None:
        if as_json:
            print(json_line(description), flush=True)
            return
        for vendor, values in description.items():
            print(f"{vendor:9} {values['base_url']}")
            for key, value in values.items():
                if key != "base_url":
                    print(f"{'':9}   {key}: {value}")
        print("serving; Ctrl+C to stop", file=sys.stderr, flush=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how it stops
        asyncio.run(serve(sock, build_sandbox(), announce=announce))
    return 0


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
