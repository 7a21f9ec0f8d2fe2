"""promodesk import FILE... [--workspace PATH] [--loyalty-id ID] [--account NAME]"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from promodesk.cli.common import ProgressLine, add_workspace_argument, say, workspace_of
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
        type=_loyalty_id,
        help="the Altcraft loyalty program the files belong to (Altcraft exports do not say)",
    )
    importing.add_argument(
        "--account",
        default=None,
        metavar="NAME",
        help="the account the exports were saved from: their rows are then the same rows a "
        "sync of that account writes (default: the workspace's 'Imported files' source)",
    )
    importing.set_defaults(run=_run)


def _loyalty_id(text: str) -> str:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"a loyalty program id is a number, not {text[:40]!r}")
    return text


def _run(args: argparse.Namespace) -> int:
    source = None
    if args.account:
        source = _source_of(args.account)
        if source is None:
            return 2
    return run_import(args.files, workspace_of(args), args.loyalty_id, source=source)


def _source_of(name: str) -> Any:
    """The account named `name`, as the source an import's rows belong to (None: unknown)."""
    import asyncio
    import os

    from promodesk.services.live import LiveWork, UnknownAccount
    from promodesk.store.importers.base import SourceRef

    async def find() -> Any:
        live = LiveWork(Path(os.devnull))
        try:
            return await live.find_account(name)
        finally:
            await live.aclose()

    try:
        account = asyncio.run(find())
    except UnknownAccount as problem:
        say("error", problem)
        return None
    return SourceRef(
        account.vendor,
        key=account.id,
        name="Sandbox" if account.sandbox else account.name,
        kind="sandbox" if account.sandbox else "live",
    )


def run_import(
    files: list[Path], workspace: Path, loyalty_id: str | None, *, source: Any = None
) -> int:
    from promodesk.domain.text import storable
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
            create_workspace(workspace, label=storable(workspace.stem))
            say("created workspace", workspace)
        outcome = import_into(
            workspace,
            files,
            cancel=token,
            progress=progress,
            hints=ImportHints(loyalty_id=loyalty_id, source=source),
        )
        if outcome.imported_any:
            build_workspace_indexes(workspace, cancel=token, progress=progress)
    except (KeyboardInterrupt, JobCancelled):
        progress.done()
        say("cancelled", "nothing from this run was kept")
        return 130
    except EXPECTED_ERRORS as error:
        progress.done()
        say("error", error)
        return 1
    progress.done()
    for line in outcome.summaries:
        say("", f"imported {line}")
    for line in outcome.warnings:
        say("warning", line)
    for line in outcome.errors:
        say("error", line)
    say("workspace", workspace)
    return 1 if outcome.errors else 0
