"""Which of a batch of codes the workspace already knows, and where: any vendor, any account.

The batch goes into a TEMP table (a private temporary file, not the workspace) with an index
on the folded code; then each code table of the workspace is scanned once and every row looked
up in that index. The code columns have no case-insensitive index (the schema indexes them for
sorting and dedupe keys, case-sensitively), so a scan is the only way to match `summer10`
against `SUMMER10`, and one scan per table is O(rows x log batch) whatever the batch size:
checking a million codes against a million-row workspace is one pass, not a million queries.

Codes are folded like `domain.codes.fold_code` everywhere: SQLite's lower() for ASCII codes
(in C), the same Python function for the others.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from promodesk.domain.codes import fold_code
from promodesk.domain.vendors import Vendor

_FOLD_FUNCTION = "promodesk_fold"
_ADD_BATCH = 50_000
_FETCH_BATCH = 2_000
_probe_numbers = itertools.count(1)


def folded_sql(expression: str) -> str:
    """`fold_code(expression)` in SQL: lower() in C unless the text has a non-ASCII character
    (more bytes than characters in UTF-8; cheaper than any pattern match)."""
    return (
        f"CASE WHEN length({expression}) <> length(CAST({expression} AS BLOB)) "
        f"THEN {_FOLD_FUNCTION}({expression}) ELSE lower({expression}) END"
    )


@dataclass(frozen=True, slots=True)
class KnownCode:
    key: int  # the caller's key for the code it asked about
    code: str  # the code as the caller gave it
    vendor: Vendor
    account: str  # the workspace source's name ("Imported files", an account's name)
    place: str  # e.g. "code file spring.csv of promocode pc-1"

    @property
    def where(self) -> str:
        return f"{self.vendor.display_name} · {self.account} · {self.place}"


@dataclass(frozen=True)
class _Place:
    """A table that holds codes, and how to say where a code sits in it."""

    table: str
    alias: str
    column: str  # the code column
    place: str  # SQL text expression over the alias
    joins: str = ""
    where: str = ""
    # One code may be allocated many times (a default code is): once per place is enough.
    distinct: bool = False

    def select(self, probe: str, columns: set[str]) -> str:
        a = self.alias
        place = self.place
        if "gone_run" in columns:  # (workspace format 2) rows the vendor no longer has
            place += (
                f" || CASE WHEN {a}.gone_run <> 0 THEN ' (no longer at the vendor)' ELSE '' END"
            )
        where = f"WHERE {self.where}" if self.where else ""
        return (
            f"SELECT {'DISTINCT ' if self.distinct else ''}t.key, t.code, acc.vendor, acc.name, "
            f"{place} FROM {self.table} {a} CROSS JOIN {probe} t "
            f"ON t.fold = {folded_sql(f'{a}.{self.column}')} "
            f"JOIN accounts acc ON acc.id = {a}.account_id {self.joins} {where}"
        )


# Every place a code can live (CROSS JOIN keeps the code table outside: one scan of it, an
# index look-up in the batch per row).
_PLACES = (
    _Place(
        "optimove_pool_codes",
        "p",
        "code",
        "'code file ' || coalesce(nullif(f.file_name, ''), p.file_id) || CASE WHEN "
        "coalesce(f.promocode_id, '') = '' THEN '' ELSE ' of promocode ' || f.promocode_id END",
        joins="LEFT JOIN optimove_code_files f ON f.account_id = p.account_id "
        "AND f.file_id = p.file_id",
    ),
    _Place(
        "optimove_allocations",
        "al",
        "unique_code",
        "'allocated in promocode ' || al.promocode_id",
        distinct=True,
    ),
    _Place(
        "optimove_promocodes",
        "pc",
        "global_code",
        "'global code of promocode ' || pc.promocode_id",
        where="pc.global_code <> ''",
    ),
    _Place(
        "optimove_promocodes",
        "pc",
        "default_code",
        "'default code of promocode ' || pc.promocode_id",
        where="pc.default_code <> ''",
    ),
    _Place(
        "optimove_legacy_promotions",
        "lp",
        "promo_code",
        "'legacy promotion ' || coalesce(nullif(lp.promotion_name, ''), lp.promo_code)",
    ),
    _Place(
        "optimove_legacy_codes",
        "lc",
        "promo_code",
        "'legacy promo code of campaign action ' || lc.action_id",
        distinct=True,
    ),
    _Place("altcraft_codes", "c", "code", "'loyalty program ' || c.loyalty_id"),
    _Place(
        "impact_codes",
        "i",
        "code",
        "'program ' || coalesce(nullif(i.campaign_name, ''), i.campaign_id) || CASE WHEN "
        "i.partner_name <> '' THEN ', partner ' || i.partner_name ELSE '' END",
    ),
)


class KnownCodesProbe:
    """A batch of codes to look up in one workspace connection (read-only is fine: the batch
    lives in the connection's TEMP database). Use from the connection's thread, outside a
    transaction (each `add` is one); `close()` drops the batch."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        conn.create_function(_FOLD_FUNCTION, 1, fold_code, deterministic=True)
        self.table = f"temp.known_codes_probe_{next(_probe_numbers)}"
        self._indexed = False
        conn.execute(
            f"CREATE TABLE {self.table} (key INTEGER PRIMARY KEY, code TEXT NOT NULL, "
            "fold TEXT NOT NULL)"
        )

    def add(self, entries: Iterable[tuple[int, str]]) -> None:
        """(key, code) pairs; keys are the caller's (ascending keys load fastest)."""
        iterator = iter(entries)
        statement = f"INSERT INTO {self.table} (key, code, fold) VALUES (?, ?, ?)"
        while batch := list(itertools.islice(iterator, _ADD_BATCH)):
            keys, codes = zip(*batch, strict=True)
            self.conn.execute("BEGIN")
            try:  # folded in C (fold_code is str.lower), not per row in SQL
                self.conn.executemany(
                    statement, zip(keys, codes, map(fold_code, codes), strict=True)
                )
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def matches(self) -> Iterator[KnownCode]:
        """Every place each code is known, ordered by key (a code may be in several places)."""
        if not self._indexed:
            name = self.table.split(".", 1)[1]
            self.conn.execute(f"CREATE INDEX temp.{name}_fold ON {name}(fold)")
            self._indexed = True
        # Tables of workspace format 2 (legacy codes, gone marks) are used when the file has
        # them: a read-only connection does not migrate an older file.
        tables = {
            name: {
                column for (_, column, *_rest) in self.conn.execute(f"PRAGMA table_info({name})")
            }
            for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        selects = [
            place.select(self.table, tables[place.table])
            for place in _PLACES
            if place.table in tables
        ]
        if self._inventory_indexed():
            selects.append(self._look_alikes())
        union = " UNION ALL ".join(selects)
        cursor = self.conn.execute(f"SELECT * FROM ({union}) ORDER BY 1")
        while rows := cursor.fetchmany(_FETCH_BATCH):
            for key, code, vendor, account, place in rows:
                yield KnownCode(key, code, Vendor(vendor), account, place)

    def _inventory_indexed(self) -> bool:
        return (
            self.conn.execute(
                "SELECT 1 FROM main.sqlite_master WHERE name = 'ix_code_inventory__code_key'"
            ).fetchone()
            is not None
        )

    def _look_alikes(self) -> str:
        """Live codes that are the same code to a customer but differ in more than case
        (0/O, 1/l/I, look-alike letters, invisible characters: `domain.codes.collision_key`),
        through the inventory's key index, one look-up per code of the batch. (Those that
        differ in case only are found by the places above.)"""
        from promodesk.store.code_keys import collision_key_sql, register_key_functions
        from promodesk.store.collisions import live_sql

        register_key_functions(self.conn)
        pool = (
            "CASE i.vendor WHEN 'optimove' THEN 'promocode ' || i.pool WHEN 'altcraft' THEN "
            "'loyalty program ' || i.pool ELSE 'program ' || coalesce(nullif(i.program, ''), "
            "i.pool) END"
        )
        return (
            "SELECT t.key, t.code, acc.vendor, acc.name, 'looks like ' || i.code || ' (' || "
            f"i.status || ', ' || {pool} || ')' FROM {self.table} t CROSS JOIN "
            "main.code_inventory i "
            f"ON i.code_key = {collision_key_sql('t.code')} JOIN accounts acc ON "
            f"acc.id = i.account_id WHERE {live_sql()} AND {folded_sql('i.code')} <> t.fold"
        )

    def entries(self) -> Iterator[tuple[int, str]]:
        """The batch itself, by key (the generator writes its codes from here)."""
        cursor = self.conn.execute(f"SELECT key, code FROM {self.table} ORDER BY key")
        while rows := cursor.fetchmany(_FETCH_BATCH * 10):
            yield from rows

    def remove(self, keys: Iterable[int]) -> None:
        self.conn.executemany(f"DELETE FROM {self.table} WHERE key = ?", ((key,) for key in keys))

    def close(self) -> None:
        self.conn.execute(f"DROP TABLE IF EXISTS {self.table}")
