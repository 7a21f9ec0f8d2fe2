"""What changed between two snapshots: codes and promotions added, removed and changed state.

Every import, sync, operation and merge is a run, and the workspace keeps, per row, the run
that added it (`added_run`) and each change of its state (`state_events`, old -> new, per
run). The state of anything at any run follows from those, so a snapshot is just a run id and
"what changed between run A and run B" is, all in SQL:

- added: rows whose `added_run` is in (A, B] (with their state as of B: the old state of
  their first change after B, or the state they have now);
- changed / removed / back again: rows that had state events in (A, B] whose first old
  state and last new state differ ('gone' is removed; coming back from 'gone' is back);
- removed, for tables that keep a gone mark but no state (code files): `gone_run` in (A, B].

The answer goes into a TEMP table of the connection (`temp.what_changed`, spec
`WHAT_CHANGED`) that a table model pages like any other, with its counts summarised here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.values import CANONICAL_FORMAT, parse_instant
from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.store.tables import Column, TableSpec

GONE = CodeStatus.GONE.value
RESULT = "temp.what_changed"


@dataclass(frozen=True)
class Tracked:
    """A table whose rows "what changed" lists: what a row is, in words, and how it is named
    (SQL over the alias t). `state`: the column whose changes are state events; `gone`: the
    table keeps a gone mark."""

    table: str
    vendor: Vendor
    what: str
    name: str
    detail: str
    state: str | None = None
    gone: bool = False


_TRACKED: tuple[Tracked, ...] = (
    Tracked(
        "optimove_promotions",
        Vendor.OPTIMOVE,
        "promotion",
        "t.promotion_id",
        "t.name",
        "state",
        gone=True,
    ),
    Tracked(
        "optimove_promocodes",
        Vendor.OPTIMOVE,
        "promocode",
        "t.promocode_id",
        "t.promotion_id",
        "state",
        gone=True,
    ),
    Tracked(
        "optimove_code_files",
        Vendor.OPTIMOVE,
        "code file",
        "coalesce(nullif(t.file_name, ''), t.file_id)",
        "t.promocode_id",
        gone=True,
    ),
    Tracked(
        "optimove_legacy_promotions",
        Vendor.OPTIMOVE,
        "promotion",
        "t.promo_code",
        "t.promotion_name",
        "state",
        gone=True,
    ),
    Tracked(
        "optimove_allocations",
        Vendor.OPTIMOVE,
        "allocation",
        "t.unique_code",
        "t.promocode_id || ' · ' || t.customer_id",
    ),
    Tracked("optimove_pool_codes", Vendor.OPTIMOVE, "code", "t.code", "t.file_id"),
    Tracked("altcraft_programs", Vendor.ALTCRAFT, "program", "t.loyalty_id", "t.name"),
    Tracked(
        "altcraft_codes", Vendor.ALTCRAFT, "code", "t.code", "t.loyalty_id", "status", gone=True
    ),
    Tracked("impact_programs", Vendor.IMPACT, "program", "t.campaign_id", "t.name"),
    Tracked(
        "impact_codes",
        Vendor.IMPACT,
        "code",
        "t.code",
        "coalesce(nullif(t.campaign_name, ''), t.campaign_id)",
        "status",
        gone=True,
    ),
)
CODE_KINDS = frozenset({"code", "allocation"})

WHAT_CHANGED = TableSpec(
    name=RESULT,
    columns=(
        Column("id", "#", "int", visible=False),
        Column("account_id", "Source", "int", sortable=False),
        Column("vendor", "Vendor", sortable=False),
        Column("what", "What", sortable=False),
        Column("name", "Code / name"),
        Column("detail", "In", sortable=False),
        Column("change", "Change"),
        Column("old_state", "Was", sortable=False),
        Column("new_state", "Now", sortable=False),
        Column("table_name", "Table", sortable=False, visible=False),
        Column("row_id", "Row", "int", sortable=False, visible=False),
    ),
    search_columns=("name", "detail"),
    filter_columns=("account_id", "vendor", "what", "change"),
    default_sort="name",
    key_columns=("name",),
)
_RESULT_COLUMNS = tuple(column.name for column in WHAT_CHANGED.columns if column.name != "id")


@dataclass(frozen=True)
class Snapshot:
    """A run that saw a source's data: an import of its export or a sync."""

    run_id: int
    account_id: int
    kind: str
    title: str
    started_at: str
    as_of: str


@dataclass(frozen=True)
class RunRange:
    """Changes after run `after` up to run `upto` (0 < after < upto), of one account or of
    every account (None)."""

    after: int
    upto: int
    account_id: int | None = None


@dataclass(frozen=True)
class ChangeCount:
    account_id: int
    vendor: Vendor
    what: str
    change: str
    old_state: str
    new_state: str
    count: int

    @property
    def is_code(self) -> bool:
        return self.what in CODE_KINDS


@dataclass
class ChangeSummary:
    ranges: list[RunRange]
    counts: list[ChangeCount] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(entry.count for entry in self.counts)

    def tally(self, *, codes: bool) -> dict[str, int]:
        """Added / removed / changed / back, for codes or for promotions (everything else)."""
        totals: dict[str, int] = {}
        for entry in self.counts:
            if entry.is_code == codes:
                totals[entry.change] = totals.get(entry.change, 0) + entry.count
        return totals


def snapshots(conn: sqlite3.Connection, account_id: int | None = None) -> list[Snapshot]:
    """Finished imports and syncs, oldest first (of one account, or of all)."""
    sql = (
        "SELECT id, account_id, kind, title, started_at, as_of FROM runs WHERE kind IN "
        "('import', 'sync') AND status = 'done' AND account_id IS NOT NULL"
    )
    params: list[Any] = []
    if account_id is not None:
        sql += " AND account_id = ?"
        params.append(account_id)
    return [Snapshot(*row) for row in conn.execute(sql + " ORDER BY id", params)]


def latest_ranges(conn: sqlite3.Connection) -> list[RunRange]:
    """Each source's latest snapshot against the one before it (the first one: against an
    empty workspace)."""
    by_account: dict[int, list[int]] = {}
    for snapshot in snapshots(conn):
        by_account.setdefault(snapshot.account_id, []).append(snapshot.run_id)
    return [
        RunRange(runs[-2] if len(runs) > 1 else 0, runs[-1], account_id)
        for account_id, runs in sorted(by_account.items())
    ]


def run_at(conn: sqlite3.Connection, moment: str) -> int:
    """The last run started at or before `moment` (canonical UTC text); 0 before any."""
    row = conn.execute(
        "SELECT coalesce(max(id), 0) FROM runs WHERE started_at <= ?", (moment,)
    ).fetchone()
    return int(row[0])


def last_run(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0])


def since_ranges(conn: sqlite3.Connection, since: str) -> list[RunRange]:
    """Everything that changed from `since` (an ISO date or time; one without an offset is
    UTC: callers convert the user's local time first) to now, every source."""
    moment = parse_instant(since).strftime(CANONICAL_FORMAT)
    return [RunRange(run_at(conn, moment), last_run(conn))]


def compute_changes(
    conn: sqlite3.Connection,
    ranges: Sequence[RunRange],
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> ChangeSummary:
    """Fill `temp.what_changed` (in `conn`, which may be read-only) with what changed in each
    range, and count it. Nothing is read into Python but the counts."""
    token = cancel or CancelToken()
    _create_result(conn)
    steps = len(ranges) * len(_TRACKED)
    step = 0
    unregister = token.on_cancel(conn.interrupt)
    try:
        for run_range in ranges:
            if run_range.upto <= run_range.after:
                continue
            _events_in(conn, run_range)
            for tracked in _TRACKED:
                token.raise_if_cancelled()
                progress(Progress(step, steps, "Comparing snapshots"))
                _changes_of(conn, run_range, tracked)
                step += 1
        progress(Progress(steps, steps, "Counting changes"))
        for column in ("name", "change"):
            conn.execute(f"CREATE INDEX temp.ix_what_changed__{column} ON what_changed({column})")
        summary = ChangeSummary(list(ranges), _counts(conn))
    except sqlite3.OperationalError:
        token.raise_if_cancelled()
        raise
    finally:
        unregister()
    return summary


def _create_result(conn: sqlite3.Connection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {RESULT}")
    conn.execute(
        f"CREATE TABLE {RESULT} (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, "
        "vendor TEXT NOT NULL, what TEXT NOT NULL, name TEXT NOT NULL, detail TEXT NOT NULL, "
        "change TEXT NOT NULL, old_state TEXT NOT NULL, new_state TEXT NOT NULL, "
        "table_name TEXT NOT NULL, row_id INTEGER NOT NULL)"
    )


def _events_in(conn: sqlite3.Connection, run_range: RunRange) -> None:
    """Each row's first and last state event in the range."""
    conn.execute("DROP TABLE IF EXISTS temp.range_events")
    conn.execute(
        "CREATE TABLE temp.range_events AS SELECT table_name, row_id, min(id) AS first_id, "
        "max(id) AS last_id FROM main.state_events WHERE run_id > ? AND run_id <= ? "
        "GROUP BY table_name, row_id",
        (run_range.after, run_range.upto),
    )
    conn.execute("CREATE INDEX temp.ix_range_events ON range_events(table_name, row_id)")


def _changes_of(conn: sqlite3.Connection, run_range: RunRange, tracked: Tracked) -> None:
    table, name, detail, state = tracked.table, tracked.name, tracked.detail, tracked.state
    insert = f"INSERT INTO {RESULT}({', '.join(_RESULT_COLUMNS)}) "
    account = "" if run_range.account_id is None else " AND t.account_id = :account"
    params = {
        "after": run_range.after,
        "upto": run_range.upto,
        "account": run_range.account_id,
        "vendor": tracked.vendor.value,
        "what": tracked.what,
        "table": table,
        "gone": GONE,
    }
    fixed = ":vendor, :what"
    added_in_range = "t.added_run > :after AND t.added_run <= :upto"
    if state is not None:
        # The state as of `upto`: before the first change after it, or as it is now.
        at_upto = (
            "coalesce((SELECT e.old_state FROM main.state_events e WHERE e.table_name = :table "
            "AND e.row_id = t.id AND e.run_id > :upto ORDER BY e.run_id, e.id LIMIT 1), "
            f"t.{state})"
        )
        conn.execute(
            f"{insert} SELECT * FROM (SELECT t.account_id, {fixed}, {name}, {detail}, 'added', "
            f"'', {at_upto} AS now_state, :table, t.id FROM main.{table} t "
            f"WHERE {added_in_range}{account}) WHERE now_state <> :gone",
            params,
        )
        conn.execute(
            f"{insert} SELECT t.account_id, {fixed}, {name}, {detail}, CASE WHEN l.new_state = "
            ":gone THEN 'removed' WHEN f.old_state = :gone THEN 'back' ELSE 'changed' END, "
            f"f.old_state, l.new_state, :table, t.id FROM temp.range_events c "
            "JOIN main.state_events f ON f.id = c.first_id "
            "JOIN main.state_events l ON l.id = c.last_id "
            f"JOIN main.{table} t ON t.id = c.row_id WHERE c.table_name = :table "
            f"AND f.old_state <> l.new_state AND NOT ({added_in_range}){account}",
            params,
        )
        return
    gone_now = "t.gone_run > :upto OR t.gone_run = 0" if tracked.gone else "1"
    conn.execute(
        f"{insert} SELECT t.account_id, {fixed}, {name}, {detail}, 'added', '', '', :table, t.id "
        f"FROM main.{table} t WHERE {added_in_range} AND ({gone_now}){account}",
        params,
    )
    if tracked.gone:
        conn.execute(
            f"{insert} SELECT t.account_id, {fixed}, {name}, {detail}, 'removed', '', :gone, "
            f":table, t.id FROM main.{table} t WHERE t.gone_run > :after AND t.gone_run <= :upto "
            f"AND t.added_run <= :after{account}",
            params,
        )


def _counts(conn: sqlite3.Connection) -> list[ChangeCount]:
    return [
        ChangeCount(account_id, Vendor(vendor), what, change, old, new, count)
        for account_id, vendor, what, change, old, new, count in conn.execute(
            f"SELECT account_id, vendor, what, change, old_state, new_state, count(*) "
            f"FROM {RESULT} GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6"
        )
    ]


_EXPORT_COLUMNS = (
    "account_id",
    "vendor",
    "what",
    "name",
    "detail",
    "change",
    "old_state",
    "new_state",
)
EXPORT_HEADER = (
    "source",
    "vendor",
    "what",
    "code or name",
    "in",
    "change",
    "was",
    "now",
)


def changed_rows(
    conn: sqlite3.Connection, cell_sql: Any = None, *, batch: int = 5_000
) -> Iterator[tuple[Any, ...]]:
    """Every listed change (after `compute_changes`), sorted, as export rows; the source is
    the account's name. `cell_sql(expression)` wraps each text cell (spreadsheet safety)."""
    wrap = cell_sql or (lambda expression: expression)
    values = ", ".join(
        wrap("a.name") if column == "account_id" else wrap(f"w.{column}")
        for column in _EXPORT_COLUMNS
    )
    cursor = conn.execute(
        f"SELECT {values} FROM {RESULT} w LEFT JOIN main.accounts a ON a.id = w.account_id "
        "ORDER BY w.account_id, w.what, w.change, w.name, w.id"
    )
    while rows := cursor.fetchmany(batch):
        yield from rows
