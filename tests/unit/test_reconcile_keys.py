"""Allocations keyed for reconciliation (schema version 4): every writer stores the match key
of each code only Python keys, an older workspace gets those keys when it is opened, and
matching through the index on the keys answers exactly what matching code by code does, with
or without that index, codes allocated and redeemed many times included."""

from __future__ import annotations

import codecs
import csv
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from promodesk.domain.codes import match_key
from promodesk.store import schema
from promodesk.store.code_keys import allocation_key_sql
from promodesk.store.db import connect
from promodesk.store.importers.dispatch import import_file
from promodesk.store.importers.limits import TextLineLimits
from promodesk.store.indexer import build_indexes
from promodesk.store.reconcile import (
    NEVER_ALLOCATED,
    NOT_REDEEMED,
    OTHER_CUSTOMER,
    ReconcileOptions,
    ReconcileSummary,
    reconcile,
)
from promodesk.store.redemptions import RedemptionMapping, import_redemptions
from tests.helpers import allocation_rows, new_workspace, write_allocations

KEY_INDEX = "ix_optimove_allocations__match_key"
SHOP_HEADER = ["Order", "Discount Code", "Email", "Created at"]
MAPPING = RedemptionMapping("Discount Code", "Email", "Created at", "UTC")
# Codes whose match key only Python works out (Cyrillic, a zero-width space, a soft hyphen),
# and two SQL does: one padded with spaces, one in mixed case.
PYTHON_KEYED = ["ЛЕТО-10", "ZW\u200bCODE", "SOFT\u00adHYPHEN"]
ODD_CODES = [*PYTHON_KEYED, " PADDED-11 ", "Mixed-Case"]


def allocation(customer: str, promotion: str, code: str, at: str) -> list[str]:
    return [customer, "pc-" + promotion, promotion, "f-" + promotion, code, at, "1", "1", "1"]


def write_orders(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(SHOP_HEADER)
        writer.writerows(rows)
    return path


def keys(conn: sqlite3.Connection) -> dict[str, str]:
    """Each allocation's match key, as the index on it holds it."""
    return dict(
        conn.execute(f"SELECT unique_code, {allocation_key_sql()} FROM optimove_allocations")
    )


def stored(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT unique_code FROM optimove_allocations WHERE code_key IS NOT NULL")
    return {code for (code,) in rows}


def test_every_import_stores_the_match_key(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    first = [
        allocation(f"c{n}", "promo-1", code, "2026-11-01T10:00:00Z")
        for n, code in enumerate(ODD_CODES)
    ]
    import_file(conn, write_allocations(tmp_path / "first.csv", first))  # (a bulk load)
    later = [allocation("c9", "promo-2", "LATER-\u200b1", "2026-11-02T10:00:00Z")]
    import_file(conn, write_allocations(tmp_path / "later.csv", later))  # (row by row)
    found = keys(conn)
    assert found == {code: match_key(code) for code in [*ODD_CODES, "LATER-\u200b1"]}
    assert found["ZW\u200bCODE"] == "zwcode" and found[" PADDED-11 "] == "padded-11"
    assert stored(conn) == {*PYTHON_KEYED, "LATER-\u200b1"}
    conn.close()


def test_an_ascii_export_stores_no_keys(tmp_path: Path) -> None:
    """Nothing more to store or work out for a file of ASCII codes (a byte-order mark, or
    another column in another alphabet, does not make its codes any less ASCII)."""
    _path, conn = new_workspace(tmp_path)
    rows = [allocation("Jürgen", "promo-1", "PLAIN-1", "2026-11-01T10:00:00Z")]
    import_file(conn, write_allocations(tmp_path / "plain.csv", rows))
    rows = [allocation("c2", "promo-1", "PLAIN-2", "2026-11-01T10:00:00Z")]
    path = write_allocations(tmp_path / "bom.csv", rows, encoding="utf-8-sig")
    assert path.read_bytes().startswith(codecs.BOM_UTF8)
    import_file(conn, path)
    assert keys(conn) == {"PLAIN-1": "plain-1", "PLAIN-2": "plain-2"}
    assert stored(conn) == set()
    conn.close()


@pytest.mark.parametrize(
    ("chunks", "non_ascii"),
    [
        ([b"code\nPLAIN-1\n"], False),
        ([codecs.BOM_UTF8 + b"code\n", b"PLAIN-1\n"], False),
        ([b"code\n", codecs.BOM_UTF8 + b"PLAIN-1\n"], True),  # (not a byte-order mark there)
        ([b"code\n", "ЛЕТО-10\n".encode()], True),
    ],
)
def test_the_line_check_sees_whether_a_file_is_all_ascii(
    tmp_path: Path, chunks: list[bytes], non_ascii: bool
) -> None:
    limits = TextLineLimits(tmp_path / "codes.csv", encoding="utf-8", allow_tab=False)
    for chunk in chunks:
        limits.check(chunk)
    assert limits.non_ascii is non_ascii


def test_a_merged_workspace_brings_its_keys(tmp_path: Path) -> None:
    other_path, other = new_workspace(tmp_path, "other.promodesk")
    rows = [
        allocation(f"c{n}", "promo-1", code, "2026-11-01T10:00:00Z")
        for n, code in enumerate(ODD_CODES)
    ]
    import_file(other, write_allocations(tmp_path / "a.csv", rows))
    other.close()
    _path, conn = new_workspace(tmp_path, "main.promodesk")
    import_file(
        conn,
        write_allocations(
            tmp_path / "b.csv", [allocation("c9", "promo-9", "MINE-1", "2026-11-03T10:00:00Z")]
        ),
    )
    import_file(conn, other_path)
    assert keys(conn) == {code: match_key(code) for code in [*ODD_CODES, "MINE-1"]}
    assert stored(conn) == set(PYTHON_KEYED)
    conn.close()


def _format_3_workspace(path: Path, codes: list[str]) -> None:
    """A workspace as promodesk's format 3 wrote it: allocations without a stored key."""
    raw = sqlite3.connect(path, isolation_level=None)
    for migration in schema.MIGRATIONS[:3]:
        for statement in schema._statements(migration):
            raw.execute(statement)
    raw.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    raw.execute("PRAGMA user_version = 3")
    raw.execute(
        "INSERT INTO accounts(vendor, key, name, kind) VALUES ('optimove', 'imported', 'Imported files', 'imported')"
    )
    raw.executemany(
        "INSERT INTO optimove_allocations(account_id, customer_id, promocode_id, promotion_id, "
        "file_id, unique_code, allocated_at) VALUES (1, ?, 'pc-1', 'promo-1', 'f-1', ?, "
        "'2026-11-01T10:00:00Z')",
        [(f"c{n}", code) for n, code in enumerate(codes)],
    )
    raw.execute(
        "INSERT INTO optimove_allocation_counts VALUES (1, 'pc-1', 'f-1', 'promo-1', ?)",
        (len(codes),),
    )
    raw.close()


def test_an_older_workspace_gets_its_keys_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.promodesk"
    _format_3_workspace(path, ODD_CODES)
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
    assert keys(conn) == {code: match_key(code) for code in ODD_CODES}
    assert stored(conn) == set(PYTHON_KEYED)
    assert build_indexes(conn).missing_indexes  # the key index, among others
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (KEY_INDEX,)).fetchone()
    import_redemptions(
        conn,
        write_orders(
            tmp_path / "orders.csv",
            [["1", "zwcode", "C1", "2026-11-02 10:00:00"], ["2", "лето-10", "c0", ""]],
        ),
        source_name="Shop",
        mapping=MAPPING,
    )
    summary = reconcile(conn)
    assert (summary.matched, summary.other_customer, summary.never_allocated) == (2, 0, 0)
    conn.close()


def test_an_older_workspace_opened_read_only_is_matched_by_its_codes(tmp_path: Path) -> None:
    """A read-only connection does not migrate: the keys are worked out as it reads."""
    path = tmp_path / "old.promodesk"
    _format_3_workspace(path, ODD_CODES)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "INSERT INTO redemption_sources(name, code_column, created_at, updated_at) "
        "VALUES ('Shop', 'Code', '', '')"
    )
    conn.executemany(
        "INSERT INTO redemptions(source_id, code, code_key, customer_id, customer_key, "
        "redeemed_at) VALUES (1, ?, ?, ?, ?, '2026-11-02T10:00:00Z')",
        [
            ("SOFTHYPHEN", "softhyphen", "c2", "c2"),
            ("padded-11", "padded-11", "x", "x"),
            ("NOPE", "nope", "", ""),
        ],
    )
    conn.close()
    reader = connect(path, readonly=True)
    assert reader.execute("PRAGMA user_version").fetchone() == (3,)
    summary = reconcile(reader)
    assert (summary.matched, summary.other_customer, summary.never_allocated) == (1, 1, 1)
    assert summary.redeemed_allocations == 2
    reader.close()


# -- the same answer as matching code by code ---------------------------------------------------


@dataclass(frozen=True)
class Expected:
    matched: int
    other_customer: int
    never_allocated: int
    redeemed_allocations: int
    not_redeemed: int
    rates: set[tuple[str, int, int]]
    lists: dict[str, list[tuple[str, str, str]]]


def brute_force(conn: sqlite3.Connection, cutoff: str) -> Expected:
    """Every redemption against every allocation, in Python, as the module's docstring says."""
    allocations = conn.execute(
        "SELECT id, unique_code, customer_id, allocated_at, promotion_id FROM optimove_allocations"
    ).fetchall()
    taken: set[int] = set()
    matched = other = never = 0
    lists: dict[str, list[tuple[str, str, str]]] = {OTHER_CUSTOMER: [], NEVER_ALLOCATED: []}
    for code, key, customer, customer_key, at in conn.execute(
        "SELECT code, code_key, customer_id, customer_key, redeemed_at FROM redemptions"
    ):
        candidates = [
            (
                customer_key != "" and customer_key == match_key(a_customer),
                at == "" or a_at <= at,
                a_at,
                a_id,
                a_customer,
            )
            for a_id, a_code, a_customer, a_at, _ in allocations
            if match_key(a_code) == key
        ]
        if not candidates:
            never += 1
            lists[NEVER_ALLOCATED].append((code, customer, ""))
            continue
        same, _after, _at, best, allocated_to = max(candidates)
        taken.add(best)
        if customer_key and not same:
            other += 1
            lists[OTHER_CUSTOMER].append((code, customer, allocated_to))
        else:
            matched += 1
    promotions = {promotion for *_, promotion in allocations}
    rates = {
        (
            promotion,
            sum(1 for *_, p in allocations if p == promotion),
            sum(1 for a_id, *_, p in allocations if p == promotion and a_id in taken),
        )
        for promotion in promotions
    }
    not_redeemed = sum(
        1 for a_id, _, _, a_at, _ in allocations if a_at < cutoff and a_id not in taken
    )
    return Expected(
        matched,
        other,
        never,
        len(taken),
        not_redeemed,
        rates,
        {k: sorted(v) for k, v in lists.items()},
    )


def answer(conn: sqlite3.Connection, summary: ReconcileSummary) -> Expected:
    lists: dict[str, list[tuple[str, str, str]]] = {OTHER_CUSTOMER: [], NEVER_ALLOCATED: []}
    for finding, code, by, to in conn.execute(
        "SELECT finding, code, redeemed_by, allocated_to FROM temp.reconciliation WHERE finding <> ?",
        (NOT_REDEEMED,),
    ):
        lists[finding].append((code, by, to))
    listed_unredeemed = conn.execute(
        "SELECT count(*) FROM temp.reconciliation WHERE finding = ?", (NOT_REDEEMED,)
    ).fetchone()[0]
    assert listed_unredeemed == summary.not_redeemed
    return Expected(
        summary.matched,
        summary.other_customer,
        summary.never_allocated,
        summary.redeemed_allocations,
        summary.not_redeemed,
        {(rate.promotion_id, rate.allocations, rate.redeemed) for rate in summary.per_promotion},
        {k: sorted(v) for k, v in lists.items()},
    )


def shared_codes_workspace(tmp_path: Path, seed: int) -> sqlite3.Connection:
    """Few codes, each allocated and redeemed many times, in every spelling: codes reused
    across promotions, fallback codes, the same customer redeeming twice, codes typed in
    another case, padded, with invisible characters, or never allocated."""
    rng = random.Random(seed)
    codes = [
        "FALLBACK",
        "REUSED-1",
        "Reused-2",
        "ЛЕТО-3",
        "ZW\u200bCODE",
        *(f"UNIQUE-{n}" for n in range(40)),
    ]
    customers = [f"c{n}@shop.test" for n in range(12)]
    days = [f"2026-{month:02d}-{day:02d}" for month in (9, 10, 11) for day in (1, 10, 20)]
    rows = [
        allocation(
            rng.choice(customers).upper() if rng.random() < 0.2 else rng.choice(customers),
            rng.choice(["promo-1", "promo-2", "promo-3"]),
            rng.choice(codes),
            f"{rng.choice(days)}T{rng.randrange(24):02d}:00:00Z",
        )
        for _ in range(160)
    ]
    _path, conn = new_workspace(tmp_path)
    import_file(conn, write_allocations(tmp_path / "allocations.csv", rows))

    def typed(code: str) -> str:
        spelling = rng.random()
        if spelling < 0.2:
            return code.lower()
        if spelling < 0.3:
            return f"  {code} "
        if spelling < 0.35:
            return code.replace("\u200b", "")
        return code

    orders = [
        [
            str(n),
            typed(rng.choice([*codes, "NEVER-1", "never-2"])),
            rng.choice([*customers, "", "stranger@shop.test"]),
            rng.choice(["", f"{rng.choice(days)} {rng.randrange(24):02d}:30:00"]),
        ]
        for n in range(120)
    ]
    import_redemptions(
        conn, write_orders(tmp_path / "orders.csv", orders), source_name="Shop", mapping=MAPPING
    )
    return conn


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("indexed", [True, False], ids=["key index", "before the index"])
def test_codes_allocated_and_redeemed_many_times(tmp_path: Path, seed: int, indexed: bool) -> None:
    conn = shared_codes_workspace(tmp_path, seed)
    if indexed:
        build_indexes(conn)
    assert (
        bool(conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (KEY_INDEX,)).fetchone())
        is indexed
    )
    summary = reconcile(conn, ReconcileOptions(unredeemed_after_days=20))
    expected = brute_force(conn, summary.cutoff)
    assert answer(conn, summary) == expected
    # (the data has what it is meant to test)
    assert expected.other_customer and expected.never_allocated and expected.not_redeemed
    assert summary.matched + summary.other_customer > expected.redeemed_allocations
    conn.close()


def test_an_allocation_redeemed_twice_counts_once(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    rows = [
        allocation("c1", "promo-1", "ONCE-1", "2026-11-01T10:00:00Z"),
        allocation("c2", "promo-1", "TWO-1", "2026-11-01T10:00:00Z"),
        allocation("c3", "promo-2", "TWO-1", "2026-11-02T10:00:00Z"),
    ]
    import_file(conn, write_allocations(tmp_path / "allocations.csv", rows))
    build_indexes(conn)
    orders = [
        ["1", "once-1", "c1", "2026-11-03 10:00:00"],
        ["2", "ONCE-1", "c1", "2026-11-04 10:00:00"],  # the same customer again
        ["3", "ONCE-1", "c7", "2026-11-05 10:00:00"],  # and someone else
        ["4", "two-1", "c2", "2026-11-03 10:00:00"],  # c2's allocation of TWO-1
        ["5", "two-1", "c9", "2026-11-03 10:00:00"],  # the latest one: c3's
        ["6", "TWO-1", "c3", "2026-11-06 10:00:00"],  # c3's again
    ]
    import_redemptions(
        conn, write_orders(tmp_path / "orders.csv", orders), source_name="Shop", mapping=MAPPING
    )
    summary = reconcile(conn)
    assert (summary.redemptions, summary.matched, summary.other_customer) == (6, 4, 2)
    assert summary.redeemed_allocations == 3
    rates = {(rate.promotion_id, rate.allocations, rate.redeemed) for rate in summary.per_promotion}
    assert rates == {("promo-1", 2, 2), ("promo-2", 1, 1)}
    others = conn.execute(
        "SELECT code, redeemed_by, allocated_to FROM temp.reconciliation WHERE finding = ? ORDER BY 1, 2",
        (OTHER_CUSTOMER,),
    ).fetchall()
    assert others == [("ONCE-1", "c7", "c1"), ("two-1", "c9", "c3")]
    conn.close()


def test_the_look_up_index_is_counted_exactly(tmp_path: Path) -> None:
    """Sampled statistics make the wide key index look smaller than it is, and the planner
    would then walk it for whole-table reads (the per-day counts, a bare join) that the
    narrow indexes serve better: its rows are counted."""
    _path, conn = new_workspace(tmp_path)
    import_file(conn, write_allocations(tmp_path / "a.csv", allocation_rows(30_000)))
    build_indexes(conn)
    (stat,) = conn.execute("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (KEY_INDEX,)).fetchone()
    assert stat.split()[0] == "30000"
    conn.close()
