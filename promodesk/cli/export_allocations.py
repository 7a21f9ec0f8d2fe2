"""promodesk export-allocations --promocode ID [--file FILEID] [--workspace PATH | --account NAME]
-o OUT.csv [--no-spreadsheet-safe] [--bom]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from promodesk.cli.common import ProgressLine, printable, workspace_of
from promodesk.domain.jobs import CancelToken, JobCancelled


def register(commands: Any) -> None:
    from promodesk.services.paths import default_workspace

    exporting = commands.add_parser(
        "export-allocations",
        help="export a promocode's allocations as Optimove's nine-column CSV",
        description="Export the allocations of an Optimove promocode (or of one of its code "
        "files) as CSV with exactly the columns customerId, promocodeId, promotionId, fileId, "
        "uniqueCode, timestamp, occurenceId, seriesId, actionId: from a workspace, or live "
        "from an account. Streamed, and written under a temporary name renamed at the end, "
        "so an interrupted export (Ctrl+C) leaves no file. Cells a spreadsheet would run as "
        "formulas (starting with =, +, -, @, tab or CR) get a leading ' unless "
        "--no-spreadsheet-safe. Exit status 0, 1 with the reason, 130 when interrupted.",
    )
    exporting.add_argument("--promocode", required=True, metavar="ID", help="the promocode's id")
    exporting.add_argument(
        "--file", default=None, metavar="FILEID", help="only the allocations of this code file"
    )
    source = exporting.add_mutually_exclusive_group()
    source.add_argument(
        "--workspace",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"export from this workspace (default: {default_workspace()})",
    )
    source.add_argument(
        "--account",
        default=None,
        metavar="NAME",
        help="export live from this Optimove account (its name or id in the Accounts "
        "dialog; sandbox-optimove is the built-in sandbox)",
    )
    exporting.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.csv")
    exporting.add_argument(
        "--no-spreadsheet-safe",
        dest="spreadsheet_safe",
        action="store_false",
        help="write cells exactly as they are, even those a spreadsheet would run as formulas",
    )
    exporting.add_argument(
        "--bom", action="store_true", help="start with a UTF-8 byte order mark (for Excel)"
    )
    exporting.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from promodesk.services.codes import AllocationExportError
    from promodesk.services.workspace_session import EXPECTED_ERRORS
    from promodesk.store.allocation_export import AllocationScope

    scope = AllocationScope(args.promocode, args.file)
    progress = ProgressLine()
    try:
        if args.account is not None:
            rows = _from_account(args, scope, progress)
        else:
            rows = _from_workspace(args, scope, progress)
    except (KeyboardInterrupt, JobCancelled):
        progress.done()
        print("cancelled: no file was written", file=sys.stderr)
        return 130
    except (AllocationExportError, LookupError) as error:
        progress.done()
        print(f"error: {printable(error)}", file=sys.stderr)
        return 1
    except EXPECTED_ERRORS as error:
        progress.done()
        print(f"error: {printable(error)}", file=sys.stderr)
        return 1
    progress.done()
    print(f"wrote {rows:,} allocations to {printable(args.output)}", file=sys.stderr)
    return 0


def _from_workspace(args: argparse.Namespace, scope: Any, progress: ProgressLine) -> int:
    from promodesk.services.codes import export_workspace_allocations

    workspace = workspace_of(args)
    if not workspace.is_file():
        raise FileNotFoundError(f"no workspace at {workspace}")
    return export_workspace_allocations(
        workspace,
        scope,
        args.output,
        spreadsheet_safe=args.spreadsheet_safe,
        bom=args.bom,
        cancel=CancelToken(),
        progress=progress,
    )


def _from_account(args: argparse.Namespace, scope: Any, progress: ProgressLine) -> int:
    import asyncio

    from promodesk.domain.vendors import Vendor
    from promodesk.services.codes import export_account_allocations
    from promodesk.services.live import LiveWork

    async def export() -> int:
        live = LiveWork(workspace_of(args))  # (the workspace is not opened)
        try:
            account = await live.find_account(args.account)
            if account.vendor is not Vendor.OPTIMOVE:
                raise LookupError(
                    f"{account.label} is not an Optimove account (it is "
                    f"{account.vendor.display_name}); allocation exports are Optimove's"
                )
            return await export_account_allocations(
                await live.client(account),
                scope,
                args.output,
                spreadsheet_safe=args.spreadsheet_safe,
                bom=args.bom,
                progress=progress,
            )
        finally:
            await live.aclose()

    return asyncio.run(export())
