"""All codes: every code of every vendor and account in one table, `code_inventory`.

A view over the vendor tables (UNION ALL) could not sort three million codes by an index, so
the inventory is a table of its own, derived from them and kept exact:

- rows the vendor tables gain are *fed* in by the background index builder (`feed`), in
  chunks, by watermark (`inventory_state.fed_upto` per vendor table), like the search index:
  a million-row import pays nothing for it while it runs;
- rows that change (a sync, an operation, a merge) or go (an import removed) are followed by
  the one writer in the same transaction (`follow_changes`, `forget`), at a cost of O(rows
  written); rows above the watermark are left to the feed, which will read them as they are.

`code_inventory_counts` holds the codes per account, vendor and status, moved by every write
here, so the counts at the top of All codes never need a pass over the codes. Each inventory
row says where it comes from (`source`, `source_id`), so a details pane can show the vendor's
row, and its status comes from `domain.status.STATUS_RULES` (the one mapping).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from promodesk.domain.status import FALLBACK_STATUS, Status, StatusRule, rules_for
from promodesk.domain.vendors import Vendor
from promodesk.store.code_keys import collision_key_sql, register_key_functions
from promodesk.store.db import sql_text

INVENTORY = "code_inventory"
COLUMNS: tuple[str, ...] = (
    "source",
    "source_id",
    "account_id",
    "vendor",
    "code",
    "code_key",
    "status",
    "vendor_state",
    "program",
    "pool",
    "holder",
    "given_at",
    "used_at",
    "expires_at",
)
# What a change of a vendor row can change in its inventory row.
_FOLLOWED = tuple(column for column in COLUMNS if column not in ("source", "source_id"))
# Rows fed per transaction: short enough that a concurrent import waits little.
FEED_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class InventorySource:
    """A kind of code in a vendor table, and how its row reads as an inventory row (SQL over
    the alias `s`)."""

    number: int  # code_inventory.source
    vendor: Vendor
    table: str
    code: str  # the code column
    state: str  # the vendor's state (an expression)
    what: str  # what this kind of code is, in words
    program: str = "''"
    pool: str = "''"
    holder: str = "''"
    given_at: str = "''"
    used_at: str = "''"
    expires_at: str = "''"
    where: str = "1"  # which of the table's rows hold such a code
    search_index: str = ""  # the table's trigram-indexed code column, if it has one

    @property
    def rules(self) -> list[StatusRule]:
        return rules_for(self.vendor, self.table)

    def status_sql(self) -> str:
        cases = " ".join(
            f"WHEN {sql_text(rule.state)} THEN {sql_text(rule.status.value)}" for rule in self.rules
        )
        return f"CASE {self.state} {cases} ELSE {sql_text(FALLBACK_STATUS.value)} END"

    def select(self, condition: str) -> str:
        """This source's inventory rows for the vendor rows `condition` picks (SQL on s)."""
        values = (
            str(self.number),
            "s.id",
            "s.account_id",
            sql_text(self.vendor.value),
            f"s.{self.code}",
            collision_key_sql(f"s.{self.code}"),
            self.status_sql(),
            self.state,
            self.program,
            self.pool,
            self.holder,
            self.given_at,
            self.used_at,
            self.expires_at,
        )
        return (
            f"SELECT {', '.join(values)} FROM {self.table} s WHERE ({condition}) AND ({self.where})"
        )


SOURCES: tuple[InventorySource, ...] = (
    InventorySource(
        1,
        Vendor.OPTIMOVE,
        "optimove_allocations",
        code="unique_code",
        state="'allocated'",
        what="unique code allocated to a customer",
        program="s.promotion_id",
        pool="s.promocode_id",
        holder="s.customer_id",
        given_at="s.allocated_at",
        search_index="unique_code",
    ),
    InventorySource(
        2,
        Vendor.OPTIMOVE,
        "optimove_pool_codes",
        code="code",
        state="'not uploaded'",
        what="code in a local unique-code file",
        pool="s.file_id",
        search_index="code",
    ),
    InventorySource(
        3,
        Vendor.OPTIMOVE,
        "optimove_promocodes",
        code="global_code",
        state="s.state",
        what="global code of a promocode",
        program="s.promotion_id",
        pool="s.promocode_id",
        where="s.global_code <> ''",
    ),
    InventorySource(
        4,
        Vendor.OPTIMOVE,
        "optimove_promocodes",
        code="default_code",
        state="s.state",
        what="fallback code of a promocode (given when its pool is empty)",
        program="s.promotion_id",
        pool="s.promocode_id",
        where="s.default_code <> ''",
    ),
    InventorySource(
        5,
        Vendor.OPTIMOVE,
        "optimove_legacy_promotions",
        code="promo_code",
        state="s.state",
        what="promo code of a legacy promotion",
        program="s.promotion_name",
    ),
    InventorySource(
        6,
        Vendor.ALTCRAFT,
        "altcraft_codes",
        code="code",
        state="s.status",
        what="code of a loyalty program",
        program="s.loyalty_id",
        pool="s.loyalty_id",
        holder="s.profile_id",
        given_at="s.attached",
        used_at="s.activated",
        expires_at="s.expire_date",
        search_index="code",
    ),
    InventorySource(
        7,
        Vendor.IMPACT,
        "impact_codes",
        code="code",
        state="s.status",
        what="partner promo code",
        program="coalesce(nullif(s.campaign_name, ''), s.campaign_id)",
        pool="s.campaign_id",
        holder="coalesce(nullif(s.partner_name, ''), s.partner_id)",
        given_at="s.created_date",
        expires_at="s.end_date",
        search_index="code",
    ),
)
SOURCES_BY_NUMBER = {source.number: source for source in SOURCES}
SOURCE_TABLES: tuple[str, ...] = tuple(dict.fromkeys(source.table for source in SOURCES))


def sources_of(table: str) -> list[InventorySource]:
    return [source for source in SOURCES if source.table == table]


def _numbers(table: str) -> str:
    return ", ".join(str(source.number) for source in sources_of(table))


def fed_upto(conn: sqlite3.Connection, table: str) -> int:
    row = conn.execute(
        "SELECT fed_upto FROM inventory_state WHERE table_name = ?", (table,)
    ).fetchone()
    return int(row[0]) if row else 0


def _set_fed_upto(conn: sqlite3.Connection, table: str, upto: int) -> None:
    conn.execute(
        "INSERT INTO inventory_state(table_name, fed_upto) VALUES (?, ?) "
        "ON CONFLICT(table_name) DO UPDATE SET fed_upto = excluded.fed_upto",
        (table, upto),
    )


# -- counts ------------------------------------------------------------------------------------


def _move_counts(conn: sqlite3.Connection, grouped_sql: str, sign: int, *params: Any) -> None:
    """Add (sign 1) or take off (-1) the codes `grouped_sql` counts: rows of (account_id,
    vendor, status, count)."""
    rows = [
        (account_id, vendor, status, sign * count)
        for account_id, vendor, status, count in conn.execute(grouped_sql, params)
    ]
    if not rows:
        return
    conn.executemany(
        "INSERT INTO code_inventory_counts(account_id, vendor, status, codes) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(account_id, vendor, status) DO UPDATE SET codes = codes + excluded.codes",
        rows,
    )
    conn.execute("DELETE FROM code_inventory_counts WHERE codes <= 0")


def _grouped(where: str) -> str:
    return (
        f"SELECT account_id, vendor, status, count(*) FROM {INVENTORY} WHERE {where} "
        # Unary +: grouped by sorting the few rows found, never by walking an index of the
        # whole inventory in group order (SQLite's pick for `id > ?`: a full scan per write).
        "GROUP BY +account_id, +vendor, +status"
    )


# -- the feed (background) ---------------------------------------------------------------------


@dataclass(frozen=True)
class FeedWork:
    table: str
    fed_upto: int
    top: int  # the table's highest id now

    @property
    def rows(self) -> int:
        return self.top - self.fed_upto


def pending_feed(conn: sqlite3.Connection) -> list[FeedWork]:
    """Vendor tables with rows the inventory has not taken in yet."""
    work = []
    for table in SOURCE_TABLES:
        top = int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])
        upto = fed_upto(conn, table)
        if top > upto:
            work.append(FeedWork(table, upto, top))
    return work


def inventory_rows(conn: sqlite3.Connection) -> int:
    return int(
        conn.execute("SELECT coalesce(sum(codes), 0) FROM code_inventory_counts").fetchone()[0]
    )


def feed_chunk(conn: sqlite3.Connection, table: str, upto: int, top: int) -> int:
    """Take in rows (upto, upto + FEED_CHUNK_ROWS] of `table` (inside the caller's
    transaction); returns the new watermark."""
    register_key_functions(conn)
    last = min(top, upto + FEED_CHUNK_ROWS)
    before = int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {INVENTORY}").fetchone()[0])
    for source in sources_of(table):
        conn.execute(
            f"INSERT INTO {INVENTORY}({', '.join(COLUMNS)}) "
            f"{source.select('s.id > ? AND s.id <= ?')} ORDER BY s.id",
            (upto, last),
        )
    _move_counts(conn, _grouped("id > ?"), 1, before)
    _set_fed_upto(conn, table, last)
    return last


# -- following the one writer (same transaction) ------------------------------------------------


def follow_changes(conn: sqlite3.Connection, table: str, ids_sql: str, *params: Any) -> None:
    """Rows of `table` (ids from `ids_sql`) whose values changed: their inventory rows are
    made what the vendor rows say now (updated, added, or removed when a row no longer holds
    a code). Rows above the watermark are the feed's."""
    if table not in SOURCE_TABLES:
        return
    upto = fed_upto(conn, table)
    if upto == 0:
        return
    register_key_functions(conn)
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS inventory_fresh AS SELECT {', '.join(COLUMNS)} "
        f"FROM main.{INVENTORY} WHERE 0"
    )
    conn.execute("DELETE FROM temp.inventory_fresh")
    conn.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS temp.ux_inventory_fresh "
        "ON inventory_fresh(source, source_id)"
    )
    for source in sources_of(table):
        rows = source.select(f"s.id IN ({ids_sql}) AND s.id <= ?")
        conn.execute(f"INSERT INTO temp.inventory_fresh {rows}", (*params, upto))
    old = f"source IN ({_numbers(table)}) AND source_id <= {int(upto)} AND source_id IN ({ids_sql})"
    fresh = ", ".join(f"f.{column}" for column in COLUMNS)
    current = ", ".join(f"i.{column}" for column in COLUMNS)
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS inventory_stale(id INTEGER PRIMARY KEY, "
        "source INTEGER, source_id INTEGER, fresh INTEGER)"
    )
    conn.execute("DELETE FROM temp.inventory_stale")
    # The inventory rows in question that no longer say what the vendor row says, and
    # whether the vendor row still holds a code (fresh) or no longer does.
    conn.execute(
        "INSERT INTO temp.inventory_stale(id, source, source_id, fresh) SELECT i.id, i.source, "
        "i.source_id, EXISTS (SELECT 1 FROM temp.inventory_fresh f WHERE f.source = i.source "
        f"AND f.source_id = i.source_id) FROM main.{INVENTORY} i WHERE {old} AND NOT EXISTS "
        "(SELECT 1 FROM temp.inventory_fresh f WHERE f.source = i.source "
        f"AND f.source_id = i.source_id AND ({fresh}) IS ({current}))",
        params,
    )
    stale = "id IN (SELECT id FROM temp.inventory_stale)"
    _move_counts(conn, _grouped(stale), -1)
    conn.execute(
        f"DELETE FROM main.{INVENTORY} WHERE id IN (SELECT id FROM temp.inventory_stale "
        "WHERE fresh = 0)"
    )
    # Changed rows are updated in place, setting only the columns that differ somewhere: an
    # update rewrites the index entries of the columns it sets, and the inventory has an
    # index for most columns (a state change touches the status indexes, not fifteen).
    # CROSS JOIN keeps this order (the few stale rows first): left to itself, SQLite scans
    # the whole inventory and looks each row up among the stale ones.
    pairs = (
        "FROM temp.inventory_stale s CROSS JOIN temp.inventory_fresh f CROSS JOIN "
        f"main.{INVENTORY} i WHERE s.fresh = 1 AND f.source = s.source "
        "AND f.source_id = s.source_id AND i.id = s.id"
    )
    differing = conn.execute(
        f"SELECT {', '.join(f'max(i.{c} IS NOT f.{c})' for c in _FOLLOWED)} {pairs}"
    ).fetchone()
    columns = [column for column, differs in zip(_FOLLOWED, differing, strict=True) if differs]
    if columns:
        conn.execute(
            f"UPDATE main.{INVENTORY} SET ({', '.join(columns)}) = (SELECT "
            f"{', '.join(f'f.{c}' for c in columns)} FROM temp.inventory_fresh f "
            f"WHERE f.source = {INVENTORY}.source AND f.source_id = {INVENTORY}.source_id) "
            f"WHERE id IN (SELECT s.id {pairs})"
        )
    before = int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {INVENTORY}").fetchone()[0])
    conn.execute(
        f"INSERT INTO main.{INVENTORY}({', '.join(COLUMNS)}) SELECT {fresh} "
        f"FROM temp.inventory_fresh f WHERE NOT EXISTS (SELECT 1 FROM main.{INVENTORY} i "
        "WHERE i.source = f.source AND i.source_id = f.source_id)"
    )
    # The changed rows as they are now, and the new ones.
    _move_counts(conn, _grouped(stale), 1)
    _move_counts(conn, _grouped("id > ?"), 1, before)


def forget(conn: sqlite3.Connection, table: str, ids_sql: str, *params: Any) -> None:
    """Before rows of `table` are deleted: their inventory rows go (with their counts)."""
    if table not in SOURCE_TABLES:
        return
    rows = f"source IN ({_numbers(table)}) AND source_id IN ({ids_sql})"
    _move_counts(conn, _grouped(rows), -1, *params)
    conn.execute(f"DELETE FROM {INVENTORY} WHERE {rows}", params)


def after_delete(conn: sqlite3.Connection, table: str) -> None:
    """After rows of `table` were deleted: if the highest went, the watermark comes down with
    them, so rows that reuse their ids are fed in."""
    if table in SOURCE_TABLES:
        conn.execute(
            f"UPDATE inventory_state SET fed_upto = min(fed_upto, (SELECT coalesce(max(id), 0) "
            f"FROM {table})) WHERE table_name = ?",
            (table,),
        )


def rebuild(conn: sqlite3.Connection) -> None:
    """Empty the inventory (inside the caller's transaction): the feed takes everything in
    again. For repairs and tests; nothing needs it in normal use."""
    conn.execute(f"DELETE FROM {INVENTORY}")
    conn.execute("DELETE FROM code_inventory_counts")
    conn.execute("DELETE FROM inventory_state")


def catch_up(conn: sqlite3.Connection, *, on_chunk: Callable[[int], None] | None = None) -> int:
    """Feed everything pending, a transaction per chunk; returns the rows taken in. The index
    builder does this in the background; reports call it so their answer is complete."""
    from promodesk.store.db import transaction

    fed = 0
    for work in pending_feed(conn):
        upto = work.fed_upto
        while upto < work.top:
            with transaction(conn):
                done = feed_chunk(conn, work.table, upto, work.top)
            fed += done - upto
            upto = done
            if on_chunk is not None:
                on_chunk(fed)
    return fed


# -- reading -----------------------------------------------------------------------------------


_STATUSES = {status.value for status in Status}


@dataclass(frozen=True)
class StatusCount:
    account_id: int
    vendor: Vendor
    status: Status
    codes: int


def status_counts(conn: sqlite3.Connection) -> list[StatusCount]:
    """Codes per account, vendor and status (kept counts: no pass over the codes)."""
    return [
        StatusCount(int(account_id), Vendor(vendor), Status(status), int(codes))
        for account_id, vendor, status, codes in conn.execute(
            "SELECT account_id, vendor, status, codes FROM code_inventory_counts "
            "ORDER BY account_id, vendor, status"
        )
        if status in _STATUSES
    ]


def pending_rows(conn: sqlite3.Connection) -> int:
    """Vendor rows not in the inventory yet (0: it is complete)."""
    return sum(work.rows for work in pending_feed(conn))


def recount(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """The counts as counting every row gives them (tests check the kept ones against it)."""
    return conn.execute(
        f"SELECT account_id, vendor, status, count(*) FROM {INVENTORY} "
        "GROUP BY account_id, vendor, status ORDER BY 1, 2, 3"
    ).fetchall()


def expected_rows(conn: sqlite3.Connection) -> Iterable[tuple[Any, ...]]:
    """The inventory as the vendor tables say it should be, computed from scratch (for tests
    and repairs: the kept table must always equal it)."""
    register_key_functions(conn)
    union = " UNION ALL ".join(source.select("1") for source in SOURCES)
    return conn.execute(f"SELECT * FROM ({union}) ORDER BY 1, 2").fetchall()
