"""promodesk import FILE... [--workspace PATH] [--loyalty-id ID]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from promodesk.cli.common import ProgressLine, add_workspace_argument, workspace_of
from promodesk.domain.jobs import CancelToken, JobCancelled


def register(commands: Any) -> None:
    importing = commands.add_parser(
        "import",
        help="import saved exports into a workspace",
        description="Import saved exports (Optimove allocation exports and unique-code files, "
        "Altcraft and impact.com JSON/XML responses, other workspaces) into a workspace. "
        "Progress goes to stderr. Exit status 0 when every file was imported, 1 otherwise.",
    )
    importing.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add_workspace_argument(importing, what="to import into (created if missing)")
    importing.add_argument(
        "--loyalty-id",
        default=None,
        help="the Altcraft loyalty program the files belong to (Altcraft exports do not say)",
    )
    importing.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return run_import(args.files, workspace_of(args), args.loyalty_id)


def run_import(files: list[Path], workspace: Path, loyalty_id: str | None) -> int:
    from promodesk.services.workspace_session import (
        EXPECTED_ERRORS,
        build_workspace_indexes,
        import_into,
    )
    from promodesk.store.importers.base import ImportHints
    from promodesk.store.workspace import create_workspace

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
    except (KeyboardInterrupt, JobCancelled):
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
