"""Collisions: one code live in two places (two vendors, two accounts, or two pools).

Two codes are the same code to a customer when their collision keys (`domain.codes
.collision_key`: case, look-alike characters such as 0/O and 1/l/I, invisible characters and
compatibility forms all normalised) are equal; the inventory keeps that key, indexed, for
every code. A code is live while it is available, allocated or used (not expired, hidden,
inactive or gone); codes in local files that are not uploaded are live nowhere yet (the code
file wizard checks those against the live ones with `places_of`).

The report (`find_collisions`) first finds the keys that occur more than once, walking only
the key index (no row is read), then reads the rows of those keys; the answer, one row per
place of each colliding code, goes into `temp.collisions` (spec `COLLISIONS`).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from promodesk.domain.codes import collision_key, fold_code
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.status import Status
from promodesk.domain.vendors import Vendor
from promodesk.store.tables import Column, TableSpec

RESULT = "temp.collisions"
LIVE: tuple[str, ...] = tuple(status.value for status in Status if status.live)
_LOCAL_FILES = 2  # inventory source of codes in local files (not uploaded)


def _live(alias: str) -> str:
    return (
        f"{alias}.status IN ({', '.join(repr(s) for s in LIVE)}) "
        f"AND {alias}.source <> {_LOCAL_FILES}"
    )


_LIVE_SQL = _live("i")


def live_sql() -> str:
    """SQL over the inventory's alias `i`: the code is live (see the module's docstring)."""
    return _LIVE_SQL


TWO_VENDORS = "two vendors"
TWO_ACCOUNTS = "two accounts"
TWO_POOLS = "two pools"

COLLISIONS = TableSpec(
    name=RESULT,
    columns=(
        Column("id", "#", "int", visible=False),
        Column("code_key", "Same code"),
        Column("code", "Code"),
        Column("collision", "Live at", sortable=False),
        Column("alike", "How alike", sortable=False),
        Column("vendor", "Vendor", sortable=False),
        Column("account_id", "Source", "int", sortable=False),
        Column("program", "Promotion / program", sortable=False),
        Column("pool", "Pool", sortable=False),
        Column("statuses", "Status", sortable=False),
        Column("codes", "Codes", "count", sortable=False),
    ),
    search_columns=("code", "code_key"),
    filter_columns=("collision", "vendor", "account_id"),
    default_sort="code_key",
    key_columns=("code",),
)


@dataclass(frozen=True)
class CollisionCount:
    collision: str  # TWO_VENDORS / TWO_ACCOUNTS / TWO_POOLS
    codes: int  # colliding codes (keys)


@dataclass(frozen=True)
class Place:
    """Where a code of a batch is live (for the code file wizard and post-sync warnings)."""

    key: int  # the caller's key for the code it asked about
    code: str  # as the caller gave it
    live_code: str  # as it is live there
    vendor: Vendor
    account_id: int
    pool: str
    program: str
    status: Status

    @property
    def alike(self) -> str:
        return how_alike(self.code, self.live_code)


def how_alike(one: str, other: str) -> str:
    if one == other:
        return "the same code"
    if fold_code(one) == fold_code(other):
        return "differs only in upper/lower case"
    return "looks the same (0/O, 1/l/I, look-alike letters or invisible characters)"


def find_collisions(
    conn: sqlite3.Connection,
    *,
    account_id: int | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> list[CollisionCount]:
    """Fill `temp.collisions` with every live code that is live in another place too (only
    those involving `account_id`, when given: the warning after that account's sync), and
    count them by kind. Reads the inventory (let it catch up first for a complete answer)."""
    token = cancel or CancelToken()
    unregister = token.on_cancel(conn.interrupt)
    try:
        progress(Progress(0, 3, "Looking for codes that occur twice"))
        for table in ("coll_keys", "coll_rows"):
            conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        if account_id is None:
            # Only the key index is walked: no row is read for the codes that occur once.
            conn.execute(
                "CREATE TABLE temp.coll_keys AS SELECT code_key FROM main.code_inventory "
                "GROUP BY code_key HAVING count(*) > 1"
            )
        else:
            # Only the account's codes that are live in another place too: after a sync of
            # 100,000 new codes, listing them all and dropping the lone ones in Python held
            # the GIL long enough to stall the window (bench/live_window.py). Without the key
            # index each probe would scan the inventory: then all the account's keys, as before.
            keyed = conn.execute(
                "SELECT 1 FROM main.sqlite_master WHERE name = 'ix_code_inventory__code_key'"
            ).fetchone()
            elsewhere = (
                "AND EXISTS (SELECT 1 FROM main.code_inventory o WHERE o.code_key = i.code_key "
                f"AND {_live('o')} AND (o.vendor, o.account_id, o.pool) "
                "!= (i.vendor, i.account_id, i.pool))"
                if keyed
                else ""
            )
            conn.execute(
                "CREATE TABLE temp.coll_keys AS SELECT DISTINCT i.code_key FROM "
                f"main.code_inventory i WHERE i.account_id = ? AND {_LIVE_SQL} {elsewhere}",
                (account_id,),
            )
        token.raise_if_cancelled()
        progress(Progress(1, 3, "Reading where they are"))
        conn.execute(
            "CREATE TABLE temp.coll_rows AS SELECT i.code_key, i.code, i.vendor, i.account_id, "
            "i.pool, i.program, i.status FROM temp.coll_keys k CROSS JOIN main.code_inventory i "
            f"ON i.code_key = k.code_key WHERE {_LIVE_SQL}"
        )
        token.raise_if_cancelled()
        progress(Progress(2, 3, "Listing collisions"))
        _fill_result(conn)
    except sqlite3.OperationalError:
        token.raise_if_cancelled()
        raise
    finally:
        unregister()
    progress(Progress(3, 3, "Collisions listed"))
    return [
        CollisionCount(collision, int(count))
        for collision, count in conn.execute(
            f"SELECT collision, count(DISTINCT code_key) FROM {RESULT} GROUP BY 1 ORDER BY 1"
        )
    ]


def _fill_result(conn: sqlite3.Connection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {RESULT}")
    conn.execute(
        f"CREATE TABLE {RESULT} (id INTEGER PRIMARY KEY, code_key TEXT NOT NULL, "
        "code TEXT NOT NULL, collision TEXT NOT NULL, alike TEXT NOT NULL, vendor TEXT NOT NULL, "
        "account_id INTEGER NOT NULL, program TEXT NOT NULL, pool TEXT NOT NULL, "
        "statuses TEXT NOT NULL, codes INTEGER NOT NULL)"
    )
    # One row per place of each key that is live in more than one place.
    places = conn.execute(
        "SELECT code_key, vendor, account_id, pool, min(code), max(program), "
        "group_concat(DISTINCT status), count(*) FROM temp.coll_rows "
        "GROUP BY code_key, vendor, account_id, pool ORDER BY code_key, vendor, account_id, pool"
    )
    rows: list[tuple[Any, ...]] = []
    for key, group in itertools.groupby(places, key=lambda row: row[0]):
        found = list(group)
        if len(found) < 2:
            continue
        if len({row[1] for row in found}) > 1:
            collision = TWO_VENDORS
        elif len({row[2] for row in found}) > 1:
            collision = TWO_ACCOUNTS
        else:
            collision = TWO_POOLS
        first = found[0][4]
        for _, vendor, account, pool, code, program, statuses, count in found:
            rows.append(
                (
                    key,
                    code,
                    collision,
                    how_alike(first, code),
                    vendor,
                    account,
                    program,
                    pool,
                    statuses,
                    count,
                )
            )
        if len(rows) >= 5_000:
            _write(conn, rows)
            rows = []
    _write(conn, rows)
    conn.execute(f"CREATE INDEX temp.ix_collisions__code_key ON {RESULT.split('.')[1]}(code_key)")


def _write(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.executemany(
        f"INSERT INTO {RESULT}(code_key, code, collision, alike, vendor, account_id, program, "
        "pool, statuses, codes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


EXPORT_HEADER = (
    "same code",
    "code",
    "live at",
    "how alike",
    "vendor",
    "source",
    "promotion or program",
    "pool",
    "status",
    "codes",
)


def collision_rows(conn: sqlite3.Connection, *, batch: int = 5_000) -> Iterator[tuple[Any, ...]]:
    """The listed places (after `find_collisions`), the source as the account's name."""
    cursor = conn.execute(
        f"SELECT c.code_key, c.code, c.collision, c.alike, c.vendor, coalesce(a.name, ''), "
        f"c.program, c.pool, c.statuses, c.codes FROM {RESULT} c "
        "LEFT JOIN main.accounts a ON a.id = c.account_id ORDER BY c.code_key, c.id"
    )
    while rows := cursor.fetchmany(batch):
        yield from rows


_probe_numbers = itertools.count(1)


def places_of(
    conn: sqlite3.Connection, codes: Iterable[tuple[int, str]], *, batch: int = 50_000
) -> Iterator[Place]:
    """Where each of a batch of codes ((key, code) pairs: a code file, a sync's new codes) is
    live already, look-alikes included; ordered by key. Through the inventory's key index,
    one look-up per code; the batch lives in `conn`'s TEMP database (read-only is fine)."""
    table = f"temp.collision_probe_{next(_probe_numbers)}"
    conn.execute(f"CREATE TABLE {table} (key INTEGER PRIMARY KEY, code TEXT, code_key TEXT)")
    try:
        iterator = iter(codes)
        while chunk := list(itertools.islice(iterator, batch)):
            conn.execute("BEGIN")
            try:
                conn.executemany(
                    f"INSERT INTO {table}(key, code, code_key) VALUES (?, ?, ?)",
                    ((key, code, collision_key(code)) for key, code in chunk),
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        cursor = conn.execute(
            f"SELECT p.key, p.code, i.code, i.vendor, i.account_id, i.pool, i.program, i.status "
            f"FROM {table} p CROSS JOIN main.code_inventory i ON i.code_key = p.code_key "
            f"WHERE {_LIVE_SQL} ORDER BY p.key, i.vendor, i.account_id, i.pool"
        )
        last_key: int | None = None
        seen: set[tuple[Any, ...]] = set()
        for key, code, live, vendor, account, pool, program, status in cursor:
            if key != last_key:
                last_key, seen = key, set()
            if (vendor, account, pool) in seen:
                continue  # (a fallback code allocated a thousand times is one place)
            seen.add((vendor, account, pool))
            yield Place(key, code, live, Vendor(vendor), account, pool, program, Status(status))
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
