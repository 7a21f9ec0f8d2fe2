"""promodesk import-redemptions FILE [--workspace PATH] [--source NAME] [--code-column C]
[--customer-column C] [--time-column C] [--time-zone ZONE]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from promodesk.cli.common import (
    ProgressLine,
    add_workspace_argument,
    error,
    printable,
    workspace_of,
)
from promodesk.domain.jobs import CancelToken, JobCancelled

EXIT_OK, EXIT_FAILED, EXIT_CANCELLED = 0, 1, 130


def register(commands: Any) -> None:
    importing = commands.add_parser(
        "import-redemptions",
        help="import a redemption export from your shop or CRM (for report reconcile)",
        description="Import a CSV of redemptions exported from your shop or CRM: which code "
        "was used, by which customer, when. The first file of a source needs a mapping "
        "(--code-column, and --customer-column and --time-column when it has them); it is "
        "saved with the source's name and the file's columns, so the next export needs no "
        "mapping. Times without an offset are taken in --time-zone (default UTC). A bad row "
        "stops the import, naming the file and line; nothing is kept. Exit status 0, 1 with "
        "the reason, 130 when interrupted.",
    )
    importing.add_argument("file", type=Path, metavar="FILE")
    add_workspace_argument(importing, what="to import into")
    importing.add_argument("--source", metavar="NAME", help="the shop or CRM, e.g. 'Shopify EU'")
    importing.add_argument("--code-column", metavar="COLUMN", help="the column with the code")
    importing.add_argument(
        "--customer-column", default="", metavar="COLUMN", help="the column with the customer"
    )
    importing.add_argument(
        "--time-column", default="", metavar="COLUMN", help="the column with the time"
    )
    importing.add_argument(
        "--time-zone",
        default="UTC",
        metavar="ZONE",
        help="the zone of times written without an offset (IANA name, e.g. Europe/Berlin)",
    )
    importing.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from promodesk.services.reports import import_redemption_file
    from promodesk.services.workspace_session import EXPECTED_ERRORS
    from promodesk.store.redemptions import RedemptionMapping

    workspace = workspace_of(args)
    if not workspace.is_file():
        error(f"no workspace at {workspace}")
        return EXIT_FAILED
    mapping = None
    if args.code_column:
        mapping = RedemptionMapping(
            args.code_column, args.customer_column, args.time_column, args.time_zone
        )
    elif args.customer_column or args.time_column:
        error("--code-column is needed with --customer-column and --time-column")
        return EXIT_FAILED
    progress = ProgressLine()
    try:
        imported = import_redemption_file(
            workspace,
            args.file,
            source_name=args.source,
            mapping=mapping,
            cancel=CancelToken(),
            progress=progress,
        )
    except (KeyboardInterrupt, JobCancelled):
        progress.done()
        print("cancelled: nothing from this file was kept", file=sys.stderr)
        return EXIT_CANCELLED
    except EXPECTED_ERRORS as failure:
        progress.done()
        error(str(failure))
        return EXIT_FAILED
    progress.done()
    source = imported.source
    print(f"imported {printable(imported.result.summary())}", file=sys.stderr)
    print(
        printable(
            f"source {source.name}: code in {source.mapping.code_column!r}"
            + (
                f", customer in {source.mapping.customer_column!r}"
                if source.mapping.customer_column
                else ""
            )
            + (
                f", time in {source.mapping.time_column!r} ({source.mapping.time_zone})"
                if source.mapping.time_column
                else ""
            )
        ),
        file=sys.stderr,
    )
    for line in imported.warnings:
        print(f"warning: {printable(line)}", file=sys.stderr)
    return EXIT_OK
