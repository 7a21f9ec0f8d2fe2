"""promodesk report {inventory,changes,runway,reconcile,collisions} [--workspace PATH]
[--since WHEN] [--json | --csv -o OUT] (and each report's own options)

Summaries go to stdout as text (or one JSON document with --json); --csv writes the report's
list to OUT (spreadsheet-safe, atomically). Progress and notes go to stderr. Dates in JSON and
CSV are UTC (canonical ISO text). Before reporting, the workspace's derived data (the
inventory of all codes and its indexes) is brought up to date, as the window does after every
import and sync.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
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

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
REPORTS = ("inventory", "changes", "runway", "reconcile", "collisions")


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="reports across vendors: all codes, what changed, runway, reconciliation, collisions",
        description="Reports across every vendor and account in a workspace. A summary goes to "
        "stdout (text, or one JSON document with --json); --csv -o OUT writes the report's "
        "list as CSV. Dates in JSON and CSV are UTC. Exit status 0, 1 with the reason, 130 "
        "when interrupted.",
    )
    report.add_argument("report", choices=REPORTS, metavar="REPORT", help=", ".join(REPORTS))
    add_workspace_argument(report, what="to report on")
    report.add_argument(
        "--since",
        metavar="WHEN",
        help="changes: since this date or time (ISO, e.g. 2026-11-16 or 2026-11-16T09:00; "
        "local time unless it has an offset), or 7d / 24h ago; without it each source's "
        "latest snapshot is compared with the one before it",
    )
    output = report.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON document on stdout")
    output.add_argument("--csv", action="store_true", help="write the report's list to -o OUT")
    report.add_argument("-o", "--output", type=Path, metavar="OUT", help="the CSV file")
    report.add_argument(
        "--threshold",
        type=int,
        default=14,
        metavar="DAYS",
        help="runway: warn about pools that run dry within DAYS (default 14)",
    )
    report.add_argument(
        "--days",
        type=int,
        default=30,
        metavar="N",
        help="reconcile: list allocations not redeemed N days after (default 30)",
    )
    report.add_argument(
        "--source", metavar="NAME", help="reconcile: only the redemptions of this source"
    )
    report.add_argument(
        "--zone",
        default="UTC",
        metavar="ZONE",
        help="reconcile: the time zone whose days the per-day rates count (default UTC)",
    )
    report.add_argument(
        "--list",
        dest="finding",
        choices=("other-customer", "never-allocated", "not-redeemed"),
        help="reconcile --csv: only this list (default: all three, with a finding column)",
    )
    report.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from promodesk.domain.dates import zone_problem
    from promodesk.services.reports import UnknownSource
    from promodesk.services.workspace_session import EXPECTED_ERRORS

    if args.csv and args.output is None:
        error("--csv needs -o OUT, the file to write")
        return EXIT_USAGE
    if args.output is not None and not args.csv:
        error("-o OUT is for --csv")
        return EXIT_USAGE
    problem = zone_problem(args.zone)
    if problem:
        error(f"--zone: {problem}")
        return EXIT_USAGE
    since = None
    if args.since:
        try:
            since = since_moment(args.since)
        except ValueError as reason:
            error(f"--since: {reason}")
            return EXIT_USAGE
    workspace = workspace_of(args)
    if not workspace.is_file():
        error(f"no workspace at {workspace}")
        return EXIT_FAILED
    progress = ProgressLine()
    token = CancelToken()
    try:
        from promodesk.services.reports import prepare

        pending = prepare(workspace, cancel=token, progress=progress)
        document = _REPORTS[args.report](args, workspace, since, token, progress)
    except (KeyboardInterrupt, JobCancelled):
        progress.done()
        print("cancelled: no file was written", file=sys.stderr)
        return EXIT_CANCELLED
    except (UnknownSource, *EXPECTED_ERRORS) as failure:  # type: ignore[misc]
        progress.done()
        error(str(failure))
        return EXIT_FAILED
    progress.done()
    if pending:
        print(
            f"note: {pending:,} rows are not in the inventory yet (the workspace could not be "
            "updated); the report leaves them out",
            file=sys.stderr,
        )
    if args.csv:
        print(f"wrote {printable(args.output)}", file=sys.stderr)
    if args.json:
        json.dump(document.data, sys.stdout, indent=1, ensure_ascii=False, default=str)
        sys.stdout.write("\n")
    elif not args.csv:
        for line in document.lines:
            print(printable(line))
    return EXIT_OK


def since_moment(text: str) -> str:
    """--since as canonical UTC: '7d' / '24h' ago, or a date/time typed in local time (or
    with its own offset), through the one date parser."""
    from promodesk.domain.values import CANONICAL_FORMAT, parse_instant

    value = text.strip().lower()
    if value[:-1].isdigit() and value[-1:] in ("d", "h"):
        amount = int(value[:-1])
        delta = timedelta(days=amount) if value.endswith("d") else timedelta(hours=amount)
        return (datetime.now(UTC) - delta).strftime(CANONICAL_FORMAT)
    return parse_instant(text, assume=None).strftime(CANONICAL_FORMAT)


class Document:
    """What a report prints: text lines, or the JSON data."""

    def __init__(self, lines: list[str], data: dict[str, Any]) -> None:
        self.lines = lines
        self.data = data


def _table(rows: list[tuple[Any, ...]]) -> list[str]:
    if not rows:
        return []
    widths = [max(len(str(row[n])) for row in rows) for n in range(len(rows[0]))]
    return [
        "  ".join(
            str(cell).rjust(width) if isinstance(cell, int | float) else str(cell).ljust(width)
            for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    ]


def _inventory(
    args: argparse.Namespace, workspace: Path, _since: str | None, token: CancelToken, progress: Any
) -> Document:
    from promodesk.domain.status import LIFECYCLE
    from promodesk.services.reports import inventory_report

    report = inventory_report(
        workspace, csv_target=args.output if args.csv else None, cancel=token, progress=progress
    )
    by_status = report.by(lambda entry: entry.status)
    by_vendor = report.by(lambda entry: entry.vendor.value)
    lines = [f"{report.total:,} codes"]
    lines += _table([(status.label, f"{by_status.get(status.value, 0):,}") for status in LIFECYCLE])
    lines.append("")
    lines += _table(
        [
            (entry.vendor.display_name, entry.account, entry.status, f"{entry.codes:,}")
            for entry in report.counts
        ]
    )
    data = {
        "total": report.total,
        "pending": report.pending,
        "by_status": {status.value: by_status.get(status.value, 0) for status in LIFECYCLE},
        "by_vendor": by_vendor,
        "sources": [
            {
                "source": entry.account,
                "vendor": entry.vendor.value,
                "status": entry.status,
                "codes": entry.codes,
            }
            for entry in report.counts
        ],
    }
    return Document(lines, data)


def _changes(
    args: argparse.Namespace, workspace: Path, since: str | None, token: CancelToken, progress: Any
) -> Document:
    from promodesk.services.reports import changes_report
    from promodesk.store.changes import EXPORT_HEADER

    report = changes_report(
        workspace,
        since=since,
        csv_target=args.output if args.csv else None,
        with_rows=args.json,
        cancel=token,
        progress=progress,
    )
    summary = report.summary

    def source(account_id: int | None) -> str:
        return "every source" if account_id is None else report.names.get(account_id, "?")

    ranges = [
        {
            "source": source(entry.account_id),
            "after_run": entry.after,
            "upto_run": entry.upto,
        }
        for entry in summary.ranges
    ]
    compared = ", ".join(f"{r['source']} (runs {r['after_run']}..{r['upto_run']}]" for r in ranges)
    if not ranges:
        lines = ["no snapshots to compare"]
    elif since:
        lines = [f"since {since}: {compared}"]
    else:
        lines = [f"each source's latest snapshot against the one before it: {compared}"]
    for label, codes in (("codes", True), ("promotions", False)):
        tally = summary.tally(codes=codes)
        shown = ", ".join(f"{count:,} {change}" for change, count in sorted(tally.items()))
        lines.append(f"{label}: {shown or 'no change'}")
    lines += _table(
        [
            (
                source(entry.account_id),
                entry.vendor.display_name,
                entry.what,
                entry.change,
                f"{entry.old_state or '-'} -> {entry.new_state or '-'}",
                f"{entry.count:,}",
            )
            for entry in summary.counts
        ]
    )
    data = {
        "ranges": ranges,
        "codes": summary.tally(codes=True),
        "promotions": summary.tally(codes=False),
        "counts": [
            {
                "source": source(entry.account_id),
                "vendor": entry.vendor.value,
                "what": entry.what,
                "change": entry.change,
                "was": entry.old_state,
                "now": entry.new_state,
                "count": entry.count,
            }
            for entry in summary.counts
        ],
        "changes": [dict(zip(EXPORT_HEADER, row, strict=True)) for row in report.rows],
    }
    return Document(lines, data)


def _runway(
    args: argparse.Namespace, workspace: Path, _since: str | None, token: CancelToken, progress: Any
) -> Document:
    from promodesk.services.reports import (
        RUNWAY_HEADER,
        account_names,
        runway_report,
        runway_rows,
        runway_warnings,
    )

    runways = runway_report(
        workspace, threshold_days=args.threshold, cancel=token, progress=progress
    )
    names = account_names(workspace)
    rows = runway_rows(runways, names)
    if args.csv:
        from promodesk.codefiles.spreadsheet import write_csv

        write_csv(args.output, RUNWAY_HEADER, rows)
    lines = [runway.message for runway in runways] or ["no unique-code pools"]
    warnings = runway_warnings(runways)
    if warnings:
        lines += ["", f"under {args.threshold} days:", *warnings]
    data = {
        "threshold_days": args.threshold,
        "pools": [
            {
                **dict(zip(RUNWAY_HEADER, row, strict=True)),
                "per_day": list(runway.per_day),
                "projection": list(runway.projection),
            }
            for row, runway in zip(rows, runways, strict=True)
        ],
        "warnings": warnings,
    }
    return Document(lines, data)


_FINDINGS = {
    "other-customer": "other customer",
    "never-allocated": "never allocated",
    "not-redeemed": "not redeemed",
}


def _reconcile(
    args: argparse.Namespace, workspace: Path, _since: str | None, token: CancelToken, progress: Any
) -> Document:
    from promodesk.services.reports import reconcile_report
    from promodesk.store.reconcile import EXPORT_HEADER, ReconcileOptions

    report = reconcile_report(
        workspace,
        ReconcileOptions(unredeemed_after_days=args.days, zone=args.zone),
        source_name=args.source,
        csv_target=args.output if args.csv else None,
        finding=_FINDINGS.get(args.finding or ""),
        with_lists=args.json,
        cancel=token,
        progress=progress,
    )
    s = report.summary
    lines = [
        f"{s.redemptions:,} redemptions: {s.matched:,} matched, {s.other_customer:,} redeemed "
        f"by a different customer than allocated, {s.never_allocated:,} never allocated",
        f"{s.allocations:,} allocations: {s.redeemed_allocations:,} redeemed ({s.rate:.1%}), "
        f"{s.not_redeemed:,} not redeemed {args.days} days after (before {s.cutoff})",
        "",
        "redemption rate per promotion:",
    ]
    lines += _table(
        [
            (
                report.names.get(rate.account_id, ""),
                rate.promotion_id,
                f"{rate.redeemed:,} of {rate.allocations:,}",
                f"{rate.rate:.1%}",
            )
            for rate in s.per_promotion
        ]
    )
    data = {
        "as_of": s.as_of,
        "cutoff": s.cutoff,
        "days": args.days,
        "redemptions": s.redemptions,
        "matched": s.matched,
        "other_customer": s.other_customer,
        "never_allocated": s.never_allocated,
        "allocations": s.allocations,
        "redeemed_allocations": s.redeemed_allocations,
        "not_redeemed": s.not_redeemed,
        "rate": round(s.rate, 4),
        "per_promotion": [
            {
                "source": report.names.get(rate.account_id, ""),
                "promotion": rate.promotion_id,
                "allocations": rate.allocations,
                "redeemed": rate.redeemed,
                "rate": round(rate.rate, 4),
            }
            for rate in s.per_promotion
        ],
        "per_day": [
            {
                "day": day.day,
                "allocations": day.allocations,
                "redeemed": day.redeemed,
                "redemptions": day.redemptions,
            }
            for day in s.per_day
        ],
        "lists": {
            finding: [dict(zip(EXPORT_HEADER, row, strict=True)) for row in rows]
            for finding, rows in report.lists.items()
        },
    }
    return Document(lines, data)


def _collisions(
    args: argparse.Namespace, workspace: Path, _since: str | None, token: CancelToken, progress: Any
) -> Document:
    from promodesk.services.reports import collisions_report
    from promodesk.store.collisions import EXPORT_HEADER

    report = collisions_report(
        workspace,
        csv_target=args.output if args.csv else None,
        with_rows=args.json or not args.csv,
        cancel=token,
        progress=progress,
    )
    total = sum(count.codes for count in report.counts)
    lines = [f"{total:,} codes live in two places or more"]
    lines += [f"  {count.codes:,} at {count.collision}" for count in report.counts]
    if report.rows:
        lines.append("")
        lines += _table([(row[1], row[2], row[4], row[5], row[7], row[3]) for row in report.rows])
    data = {
        "counts": {count.collision: count.codes for count in report.counts},
        "collisions": [dict(zip(EXPORT_HEADER, row, strict=True)) for row in report.rows],
    }
    return Document(lines, data)


_REPORTS = {
    "inventory": _inventory,
    "changes": _changes,
    "runway": _runway,
    "reconcile": _reconcile,
    "collisions": _collisions,
}
