"""Builds the indexes that make sorting and searching fast, after the data has landed.

Imports commit rows with only their dedupe keys, which keeps a million-row import close to the
speed of a bare insert loop. This builder then adds the missing sort/filter indexes and feeds
new rows to the trigram search index, in short transactions, so the window stays usable, a
concurrent import waits at most one chunk, and a cancelled or interrupted run resumes where it
stopped. Until it catches up, queries stay correct: they scan what is not indexed yet.

It also feeds the inventory of all codes (store/inventory.py) with the rows the vendor tables
gained, first, so that the inventory's indexes are built after its rows land too.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.store import inventory
from promodesk.store.db import transaction
from promodesk.store.query import indexed_upto
from promodesk.store.tables import CODE_INVENTORY, DERIVED_TABLES, INDEXED_TABLES, TableSpec

FTS_CHUNK_ROWS = 25_000


@dataclass(frozen=True)
class IndexWork:
    missing_indexes: tuple[tuple[TableSpec, str, str], ...]  # (table, index name, column)
    fts_backlog: tuple[tuple[TableSpec, int, int], ...]  # (table, indexed up to, max id)
    inventory_backlog: tuple[inventory.FeedWork, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.missing_indexes and not self.fts_backlog and not self.inventory_backlog

    @property
    def units(self) -> int:
        # One index build weighs about as much as 100k rows of trigram indexing (or of
        # inventory feeding).
        rows = sum(top - done for _, done, top in self.fts_backlog)
        rows += sum(work.rows for work in self.inventory_backlog)
        return len(self.missing_indexes) * 100_000 + rows


def _missing_indexes(conn: sqlite3.Connection) -> tuple[tuple[TableSpec, str, str], ...]:
    existing = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    return tuple(
        (spec, index_name, column)
        for spec in INDEXED_TABLES
        for index_name, column in spec.derived_indexes().items()
        if index_name not in existing
    )


def pending_work(conn: sqlite3.Connection) -> IndexWork:
    missing = _missing_indexes(conn)
    backlog = []
    for spec in INDEXED_TABLES:
        if not spec.fts:
            continue
        top = conn.execute(f"SELECT coalesce(max(id), 0) FROM {spec.name}").fetchone()[0]
        done = indexed_upto(conn, spec)
        if top > done:
            backlog.append((spec, done, int(top)))
    return IndexWork(missing, tuple(backlog), tuple(inventory.pending_feed(conn)))


def drop_derived_indexes(conn: sqlite3.Connection, spec: TableSpec) -> None:
    """Before a bulk load: the builder recreates them in one sorted pass afterwards."""
    for index_name in spec.derived_indexes():
        conn.execute(f"DROP INDEX IF EXISTS {index_name}")


def reset_search_index(conn: sqlite3.Connection, spec: TableSpec) -> None:
    """Empty a table's trigram index (inside the caller's transaction) so it is rebuilt."""
    if spec.fts:
        conn.execute(f"INSERT INTO {spec.fts_table}({spec.fts_table}) VALUES ('delete-all')")
        conn.execute("DELETE FROM search_index_state WHERE table_name = ?", (spec.name,))


def build_indexes(
    conn: sqlite3.Connection,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> IndexWork:
    """Do all pending index work; returns what was done. Safe to stop and call again."""
    token = cancel or CancelToken()
    work = pending_work(conn)
    if work.empty:
        return work
    total = work.units
    unregister = token.on_cancel(conn.interrupt)
    try:
        # What the vendor panels wait for first: their sort indexes, then their search
        # index; then the inventory of all codes: its new rows, then its own indexes.
        derived = {spec.name for spec in DERIVED_TABLES}
        vendor_indexes = [entry for entry in work.missing_indexes if entry[0].name not in derived]
        done = _create_indexes(conn, vendor_indexes, token, progress, 0, total)
        for spec, upto, top in work.fts_backlog:
            while upto < top:
                token.raise_if_cancelled()
                progress(Progress(done, total, "Indexing codes for search"))
                upto, top = _interruptible(token, _index_chunk, conn, spec, upto)
                done += FTS_CHUNK_ROWS
        done += _feed_inventory(conn, work, token, progress, done, total)
        inventory_indexes = [entry for entry in _missing_indexes(conn) if entry[0].name in derived]
        total += (len(vendor_indexes) + len(inventory_indexes) - len(work.missing_indexes)) * (
            100_000
        )
        done = _create_indexes(conn, inventory_indexes, token, progress, done, total)
        if vendor_indexes or inventory_indexes:
            # Fresh statistics so the planner picks these indexes for filtered sorts.
            conn.execute("PRAGMA analysis_limit = 2000")
            _interruptible(token, conn.execute, "ANALYZE")
            _count_lookup_indexes(conn, token)
        progress(Progress(total, total, "Search index ready"))
    finally:
        unregister()
    return work


def _count_lookup_indexes(conn: sqlite3.Connection, token: CancelToken) -> None:
    """The look-up indexes' rows counted exactly (a pass over each): sampled, a wide index
    looks smaller than it is, and the planner would then walk it for whole-table reads that a
    narrow index (or the dedupe key) serves better."""
    conn.execute("PRAGMA analysis_limit = 0")
    try:
        for spec in INDEXED_TABLES:
            for name, _columns in spec.lookup_indexes:
                _interruptible(token, conn.execute, f"ANALYZE ix_{spec.name}__{name}")
    finally:
        conn.execute("PRAGMA analysis_limit = 2000")


def _create_indexes(
    conn: sqlite3.Connection,
    indexes: list[tuple[TableSpec, str, str]],
    token: CancelToken,
    progress: ProgressFn,
    done: int,
    total: int,
) -> int:
    for spec, index_name, column in indexes:
        token.raise_if_cancelled()
        progress(Progress(done, total, f"Indexing {spec.name.replace('_', ' ')} for sorting"))
        _interruptible(
            token,
            conn.execute,
            f"CREATE INDEX IF NOT EXISTS {index_name} ON {spec.name}({column})",
        )
        done += 100_000
    return done


def _feed_inventory(
    conn: sqlite3.Connection,
    work: IndexWork,
    token: CancelToken,
    progress: ProgressFn,
    start: int,
    total: int,
) -> int:
    """The rows the vendor tables gained, into the inventory, a chunk per transaction. When
    they outnumber what it holds (a first fill, a big import), its sort indexes are dropped
    first and built again afterwards in one sorted pass each, as for a bulk import."""
    backlog = sum(feed.rows for feed in work.inventory_backlog)
    if backlog and backlog > inventory.inventory_rows(conn):
        with transaction(conn):
            drop_derived_indexes(conn, CODE_INVENTORY)
    done = 0
    for feed in work.inventory_backlog:
        upto = feed.fed_upto
        while upto < feed.top:
            token.raise_if_cancelled()
            progress(Progress(start + done, total, "Adding codes to All codes"))
            with transaction(conn):
                last = _interruptible(token, inventory.feed_chunk, conn, feed.table, upto, feed.top)
            done += last - upto
            upto = last
    return done


def _interruptible(token: CancelToken, fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except sqlite3.OperationalError as error:
        if token.cancelled and "interrupt" in str(error):
            token.raise_if_cancelled()
        raise


def _index_chunk(conn: sqlite3.Connection, spec: TableSpec, upto: int) -> tuple[int, int]:
    """Feed the next chunk of rows above `upto`; returns (watermark now, table's top id).

    Both are read again inside the chunk's transaction: another connection may have moved
    them since the last chunk (a removal lowers the watermark to the rows that are left;
    another builder raises it), and the watermark must never pass rows that are gone, or
    rows that later reuse their ids would count as indexed and never be found."""
    columns = ", ".join(spec.search_columns)
    with transaction(conn):
        current = indexed_upto(conn, spec)
        top = int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {spec.name}").fetchone()[0])
        if current != upto:
            return current, top
        last = min(top, upto + FTS_CHUNK_ROWS)
        if last <= upto:
            return upto, top
        conn.execute(
            f"INSERT INTO {spec.fts_table}(rowid, {columns}) "
            f"SELECT id, {columns} FROM {spec.name} WHERE id > ? AND id <= ?",
            (upto, last),
        )
        conn.execute(
            "INSERT INTO search_index_state(table_name, indexed_upto) VALUES (?, ?) "
            "ON CONFLICT(table_name) DO UPDATE SET indexed_upto = excluded.indexed_upto",
            (spec.name, last),
        )
    return last, top
