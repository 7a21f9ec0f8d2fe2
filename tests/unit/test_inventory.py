"""All codes (store/inventory.py): the inventory stays exactly what the vendor tables say
after every kind of write (imports, syncs through the one writer, operations' field changes
and gone marks, removals of imports, merges), and its pages sort, filter and search in SQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.records import AltcraftCodeRecord
from promodesk.domain.status import STATUS_RULES, Status
from promodesk.domain.vendors import Vendor
from promodesk.store import inventory
from promodesk.store.db import connect, transaction
from promodesk.store.importers.base import ImportHints, ensure_account
from promodesk.store.importers.dispatch import import_file, import_files
from promodesk.store.imports import list_imports, remove_import
from promodesk.store.indexer import build_indexes
from promodesk.store.query import Pager, RowQuery
from promodesk.store.records import altcraft_row, optimove_promocode_row
from promodesk.store.runs import start_run
from promodesk.store.schema import SCHEMA_VERSION
from promodesk.store.tables import CODE_INVENTORY
from promodesk.store.writes import (
    ALTCRAFT_CODES,
    IMPACT_CODES,
    OPTIMOVE_PROMOCODES,
    Staging,
    mark_gone,
    update_fields,
    upsert,
)
from tests.conftest import DEMO_DIR
from tests.helpers import (
    allocation_rows,
    impact_code,
    impact_page,
    new_workspace,
    write_allocations,
    write_json,
)

AS_OF = "2026-11-20T09:30:00Z"
SHOWN = ", ".join(inventory.COLUMNS)


def kept_rows(conn: sqlite3.Connection, *, fed_only: bool = False) -> list[tuple[Any, ...]]:
    rows = conn.execute(f"SELECT {SHOWN} FROM code_inventory ORDER BY 1, 2").fetchall()
    return rows if not fed_only else [row for row in rows if _fed(conn, row)]


def _fed(conn: sqlite3.Connection, row: tuple[Any, ...]) -> bool:
    table = inventory.SOURCES_BY_NUMBER[row[0]].table
    return bool(row[1] <= inventory.fed_upto(conn, table))


def assert_exact(conn: sqlite3.Connection) -> None:
    """What the inventory holds right after a write (rows it had taken in follow every
    change at once), then after the feed has caught up (everything)."""
    expected = list(inventory.expected_rows(conn))
    assert kept_rows(conn, fed_only=True) == [row for row in expected if _fed(conn, row)]
    assert _kept_counts(conn) == inventory.recount(conn)
    inventory.catch_up(conn)
    assert inventory.pending_rows(conn) == 0
    assert kept_rows(conn) == expected
    assert _kept_counts(conn) == inventory.recount(conn)


def _kept_counts(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT account_id, vendor, status, codes FROM code_inventory_counts ORDER BY 1, 2, 3"
    ).fetchall()


@pytest.fixture
def demo(tmp_path: Path) -> sqlite3.Connection:
    """The demo exports imported and indexed: every vendor, every kind of code."""
    _path, conn = new_workspace(tmp_path)
    batch = import_files(conn, sorted(DEMO_DIR.iterdir()), hints=ImportHints(as_of=AS_OF))
    assert not batch.errors
    build_indexes(conn)
    yield conn
    conn.close()


def test_the_demo_inventory_holds_every_code_with_its_status(demo: sqlite3.Connection) -> None:
    assert inventory.pending_rows(demo) == 0
    by_vendor = dict(
        demo.execute("SELECT vendor, count(*) FROM code_inventory GROUP BY vendor").fetchall()
    )
    pool_codes = demo.execute("SELECT count(*) FROM optimove_pool_codes").fetchone()[0]
    assert by_vendor == {"optimove": 20_000 + pool_codes, "altcraft": 500, "impact": 300}
    assert kept_rows(demo) == list(inventory.expected_rows(demo))
    statuses = dict(
        demo.execute(
            "SELECT c.status, i.status FROM altcraft_codes c JOIN code_inventory i "
            "ON i.source = 6 AND i.source_id = c.id GROUP BY c.status"
        ).fetchall()
    )
    assert statuses == {"available": "available", "attached": "allocated", "activated": "used"}
    # Where a row comes from, and the columns of each vendor's row.
    code, customer, promotion, promocode, given = demo.execute(
        "SELECT unique_code, customer_id, promotion_id, promocode_id, allocated_at "
        "FROM optimove_allocations ORDER BY id LIMIT 1"
    ).fetchone()
    row = demo.execute(
        "SELECT code, holder, program, pool, given_at, status, vendor_state FROM code_inventory "
        "WHERE source = 1 ORDER BY source_id LIMIT 1"
    ).fetchone()
    assert row == (code, customer, promotion, promocode, given, "allocated", "allocated")


def test_every_stored_state_maps_through_the_one_table(demo: sqlite3.Connection) -> None:
    for source in inventory.SOURCES:
        for rule in source.rules:
            assert STATUS_RULES[(source.vendor, source.table, rule.state)] is rule
            got = demo.execute(
                f"SELECT {source.status_sql()} FROM (SELECT ? AS state, ? AS status) s",
                (rule.state, rule.state),
            ).fetchone()[0]
            assert got == rule.status.value, (source.table, rule.state)


def test_counts_at_the_top_come_from_kept_counts(demo: sqlite3.Connection) -> None:
    counted = dict(
        ((vendor, status), count)
        for vendor, status, count in demo.execute(
            "SELECT vendor, status, count(*) FROM code_inventory GROUP BY 1, 2"
        )
    )
    kept: dict[tuple[str, str], int] = {}
    for entry in inventory.status_counts(demo):
        key = (entry.vendor.value, entry.status.value)
        kept[key] = kept.get(key, 0) + entry.codes
    assert kept == counted
    for vendor in Vendor:
        for status in Status:
            query = RowQuery(CODE_INVENTORY).filtered("vendor", vendor.value)
            query = query.filtered("status", status.value)
            assert Pager(query).count(demo) == counted.get((vendor.value, status.value), 0)


def test_a_sync_that_changes_states_and_marks_codes_gone_is_followed_at_once(
    demo: sqlite3.Connection,
) -> None:
    account = demo.execute("SELECT id FROM accounts WHERE vendor = 'altcraft'").fetchone()[0]
    codes = [
        code
        for (code,) in demo.execute(
            "SELECT code FROM altcraft_codes WHERE loyalty_id = '5' AND status = 'available' "
            "ORDER BY code LIMIT 5"
        )
    ]
    kept = demo.execute(
        "SELECT code, attached, activated FROM altcraft_codes WHERE loyalty_id = '5' "
        "AND code NOT IN (?, ?, ?, ?, ?)",
        codes,
    ).fetchall()
    with transaction(demo):
        run = start_run(demo, "sync", account_id=account)
        staging = Staging(demo, ALTCRAFT_CODES, account)
        rows = [
            altcraft_row(AltcraftCodeRecord(code=code, attached=a, activated=b), "5")
            for code, a, b in kept
        ]
        # Two of the five are attached now, one is new, the other two are gone.
        rows += [
            altcraft_row(AltcraftCodeRecord(code=code, attached="2026-11-21T10:00:00Z"), "5")
            for code in codes[:2]
        ]
        rows.append(altcraft_row(AltcraftCodeRecord(code="NEW-CODE-1"), "5"))
        staging.add(rows)
        outcome = staging.write(run_id=run, as_of=AS_OF, gone_scope={"loyalty_id": "5"})
    assert outcome.gone >= 3 and outcome.added == 1
    # No feed yet: the changed rows are already right in the inventory.
    statuses = dict(
        demo.execute(
            "SELECT code, status FROM code_inventory WHERE source = 6 AND code IN (?, ?, ?, ?, ?)",
            codes,
        ).fetchall()
    )
    assert statuses == {
        codes[0]: "allocated",
        codes[1]: "allocated",
        codes[2]: "gone",
        codes[3]: "gone",
        codes[4]: "gone",
    }
    assert inventory.pending_rows(demo) == 1  # the new code, for the feed
    assert_exact(demo)


def test_operations_field_changes_and_gone_marks_are_followed(demo: sqlite3.Connection) -> None:
    impact_account = demo.execute("SELECT id FROM accounts WHERE vendor = 'impact'").fetchone()[0]
    promo_id, code = demo.execute(
        "SELECT promo_code_id, code FROM impact_codes ORDER BY id LIMIT 1"
    ).fetchone()
    optimove = demo.execute("SELECT id FROM accounts WHERE vendor = 'optimove'").fetchone()[0]
    with transaction(demo):
        run = start_run(demo, "operation", account_id=impact_account)
        update_fields(
            demo,
            IMPACT_CODES,
            impact_account,
            {"promo_code_id": promo_id},
            {"status": "inactive", "end_date": "2026-12-31T00:00:00Z"},
            run_id=run,
            as_of=AS_OF,
        )
        # A promocode gets a global and a fallback code; another one is hidden, then gone.
        upsert(
            demo,
            OPTIMOVE_PROMOCODES,
            optimove,
            [
                optimove_promocode_row(
                    promocode_id="pc-summer-sale",
                    promotion_id="summer-sale-2026",
                    code_type="unique",
                    global_code="",
                    default_code="SUMMER-FALLBACK",
                    pool_size=10_000,
                    available=3_000,
                ),
                optimove_promocode_row(
                    promocode_id="pc-global", promotion_id="p-global", global_code="WELCOME10"
                ),
            ],
            run_id=run,
            as_of=AS_OF,
        )
    inventory.catch_up(demo)
    with transaction(demo):
        update_fields(
            demo,
            OPTIMOVE_PROMOCODES,
            optimove,
            {"promocode_id": "pc-global"},
            {"hidden": 1, "state": "hidden"},
            run_id=run,
            as_of=AS_OF,
        )
        update_fields(
            demo,
            OPTIMOVE_PROMOCODES,
            optimove,
            {"promocode_id": "pc-summer-sale"},
            {"default_code": ""},
            run_id=run,
            as_of=AS_OF,
        )
    assert demo.execute(
        "SELECT status, expires_at FROM code_inventory WHERE source = 7 AND code = ?", (code,)
    ).fetchone() == ("expired", "2026-12-31T00:00:00Z")
    assert demo.execute(
        "SELECT status FROM code_inventory WHERE code = 'WELCOME10'"
    ).fetchall() == [("expired",)]
    assert not demo.execute(
        "SELECT 1 FROM code_inventory WHERE code = 'SUMMER-FALLBACK'"
    ).fetchall()
    with transaction(demo):
        mark_gone(
            demo,
            OPTIMOVE_PROMOCODES,
            optimove,
            [{"promocode_id": "pc-global"}],
            run_id=run,
            as_of=AS_OF,
        )
    assert demo.execute(
        "SELECT status FROM code_inventory WHERE code = 'WELCOME10'"
    ).fetchall() == [("gone",)]
    assert_exact(demo)


def test_removing_imports_takes_their_codes_out_and_reused_ids_are_fed(tmp_path: Path) -> None:
    path, conn = new_workspace(tmp_path)
    first = write_allocations(tmp_path / "a.csv", allocation_rows(300))
    second = write_allocations(tmp_path / "b.csv", allocation_rows(200, start=300))
    impact = write_json(tmp_path / "impact.json", impact_page([impact_code(n) for n in range(50)]))
    for file in (first, second, impact):
        import_file(conn, file)
    build_indexes(conn)
    assert_exact(conn)
    for record in list_imports(conn)[:2]:  # the impact export and b.csv (newest first)
        remove_import(conn, record.id)
    assert inventory.fed_upto(conn, "optimove_allocations") == 300
    assert_exact(conn)
    # New rows reuse the removed ids: the lowered watermark lets the feed take them in.
    import_file(conn, write_allocations(tmp_path / "c.csv", allocation_rows(100, start=900)))
    assert inventory.pending_rows(conn) == 100
    assert_exact(conn)
    codes = {code for (code,) in conn.execute("SELECT code FROM code_inventory")}
    assert "CODE0000950" in codes and "CODE0000350" not in codes
    conn.close()
    assert path.exists()


def test_a_merged_workspace_arrives_in_the_inventory(tmp_path: Path, demo) -> None:
    other_path, other = new_workspace(tmp_path, "other.promodesk")
    import_file(
        other, write_json(tmp_path / "i.json", impact_page([impact_code(n) for n in range(20)]))
    )
    import_file(other, write_allocations(tmp_path / "x.csv", allocation_rows(40, promocode="pc-x")))
    with transaction(other):
        account = ensure_account(
            other, Vendor.IMPACT, key="imported", name="Imported files", kind="imported"
        )
        run = start_run(other, "sync", account_id=account)
        # (newer than the file the codes came from, or the change would be refused as stale)
        update_fields(
            other,
            IMPACT_CODES,
            account,
            {"promo_code_id": 7_000_003},
            {"status": "inactive"},
            run_id=run,
            as_of="2099-01-01T00:00:00Z",
        )
    other.close()
    import_file(demo, other_path)
    assert_exact(demo)
    assert demo.execute(
        "SELECT status FROM code_inventory WHERE vendor = 'impact' AND code = 'IMP0003'"
    ).fetchone() == ("expired",)


def test_a_workspace_of_format_2_gets_its_inventory_after_migrating(tmp_path: Path) -> None:
    path, conn = new_workspace(tmp_path)
    import_file(conn, write_allocations(tmp_path / "a.csv", allocation_rows(25)))
    # Back to what promodesk's format 2 had: no inventory, no redemptions.
    for table in (
        "code_inventory",
        "code_inventory_counts",
        "inventory_state",
        "redemptions",
        "redemption_sources",
    ):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("ALTER TABLE optimove_allocations DROP COLUMN code_key")  # (format 4's)
    conn.execute("ALTER TABLE runs DROP COLUMN heartbeat")  # (format 5's, both)
    conn.execute("ALTER TABLE runs DROP COLUMN claimed_by")
    conn.execute("DROP TABLE import_shares")  # (format 6's)
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert inventory.pending_rows(conn) == 25 + 1  # the allocations and their promocode
    build_indexes(conn)
    assert_exact(conn)
    conn.close()


# -- reading pages -----------------------------------------------------------------------------


def reference(conn: sqlite3.Connection, query: RowQuery) -> list[tuple[Any, ...]]:
    """The same rows as the pager, by brute force in Python."""
    names = CODE_INVENTORY.column_names
    rows = conn.execute(f"SELECT {', '.join(names)} FROM code_inventory").fetchall()
    equals = dict(query.equals)
    kept = [
        row
        for row in rows
        if all(row[names.index(c)] == v for c, v in equals.items())
        and all(
            (lo is None or row[names.index(c)] >= lo) and (hi is None or row[names.index(c)] < hi)
            for c, lo, hi in query.ranges
        )
        and (
            not query.search
            or query.search.lower() in row[names.index("code")].lower()
            or row[names.index("holder")].startswith(query.search)
        )
    ]
    at = names.index(query.sort_column)
    kept.sort(key=lambda row: (row[at], row[0]), reverse=query.descending)
    return kept


@pytest.mark.parametrize(
    "query",
    [
        RowQuery(CODE_INVENTORY),
        RowQuery(CODE_INVENTORY, sort="given_at", descending=True),
        RowQuery(CODE_INVENTORY, equals=(("status", "allocated"),), sort="holder"),
        RowQuery(CODE_INVENTORY, equals=(("vendor", "altcraft"), ("status", "used"))),
        RowQuery(CODE_INVENTORY, equals=(("program", "5"),), sort="expires_at"),
        RowQuery(CODE_INVENTORY, search="sums-5"),
        RowQuery(CODE_INVENTORY, search="SPRW", sort="status"),
        RowQuery(CODE_INVENTORY, search="2"),  # too short for the trigram indexes
        RowQuery(CODE_INVENTORY, equals=(("vendor", "optimove"),)).between(
            "given_at", "2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z"
        ),
    ],
    ids=lambda query: f"{query.equals}{query.ranges}{query.search}{query.sort}",
)
def test_pages_match_a_brute_force_reference(demo: sqlite3.Connection, query: RowQuery) -> None:
    expected = reference(demo, query)
    assert expected, "the query should find rows in the demo"
    pager = Pager(query)
    assert pager.count(demo) == len(expected)
    for start in (0, 150, len(expected) - 7, 40):
        assert pager.fetch(demo, start, 60) == expected[start : start + 60]


def test_search_finds_codes_the_search_index_has_not_reached(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    import_file(conn, write_allocations(tmp_path / "a.csv", allocation_rows(30)))
    build_indexes(conn)
    import_file(conn, write_allocations(tmp_path / "b.csv", allocation_rows(30, start=500)))
    inventory.catch_up(conn)  # in the inventory, not yet in the trigram index
    pager = Pager(RowQuery(CODE_INVENTORY, search="ODE000051"))
    assert [row[3] for row in pager.fetch(conn, 0, 100)] == [f"CODE000051{n}" for n in range(10)]
    conn.close()


def plan(conn: sqlite3.Connection, pager: Pager, walk: bool) -> str:
    where, params = pager.where(conn, walk=walk)
    return " ".join(
        row[3]
        for row in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT id FROM code_inventory WHERE {where} "
            "ORDER BY code, id LIMIT 200",
            params,
        )
    )


def test_a_filter_over_many_rows_walks_the_sort_index(demo: sqlite3.Connection) -> None:
    """Many matching rows: the filter is only checked while the code index is walked (no
    sort of 9,000 rows per page); few: the filter's own index finds them."""
    many = Pager(RowQuery(CODE_INVENTORY, equals=(("program", "spring-welcome-2026"),)))
    few = Pager(RowQuery(CODE_INVENTORY, equals=(("program", "5"),)))
    assert many.count(demo) == 9_000 and few.count(demo) == 300
    assert many.walks(demo, 200) and not few.walks(demo, 200)
    walked = plan(demo, many, walk=True)
    assert "TEMP B-TREE" not in walked and "ix_code_inventory__code" in walked
    assert "ix_code_inventory__program" in plan(demo, few, walk=False)


def test_a_vendor_or_status_filter_in_code_order_is_one_index_range(
    demo: sqlite3.Connection,
) -> None:
    """A vendor's codes cluster in code order (they share prefixes): walking the code index
    past the other vendors' codes could take a million rows; (vendor, code) is one range."""
    for column, value in (("vendor", "altcraft"), ("status", "used"), ("account_id", 1)):
        pager = Pager(RowQuery(CODE_INVENTORY, equals=((column, value),)))
        assert f"ix_code_inventory__{column}__code ({column}=?)" in plan(demo, pager, walk=True)


def _steps_to_expire_one_code(tmp_path: Path, codes: int) -> int:
    """SQLite's own work (virtual machine steps, in thousands) for one code's state change on
    a workspace of `codes` impact.com codes, all in the inventory."""
    _path, conn = new_workspace(tmp_path / str(codes))
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="steps", name="Steps", kind="live")
        run = start_run(conn, "sync", account_id=account)
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add(
            (7_000_001 + n, f"STEP{n:07d}", "active", str(1000 + n % 3), "Program", str(n % 50),
             "Partner", "ALWAYS", "LI", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "", "",
             "", "{}")
            for n in range(codes)
        )  # fmt: skip
        staging.write(run_id=run, as_of=AS_OF)
    build_indexes(conn)
    assert inventory.pending_rows(conn) == 0
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(count, 1000)
    with transaction(conn):
        run = start_run(conn, "operation", account_id=account)
        update_fields(
            conn,
            IMPACT_CODES,
            account,
            {"promo_code_id": 7_000_001 + codes // 2},
            {"status": "inactive"},
            run_id=run,
            as_of=AS_OF,
        )
    conn.set_progress_handler(None, 0)
    assert conn.execute(
        "SELECT status FROM code_inventory WHERE code = ?", (f"STEP{codes // 2:07d}",)
    ).fetchone() == ("expired",)
    assert _kept_counts(conn) == inventory.recount(conn)
    conn.close()
    return steps


def test_one_code_changed_costs_the_same_in_a_small_and_a_ten_times_bigger_workspace(
    tmp_path: Path,
) -> None:
    """Issue 9: a write costs O(rows written). Following one changed code in the inventory
    once scanned the whole inventory three times (SQLite grouped counts by walking an index
    of it, and joined the stale rows from the inventory's side)."""
    small = _steps_to_expire_one_code(tmp_path, 3_000)
    big = _steps_to_expire_one_code(tmp_path, 30_000)
    assert big < 2 * max(small, 1), (small, big)
