"""Allocations against redemptions: who got a code, who used it, and what does not add up.

Each redemption (store/redemptions.py) is matched with one allocation of its code (Optimove's
`optimove_allocations`), codes compared by their match key (case, whitespace and invisible
characters do not count), customers likewise. A code can be allocated more than once (the
same code reused across promotions, a fallback code): the redemption takes the allocation of
the same customer first, then one made before the redemption, then the latest one. One pass
over the allocations, each looking its code up in the redemptions' index, finds every
candidate; a window function keeps the best per redemption.

What comes out:
- counts: redemptions matched, redeemed by a different customer than the code was allocated
  to, redeemed but never allocated; allocations redeemed, and never redeemed N days after
  they were allocated;
- the redemption rate per promotion and, per day (of one time zone), allocations, how many of
  them were redeemed, and redemptions;
- the lists behind the counts, in `temp.reconciliation` (spec `RECONCILIATION`, one `finding`
  per list) for a table model to page and for CSV export.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from promodesk.domain.dates import DEFAULT_ZONE, zone_named
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.values import CANONICAL_FORMAT, now_utc_text, parse_instant
from promodesk.store.code_keys import collision_key_sql, match_key_sql, register_key_functions
from promodesk.store.tables import Column, TableSpec
from promodesk.store.timeline import bucket_sql, per_day

RESULT = "temp.reconciliation"
DEFAULT_DAYS = 30

OTHER_CUSTOMER = "other customer"
NEVER_ALLOCATED = "never allocated"
NOT_REDEEMED = "not redeemed"
FINDINGS = (OTHER_CUSTOMER, NEVER_ALLOCATED, NOT_REDEEMED)

RECONCILIATION = TableSpec(
    name=RESULT,
    columns=(
        Column("id", "#", "int", visible=False),
        Column("finding", "Finding", sortable=False),
        Column("code", "Code"),
        Column("redeemed_by", "Redeemed by"),
        Column("redeemed_at", "Redeemed", "datetime"),
        Column("allocated_to", "Allocated to"),
        Column("allocated_at", "Allocated", "datetime"),
        Column("promotion_id", "Promotion"),
        Column("promocode_id", "Promocode", sortable=False),
        Column("account_id", "Source", "int", sortable=False),
        Column("note", "Note", sortable=False),
    ),
    search_columns=("code", "redeemed_by", "allocated_to"),
    filter_columns=("finding", "account_id", "promotion_id"),
    default_sort="code",
    key_columns=("code",),
)


@dataclass(frozen=True)
class ReconcileOptions:
    unredeemed_after_days: int = DEFAULT_DAYS
    source_id: int | None = None  # one redemption source (None: all)
    # "Now" for the N-days rule (canonical UTC); default: the latest redemption, else now.
    as_of: str | None = None
    zone: str = DEFAULT_ZONE  # whose days the per-day series counts
    # The longest list and the per-day series (a pass over every allocation each): a view
    # may ask for them later (`list_unredeemed`, `rates_per_day`).
    list_unredeemed: bool = True
    per_day: bool = True


@dataclass(frozen=True)
class PromotionRate:
    account_id: int
    promotion_id: str
    allocations: int
    redeemed: int

    @property
    def rate(self) -> float:
        return self.redeemed / self.allocations if self.allocations else 0.0


@dataclass(frozen=True)
class DayRate:
    day: str  # YYYY-MM-DD in the chosen zone
    allocations: int
    redeemed: int  # of that day's allocations, how many were redeemed (so far)
    redemptions: int  # redemptions made that day

    @property
    def rate(self) -> float:
        return self.redeemed / self.allocations if self.allocations else 0.0


@dataclass
class ReconcileSummary:
    options: ReconcileOptions
    as_of: str
    cutoff: str  # allocations before this and never redeemed are listed
    redemptions: int = 0
    matched: int = 0  # by the customer the code was allocated to (or no customer known)
    other_customer: int = 0
    never_allocated: int = 0
    allocations: int = 0
    redeemed_allocations: int = 0
    not_redeemed: int = 0  # allocated before the cutoff, never redeemed
    per_promotion: list[PromotionRate] = field(default_factory=list)
    per_day: list[DayRate] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.redeemed_allocations / self.allocations if self.allocations else 0.0


def reconcile(
    conn: sqlite3.Connection,
    options: ReconcileOptions | None = None,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> ReconcileSummary:
    """Match, count and list (in `conn`'s TEMP database; a read-only connection will do)."""
    options = options or ReconcileOptions()
    token = cancel or CancelToken()
    register_key_functions(conn)
    unregister = token.on_cancel(conn.interrupt)
    steps = 5
    try:
        progress(Progress(0, steps, "Matching redemptions with allocations"))
        _match(conn, options)
        token.raise_if_cancelled()
        as_of = options.as_of or _latest_redemption(conn, options) or now_utc_text()
        cutoff = (parse_instant(as_of) - timedelta(days=options.unredeemed_after_days)).strftime(
            CANONICAL_FORMAT
        )
        summary = ReconcileSummary(options, as_of, cutoff)
        progress(Progress(1, steps, "Counting"))
        _count(conn, summary)
        token.raise_if_cancelled()
        if options.per_day:
            progress(Progress(2, steps, "Redemption rates per day"))
            summary.per_day = rates_per_day(conn, options)
        token.raise_if_cancelled()
        progress(Progress(3, steps, "Listing what does not add up"))
        _list(conn, options, cutoff)
        token.raise_if_cancelled()
        if options.list_unredeemed:
            progress(Progress(4, steps, "Listing codes never redeemed"))
            list_unredeemed(conn, cutoff)
        else:
            _index_result(conn)
        progress(Progress(steps, steps, "Reconciled"))
    except sqlite3.OperationalError:
        token.raise_if_cancelled()
        raise
    finally:
        unregister()
    return summary


def _source_filter(options: ReconcileOptions, alias: str) -> str:
    if options.source_id is None:
        return ""
    return f" AND {alias}.source_id = {int(options.source_id)}"


# (name, type): typed, or SQLite would not use their indexes against the workspace's columns.
_MATCH_COLUMNS = (
    ("aid", "INTEGER"),
    ("has_customer", "INTEGER"),
    ("same", "INTEGER"),
    ("after_allocation", "INTEGER"),
    ("account_id", "INTEGER"),
    ("promocode_id", "TEXT"),
    ("file_id", "TEXT"),
    ("allocated_at", "TEXT"),
)
_MATCH_NAMES = ", ".join(name for name, _ in _MATCH_COLUMNS)
# Big enough for the TEMP tables of a million allocations to be written without spilling.
_TEMP_CACHE_KIB = 65_536


def _match(conn: sqlite3.Connection, options: ReconcileOptions) -> None:
    conn.execute("DROP TABLE IF EXISTS temp.rec_match")
    conn.execute(
        "CREATE TABLE temp.rec_match (code_key TEXT, rid INTEGER, "
        + ", ".join(f"{name} {kind}" for name, kind in _MATCH_COLUMNS)
        + ", PRIMARY KEY (code_key, rid)) WITHOUT ROWID"
    )
    conn.execute(f"PRAGMA temp.cache_size = -{_TEMP_CACHE_KIB}")
    # The allocations drive: one walk of their dedupe index, which holds every column used
    # here and is in code order, so the look-ups in the redemptions' key index (also in
    # code order) stay near each other, and so do the rows written, keyed by code
    # (CROSS JOIN keeps that order; promotion_id, which is not in the index, comes from the
    # kept counts). A redemption seen again (its code allocated more than once) keeps the
    # better allocation: same customer, then made before the redemption, then the latest.
    candidates = (
        "SELECT r.code_key, r.id, a.id, r.customer_key <> '', "
        f"r.customer_key <> '' AND r.customer_key = {match_key_sql('a.customer_id')}, "
        "r.redeemed_at = '' OR a.allocated_at <= r.redeemed_at, "
        "a.account_id, a.promocode_id, a.file_id, a.allocated_at "
        "FROM main.optimove_allocations a CROSS JOIN main.redemptions r "
        f"ON r.code_key = {match_key_sql('a.unique_code')}{_source_filter(options, 'r')}"
    )
    better = "(excluded.same, excluded.after_allocation, excluded.allocated_at, excluded.aid)"
    kept = "(rec_match.same, rec_match.after_allocation, rec_match.allocated_at, rec_match.aid)"
    conn.execute(
        f"INSERT INTO temp.rec_match(code_key, rid, {_MATCH_NAMES}) {candidates} "
        "WHERE true ON CONFLICT(code_key, rid) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name, _ in _MATCH_COLUMNS)
        + f" WHERE {better} > {kept}"
    )
    # The allocations some redemption took, once each (two redemptions may take one).
    conn.execute("DROP TABLE IF EXISTS temp.rec_redeemed")
    conn.execute(
        "CREATE TABLE temp.rec_redeemed (aid INTEGER PRIMARY KEY, account_id INTEGER, "
        "promocode_id TEXT, file_id TEXT, allocated_at TEXT)"
    )
    conn.execute(
        "INSERT OR IGNORE INTO temp.rec_redeemed SELECT aid, account_id, promocode_id, file_id, "
        "allocated_at FROM temp.rec_match ORDER BY aid"  # (appended in order: no page splits)
    )


def _latest_redemption(conn: sqlite3.Connection, options: ReconcileOptions) -> str:
    row = conn.execute(
        "SELECT max(redeemed_at) FROM main.redemptions r WHERE r.redeemed_at <> ''"
        + _source_filter(options, "r")
    ).fetchone()
    return str(row[0]) if row and row[0] else ""


def _count(conn: sqlite3.Connection, summary: ReconcileSummary) -> None:
    options = summary.options
    summary.redemptions = conn.execute(
        "SELECT count(*) FROM main.redemptions r WHERE 1" + _source_filter(options, "r")
    ).fetchone()[0]
    matched, other = conn.execute(
        "SELECT coalesce(sum(same OR NOT has_customer), 0), "
        "coalesce(sum(has_customer AND NOT same), 0) FROM temp.rec_match"
    ).fetchone()
    summary.matched, summary.other_customer = int(matched), int(other)
    summary.never_allocated = summary.redemptions - summary.matched - summary.other_customer
    allocations: dict[tuple[int, str], int] = {}
    promotion_of: dict[tuple[int, str, str], str] = {}
    for account, promocode, file_id, promotion, count in conn.execute(
        "SELECT account_id, promocode_id, file_id, promotion_id, allocations "
        "FROM main.optimove_allocation_counts"
    ):
        key = (int(account), str(promotion))
        allocations[key] = allocations.get(key, 0) + int(count)
        promotion_of[(int(account), str(promocode), str(file_id))] = str(promotion)
    redeemed: dict[tuple[int, str], int] = {}
    for account, promocode, file_id, count in conn.execute(
        "SELECT account_id, promocode_id, file_id, count(*) FROM temp.rec_redeemed GROUP BY 1, 2, 3"
    ):
        key = (int(account), promotion_of.get((int(account), str(promocode), str(file_id)), ""))
        redeemed[key] = redeemed.get(key, 0) + int(count)
    summary.per_promotion = [
        PromotionRate(account, promotion, count, redeemed.get((account, promotion), 0))
        for (account, promotion), count in sorted(allocations.items())
    ]
    summary.allocations = sum(allocations.values())
    summary.redeemed_allocations = sum(redeemed.values())
    before_cutoff = conn.execute(
        "SELECT count(*) FROM main.optimove_allocations WHERE allocated_at < ?", (summary.cutoff,)
    ).fetchone()[0]
    redeemed_before = conn.execute(
        "SELECT count(*) FROM temp.rec_redeemed WHERE allocated_at < ?", (summary.cutoff,)
    ).fetchone()[0]
    summary.not_redeemed = int(before_cutoff) - int(redeemed_before)


def rates_per_day(conn: sqlite3.Connection, options: ReconcileOptions) -> list[DayRate]:
    """Per day of `options.zone` (after `reconcile`): allocations, how many of them were
    redeemed, redemptions."""
    zone = zone_named(options.zone)

    def buckets(sql: str) -> dict[str, int]:
        return {str(bucket): int(count) for bucket, count in conn.execute(sql)}

    allocated = per_day(
        buckets(
            f"SELECT {bucket_sql('allocated_at', zone)}, count(*) "
            "FROM main.optimove_allocations GROUP BY 1"
        ),
        zone,
    )
    redeemed = per_day(
        buckets(
            f"SELECT {bucket_sql('allocated_at', zone)}, count(*) FROM temp.rec_redeemed GROUP BY 1"
        ),
        zone,
    )
    redemptions = per_day(
        buckets(
            f"SELECT {bucket_sql('redeemed_at', zone)}, count(*) FROM main.redemptions r "
            f"WHERE r.redeemed_at <> ''{_source_filter(options, 'r')} GROUP BY 1"
        ),
        zone,
    )
    days = sorted(set(allocated) | set(redemptions))
    return [
        DayRate(
            day.isoformat(), allocated.get(day, 0), redeemed.get(day, 0), redemptions.get(day, 0)
        )
        for day in days
    ]


_RESULT_COLUMNS = tuple(column.name for column in RECONCILIATION.columns if column.name != "id")


def _create_result(conn: sqlite3.Connection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {RESULT}")
    columns = ", ".join(
        f"{name} INTEGER NOT NULL" if name == "account_id" else f"{name} TEXT NOT NULL"
        for name in _RESULT_COLUMNS
    )
    conn.execute(f"CREATE TABLE {RESULT} (id INTEGER PRIMARY KEY, {columns})")


def _list(conn: sqlite3.Connection, options: ReconcileOptions, cutoff: str) -> None:
    _create_result(conn)
    insert = f"INSERT INTO {RESULT}({', '.join(_RESULT_COLUMNS)}) "
    conn.execute(
        f"{insert} SELECT :finding, r.code, r.customer_id, r.redeemed_at, a.customer_id, "
        "a.allocated_at, a.promotion_id, a.promocode_id, a.account_id, '' "
        "FROM temp.rec_match m CROSS JOIN main.redemptions r ON r.id = m.rid "
        "CROSS JOIN main.optimove_allocations a ON a.id = m.aid "
        "WHERE m.has_customer AND NOT m.same ORDER BY r.code_key",
        {"finding": OTHER_CUSTOMER},
    )
    # Redemptions no allocation took: found walking the redemptions' key index, in the order
    # of the matches' key (each look-up next to the last), then read.
    conn.execute(
        f"{insert} SELECT :finding, r.code, r.customer_id, r.redeemed_at, '', '', '', '', 0, "
        f"{_known_as(conn)} FROM main.redemptions r WHERE r.id IN (SELECT x.id FROM "
        "main.redemptions x INDEXED BY ux_redemptions WHERE x.code_key > '' AND NOT EXISTS "
        "(SELECT 1 FROM temp.rec_match m WHERE m.code_key = x.code_key AND m.rid = x.id)"
        f"{_source_filter(options, 'x')}) ORDER BY r.code_key",
        {"finding": NEVER_ALLOCATED},
    )


def _known_as(conn: sqlite3.Connection) -> str:
    """Where else a never-allocated code is known (a global code is redeemed without being
    allocated, as it should be), through the inventory's key index; '' without that index
    (still being built)."""
    indexed = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE name = 'ix_code_inventory__code_key'"
    ).fetchone()
    if not indexed:
        return "''"
    return (
        "coalesce((SELECT i.vendor || ' ' || i.status || ' code' || CASE WHEN i.pool <> '' "
        "THEN ' (' || i.pool || ')' ELSE '' END FROM main.code_inventory i "
        f"WHERE i.code_key = {collision_key_sql('r.code')} "
        f"AND {match_key_sql('i.code')} = r.code_key LIMIT 1), '')"
    )


def _index_result(conn: sqlite3.Connection) -> None:
    """Each list in code order (the default sort) from an index; other orders sort the
    list's rows (an index per column would cost more than the matching for a big list)."""
    conn.execute(
        "CREATE INDEX IF NOT EXISTS temp.ix_reconciliation__code ON reconciliation(finding, code)"
    )


def list_unredeemed(conn: sqlite3.Connection, cutoff: str) -> int:
    """Add the allocations made before `cutoff` that no redemption matched to the lists
    (after `reconcile`; `ReconcileSummary.cutoff`); returns how many."""
    conn.execute(f"DELETE FROM {RESULT} WHERE finding = ?", (NOT_REDEEMED,))
    added = conn.execute(
        f"INSERT INTO {RESULT}({', '.join(_RESULT_COLUMNS)}) SELECT :finding, a.unique_code, "
        "'', '', a.customer_id, a.allocated_at, a.promotion_id, a.promocode_id, a.account_id, '' "
        "FROM main.optimove_allocations a WHERE +a.allocated_at < :cutoff "
        "AND NOT EXISTS (SELECT 1 FROM temp.rec_redeemed m WHERE m.aid = a.id)",
        {"finding": NOT_REDEEMED, "cutoff": cutoff},
    ).rowcount
    _index_result(conn)
    return int(added)


EXPORT_HEADER = (
    "finding",
    "code",
    "redeemed by",
    "redeemed at (UTC)",
    "allocated to",
    "allocated at (UTC)",
    "promotion",
    "promocode",
    "source",
    "note",
)


def finding_rows(
    conn: sqlite3.Connection,
    finding: str | None = None,
    cell_sql: Any = None,
    *,
    batch: int = 5_000,
) -> Iterator[tuple[Any, ...]]:
    """The listed rows (of one finding, or all), as export rows; `cell_sql(expression)` wraps
    each text cell (spreadsheet safety)."""
    wrap = cell_sql or (lambda expression: expression)
    values = ", ".join(
        wrap("coalesce(a.name, '')") if column == "account_id" else wrap(f"x.{column}")
        for column in _RESULT_COLUMNS
    )
    where = "WHERE x.finding = ?" if finding else ""
    cursor = conn.execute(
        f"SELECT {values} FROM {RESULT} x LEFT JOIN main.accounts a ON a.id = x.account_id "
        f"{where} ORDER BY x.finding, x.code, x.id",
        (finding,) if finding else (),
    )
    while rows := cursor.fetchmany(batch):
        yield from rows
