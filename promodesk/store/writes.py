"""The workspace's one writer: record-level upserts, "gone" marks and removals.

Imports, syncs, operations and bulk jobs all write vendor records through these functions.
They own what keeps a workspace consistent:

- each table's dedupe key (a record written twice is one row; an older record never overwrites
  a newer one),
- the trigram search index (a row whose searched text changes, or that is removed, leaves the
  index in the same transaction, so search stays exact),
- the counts shown on parent rows (programs, promotions, promocodes), adjusted by the rows
  written and never recounted from the account's rows,
- provenance (`added_run`) and state events (old -> new state, per run), from which "what
  changed" and "remove this import" are derived,
- the inventory of all codes (`store.inventory`): rows it already holds follow their changes
  and removals here; new rows are fed in by the background index builder.

A write goes through a TEMP staging table: rows are appended to it (executemany, in C), then a
handful of set-based statements merge it into the table. Records the caller knows to be new
(`Staging.add_new`) skip the stage: they are held and inserted straight into the table by the
write, which halves what a first sync of an account costs to store. The cost is O(rows
written) plus, for a sync that marks what is gone, one pass over the synced scope.
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

from promodesk.domain.vendors import CodeStatus
from promodesk.store import inventory, tables
from promodesk.store.db import sql_text
from promodesk.store.query import indexed_upto
from promodesk.store.schema import SHARED_TABLES
from promodesk.store.shares import forget_shared
from promodesk.store.tables import TableSpec

GONE = CodeStatus.GONE.value

# New records `Staging.add_new` holds in memory for the write (about 0.8 KB each for an
# impact.com code); any beyond go through the stage like the rest.
NEW_ROWS_HELD = 200_000
# Held records inserted by one statement (x 16 values bound for an impact.com code: within
# SQLite's 32,766).
NEW_ROWS_PER_INSERT = 500


@dataclass(frozen=True)
class Rollup:
    """Counts of a table's rows kept on a parent row.

    `link` pairs child and parent columns (besides account_id); a child whose link value is
    '' has no parent. `total` counts the children that are not gone; `by_state` counts the
    children in each state. A parent is created when its first child arrives, carrying
    `names` (child column -> parent column) when the child knows them.
    """

    parent: str
    link: tuple[tuple[str, str], ...]
    total: str
    by_state: tuple[tuple[str, str], ...] = ()
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RecordTable:
    spec: TableSpec
    key: tuple[str, ...]  # the dedupe key, besides account_id
    fields: tuple[str, ...]  # the columns a record sets
    state: str | None = None  # a column whose changes are recorded as state events
    rollups: tuple[Rollup, ...] = ()
    # Written with a record when given, never compared: e.g. the fingerprint of what the
    # vendor sent, which lets the next sync skip validating records it has seen unchanged.
    bookkeeping: tuple[str, ...] = ()
    # Run after a write changed the table's counts (for counts derived from other counts).
    after: Callable[[sqlite3.Connection, int], None] | None = None
    # A finished sync of the account asks the vendor for every row of the table and marks
    # the ones it no longer has gone (without a fingerprint to show which rows it saw).
    reread_by_sync: bool = False

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.key, *self.fields)

    @property
    def searched_fields(self) -> tuple[str, ...]:
        """Search-indexed columns a write can change (key columns never change)."""
        if not self.spec.fts:
            return ()
        return tuple(name for name in self.spec.search_columns if name in self.fields)

    @property
    def tracked(self) -> tuple[str, ...]:
        """Columns whose old values a write keeps to adjust counts, events and search."""
        names: list[str] = []
        for rollup in self.rollups:
            names += [child for child, _ in rollup.link]
        if self.state:
            names.append(self.state)
        elif self.name in GONE_TABLES:
            names.append("gone_run")  # a row without a state counts as 'gone' by its mark
        names += list(self.searched_fields)
        return tuple(dict.fromkeys(names))

    def state_sql(self, alias: str, *, old: bool = False) -> str:
        """The row's state for counting: its state column, or 'gone'/'' from its gone mark."""
        prefix = f"{alias}.old_" if old else f"{alias}."
        if self.state:
            return f"{prefix}{self.state}"
        if self.name in GONE_TABLES:
            return f"CASE WHEN {prefix}gone_run != 0 THEN '{GONE}' ELSE '' END"
        return "''"


@dataclass
class WriteOutcome:
    added: int = 0
    changed: int = 0  # rows whose values changed (state or anything else)
    unchanged: int = 0
    gone: int = 0
    returned: int = 0  # rows a sync had marked gone that came back
    changed_ids: list[int] = field(default_factory=list)  # ids of added or changed rows

    def add(self, other: WriteOutcome) -> None:
        self.added += other.added
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.gone += other.gone
        self.returned += other.returned
        self.changed_ids += other.changed_ids

    @property
    def touched(self) -> int:
        return self.added + self.changed + self.gone


# Ids of changed rows are returned to the caller (for the window to refresh them in place)
# up to this many; a bigger write refreshes the whole table instead.
_MAX_CHANGED_IDS = 10_000


class Staging:
    """Records for one table and account, collected (possibly over many pages) and then
    written in one go by `write()` inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, table: RecordTable, account_id: int) -> None:
        self.conn = conn
        self.table = table
        self.account_id = account_id
        self.name = f"stage_{table.name}"
        self.missing_name = f"missing_{table.name}"
        columns = ", ".join((*table.columns, *table.bookkeeping))
        keys = ", ".join(table.key)
        # The stage takes the table's own column types: comparing values of another affinity
        # could not use the stage's key index (a NOT EXISTS probe became a full scan per row).
        # as_of: NULL for the write's own as_of; set when records carry their own (a merge).
        exists = conn.execute(
            "SELECT 1 FROM temp.sqlite_master WHERE name = ?", (self.name,)
        ).fetchone()
        if not exists:
            conn.execute(
                f"CREATE TEMP TABLE {self.name} AS SELECT {columns}, as_of FROM main.{table.name} "
                "WHERE 0"
            )
            conn.execute(f"CREATE UNIQUE INDEX temp.ux_{self.name} ON {self.name}({keys})")
            # Keys of rows the caller had and the vendor did not send (see add_missing).
            conn.execute(
                f"CREATE TEMP TABLE {self.missing_name} AS SELECT {keys} "
                f"FROM main.{table.name} WHERE 0"
            )
            conn.execute(
                f"CREATE UNIQUE INDEX temp.ux_{self.missing_name} ON {self.missing_name}({keys})"
            )
        conn.execute(f"DELETE FROM temp.{self.name}")
        conn.execute(f"DELETE FROM temp.{self.missing_name}")
        self.count = 0
        self.seen = 0
        self.missing_listed = False
        # add_new's records in the order they came (a key sent twice is found by the insert,
        # and the later record wins); by key once more came than can be held.
        self.new: list[Sequence[Any]] = []
        self._new_by_key: dict[Any, Sequence[Any]] | None = None
        self._width = len(table.columns) + len(table.bookkeeping)
        # (a record's key: its one value, or a tuple of them)
        self.key_of = itemgetter(*(table.columns.index(name) for name in table.key))

    def _insert(self, columns: Sequence[str]) -> str:
        # A record seen twice (two pages, two files) counts once: the later one wins.
        return (
            f"INSERT OR REPLACE INTO temp.{self.name}({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        """Records as tuples in `table.columns` order."""
        before = self.conn.total_changes
        with _one_batch(self.conn):
            self.conn.executemany(self._insert(self.table.columns), rows)
        self.count += self.conn.total_changes - before

    def add_kept(self, rows: Iterable[Sequence[Any]]) -> None:
        """Records with their bookkeeping columns after `table.columns`."""
        before = self.conn.total_changes
        with _one_batch(self.conn):
            self.conn.executemany(
                self._insert((*self.table.columns, *self.table.bookkeeping)), rows
            )
        self.count += self.conn.total_changes - before

    def add_new(self, rows: Iterable[Sequence[Any]]) -> None:
        """Records (with their bookkeeping, as `add_kept`) whose keys the caller did not find
        in the table for this account when it read it: kept in memory (up to
        NEW_ROWS_HELD) and inserted by `write()` straight into the table, without the
        stage's round trip. A key that turns out to be there after all (a row marked gone, or
        written meanwhile, or also staged with `add_kept`, or held twice) is merged like any
        staged record, the held one winning (of two held, the later)."""
        overflow = self.hold_new(rows)
        if overflow:
            self.add_kept(overflow)

    def hold_new(self, rows: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
        """`add_new` without touching the connection (callable from any thread while no
        write runs): returns the records beyond what is held, for the caller to stage."""
        key_of, width = self.key_of, self._width
        batch = rows if isinstance(rows, list) else list(rows)
        # (the insert binds the rows flat: one short would shift every value after it)
        if set(map(len, batch)) - {width}:
            wrong = next(len(row) for row in batch if len(row) != width)
            raise ValueError(f"a {self.table.name} record has {width} values, not {wrong}")
        held = self._new_by_key
        if held is None:
            if len(self.new) + len(batch) <= NEW_ROWS_HELD:
                # All fit (the usual case): kept as they are; keying 100,000 records cost
                # 0.02 s of a first sync.
                self.new += batch
                return []
            # More than can be held: from now on by key, so that a record sent again while
            # others overflow replaces the held one.
            held = self._new_by_key = dict(zip(map(key_of, self.new), self.new, strict=True))
            self.new = []
        overflow: list[Sequence[Any]] = []
        for row in batch:
            key = key_of(row)
            if key in held or len(held) < NEW_ROWS_HELD:
                held[key] = row
            else:
                overflow.append(row)
        return overflow

    def held(self) -> list[Sequence[Any]]:
        """The records `add_new` holds (a key possibly twice, the later last)."""
        return self.new if self._new_by_key is None else list(self._new_by_key.values())

    def add_unchanged(self, count: int) -> None:
        """Records the vendor still has, unchanged since they were written: nothing to
        write for them; counted (`WriteOutcome.unchanged`)."""
        self.seen += count

    def add_missing(self, keys: Iterable[Sequence[Any]]) -> None:
        """Keys (in `table.key` order) of the rows the caller read before asking the vendor
        for everything, and the vendor did not send. With them, `write(gone_scope=...)`
        marks gone exactly these (when not staged after all), not every row of the scope
        that was not staged: a sync that skips what it saw unchanged lists the few missing
        instead of staging the many seen. From then on this staging is in that mode."""
        with _one_batch(self.conn):
            self.conn.executemany(
                f"INSERT OR IGNORE INTO temp.{self.missing_name}({', '.join(self.table.key)}) "
                f"VALUES ({', '.join('?' * len(self.table.key))})",
                keys,
            )
        self.missing_listed = True

    def add_selected(self, select: str, *params: Any) -> None:
        """Records from a query whose columns are `table.columns` then `as_of`."""
        before = self.conn.total_changes
        self.conn.execute(
            f"INSERT OR REPLACE INTO temp.{self.name}({', '.join(self.table.columns)}, as_of) "
            f"{select}",
            params,
        )
        self.count += self.conn.total_changes - before

    def write(
        self,
        *,
        run_id: int,
        as_of: str,
        gone_scope: Mapping[str, Any] | None = None,
        gone_upto: int | None = None,
    ) -> WriteOutcome:
        """Merge the staged records into the table. With `gone_scope` (column -> value, {} for
        the whole account), rows of that scope that were not staged are marked gone: the
        records are everything the vendor has there (or, after `add_missing`, the rows it
        lists). `gone_upto`: only rows with ids up to it can be gone (the table's top id when
        the vendor's list was asked for: a row written meanwhile, e.g. a code just created,
        was not in that list)."""
        # The staged records stay until the merge succeeded: a transaction retried after a
        # busy error must see them again (an empty stage would mark everything gone). The
        # held new records stay too (a rolled-back insert is inserted again on the retry).
        outcome = _merge(
            self, run_id=run_id, as_of=as_of, gone_scope=gone_scope, gone_upto=gone_upto
        )
        # `missing_listed` stays set with the list: if the caller's transaction is rolled
        # back after this (a busy COMMIT) and retried, the list is back, and so is its mode.
        self.conn.execute(f"DELETE FROM temp.{self.name}")
        self.conn.execute(f"DELETE FROM temp.{self.missing_name}")
        return outcome


@contextmanager
def _one_batch(conn: sqlite3.Connection) -> Iterator[None]:
    """A batch of staged rows in one transaction of its own, unless the caller's is open: in
    autocommit every row would be a transaction of the temp database (2-4x slower). Staging
    writes only temp tables, so the deferred BEGIN never locks the workspace."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        # (a failed COMMIT too: a transaction left open would swallow the caller's next one)
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def top_id(conn: sqlite3.Connection, table: RecordTable) -> int:
    """The table's highest row id now (see `Staging.write(gone_upto=)`)."""
    return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()[0])


def upsert(
    conn: sqlite3.Connection,
    table: RecordTable,
    account_id: int,
    rows: Iterable[Sequence[Any]],
    *,
    run_id: int,
    as_of: str,
) -> WriteOutcome:
    """Write records (tuples in `table.columns` order) for one account."""
    staging = Staging(conn, table, account_id)
    staging.add(rows)
    return staging.write(run_id=run_id, as_of=as_of)


def update_fields(
    conn: sqlite3.Connection,
    table: RecordTable,
    account_id: int,
    key: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    run_id: int,
    as_of: str,
) -> WriteOutcome:
    """Change some fields of one known row (e.g. a code's state after a change the vendor
    confirmed without sending the record back), through the same write as a full record:
    events, counts and search follow. Nothing happens when the row is not in the workspace."""
    unknown = set(changes) - set(table.fields)
    if unknown:
        raise ValueError(f"{table.name} has no field {', '.join(sorted(unknown))} to change")
    where = " AND ".join(f"{column} = ?" for column in table.key)
    row = conn.execute(
        f"SELECT {', '.join(table.columns)} FROM {table.name} WHERE account_id = ? AND {where}",
        (account_id, *(key[column] for column in table.key)),
    ).fetchone()
    if row is None:
        return WriteOutcome()
    values = dict(zip(table.columns, row, strict=True))
    values.update(changes)
    return upsert(
        conn,
        table,
        account_id,
        [tuple(values[column] for column in table.columns)],
        run_id=run_id,
        as_of=as_of,
    )


def mark_gone(
    conn: sqlite3.Connection,
    table: RecordTable,
    account_id: int,
    keys: Iterable[Mapping[str, Any]],
    *,
    run_id: int,
    as_of: str,
) -> WriteOutcome:
    """Rows the vendor no longer has because promodesk removed them there (e.g. legacy
    promotions deleted): state 'gone', with the run, through the same write as a sync's."""
    if table.state is None or table.name not in GONE_TABLES:
        raise ValueError(f"{table.name} keeps no state to mark gone")
    where = " AND ".join(f"{column} = ?" for column in table.key)
    total = WriteOutcome()
    for key in keys:
        outcome = update_fields(
            conn, table, account_id, key, {table.state: GONE}, run_id=run_id, as_of=as_of
        )
        if outcome.changed:
            conn.execute(
                f"UPDATE {table.name} SET gone_run = ? WHERE account_id = ? AND {where}",
                (run_id, account_id, *(key[column] for column in table.key)),
            )
            total.gone += outcome.changed
    return total


def _key_match(table: RecordTable, alias: str, stage: str) -> str:
    return " AND ".join(f"{alias}.{name} = {stage}.{name}" for name in table.key)


def _merge(
    staging: Staging,
    *,
    run_id: int,
    as_of: str,
    gone_scope: Mapping[str, Any] | None,
    gone_upto: int | None = None,
) -> WriteOutcome:
    conn, table, account = staging.conn, staging.table, staging.account_id
    name, stage = table.name, f"temp.{staging.name}"
    outcome = WriteOutcome()
    tracked = table.tracked
    changes = _changes_table(conn, table)
    old_columns = ", ".join(f"old_{column}" for column in tracked)
    current = ", ".join(f"t.{column}" for column in tracked)
    match = _key_match(table, "t", "s")
    differs = (
        f"({', '.join(f't.{c}' for c in table.fields)}) IS NOT "
        f"({', '.join(f's.{c}' for c in table.fields)})"
    )
    # Rows above it were added by this write.
    top = top_id(conn, table)
    columns = ", ".join((*table.columns, *table.bookkeeping))
    direct = _insert_new(staging, columns, as_of, run_id, top)
    # Held records inserted straight in took the ids just above `top` (always, short of
    # SQLite's largest rowid): the rollups count them from memory.
    held = staging.held() if direct and top_id(conn, table) == top + direct else []

    # Rows that exist and differ (or had been marked gone), with their old values.
    conn.execute(
        f"INSERT INTO {changes}(row_id, stage_rowid, gone{', ' if tracked else ''}{old_columns}) "
        f"SELECT t.id, s.rowid, 0{', ' if tracked else ''}{current} "
        f"FROM {stage} s CROSS JOIN main.{name} t ON t.account_id = ? AND {match} "
        f"WHERE coalesce(s.as_of, ?) >= t.as_of AND ({differs} OR {_was_gone(table, 't')})",
        (account, as_of),
    )
    staged = conn.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
    updated = conn.execute(f"SELECT count(*) FROM {changes}").fetchone()[0]
    if staged and _is_an_import(conn, run_id):
        # Rows an earlier import brought that this one has too: removing that one hands them
        # to this one (store/imports.py) rather than taking them from under it.
        conn.execute(
            "INSERT OR IGNORE INTO import_shares(table_no, row_id, run_id) "
            f"SELECT ?, t.id, ? FROM {stage} s CROSS JOIN main.{name} t "
            f"ON t.account_id = ? AND {match} WHERE t.added_run != ? AND t.added_run IN "
            f"(SELECT id FROM runs WHERE kind IN ({_IMPORT_KINDS}))",
            (SHARED_TABLES[name], run_id, account, run_id),
        )
    if updated:
        # A correlated row-value assignment over `id IN (...)`: rowid lookups, whatever size
        # the table is (an UPDATE ... FROM let the planner scan the whole table).
        targets = ", ".join((*table.fields, *table.bookkeeping))
        values = ", ".join(
            (
                *(f"s.{column}" for column in table.fields),
                # Values changed without bookkeeping (an operation's write): what the vendor
                # last sent no longer describes the row, so the next sync reads it again.
                *(f"coalesce(s.{column}, 0)" for column in table.bookkeeping),
            )
        )
        gone_reset = ", gone_run = 0" if _has_gone(table) else ""
        conn.execute(
            f"UPDATE main.{name} SET ({targets}, as_of) = (SELECT {values}, "
            f"coalesce(s.as_of, ?) FROM {changes} c CROSS JOIN {stage} s "
            f"ON s.rowid = c.stage_rowid WHERE c.row_id = main.{name}.id){gone_reset} "
            f"WHERE id IN (SELECT row_id FROM {changes})",
            (as_of,),
        )
    for column in table.bookkeeping:
        # Rows that did not change but whose bookkeeping did (e.g. a new fingerprint).
        conn.execute(
            f"UPDATE main.{name} SET {column} = (SELECT s.{column} FROM {stage} s WHERE "
            f"{_key_match(table, 's', 'main.' + name)}) WHERE id IN (SELECT t.id FROM {stage} s "
            f"CROSS JOIN main.{name} t ON t.account_id = ? AND {match} WHERE s.{column} IS NOT "
            f"NULL AND t.{column} IS NOT s.{column} AND coalesce(s.as_of, ?) >= t.as_of "
            f"AND t.id NOT IN (SELECT row_id FROM {changes}))",
            (account, as_of),
        )
    selected = ", ".join(
        (
            *(f"s.{c}" for c in table.columns),
            *(f"coalesce(s.{c}, 0)" for c in table.bookkeeping),
        )
    )
    conn.execute(
        f"INSERT INTO main.{name}(account_id, {columns}, as_of, added_run) "
        f"SELECT ?, {selected}, coalesce(s.as_of, ?), ? "
        f"FROM {stage} s "
        f"WHERE NOT EXISTS (SELECT 1 FROM main.{name} t WHERE t.account_id = ? AND {match})",
        (account, as_of, run_id, account),
    )
    added = conn.execute(f"SELECT count(*) FROM main.{name} WHERE id > ?", (top,)).fetchone()[0]

    gone = 0
    if gone_scope is not None and _has_gone(table):
        scope_sql = "".join(f" AND t.{column} = ?" for column in gone_scope)
        rows = (
            # Only the rows the caller listed as missing (few): their keys lead.
            f"temp.{staging.missing_name} k CROSS JOIN main.{name} t "
            f"ON t.account_id = ? AND {_key_match(table, 't', 'k')}"
            if staging.missing_listed
            else f"main.{name} t WHERE t.account_id = ?"
        )
        conn.execute(
            f"INSERT INTO {changes}(row_id, stage_rowid, gone{', ' if tracked else ''}"
            f"{old_columns}) SELECT t.id, NULL, 1{', ' if tracked else ''}{current} "
            f"FROM {rows}{' WHERE 1' if staging.missing_listed else ''}{scope_sql} "
            f"AND t.gone_run = 0 AND t.id <= ? "
            f"AND NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})",
            (account, *gone_scope.values(), top if gone_upto is None else min(top, gone_upto)),
        )
        state_set = f", {table.state} = '{GONE}'" if table.state else ""
        gone = conn.execute(
            f"UPDATE main.{name} SET gone_run = ?{state_set} "
            f"WHERE id IN (SELECT row_id FROM {changes} WHERE gone = 1)",
            (run_id,),
        ).rowcount

    returned = 0
    if table.state and _has_gone(table) and updated:
        returned = conn.execute(
            f"SELECT count(*) FROM {changes} WHERE gone = 0 AND old_{table.state} = ?", (GONE,)
        ).fetchone()[0]

    if table.state:
        conn.execute(
            f"INSERT INTO state_events(run_id, table_name, row_id, old_state, new_state) "
            f"SELECT ?, ?, c.row_id, c.old_{table.state}, t.{table.state} FROM {changes} c "
            f"CROSS JOIN main.{name} t ON t.id = c.row_id "
            f"WHERE c.old_{table.state} != t.{table.state}",
            (run_id, name),
        )
    _reindex_changed_text(conn, table, changes)
    if updated or gone:
        inventory.follow_changes(conn, name, f"SELECT row_id FROM {changes}")
    _apply_rollups(conn, table, account, changes, top, run_id, held)
    if table.after is not None and (updated or added or gone):
        table.after(conn, account)

    outcome.added = added
    outcome.gone = gone
    outcome.returned = returned
    outcome.changed = updated
    outcome.unchanged = max(0, staged + direct - added - updated) + staging.seen
    if updated + added <= _MAX_CHANGED_IDS:
        outcome.changed_ids = [
            row_id
            for (row_id,) in conn.execute(
                f"SELECT row_id FROM {changes} UNION ALL SELECT id FROM main.{name} WHERE id > ?",
                (top,),
            )
        ]
    conn.execute(f"DELETE FROM {changes}")
    return outcome


def _insert_new(staging: Staging, columns: str, as_of: str, run_id: int, top: int) -> int:
    """`add_new`'s records straight into the table (rows above `top`). Returns how many of
    them the stage does not hold: all (a key held twice once, its later record), or none
    when some key was there after all (in the table, or in the stage too): then nothing is
    inserted here, and they are all staged after what the stage has (the later record of a
    key wins, a held one over a staged one) for the merge."""
    held = staging.held()
    if not held:
        return 0
    conn, table = staging.conn, staging.table
    # Rows go in NEW_ROWS_PER_INSERT to a statement (a third faster than one each), and
    # the values they share are written into it (rather than bound with every row). An
    # unset bookkeeping value is 0, as the merge writes it.
    values = ", ".join(
        (*("?" for _ in table.columns), *("coalesce(?, 0)" for _ in table.bookkeeping))
    )
    row = f"({int(staging.account_id)}, {values}, {sql_text(as_of)}, {int(run_id)})"
    statements: dict[int, str] = {}

    def insert(rows: list[Sequence[Any]]) -> bool:
        """All of `rows` inserted, and none of them also staged."""
        inserted = 0
        for start in range(0, len(rows), NEW_ROWS_PER_INSERT):
            chunk = rows[start : start + NEW_ROWS_PER_INSERT]
            sql = statements.get(len(chunk))
            if sql is None:
                sql = statements[len(chunk)] = (
                    f"INSERT INTO main.{table.name}(account_id, {columns}, as_of, added_run) "
                    f"VALUES {', '.join([row] * len(chunk))} ON CONFLICT DO NOTHING"
                )
            inserted += conn.execute(sql, list(chain.from_iterable(chunk))).rowcount
        # (a staged record whose key was also held would be counted as added and changed)
        return (
            inserted == len(rows)
            and not conn.execute(
                f"SELECT 1 FROM temp.{staging.name} s CROSS JOIN main.{table.name} t "
                f"ON t.account_id = ? AND {_key_match(table, 't', 's')} WHERE t.id > ? LIMIT 1",
                (staging.account_id, top),
            ).fetchone()
        )

    def take_out() -> None:
        # (not a savepoint around the insert: it cost 4% of it) Nothing else has seen these
        # rows: no index, inventory or count holds them yet.
        conn.execute(f"DELETE FROM main.{table.name} WHERE id > ?", (top,))

    if insert(held):
        return len(held)
    take_out()
    # A key sent twice (e.g. an impact.com page that shifted while it was read): once more
    # with each key once, the later record; rather than staging them all (3x slower).
    unique = list(dict(zip(map(staging.key_of, held), held, strict=True)).values())
    if len(unique) < len(held):
        if insert(unique):
            staging.new = unique
            return len(unique)
        take_out()
    staging.add_kept(held)
    return 0


# A row added by an import since removed (its rows handed to later imports, or kept).
REMOVED_RUN = "{column} IN (SELECT id FROM runs WHERE status = 'removed')"
# Runs that bring a file's rows (an import; a merge of another workspace): what can be removed.
_IMPORT_KINDS = "'import', 'merge'"


def _is_an_import(conn: sqlite3.Connection, run_id: int) -> bool:
    found = conn.execute(
        f"SELECT 1 FROM runs WHERE id = ? AND kind IN ({_IMPORT_KINDS})", (run_id,)
    ).fetchone()
    return found is not None


def _has_gone(table: RecordTable) -> bool:
    return table.name in GONE_TABLES


def _was_gone(table: RecordTable, alias: str) -> str:
    return f"{alias}.gone_run != 0" if _has_gone(table) else "0"


def _changes_table(conn: sqlite3.Connection, table: RecordTable) -> str:
    name = f"changes_{table.name}"
    olds = "".join(f", old_{column}" for column in table.tracked)
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name}(row_id INTEGER PRIMARY KEY, stage_rowid INTEGER, "
        f"gone INTEGER NOT NULL{olds})"
    )
    conn.execute(f"DELETE FROM temp.{name}")
    return f"temp.{name}"


def _reindex_changed_text(conn: sqlite3.Connection, table: RecordTable, changes: str) -> None:
    """Rows the trigram index already holds whose searched text changed: swap the entry."""
    searched = table.searched_fields
    if not searched:
        return
    upto = indexed_upto(conn, table.spec)
    if upto == 0:
        return
    fts = table.spec.fts_table
    indexed = ", ".join(table.spec.search_columns)
    old = ", ".join(f"c.old_{c}" if c in searched else f"t.{c}" for c in table.spec.search_columns)
    differs = " OR ".join(f"c.old_{c} IS NOT t.{c}" for c in searched)
    selected = (
        f"FROM {changes} c CROSS JOIN main.{table.name} t ON t.id = c.row_id "
        f"WHERE c.row_id <= ? AND ({differs})"
    )
    conn.execute(
        f"INSERT INTO {fts}({fts}, rowid, {indexed}) SELECT 'delete', c.row_id, {old} {selected}",
        (upto,),
    )
    new = ", ".join(f"t.{c}" for c in table.spec.search_columns)
    conn.execute(f"INSERT INTO {fts}(rowid, {indexed}) SELECT c.row_id, {new} {selected}", (upto,))


def _apply_rollups(
    conn: sqlite3.Connection,
    table: RecordTable,
    account: int,
    changes: str,
    top: int,
    run_id: int,
    held: Sequence[Sequence[Any]] = (),
) -> None:
    """Adjust each parent's counts by what this write did: -1 for each changed row's old
    (parent, state), +1 for its new one, +1 for each added row. One pass over the written
    rows serves every rollup of the table: grouped by all their links, then summed per
    rollup here (the groups are few). `held`: records inserted as the rows just above
    `top` (`Staging.add_new`), grouped from memory rather than read back."""
    if not table.rollups:
        return
    links = list(dict.fromkeys(child for rollup in table.rollups for child, _ in rollup.link))
    names = list(dict.fromkeys(child for rollup in table.rollups for child, _ in rollup.names))
    state = table.state_sql("t")
    old_state = table.state_sql("c", old=True)
    old_links = ", ".join(f"c.old_{child} AS {child}" for child in links)
    new_links = ", ".join(f"t.{child}" for child in links)
    name_values = "".join(f", max(nullif({child}, ''))" for child in names)
    inner_names_old = "".join(f", '' AS {child}" for child in names)
    inner_names_new = "".join(f", t.{child}" for child in names)
    group = ", ".join(links)
    rows = conn.execute(
        f"SELECT {group}, state, sum(d){name_values} FROM ("
        f"SELECT {old_links}, {old_state} AS state, -1 AS d{inner_names_old} "
        f"FROM {changes} c "
        f"UNION ALL SELECT {new_links}, {state} AS state, 1 AS d{inner_names_new} "
        f"FROM {changes} c CROSS JOIN main.{table.name} t ON t.id = c.row_id "
        f"UNION ALL SELECT {new_links}, {state} AS state, 1 AS d{inner_names_new} "
        f"FROM main.{table.name} t WHERE t.id > ?"
        f") GROUP BY {group}, state",
        (top + len(held),),
    ).fetchall()
    if held:
        every_link, every_name = list(range(len(links))), list(range(len(names)))
        rows = [*rows, *_held_groups(table, held, links, names)]
        rows = _regrouped(rows, len(links), every_link, every_name)
    for rollup in table.rollups:
        own = [links.index(child) for child, _ in rollup.link]
        own_names = [names.index(child) for child, _ in rollup.names]
        whole = own == list(range(len(links))) and own_names == list(range(len(names)))
        grouped = rows if whole else _regrouped(rows, len(links), own, own_names)
        _add_to_parents(conn, rollup, account, grouped, len(own), run_id)


def _held_groups(
    table: RecordTable, held: Sequence[Sequence[Any]], links: list[str], names: list[str]
) -> list[tuple[Any, ...]]:
    """Held records (in `columns` order) grouped as `_apply_rollups`' query groups the rows
    above `top`: (links..., state, count, names...), a name '' as NULL. Counted in C: for
    100,000 codes a third of what reading them back and grouping them in SQL costs."""
    position = {column: index for index, column in enumerate(table.columns)}
    # A new row is not gone: its state is its state column's value, or '' without one.
    picked = [*links, *([table.state] if table.state else []), *names]
    columns = (map(itemgetter(position[column]), held) for column in picked)
    counted = Counter(zip(*columns, strict=True))
    stated = 1 if table.state else 0
    groups: list[tuple[Any, ...]] = []
    for values, count in counted.items():
        state = values[len(links)] if stated else ""
        found = (value if value != "" else None for value in values[len(links) + stated :])
        groups.append((*values[: len(links)], state, count, *found))
    return groups


def _regrouped(
    rows: Sequence[Sequence[Any]], link_count: int, own: list[int], own_names: list[int]
) -> list[tuple[Any, ...]]:
    """Grouped rows (links..., state, delta, names...) summed again by some of the links:
    deltas added, each name the greatest set one (as max() in SQL)."""
    summed: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        key = (*(row[i] for i in own), row[link_count])
        found = [row[link_count + 2 + i] for i in own_names]
        entry = summed.get(key)
        if entry is None:
            summed[key] = [row[link_count + 1], *found]
            continue
        entry[0] += row[link_count + 1]
        for position, value in enumerate(found, start=1):
            if value is not None and (entry[position] is None or value > entry[position]):
                entry[position] = value
    return [(*key, *entry) for key, entry in summed.items()]


def _add_to_parents(
    conn: sqlite3.Connection,
    rollup: Rollup,
    account: int,
    rows: Sequence[Sequence[Any]],
    link_count: int,
    run_id: int,
) -> None:
    """rows: (link values..., state, delta, name values...) from a grouped query."""
    by_state = dict(rollup.by_state)
    deltas: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    names: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        link = tuple(row[:link_count])
        if any(value in ("", None) for value in link):
            continue  # no parent (e.g. a promocode assigned to no promotion)
        state, delta = row[link_count], row[link_count + 1]
        counts = deltas[link]
        if state != GONE:
            counts[rollup.total] += delta
        if state in by_state:
            counts[by_state[state]] += delta
        for position, value in enumerate(row[link_count + 2 :]):
            if value:
                names.setdefault(link, [None] * len(rollup.names))[position] = value
    parent_links = [parent for _, parent in rollup.link]
    where = " AND ".join(f"{column} = ?" for column in ("account_id", *parent_links))
    provenance = rollup.parent in _TABLES_WITH_ADDED_RUN
    create = (
        f"INSERT OR IGNORE INTO {rollup.parent}(account_id, {', '.join(parent_links)}"
        f"{', added_run' if provenance else ''}) VALUES (?, {', '.join('?' * link_count)}"
        f"{', ?' if provenance else ''})"
    )
    for link, counts in deltas.items():
        sets = [f"{column} = {column} + ?" for column, delta in counts.items() if delta]
        values: list[Any] = [delta for delta in counts.values() if delta]
        # A removal, or a program whose codes carry no name, has none to set.
        found = names.get(link, [None] * len(rollup.names))
        for (_, parent_column), value in zip(rollup.names, found, strict=True):
            if value:
                sets.append(f"{parent_column} = ?")
                values.append(value)
        if not sets:
            continue
        conn.execute(create, (account, *link, run_id) if provenance else (account, *link))
        conn.execute(
            f"UPDATE {rollup.parent} SET {', '.join(sets)} WHERE {where}",
            (*values, account, *link),
        )


# -- removal -----------------------------------------------------------------------------------


def remove_added_by(
    conn: sqlite3.Connection,
    table: RecordTable,
    run_id: int,
    *,
    account_id: int,
    only_if: str = "",
    orphan_if: str = "",
) -> int:
    """Delete the rows `run_id` added (removing an import), keeping counts, search and
    history exact; `only_if` narrows it (SQL on alias t). With `orphan_if`, rows an import
    removed earlier added go too when both hold (a parent kept for the rows that import
    handed to this one, and nothing left under it). Returns the rows removed."""
    name = table.name
    changes = _changes_table(conn, table)
    tracked = table.tracked
    old_columns = ", ".join(f"old_{column}" for column in tracked)
    current = ", ".join(f"t.{column}" for column in tracked)
    added_by = (
        f"(t.added_run = ? OR ({REMOVED_RUN.format(column='t.added_run')} AND {orphan_if}))"
        if orphan_if
        else "t.added_run = ?"
    )
    conn.execute(
        f"INSERT INTO {changes}(row_id, stage_rowid, gone{', ' if tracked else ''}{old_columns}) "
        f"SELECT t.id, NULL, 1{', ' if tracked else ''}{current} FROM main.{name} t "
        f"WHERE t.account_id = ? AND {added_by}{' AND ' + only_if if only_if else ''}",
        (account_id, run_id),
    )
    removed = delete_rows(conn, table.spec, f"SELECT row_id FROM {changes}")
    # Counts: every removed row takes -1 off its old parent and state.
    for rollup in table.rollups:
        links = [child for child, _ in rollup.link]
        old_state = table.state_sql(changes, old=True)
        rows = conn.execute(
            f"SELECT {', '.join(f'old_{c}' for c in links)}, {old_state}, -count(*)"
            f"{''.join(', NULL' for _ in rollup.names)} FROM {changes} "
            f"GROUP BY {', '.join(f'old_{c}' for c in links)}, {old_state}"
        ).fetchall()
        _add_to_parents(conn, rollup, account_id, rows, len(links), run_id)
    if table.after is not None and removed:
        table.after(conn, account_id)
    conn.execute(f"DELETE FROM {changes}")
    return removed


# Runs that wrote what a vendor answered (not a file's contents).
LIVE_RUN_KINDS = ("sync", "operation", "bulk", "wizard", "upload")


def keep_confirmed(
    conn: sqlite3.Connection, table: RecordTable, run_id: int, *, account_id: int
) -> int:
    """Before the rows `run_id` added are removed (removing an import): the ones the vendor
    has since confirmed stay, as added by the first live run that did. An export imported
    for an account and that account's sync are the same rows: a refresh that saw a code (it
    wrote the code's fingerprint, or it asked for every row and this one was not gone) or an
    operation that changed its values or its state makes it the vendor's, not only the
    file's. Removing the file must not lose it with its history; an Optimove promotion or
    promocode lost that way would not come back, as Optimove has no list to find it in
    again. Returns how many stay."""
    name = table.name
    params = {"account": account_id, "run": run_id, "table": name, "gone": GONE}
    live_kinds = ", ".join(sql_text(kind) for kind in LIVE_RUN_KINDS)
    # The first finished sync and the first finished live run of the account after the
    # import, and the import's own as_of.
    params["sync"], params["live"], params["imported_as_of"] = conn.execute(
        "SELECT min(CASE WHEN kind = 'sync' THEN id END), min(id), "
        "(SELECT as_of FROM import_history WHERE run_id = :run) FROM runs "
        f"WHERE kind IN ({live_kinds}) AND status = 'done' AND account_id = :account "
        "AND id > :run",
        params,
    ).fetchone()
    candidates: list[str] = []
    if params["sync"] is not None:
        if "fingerprint" in table.bookkeeping:
            candidates.append("CASE WHEN t.fingerprint != 0 THEN :sync END")
        if table.reread_by_sync and _has_gone(table):
            candidates.append("CASE WHEN t.gone_run = 0 THEN :sync END")
    # Values a later live write changed (an operation's write also resets the fingerprint):
    # the row's as_of moved past the import's. Put down to the first live run after it.
    if params["live"] is not None and params["imported_as_of"]:
        still_there = " AND t.gone_run = 0" if _has_gone(table) else ""
        candidates.append(f"CASE WHEN t.as_of > :imported_as_of{still_there} THEN :live END")
    live_events = (
        "SELECT {what} FROM state_events e CROSS JOIN runs r ON r.id = e.run_id "
        f"WHERE e.table_name = :table AND e.run_id > :run AND r.kind IN ({live_kinds}) "
        "AND e.new_state != :gone"  # (a sync marking it gone confirms nothing)
    )
    if table.state and conn.execute(live_events.format(what="1") + " LIMIT 1", params).fetchone():
        candidates.append(f"({live_events.format(what='min(e.run_id)')} AND e.row_id = t.id)")
    if not candidates:
        return 0
    # The earliest of them (the aggregate min() passes over the NULLs of those that do not
    # apply, where the scalar one would be NULL).
    confirmed = (
        f"(SELECT min(run) FROM (SELECT {' AS run UNION ALL SELECT '.join(candidates)} AS run))"
    )
    return int(
        conn.execute(
            f"UPDATE main.{name} AS t SET added_run = {confirmed} "
            f"WHERE t.account_id = :account AND t.added_run = :run AND {confirmed} IS NOT NULL",
            params,
        ).rowcount
    )


def delete_rows(conn: sqlite3.Connection, spec: TableSpec, ids_sql: str, *params: Any) -> int:
    """Delete the rows whose ids `ids_sql` selects, with their search index entries, state
    events and inventory rows, in the caller's transaction. If the highest rows go, the
    search index's (and the inventory's) watermark comes down with them, so a new row that
    reuses an id is indexed and found."""
    if spec.fts:
        upto = indexed_upto(conn, spec)
        columns = ", ".join(spec.search_columns)
        conn.execute(
            f"INSERT INTO {spec.fts_table}({spec.fts_table}, rowid, {columns}) "
            f"SELECT 'delete', id, {columns} FROM {spec.name} "
            f"WHERE id <= ? AND id IN ({ids_sql})",
            (upto, *params),
        )
    conn.execute(
        f"DELETE FROM state_events WHERE table_name = ? AND row_id IN ({ids_sql})",
        (spec.name, *params),
    )
    inventory.forget(conn, spec.name, ids_sql, *params)
    forget_shared(conn, spec.name, ids_sql, *params)
    removed = conn.execute(f"DELETE FROM {spec.name} WHERE id IN ({ids_sql})", params).rowcount
    if removed:
        inventory.after_delete(conn, spec.name)
    if spec.fts and removed:
        conn.execute(
            f"UPDATE search_index_state SET indexed_upto = min(indexed_upto, "
            f"(SELECT coalesce(max(id), 0) FROM {spec.name})) WHERE table_name = ?",
            (spec.name,),
        )
    return int(removed)


# -- the tables --------------------------------------------------------------------------------

GONE_TABLES = {
    "optimove_promotions",
    "optimove_promocodes",
    "optimove_code_files",
    "altcraft_codes",
    "impact_codes",
    "optimove_legacy_promotions",
}
_TABLES_WITH_ADDED_RUN = {
    "optimove_promotions",
    "optimove_promocodes",
    "optimove_code_files",
    "altcraft_programs",
    "impact_programs",
}


def _impact_partner_count(conn: sqlite3.Connection, account_id: int) -> None:
    """A program's partners, from the per-partner code counts (one row per partner)."""
    conn.execute(
        "UPDATE impact_programs SET partner_count = (SELECT count(*) FROM "
        "impact_program_partners p WHERE p.account_id = impact_programs.account_id "
        "AND p.campaign_id = impact_programs.campaign_id AND p.codes > 0) "
        "WHERE account_id = ? AND campaign_id IN (SELECT campaign_id FROM "
        "impact_program_partners WHERE account_id = ?)",
        (account_id, account_id),
    )


ALTCRAFT_CODES = RecordTable(
    tables.ALTCRAFT_CODES,
    key=("loyalty_id", "code"),
    fields=(
        "status",
        "created",
        "attached",
        "activated",
        "expired",
        "expire_date",
        "profile_id",
        "database_id",
    ),
    state="status",
    bookkeeping=("fingerprint",),
    rollups=(
        Rollup(
            "altcraft_programs",
            link=(("loyalty_id", "loyalty_id"),),
            total="code_count",
            by_state=(
                (CodeStatus.AVAILABLE.value, "available_count"),
                (CodeStatus.ATTACHED.value, "attached_count"),
                (CodeStatus.ACTIVATED.value, "activated_count"),
                (CodeStatus.EXPIRED.value, "expired_count"),
            ),
        ),
    ),
)

IMPACT_CODES = RecordTable(
    tables.IMPACT_CODES,
    key=("promo_code_id",),
    fields=(
        "code",
        "status",
        "campaign_id",
        "campaign_name",
        "partner_id",
        "partner_name",
        "credit_policy",
        "code_type",
        "created_date",
        "start_date",
        "end_date",
        "deal_id",
        "deal_name",
        "details",
    ),
    state="status",
    bookkeeping=("fingerprint",),
    rollups=(
        Rollup(
            "impact_programs",
            link=(("campaign_id", "campaign_id"),),
            total="code_count",
            by_state=((CodeStatus.ACTIVE.value, "active_count"),),
            names=(("campaign_name", "name"),),
        ),
        Rollup(
            "impact_program_partners",
            link=(("campaign_id", "campaign_id"), ("partner_id", "partner_id")),
            total="codes",
        ),
    ),
    after=_impact_partner_count,
)


def _promotion_allocations(conn: sqlite3.Connection, account_id: int) -> None:
    """A promotion's allocations are its promocodes' (a promocode can move to another
    promotion); summed over promocodes, never over allocations."""
    conn.execute(
        "UPDATE optimove_promotions SET allocation_count = (SELECT coalesce(sum("
        "allocation_count), 0) FROM optimove_promocodes c WHERE c.account_id = "
        "optimove_promotions.account_id AND c.promotion_id = optimove_promotions.promotion_id) "
        "WHERE account_id = ?",
        (account_id,),
    )


OPTIMOVE_PROMOTIONS = RecordTable(
    tables.OPTIMOVE_PROMOTIONS,
    key=("promotion_id",),
    fields=(
        "name",
        "code",
        "description",
        "state",
        "ever_active",
        "created_at",
        "updated_at",
        "details",
    ),
    state="state",
    reread_by_sync=True,
)

OPTIMOVE_PROMOCODES = RecordTable(
    tables.OPTIMOVE_PROMOCODES,
    key=("promocode_id",),
    fields=(
        "promotion_id",
        "code_type",
        "global_code",
        "default_code",
        "allocation_method",
        "hidden",
        "state",
        "campaigns",
        "pool_size",
        "available",
        "details",
    ),
    state="state",
    reread_by_sync=True,
    rollups=(
        Rollup(
            "optimove_promotions",
            link=(("promotion_id", "promotion_id"),),
            total="promocode_count",
        ),
    ),
    after=_promotion_allocations,
)

OPTIMOVE_CODE_FILES = RecordTable(
    tables.OPTIMOVE_CODE_FILES,
    key=("file_id",),
    fields=("file_name", "promocode_id", "code_count", "uploaded_at"),
    rollups=(
        Rollup(
            "optimove_promocodes",
            link=(("promocode_id", "promocode_id"),),
            total="file_count",
        ),
    ),
)

OPTIMOVE_LEGACY_PROMOTIONS = RecordTable(
    tables.OPTIMOVE_LEGACY_PROMOTIONS,
    key=("promo_code",),
    fields=("promotion_name", "state"),
    state="state",
)

OPTIMOVE_LEGACY_CODES = RecordTable(
    tables.OPTIMOVE_LEGACY_CODES,
    key=("promo_code", "action_id", "recipient_group_id", "for_date"),
    fields=("target_group_id", "campaign_id"),
)

RECORD_TABLES: dict[str, RecordTable] = {
    table.name: table
    for table in (
        ALTCRAFT_CODES,
        IMPACT_CODES,
        OPTIMOVE_PROMOTIONS,
        OPTIMOVE_PROMOCODES,
        OPTIMOVE_CODE_FILES,
        OPTIMOVE_LEGACY_PROMOTIONS,
        OPTIMOVE_LEGACY_CODES,
    )
}
