"""Reading workspace tables a page at a time: filters, search and sorting happen in SQL.

A `RowQuery` says what to show; a `Pager` fetches any window of it. Sequential scrolling is
pure keyset pagination (each page starts after the last key seen); a jump (dragging the
scroll bar, End) starts from the nearest known key or from whichever end of the result is
closer, reading backwards when that is shorter. That keeps every page fetch to a bounded
walk of an index, whatever the table size.

A filtered query can be read two ways: walk the sort column's index and skip the rows the
filter refuses, or find the filter's rows by their own index and sort them. Which one is fast
depends on how many rows match, which SQLite's statistics cannot tell for one value; the pager
knows (it counts first) and picks: walk when the matching rows are many (a page is found
after a short walk), sort when they are few. Many matching rows are not always spread through
the order (codes without a date all sort first; a vendor's dates cluster): a walk that runs
past its budget is stopped, and the pager sorts the matching rows from then on.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from promodesk.store.tables import CODE_INVENTORY, TableSpec

if TYPE_CHECKING:  # sqlite3 itself loads with the workspace, not with the window
    import sqlite3

    from promodesk.store.audit import SearchKeys

Row = tuple[Any, ...]
SortKey = tuple[Any, Any]
Span = tuple[int, int]  # positions [start, end) in a query's order

# Shorter search text cannot use a trigram index; it is answered by a scan.
MIN_TRIGRAM = 3
_MAX_ANCHORS = 4096
# SQLite VM steps a walk may take before the pager sorts instead (~20 ms: a walk that finds
# its page reads a few thousand index entries, far less than this).
WALK_STEP_BUDGET = 1_000_000
_STEPS_PER_CALL = 10_000  # (each call takes the GIL: a busy window must not slow the walk)


@dataclass(frozen=True)
class RowQuery:
    spec: TableSpec
    equals: tuple[tuple[str, Any], ...] = ()
    search: str = ""
    sort: str = ""
    descending: bool = False
    # (column, from, until): from <= value < until; None leaves that side open. For dates
    # (canonical UTC text sorts as time) and numbers.
    ranges: tuple[tuple[str, Any, Any], ...] = ()

    def __post_init__(self) -> None:
        names = self.spec.column_names
        for column in (*(c for c, _ in self.equals), *(c for c, _, _ in self.ranges)):
            if column not in names:
                raise ValueError(f"{self.spec.name} has no column {column!r} to filter on")
        if self.sort and self.sort not in names:
            raise ValueError(f"{self.spec.name} has no column {self.sort!r} to sort by")

    @property
    def sort_column(self) -> str:
        return self.sort or self.spec.default_sort

    def where(self, **changes: Any) -> RowQuery:
        return replace(self, **changes)

    def same_rows_as(self, other: RowQuery) -> bool:
        """True when the two differ only in order (so they have the same count)."""
        return (self.spec, set(self.equals), set(self.ranges), self.search.strip()) == (
            other.spec,
            set(other.equals),
            set(other.ranges),
            other.search.strip(),
        )

    def filtered(self, column: str, value: Any) -> RowQuery:
        """This query with `column = value` (or without that filter when value is None)."""
        kept = tuple((name, v) for name, v in self.equals if name != column)
        if value is not None:
            kept = (*kept, (column, value))
        return replace(self, equals=kept)

    def between(self, column: str, start: Any, end: Any) -> RowQuery:
        """This query with start <= column < end (None: open on that side; both None: no
        range on the column)."""
        kept = tuple(entry for entry in self.ranges if entry[0] != column)
        if start is not None or end is not None:
            kept = (*kept, (column, start, end))
        return replace(self, ranges=kept)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def indexed_upto(conn: sqlite3.Connection, spec: TableSpec) -> int:
    """Highest row id already in the table's trigram index (rows above it are scanned)."""
    if not spec.fts:
        return 0
    row = conn.execute(
        "SELECT indexed_upto FROM search_index_state WHERE table_name = ?", (spec.name,)
    ).fetchone()
    return int(row[0]) if row else 0


def where_clause(
    query: RowQuery, fts_upto: int, hashed: SearchKeys | None = None, *, walk: bool = False
) -> tuple[str, dict[str, Any]]:
    """The WHERE text (without the keyword) and its parameters; '1' when unfiltered.
    `hashed`: the search text as the audit log keeps it, also looked for in the spec's
    hashed column.
    `walk`: the filters are only checked, not looked up by their indexes (see the module's
    doc)."""
    spec = query.spec
    parts: list[str] = []
    params: dict[str, Any] = {}
    sort = query.sort_column

    # With `walk`, a filter column is only checked (unary +: its index is not used), unless
    # it is the sort column or has an index of its own in this order.
    indexed = spec.indexed_filters(sort)

    def column_term(column: str) -> str:
        return f"+{column}" if walk and column != sort and column not in indexed else column

    for number, (column, value) in enumerate(query.equals):
        parts.append(f"{column_term(column)} = :eq{number}")
        params[f"eq{number}"] = value
    for number, (column, start, end) in enumerate(query.ranges):
        if start is not None:
            parts.append(f"{column_term(column)} >= :from{number}")
            params[f"from{number}"] = start
        if end is not None:
            parts.append(f"{column_term(column)} < :until{number}")
            params[f"until{number}"] = end
    text = query.search.strip()
    if text:
        parts.append(_search_clause(spec, text, fts_upto, params, hashed))
    return (" AND ".join(parts) or "1"), params


def _search_clause(
    spec: TableSpec,
    text: str,
    fts_upto: int,
    params: dict[str, Any],
    hashed: SearchKeys | None = None,
) -> str:
    if spec.name == CODE_INVENTORY.name:
        return _inventory_search_clause(text, params)
    params["like"] = f"%{escape_like(text)}%"
    exact = [f"{column} LIKE :like ESCAPE '\\'" for column in spec.search_columns]
    if hashed is not None and spec.hashed_search:
        from promodesk.store.audit import target_terms

        terms, found = target_terms(
            hashed, hash_param="hashed_like", id_param="impact_id", column=spec.hashed_search
        )
        exact += terms
        params.update(found)
    if spec.prefix_search_columns:
        params["prefix_lo"] = text
        params["prefix_hi"] = text + "\U0010ffff"
        exact += [
            f"({column} >= :prefix_lo AND {column} < :prefix_hi)"
            for column in spec.prefix_search_columns
        ]
    matches = "(" + " OR ".join(exact) + ")"
    if not (spec.fts and len(text) >= MIN_TRIGRAM):
        return matches
    # Candidate rows come from indexes only: the trigram index, the rows it has not reached
    # yet, and the prefix columns' own indexes. The exact test then weeds out false hits
    # (e.g. '_' in a code, which is a wildcard to the trigram index).
    params["fts_like"] = f"%{text}%"
    params["fts_upto"] = fts_upto
    fts = spec.fts_table
    candidates = [
        f"SELECT rowid FROM {fts} WHERE {column} LIKE :fts_like" for column in spec.search_columns
    ]
    candidates.append(f"SELECT id FROM {spec.name} WHERE id > :fts_upto")
    candidates += [
        f"SELECT id FROM {spec.name} WHERE {column} >= :prefix_lo AND {column} < :prefix_hi"
        for column in spec.prefix_search_columns
    ]
    return f"(id IN ({' UNION ALL '.join(candidates)}) AND {matches})"


def _inventory_search_clause(text: str, params: dict[str, Any]) -> str:
    """Codes of All codes are found through the vendor tables' own trigram indexes (each
    inventory row knows its vendor row), so they are not indexed twice; codes of the small
    tables, and vendor rows the search index has not reached, are checked directly."""
    from promodesk.store.inventory import SOURCES

    params["like"] = f"%{escape_like(text)}%"
    params["prefix_lo"] = text
    params["prefix_hi"] = text + "\U0010ffff"
    exact = "(code LIKE :like ESCAPE '\\' OR (holder >= :prefix_lo AND holder < :prefix_hi))"
    if len(text) < MIN_TRIGRAM:
        return exact
    params["fts_like"] = f"%{text}%"
    candidates = []
    small = []
    for source in SOURCES:
        if not source.search_index:
            small.append(str(source.number))
            continue
        fts = f"fts_{source.table}"
        upto = (
            "(SELECT coalesce(max(indexed_upto), 0) FROM search_index_state "
            f"WHERE table_name = '{source.table}')"
        )
        candidates.append(
            f"SELECT id FROM code_inventory WHERE source = {source.number} AND source_id IN "
            f"(SELECT rowid FROM {fts} WHERE {source.search_index} LIKE :fts_like)"
        )
        candidates.append(
            f"SELECT id FROM code_inventory WHERE source = {source.number} AND source_id > {upto}"
        )
    candidates.append(f"SELECT id FROM code_inventory WHERE source IN ({', '.join(small)})")
    candidates.append(
        "SELECT id FROM code_inventory WHERE holder >= :prefix_lo AND holder < :prefix_hi"
    )
    return f"(id IN ({' UNION ALL '.join(candidates)}) AND {exact})"


def select_list(spec: TableSpec) -> str:
    return ", ".join(spec.column_names)


@dataclass
class Pager:
    """Fetches windows of one `RowQuery`. Not thread-safe: use it from one thread."""

    query: RowQuery
    _total: int | None = None
    _fts_upto: int | None = None
    _hashed: SearchKeys | None = None
    _hashed_read: bool = False
    _table_rows: int | None = None
    _anchors: dict[int, SortKey] = field(default_factory=dict)
    _walk_failed: bool = False  # a walk ran past WALK_STEP_BUDGET: sort from now on

    def count(self, conn: sqlite3.Connection) -> int:
        if self._total is None:
            self._total = _kept_count(conn, self.query)
        if self._total is None:
            where, params = self.where(conn)
            sql = f"SELECT count(*) FROM {self.query.spec.name} WHERE {where}"
            self._total = int(conn.execute(sql, params).fetchone()[0])
        return self._total

    def known_count(self, total: int) -> None:
        """The caller already knows how many rows match (same filters, another order)."""
        self._total = total

    def fetch(self, conn: sqlite3.Connection, start: int, limit: int) -> list[Row]:
        total = self.count(conn)
        start = max(0, min(start, total))
        end = min(total, start + max(0, limit))
        if start >= end:
            return []
        before = max((p for p in self._anchors if p < start), default=-1)
        after = min((p for p in self._anchors if p >= end), default=total)
        forward_skip = start - before - 1
        backward_skip = after - end
        if forward_skip <= backward_skip:
            key = self._anchors.get(before)
            rows = self._read(conn, key, forward=True, limit=end - start, skip=forward_skip)
        else:
            key = self._anchors.get(after)
            rows = self._read(conn, key, forward=False, limit=end - start, skip=backward_skip)
            rows.reverse()
        if rows:
            self._remember(start, rows[0])
            self._remember(start + len(rows) - 1, rows[-1])
        return rows

    def where(self, conn: sqlite3.Connection, *, walk: bool = False) -> tuple[str, dict[str, Any]]:
        """The query's WHERE text and parameters (the trigram index's reach read once);
        `walk`: for a walk of the sort index (see `walks`)."""
        if self._fts_upto is None:
            self._fts_upto = indexed_upto(conn, self.query.spec)
        if not self._hashed_read:
            self._hashed = _hashed_search(conn, self.query)
            self._hashed_read = True
        return where_clause(self.query, self._fts_upto, self._hashed, walk=walk)

    def walks(self, conn: sqlite3.Connection, rows_wanted: int) -> bool:
        """Whether to walk the sort index rather than sort the filtered rows: a walk reads
        about rows_wanted * table / matching rows, a sort reads all matching ones."""
        query = self.query
        if not (query.equals or query.ranges) or query.search.strip() or self._walk_failed:
            return False
        if self._table_rows is None:
            self._table_rows = _table_rows(conn, query.spec)
        matching = self.count(conn)
        return self._table_rows > 0 and matching * matching >= rows_wanted * self._table_rows

    def _read(
        self,
        conn: sqlite3.Connection,
        key: SortKey | None,
        *,
        forward: bool,
        limit: int,
        skip: int,
    ) -> list[Row]:
        if self.walks(conn, limit + skip):
            rows = _within_budget(
                conn, lambda: self._select(conn, key, forward, limit, skip, walk=True)
            )
            if rows is not None:
                return rows
            self._walk_failed = True
        return self._select(conn, key, forward, limit, skip, walk=False)

    def _select(
        self,
        conn: sqlite3.Connection,
        key: SortKey | None,
        forward: bool,
        limit: int,
        skip: int,
        *,
        walk: bool,
    ) -> list[Row]:
        spec = self.query.spec
        sort = self.query.sort_column
        ascending = forward != self.query.descending
        where, params = self.where(conn, walk=walk)
        if key is not None:
            where += " AND " + _after_key(sort, key, ascending, spec.column(sort).nullable)
            params = {**params, "key_value": key[0], "key_id": key[1]}
        direction = "ASC" if ascending else "DESC"
        sql = (
            f"SELECT {select_list(spec)} FROM {spec.name} WHERE {where} "
            f"ORDER BY {sort} {direction}, id {direction} LIMIT :limit OFFSET :skip"
        )
        params = {**params, "limit": limit, "skip": skip}
        return conn.execute(sql, params).fetchall()

    def _remember(self, position: int, row: Row) -> None:
        if len(self._anchors) >= _MAX_ANCHORS:
            self._anchors.clear()
        names = self.query.spec.column_names
        self._anchors[position] = (row[names.index(self.query.sort_column)], row[names.index("id")])


def _within_budget(conn: sqlite3.Connection, read: Any) -> list[Row] | None:
    """`read()`, or None when it took more than WALK_STEP_BUDGET steps (it is stopped)."""
    steps = 0
    gave_up = False

    def tick() -> int:
        nonlocal steps, gave_up
        steps += _STEPS_PER_CALL
        gave_up = steps > WALK_STEP_BUDGET
        return int(gave_up)

    conn.set_progress_handler(tick, _STEPS_PER_CALL)
    try:
        rows: list[Row] = read()
        return rows
    except conn.OperationalError:
        if gave_up:
            return None
        raise  # (interrupted for another reason: the workspace is closing)
    finally:
        conn.set_progress_handler(None, 0)


@dataclass(frozen=True)
class RowSet:
    """Rows of one table: those at `spans` (positions in `query`'s order), or, when `spans`
    is None, every row matching `query` (a select-all, whatever its size)."""

    query: RowQuery
    spans: tuple[Span, ...] | None
    count: int

    @property
    def everything(self) -> bool:
        return self.spans is None

    def positions(self) -> tuple[Span, ...]:
        return self.spans if self.spans is not None else ((0, 2**62),)


def stream_rows(
    conn: sqlite3.Connection,
    query: RowQuery,
    spans: Sequence[Span],
    *,
    select: Sequence[str] = (),
    chunk: int = 5_000,
    pager: Pager | None = None,
) -> Iterator[list[Row]]:
    """The rows of `query` at the positions in `spans` (ascending, not overlapping), `chunk`
    rows at a time, each row being the `select` expressions (default: every column).

    One statement per span, walking the sort index from the row before the span's start:
    copying or exporting a million rows is one ordered scan with no Python per row, and a
    selection of scattered rows costs one short walk per span, not per position."""
    pager = pager or Pager(query)
    spec = query.spec
    sort = query.sort_column
    direction = "DESC" if query.descending else "ASC"
    names = spec.column_names
    columns = ", ".join(select) if select else select_list(spec)
    total = pager.count(conn)
    for start, end in spans:
        start, end = max(0, start), min(end, total)
        if start >= end:
            continue
        where, params = pager.where(conn, walk=pager.walks(conn, end - start))
        if start > 0:
            before = pager.fetch(conn, start - 1, 1)
            if not before:
                continue
            key = (before[0][names.index(sort)], before[0][names.index("id")])
            ascending = not query.descending
            where += " AND " + _after_key(sort, key, ascending, spec.column(sort).nullable)
            params = {**params, "key_value": key[0], "key_id": key[1]}
        sql = (
            f"SELECT {columns} FROM {spec.name} WHERE {where} "
            f"ORDER BY {sort} {direction}, id {direction} LIMIT :limit"
        )
        cursor = conn.execute(sql, {**params, "limit": end - start})
        while rows := cursor.fetchmany(chunk):
            yield rows


def _hashed_search(conn: sqlite3.Connection, query: RowQuery) -> SearchKeys | None:
    """The search text as the audit log keeps it (None when the table has no such column)."""
    text = query.search.strip()
    if not (text and query.spec.hashed_search):
        return None
    from promodesk.store.audit import search_keys

    return search_keys(conn, text)


# Tables whose rows are counted, by some columns, in a table of counts: (counts table, the
# count column, the columns it is kept by).
_KEPT_COUNTS = {
    "optimove_allocations": (
        "optimove_allocation_counts",
        "allocations",
        {"account_id", "promocode_id", "file_id"},
    ),
    "code_inventory": ("code_inventory_counts", "codes", {"account_id", "vendor", "status"}),
}


def _kept_count(conn: sqlite3.Connection, query: RowQuery) -> int | None:
    """Rows counted without reading them: allocations per promocode/file are kept by the
    import, all codes per account/vendor/status by the inventory (a million-row count(*) is
    25 ms; this is a lookup). None when the query needs the rows."""
    kept = _KEPT_COUNTS.get(query.spec.name)
    if kept is None or query.search.strip() or query.ranges:
        return None
    counts_table, count_column, by = kept
    filters = dict(query.equals)
    if len(filters) != len(query.equals) or not set(filters) <= by:
        return None
    where = " AND ".join(f"{column} = :{column}" for column in filters) or "1"
    row = conn.execute(
        f"SELECT coalesce(sum({count_column}), 0) FROM {counts_table} WHERE {where}",
        filters,
    ).fetchone()
    return int(row[0])


def _table_rows(conn: sqlite3.Connection, spec: TableSpec) -> int:
    """About how many rows the table holds (0: not known), without counting them: the kept
    counts, or what ANALYZE last found."""
    if spec.name in _KEPT_COUNTS:
        total = _kept_count(conn, RowQuery(spec))
        if total is not None:
            return total
    analysed = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    ).fetchone()
    if analysed is None:
        return 0
    row = conn.execute(
        "SELECT stat FROM sqlite_stat1 WHERE tbl = ? AND stat IS NOT NULL LIMIT 1", (spec.name,)
    ).fetchone()
    if row is None:
        return 0
    first = str(row[0]).split(" ", 1)[0]
    return int(first) if first.isdigit() else 0


def _after_key(sort: str, key: SortKey, ascending: bool, nullable: bool) -> str:
    """Rows that come after `key` in the given order (SQLite puts NULLs first when ascending).

    The row-value form lets SQLite start the walk inside the sort index; the NULL-aware forms
    are only used on the small tables whose columns can hold NULL.
    """
    if key[0] is None:
        if ascending:
            return f"(({sort} IS NULL AND id > :key_id) OR {sort} IS NOT NULL)"
        return f"({sort} IS NULL AND id < :key_id)"
    if ascending:
        return f"({sort}, id) > (:key_value, :key_id)"
    tail = f" OR {sort} IS NULL" if nullable else ""
    return f"(({sort}, id) < (:key_value, :key_id){tail})"


def fetch_row(conn: sqlite3.Connection, spec: TableSpec, row_id: int) -> dict[str, Any] | None:
    """Every stored column of one row (including ones the table does not show)."""
    cursor = conn.execute(f"SELECT * FROM {spec.name} WHERE id = ?", (row_id,))
    row = cursor.fetchone()
    if row is None:
        return None
    return {
        description[0]: value for description, value in zip(cursor.description, row, strict=True)
    }


def fetch_rows_by_id(conn: sqlite3.Connection, spec: TableSpec, row_ids: list[int]) -> list[Row]:
    """Rows in the order of `row_ids` (used to copy a selection that was never scrolled to)."""
    found: dict[int, Row] = {}
    id_at = spec.column_names.index("id")
    for offset in range(0, len(row_ids), 500):
        chunk = row_ids[offset : offset + 500]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {select_list(spec)} FROM {spec.name} WHERE id IN ({marks})"
        for row in conn.execute(sql, chunk):
            found[row[id_at]] = row
    return [found[row_id] for row_id in row_ids if row_id in found]
