"""Allocations against redemptions: who got a code, who used it, and what does not add up.

Each redemption (store/redemptions.py) is matched with one allocation of its code (Optimove's
`optimove_allocations`), codes compared by their match key (case, whitespace and invisible
characters do not count), customers likewise. A code can be allocated more than once (the
same code reused across promotions, a fallback code): the redemption takes the allocation of
the same customer first, then one made before the redemption, then the latest one. One walk
of the redemptions' key index, each looking its code up in the allocations' index on their
match keys (schema version 4; store/code_keys.py), finds every candidate, in code order; the
few codes allocated or redeemed more than once are settled afterwards.

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
from promodesk.store.code_keys import (
    allocation_key_sql,
    collision_key_sql,
    match_key_sql,
    needs_python_sql,
    python_match_key_sql,
    register_key_functions,
)
from promodesk.store.tables import (
    OPTIMOVE_ALLOCATIONS,
    Column,
    TableSpec,
    allocation_group_sql,
)
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
        allocations = _allocations_by_key(conn)
        redemptions = _match(conn, options, allocations)
        token.raise_if_cancelled()
        progress(Progress(1, steps, "Listing what does not add up"))
        _list(conn, allocations)
        token.raise_if_cancelled()
        as_of = options.as_of or _latest_redemption(conn, options) or now_utc_text()
        cutoff = (parse_instant(as_of) - timedelta(days=options.unredeemed_after_days)).strftime(
            CANONICAL_FORMAT
        )
        summary = ReconcileSummary(options, as_of, cutoff, redemptions=redemptions)
        progress(Progress(2, steps, "Counting"))
        _count(conn, summary)
        token.raise_if_cancelled()
        if options.per_day:
            progress(Progress(3, steps, "Redemption rates per day"))
            summary.per_day = rates_per_day(conn, options)
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


# What a match row holds, (name, type): typed, so that comparisons with the workspace's
# columns behave as they do there.
_MATCH_COLUMNS = (
    ("rid", "INTEGER"),
    ("aid", "INTEGER"),  # NULL: the code was never allocated
    ("has_customer", "INTEGER"),
    ("same", "INTEGER"),  # redeemed by the customer the code was allocated to
    ("allocated_at", "TEXT"),
    ("allocation_group", "TEXT"),  # tables.allocation_group_sql
)
_MATCH_NAMES = ", ".join(name for name, _ in _MATCH_COLUMNS)
# The allocations' look-up index by match key (schema version 4, built in the background),
# which also holds all that matching and listing read of them.
_KEY_INDEX = "ix_optimove_allocations__match_key"
_KEY_INDEX_COLUMNS = dict(OPTIMOVE_ALLOCATIONS.lookup_indexes)["match_key"]
# Big enough for the TEMP tables of a million allocations to be written without spilling.
_TEMP_CACHE_KIB = 65_536


def _match(conn: sqlite3.Connection, options: ReconcileOptions, allocations: str) -> int:
    """`temp.rec_match`: for each redemption, in code order, the allocation it takes (or none,
    `aid` NULL); returns how many redemptions there are.

    One walk of the redemptions' key index, each looking its code up in the allocations' key
    index: both in code order, so each look-up lands next to the last. Every allocation of
    the code is a candidate, written as it comes (appending is the cheapest write there is);
    most codes have one allocation and one redemption, so their one row is the answer. The
    rows of codes that have more are settled afterwards (`_settle_shared_codes`).
    """
    conn.execute("DROP TABLE IF EXISTS temp.rec_match")
    conn.execute(
        "CREATE TABLE temp.rec_match ("
        + ", ".join(f"{name} {kind}" for name, kind in _MATCH_COLUMNS)
        + ", repeated INTEGER NOT NULL DEFAULT 0)"  # (another redemption took it first)
    )
    # A customer id that is already its own match key (most are) needs no working out.
    same = (
        "CASE WHEN a.id IS NULL OR r.customer_key = '' THEN 0 "
        "WHEN r.customer_key = a.customer_id THEN 1 "
        f"ELSE r.customer_key = {match_key_sql('a.customer_id')} END"
    )
    # (ORDER BY the index's own order, which is unique: no sorting, and each redemption's
    # candidates next to each other. The + keeps SQLite 3.40 from taking the key term for one
    # on the redemption's column, and so from overlooking the allocations' index on it.)
    rows = conn.execute(
        f"INSERT INTO temp.rec_match({_MATCH_NAMES}) SELECT r.id, a.id, r.customer_key <> '', "
        f"{same}, a.allocated_at, {allocation_group_sql('a')} "
        f"FROM main.redemptions r INDEXED BY ux_redemptions LEFT JOIN {allocations} "
        f"ON {allocation_key_sql('a')} = +r.code_key WHERE 1{_source_filter(options, 'r')} "
        "ORDER BY r.code_key, r.customer_key, r.redeemed_at, r.source_id"
    ).rowcount
    return int(rows) - _settle_shared_codes(conn)


def _allocations_by_key(conn: sqlite3.Connection) -> str:
    """The allocations (as `a`), looked up by match key: through the workspace's index; until
    the background builder has made it (or in a workspace of format 3 opened read-only, which
    stores no keys), through a TEMP copy keyed and indexed the same way."""
    conn.execute(f"PRAGMA temp.cache_size = -{_TEMP_CACHE_KIB}")
    indexed = conn.execute(
        "SELECT 1 FROM main.sqlite_master WHERE type = 'index' AND name = ?", (_KEY_INDEX,)
    ).fetchone()
    if indexed:
        return f"main.optimove_allocations a INDEXED BY {_KEY_INDEX}"
    stored = any(
        row[1] == "code_key" for row in conn.execute("PRAGMA main.table_info(optimove_allocations)")
    )
    python_key = (
        f"CASE WHEN {needs_python_sql('unique_code')} "
        f"THEN {python_match_key_sql('unique_code')} END"
    )
    columns = (
        "unique_code, customer_id, allocated_at, account_id, promocode_id, file_id, promotion_id"
    )
    conn.execute("DROP TABLE IF EXISTS temp.rec_allocations")
    conn.execute(
        "CREATE TABLE temp.rec_allocations (id INTEGER PRIMARY KEY, code_key TEXT, "
        "unique_code TEXT, customer_id TEXT, allocated_at TEXT, account_id INTEGER, "
        "promocode_id TEXT, file_id TEXT, promotion_id TEXT)"
    )
    conn.execute(
        f"INSERT INTO temp.rec_allocations SELECT id, {'code_key' if stored else python_key}, "
        f"{columns} FROM main.optimove_allocations"
    )
    conn.execute(f"CREATE INDEX temp.ix_rec_allocations ON rec_allocations({_KEY_INDEX_COLUMNS})")
    return "temp.rec_allocations a INDEXED BY ix_rec_allocations"


def _settle_shared_codes(conn: sqlite3.Connection) -> int:
    """The rows of a code with more than one: a redemption keeps its best candidate (same
    customer, then made before the redemption, then the latest; then the greater id), and an
    allocation taken by two redemptions counts once (`repeated` marks the second). Returns
    how many candidates lost.

    Those rows are found next to another row of their redemption (a code allocated more
    than once) or of their allocation (a code redeemed more than once).
    """
    conn.execute("DROP TABLE IF EXISTS temp.rec_shared")
    conn.execute(
        "CREATE TABLE temp.rec_shared (row INTEGER PRIMARY KEY, rid INTEGER, aid INTEGER, "
        "same INTEGER, after_allocation INTEGER, allocated_at TEXT)"
    )
    # Each row whose next row shares its redemption or allocation, then those next rows.
    shared = conn.execute(
        "INSERT INTO temp.rec_shared(row) SELECT m.rowid FROM temp.rec_match m "
        "CROSS JOIN temp.rec_match n ON n.rowid = m.rowid + 1 "
        "WHERE n.rid = m.rid OR n.aid = m.aid"
    ).rowcount
    if not shared:
        return 0
    conn.execute("INSERT OR IGNORE INTO temp.rec_shared(row) SELECT row + 1 FROM temp.rec_shared")
    conn.execute(
        "UPDATE temp.rec_shared SET (rid, aid, same, after_allocation, allocated_at) = "
        "(SELECT m.rid, m.aid, m.same, r.redeemed_at = '' OR m.allocated_at <= r.redeemed_at, "
        "m.allocated_at FROM temp.rec_match m CROSS JOIN main.redemptions r ON r.id = m.rid "
        "WHERE m.rowid = rec_shared.row)"
    )
    conn.execute("CREATE INDEX temp.ix_rec_shared__rid ON rec_shared(rid)")
    lost = conn.execute(
        "DELETE FROM temp.rec_match WHERE rowid IN (SELECT s.row FROM temp.rec_shared s "
        "WHERE EXISTS (SELECT 1 FROM temp.rec_shared b WHERE b.rid = s.rid "
        f"AND {_rank('b')} > {_rank('s')}))"
    ).rowcount
    conn.execute("DELETE FROM temp.rec_shared WHERE row NOT IN (SELECT rowid FROM temp.rec_match)")
    conn.execute("CREATE INDEX temp.ix_rec_shared__aid ON rec_shared(aid)")
    conn.execute(
        "UPDATE temp.rec_match SET repeated = 1 WHERE rowid IN (SELECT s.row "
        "FROM temp.rec_shared s WHERE s.aid IS NOT NULL AND EXISTS (SELECT 1 "
        "FROM temp.rec_shared t WHERE t.aid = s.aid AND t.row < s.row))"
    )
    return int(lost)


def _rank(alias: str) -> str:
    """What a redemption ranks the allocations of its code by: the best is the greatest."""
    return f"({alias}.same, {alias}.after_allocation, {alias}.allocated_at, {alias}.aid)"


def _latest_redemption(conn: sqlite3.Connection, options: ReconcileOptions) -> str:
    row = conn.execute(
        "SELECT max(redeemed_at) FROM main.redemptions r WHERE r.redeemed_at <> ''"
        + _source_filter(options, "r")
    ).fetchone()
    return str(row[0]) if row and row[0] else ""


# The allocations redemptions took, once each.
_TAKEN = "temp.rec_match WHERE aid IS NOT NULL AND NOT repeated"


def _count(conn: sqlite3.Connection, summary: ReconcileSummary) -> None:
    """(After `_list`: the redemptions it listed are the ones that do not add up.)"""
    never, other = conn.execute(
        f"SELECT coalesce(sum(finding = ?), 0), coalesce(sum(finding = ?), 0) FROM {RESULT}",
        (NEVER_ALLOCATED, OTHER_CUSTOMER),
    ).fetchone()
    summary.never_allocated, summary.other_customer = int(never), int(other)
    summary.matched = summary.redemptions - summary.never_allocated - summary.other_customer
    allocations: dict[tuple[int, str], int] = {}
    promotion_of: dict[str, tuple[int, str]] = {}
    for group, account, promotion, count in conn.execute(
        f"SELECT {allocation_group_sql()}, account_id, promotion_id, allocations "
        "FROM main.optimove_allocation_counts"
    ):
        key = (int(account), str(promotion))
        allocations[key] = allocations.get(key, 0) + int(count)
        promotion_of[str(group)] = key
    # Per account, promocode and file (a few groups), counted into a table keyed by the group
    # as the taken allocations go by: cheaper than sorting them to group them.
    conn.execute("DROP TABLE IF EXISTS temp.rec_redeemed_counts")
    conn.execute(
        "CREATE TABLE temp.rec_redeemed_counts (allocation_group TEXT PRIMARY KEY, "
        "redeemed INTEGER, before_cutoff INTEGER) WITHOUT ROWID"
    )
    conn.execute(
        "INSERT INTO temp.rec_redeemed_counts SELECT allocation_group, 1, allocated_at < ? "
        f"FROM {_TAKEN} ON CONFLICT DO UPDATE SET "
        "redeemed = redeemed + 1, before_cutoff = before_cutoff + excluded.before_cutoff",
        (summary.cutoff,),
    )
    redeemed: dict[tuple[int, str], int] = {}
    redeemed_before = 0
    for group, count, before in conn.execute("SELECT * FROM temp.rec_redeemed_counts"):
        # (a group without kept counts: counted, under no promotion of its account)
        key = promotion_of.get(str(group)) or (int(str(group).split("\x1f", 1)[0]), "")
        redeemed[key] = redeemed.get(key, 0) + int(count)
        redeemed_before += int(before)
    summary.per_promotion = [
        PromotionRate(account, promotion, count, redeemed.get((account, promotion), 0))
        for (account, promotion), count in sorted(allocations.items())
    ]
    summary.allocations = sum(allocations.values())
    summary.redeemed_allocations = sum(redeemed.values())
    before_cutoff = conn.execute(
        "SELECT count(*) FROM main.optimove_allocations WHERE allocated_at < ?", (summary.cutoff,)
    ).fetchone()[0]
    summary.not_redeemed = int(before_cutoff) - redeemed_before


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
        buckets(f"SELECT {bucket_sql('allocated_at', zone)}, count(*) FROM {_TAKEN} GROUP BY 1"),
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


def _list(conn: sqlite3.Connection, allocations: str) -> None:
    """Redemptions of codes never allocated, and those by another customer: one walk of the
    matches (in code order), reading the few listed redemptions, and their allocations from
    the key index (next to each other there too)."""
    _create_result(conn)
    conn.execute(
        f"INSERT INTO {RESULT}({', '.join(_RESULT_COLUMNS)}) SELECT CASE WHEN m.aid IS NULL "
        "THEN :never ELSE :other END, r.code, r.customer_id, r.redeemed_at, "
        "coalesce(a.customer_id, ''), coalesce(a.allocated_at, ''), "
        "coalesce(a.promotion_id, ''), coalesce(a.promocode_id, ''), coalesce(a.account_id, 0), "
        f"CASE WHEN m.aid IS NULL THEN {_known_as(conn)} ELSE '' END "
        "FROM temp.rec_match m CROSS JOIN main.redemptions r ON r.id = m.rid "
        f"LEFT JOIN {allocations} ON {allocation_key_sql('a')} = +r.code_key AND a.id = m.aid "
        "WHERE m.aid IS NULL OR (m.has_customer AND NOT m.same) ORDER BY m.rowid",
        {"never": NEVER_ALLOCATED, "other": OTHER_CUSTOMER},
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
    # The allocations in their own order (a walk of the table), each looked up in the matches
    # by its id: each look-up next to the last.
    conn.execute("CREATE INDEX IF NOT EXISTS temp.ix_rec_match__aid ON rec_match(aid)")
    added = conn.execute(
        f"INSERT INTO {RESULT}({', '.join(_RESULT_COLUMNS)}) SELECT :finding, a.unique_code, "
        "'', '', a.customer_id, a.allocated_at, a.promotion_id, a.promocode_id, a.account_id, '' "
        "FROM main.optimove_allocations a NOT INDEXED WHERE a.allocated_at < :cutoff "
        "AND NOT EXISTS (SELECT 1 FROM temp.rec_match m WHERE m.aid = a.id)",
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
