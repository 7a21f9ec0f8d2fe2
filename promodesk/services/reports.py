"""Across vendors, as use cases: all codes, what changed, pool runway, reconciliation,
collisions, and importing a shop's redemptions. `promodesk report` runs these; the window's
views call the same store functions on the session's reader (see each function).

Each use case is a blocking function (for the CLI and worker threads) with an async twin that
runs it through `jobs.run_blocking` (progress, Cancel). Reports read through their own
read-only connection; the lists they make live in that connection's TEMP database and are
exported as CSV (spreadsheet-safe, atomic) or returned as plain data. `prepare` first brings
the derived data (the inventory, its indexes) up to date, as the window's background builder
does after every import and sync.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from promodesk.codefiles.spreadsheet import safe_cell_sql, write_csv
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.vendors import Vendor
from promodesk.services.jobs import run_blocking
from promodesk.services.reading import reading
from promodesk.store import changes as changes_store
from promodesk.store import collisions as collisions_store
from promodesk.store import inventory as inventory_store
from promodesk.store import reconcile as reconcile_store
from promodesk.store.db import connect
from promodesk.store.indexer import build_indexes
from promodesk.store.redemptions import (
    RedemptionImport,
    RedemptionMapping,
    find_source,
    import_redemptions,
)
from promodesk.store.runway import DEFAULT_THRESHOLD_DAYS, Runway, pool_runways, under_threshold

T = TypeVar("T")


def _names(conn: sqlite3.Connection) -> dict[int, str]:
    """Each source's name, with its vendor when another vendor's source has the same name
    ("Imported files (Altcraft)")."""
    rows = [
        (int(i), str(name), Vendor(vendor))
        for i, name, vendor in conn.execute("SELECT id, name, vendor FROM accounts")
    ]
    vendors_of: dict[str, set[Vendor]] = {}
    for _, name, vendor in rows:
        vendors_of.setdefault(name, set()).add(vendor)
    return {
        source_id: name if len(vendors_of[name]) == 1 else f"{name} ({vendor.display_name})"
        for source_id, name, vendor in rows
    }


def prepare(
    workspace: Path, *, cancel: CancelToken | None = None, progress: ProgressFn = ignore_progress
) -> int:
    """Feed the inventory and build pending indexes (what the window's background builder
    does). Returns the vendor rows still not in the inventory: 0, unless the file cannot be
    written (then reports say how much they do not see yet)."""
    try:
        conn = connect(workspace)
    except sqlite3.OperationalError:  # a read-only file: report on what is there
        with reading(workspace, cancel or CancelToken()) as conn:
            return inventory_store.pending_rows(conn)
    try:
        build_indexes(conn, cancel=cancel, progress=progress)
        return inventory_store.pending_rows(conn)
    finally:
        conn.close()


# -- all codes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceCount:
    account_id: int
    account: str
    vendor: Vendor
    status: str
    codes: int


@dataclass
class InventoryReport:
    counts: list[SourceCount]
    pending: int  # vendor rows not in the inventory yet

    @property
    def total(self) -> int:
        return sum(entry.codes for entry in self.counts)

    def by(self, what: Callable[[SourceCount], Any]) -> dict[Any, int]:
        totals: dict[Any, int] = {}
        for entry in self.counts:
            totals[what(entry)] = totals.get(what(entry), 0) + entry.codes
        return totals


def inventory_counts(conn: sqlite3.Connection) -> InventoryReport:
    """Codes per source, vendor and status (kept counts: a look-up). For the counts at the
    top of All codes: `session.reader.submit(inventory_counts)`."""
    names = _names(conn)
    counts = [
        SourceCount(
            entry.account_id,
            names.get(entry.account_id, ""),
            entry.vendor,
            entry.status.value,
            entry.codes,
        )
        for entry in inventory_store.status_counts(conn)
    ]
    return InventoryReport(counts, inventory_store.pending_rows(conn))


INVENTORY_HEADER = (
    "code",
    "status",
    "vendor",
    "source",
    "vendor's state",
    "promotion or program",
    "pool",
    "customer or partner",
    "given (UTC)",
    "used (UTC)",
    "expires (UTC)",
)


def inventory_report(
    workspace: Path,
    *,
    csv_target: Path | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> InventoryReport:
    """The counts, and with `csv_target` every code (sorted by code) written there."""
    token = cancel or CancelToken()
    with reading(workspace, token) as conn:
        report = inventory_counts(conn)
        if csv_target is not None:
            columns = ", ".join(
                safe_cell_sql(column)
                for column in (
                    "i.code",
                    "i.status",
                    "i.vendor",
                    "coalesce(a.name, '')",
                    "i.vendor_state",
                    "i.program",
                    "i.pool",
                    "i.holder",
                    "i.given_at",
                    "i.used_at",
                    "i.expires_at",
                )
            )
            cursor = conn.execute(
                f"SELECT {columns} FROM code_inventory i LEFT JOIN accounts a "
                "ON a.id = i.account_id ORDER BY i.code, i.id"
            )
            export_rows(
                csv_target, INVENTORY_HEADER, _stream(cursor), token, progress, report.total
            )
    return report


def _stream(cursor: sqlite3.Cursor, batch: int = 5_000) -> Iterator[tuple[Any, ...]]:
    while rows := cursor.fetchmany(batch):
        yield from rows


def export_rows(
    target: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    token: CancelToken,
    progress: ProgressFn,
    total: int,
    *,
    rows_are_safe: bool = True,
    bom: bool = False,
    every: int = 10_000,
) -> int:
    """Write a report's list as CSV, atomically: a cancel leaves `target` as it was. `bom`
    for Excel (the window's exports); `every`: rows between progress reports."""

    def on_rows(count: int) -> None:
        token.raise_if_cancelled()
        progress(Progress(count, total, f"Writing {target.name}"))

    return write_csv(
        target, header, rows, rows_are_safe=rows_are_safe, bom=bom, on_rows=on_rows, every=every
    )


# -- what changed ------------------------------------------------------------------------------


@dataclass
class ChangesReport:
    summary: changes_store.ChangeSummary
    names: dict[int, str]
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # when asked for


def changes_report(
    workspace: Path,
    *,
    since: str | None = None,
    csv_target: Path | None = None,
    with_rows: bool = False,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> ChangesReport:
    """What changed since `since` (canonical UTC, or any ISO text with an offset) until now;
    without it, each source's latest snapshot against the one before it. The view computes
    the same on its reader (`changes.compute_changes`) and pages `changes.WHAT_CHANGED`."""
    token = cancel or CancelToken()
    with reading(workspace, token) as conn:
        ranges = (
            changes_store.since_ranges(conn, since) if since else changes_store.latest_ranges(conn)
        )
        summary = changes_store.compute_changes(conn, ranges, cancel=token, progress=progress)
        report = ChangesReport(summary, _names(conn))
        if csv_target is not None:
            rows = changes_store.changed_rows(conn, safe_cell_sql)
            export_rows(
                csv_target, changes_store.EXPORT_HEADER, rows, token, progress, summary.total
            )
        if with_rows:
            report.rows = list(changes_store.changed_rows(conn))
    return report


# -- runway ------------------------------------------------------------------------------------


def runway_report(
    workspace: Path,
    *,
    threshold_days: int = DEFAULT_THRESHOLD_DAYS,
    zones: dict[int, str] | None = None,
    today: date | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> list[Runway]:
    """Every unique-code pool's runway (the view and the warning on start call this through
    `runway_report_async`; `store.runway.under_threshold` picks the ones to warn about)."""
    if zones is None:
        from promodesk.services.dates import workspace_zones

        zones = workspace_zones(workspace)
    token = cancel or CancelToken()
    with reading(workspace, token) as conn:
        return pool_runways(
            conn,
            zones=zones,
            today=today,
            threshold_days=threshold_days,
            cancel=token,
            progress=progress,
        )


RUNWAY_HEADER = (
    "vendor",
    "source",
    "pool",
    "kind",
    "promotion or program",
    "codes left",
    "pool size",
    "a day (recent average)",
    "trend (last week vs the one before)",
    "runs dry on",
    "days of runway",
    "under threshold",
    "fallback code",
    "codes left according to",
    "as of (UTC)",
    "time zone",
)


def runway_rows(runways: Sequence[Runway], names: dict[int, str]) -> list[tuple[Any, ...]]:
    return [
        (
            runway.vendor.value,
            names.get(runway.account_id, ""),
            runway.pool,
            runway.kind,
            runway.program,
            runway.left,
            runway.size,
            runway.average,
            runway.trend,
            runway.dry_on or "",
            runway.runway_days,
            runway.under_threshold,
            runway.fallback,
            runway.left_from,
            runway.as_of,
            runway.zone,
        )
        for runway in runways
    ]


def account_names(workspace: Path) -> dict[int, str]:
    with reading(workspace, CancelToken()) as conn:
        return _names(conn)


def runway_warnings(runways: Sequence[Runway]) -> list[str]:
    """The warning on start, one line per pool under its threshold."""
    return [runway.message for runway in under_threshold(runways)]


# -- reconciliation ----------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    summary: reconcile_store.ReconcileSummary
    names: dict[int, str]
    lists: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)  # when asked for


class UnknownSource(LookupError):
    """A redemption source that was never imported."""


def reconcile_report(
    workspace: Path,
    options: reconcile_store.ReconcileOptions | None = None,
    *,
    source_name: str | None = None,
    csv_target: Path | None = None,
    finding: str | None = None,
    with_lists: bool = False,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> ReconcileReport:
    """Allocations against redemptions (of one source when named). With `csv_target`, the
    lists (one `finding`, or all) are written there. The view runs `reconcile.reconcile`
    on its reader and pages `reconcile.RECONCILIATION` filtered by finding."""
    token = cancel or CancelToken()
    options = options or reconcile_store.ReconcileOptions()
    with reading(workspace, token, cache_kib=65_536) as conn:
        if source_name:
            source = find_source(conn, name=source_name)
            if source is None:
                raise UnknownSource(
                    f"no redemptions from {source_name!r} in this workspace; import them "
                    "first (promodesk import-redemptions)"
                )
            options = replace(options, source_id=source.id)
        summary = reconcile_store.reconcile(conn, options, cancel=token, progress=progress)
        report = ReconcileReport(summary, _names(conn))
        if csv_target is not None:
            rows = reconcile_store.finding_rows(conn, finding, safe_cell_sql)
            total = summary.other_customer + summary.never_allocated + summary.not_redeemed
            export_rows(csv_target, reconcile_store.EXPORT_HEADER, rows, token, progress, total)
        if with_lists:
            for name in reconcile_store.FINDINGS:
                report.lists[name] = list(reconcile_store.finding_rows(conn, name))
    return report


def import_redemption_file(
    workspace: Path,
    path: Path,
    *,
    source_name: str | None = None,
    mapping: RedemptionMapping | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> RedemptionImport:
    """Import a shop's redemption export (see store.redemptions), all or nothing."""
    conn = connect(workspace)
    try:
        return import_redemptions(
            conn, path, source_name=source_name, mapping=mapping, cancel=cancel, progress=progress
        )
    finally:
        conn.close()


# -- collisions --------------------------------------------------------------------------------


@dataclass
class CollisionsReport:
    counts: list[collisions_store.CollisionCount]
    pending: int
    rows: list[tuple[Any, ...]] = field(default_factory=list)  # when asked for


def collisions_report(
    workspace: Path,
    *,
    account_id: int | None = None,
    csv_target: Path | None = None,
    with_rows: bool = False,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> CollisionsReport:
    """Live codes in two places (of one account when given: after its sync). The view runs
    `collisions.find_collisions` on its reader and pages `collisions.COLLISIONS`; the code
    file wizard calls `collisions.places_of` with its codes."""
    token = cancel or CancelToken()
    with reading(workspace, token) as conn:
        counts = collisions_store.find_collisions(
            conn, account_id=account_id, cancel=token, progress=progress
        )
        report = CollisionsReport(counts, inventory_store.pending_rows(conn))
        if csv_target is not None:
            rows = collisions_store.collision_rows(conn)
            total = int(conn.execute("SELECT count(*) FROM temp.collisions").fetchone()[0])
            export_rows(
                csv_target,
                collisions_store.EXPORT_HEADER,
                rows,
                token,
                progress,
                total,
                rows_are_safe=False,
            )
        if with_rows:
            report.rows = list(collisions_store.collision_rows(conn))
    return report


# -- async twins (for the window) --------------------------------------------------------------


async def _async(work: Callable[[CancelToken, ProgressFn], T], progress: ProgressFn) -> T:
    return await run_blocking(work, progress=progress)


async def prepare_async(workspace: Path, *, progress: ProgressFn = ignore_progress) -> int:
    return await _async(lambda t, p: prepare(workspace, cancel=t, progress=p), progress)


async def runway_report_async(
    workspace: Path,
    *,
    threshold_days: int = DEFAULT_THRESHOLD_DAYS,
    progress: ProgressFn = ignore_progress,
) -> list[Runway]:
    return await _async(
        lambda t, p: runway_report(workspace, threshold_days=threshold_days, cancel=t, progress=p),
        progress,
    )


async def import_redemption_file_async(
    workspace: Path,
    path: Path,
    *,
    source_name: str | None = None,
    mapping: RedemptionMapping | None = None,
    progress: ProgressFn = ignore_progress,
) -> RedemptionImport:
    return await _async(
        lambda t, p: import_redemption_file(
            workspace, path, source_name=source_name, mapping=mapping, cancel=t, progress=p
        ),
        progress,
    )
