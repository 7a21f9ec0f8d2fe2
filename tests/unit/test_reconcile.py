"""Redemption exports (store/redemptions.py) and reconciliation (store/reconcile.py) on a
workspace whose answer is known: case and whitespace differences, the same code reused across
promotions, times in a shop's own time zone, codes redeemed by someone else, never allocated,
or never redeemed."""

from __future__ import annotations

import csv
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.store.db import transaction
from promodesk.store.importers.base import ImportFileError, ImportHints, ensure_account
from promodesk.store.importers.dispatch import import_file
from promodesk.store.imports import list_imports, remove_import
from promodesk.store.indexer import build_indexes
from promodesk.store.query import Pager, RowQuery
from promodesk.store.reconcile import (
    NEVER_ALLOCATED,
    NOT_REDEEMED,
    OTHER_CUSTOMER,
    RECONCILIATION,
    ReconcileOptions,
    finding_rows,
    reconcile,
)
from promodesk.store.records import optimove_promocode_row
from promodesk.store.redemptions import (
    MappingNeeded,
    RedemptionMapping,
    import_redemptions,
    read_shape,
    sources,
    suggest_mapping,
)
from promodesk.store.runs import start_run
from promodesk.store.writes import OPTIMOVE_PROMOCODES, upsert
from tests.helpers import new_workspace, write_allocations

SHOP_HEADER = ["Order", "Discount Code", "Email", "Created at"]
MAPPING = RedemptionMapping("Discount Code", "Email", "Created at", "Europe/Moscow")


def allocation(customer: str, promotion: str, code: str, at: str) -> list[str]:
    promocode = "pc-" + promotion
    return [customer, promocode, promotion, "f-" + promotion, code, at, "1", "1", "1"]


ALLOCATIONS = [
    allocation("c1@shop.test", "promo-1", "SUMMER-001", "2026-11-01T10:00:00Z"),
    allocation("c2@shop.test", "promo-1", "summer-002", "2026-11-01T11:00:00Z"),
    # The same code allocated in two promotions, to two customers.
    allocation("c3@shop.test", "promo-1", "REUSED-1", "2026-10-20T09:00:00Z"),
    allocation("c4@shop.test", "promo-2", "REUSED-1", "2026-10-25T09:00:00Z"),
    allocation("c5@shop.test", "promo-2", "OLD-5", "2026-09-01T09:00:00Z"),
    allocation("c6@shop.test", "promo-2", "NEW-6", "2026-11-19T09:00:00Z"),
    # A code in Cyrillic (folded by Python, not by SQLite), and one padded in the export.
    allocation("c10@shop.test", "promo-3", "ЛЕТО-10", "2026-11-02T09:00:00Z"),
    allocation("c11@shop.test", "promo-3", " PADDED-11 ", "2026-11-02T09:00:00Z"),
]
REDEMPTIONS = [
    ["1001", " summer-001 ", "C1@shop.test", "2026-11-02 12:00:00"],  # Moscow: 09:00 UTC
    ["1002", "SUMMER-002", "c9@shop.test", "2026-11-03T10:00:00+03:00"],
    ["1003", "reused-1", "c4@shop.test", "2026-11-04 10:00:00"],
    ["1004", "NEVER-1", "c7@shop.test", "2026-11-05 10:00:00"],
    ["1005", "welcome", "c8@shop.test", "2026-11-20 10:00:00"],
    ["1006", "", "c1@shop.test", "2026-11-06 10:00:00"],  # an order without a discount
    ["1008", "лето-10\u200b", "C10@SHOP.TEST ", "2026-11-07 10:00:00"],
    ["1009", "padded-11", "c11@shop.test", "2026-11-07 11:00:00"],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    _path, conn = new_workspace(tmp_path)
    import_file(
        conn,
        write_allocations(tmp_path / "allocations.csv", ALLOCATIONS),
        hints=ImportHints(as_of="2026-11-21T00:00:00Z"),
    )
    account = ensure_account(
        conn, Vendor.OPTIMOVE, key="imported", name="Imported files", kind="imported"
    )
    with transaction(conn):
        run = start_run(conn, "sync", account_id=account)
        upsert(
            conn,
            OPTIMOVE_PROMOCODES,
            account,
            [optimove_promocode_row(promocode_id="pc-welcome", global_code="WELCOME")],
            run_id=run,
            as_of="2099-01-01T00:00:00Z",
        )
    build_indexes(conn)
    imported = import_redemptions(
        conn,
        write_csv(tmp_path / "orders.csv", SHOP_HEADER, REDEMPTIONS),
        source_name="Shop",
        mapping=MAPPING,
    )
    assert imported.result.rows_added == 7 and imported.without_code == 1
    yield conn
    conn.close()


def test_the_import_keeps_codes_customers_and_times_comparable(shop: sqlite3.Connection) -> None:
    rows = shop.execute(
        "SELECT code, code_key, customer_key, redeemed_at FROM redemptions ORDER BY id"
    ).fetchall()
    assert rows[0] == (" summer-001 ".strip(), "summer-001", "c1@shop.test", "2026-11-02T09:00:00Z")
    assert rows[1][3] == "2026-11-03T07:00:00Z"  # its own offset wins over the source's zone


def test_matching(shop: sqlite3.Connection) -> None:
    summary = reconcile(shop, ReconcileOptions(unredeemed_after_days=30))
    assert summary.as_of == "2026-11-20T07:00:00Z"  # the latest redemption
    assert (summary.redemptions, summary.matched, summary.other_customer) == (7, 4, 1)
    assert summary.never_allocated == 2
    assert (summary.allocations, summary.redeemed_allocations) == (8, 5)
    # Allocated before Oct 21 07:00 (30 days before the latest redemption) and never
    # redeemed: OLD-5, and REUSED-1 as allocated to c3 (c4 redeemed the promo-2 allocation
    # of it). NEW-6 is not 30 days old.
    assert summary.not_redeemed == 2
    rates = {(rate.promotion_id, rate.allocations, rate.redeemed) for rate in summary.per_promotion}
    assert rates == {("promo-1", 3, 2), ("promo-2", 3, 1), ("promo-3", 2, 2)}
    lists = {}
    for finding, code, by, to, promotion, note in shop.execute(
        "SELECT finding, code, redeemed_by, allocated_to, promotion_id, note "
        "FROM temp.reconciliation"
    ):
        lists.setdefault(finding, []).append((code, by, to, promotion, note))
    assert lists[OTHER_CUSTOMER] == [("SUMMER-002", "c9@shop.test", "c2@shop.test", "promo-1", "")]
    never = sorted(lists[NEVER_ALLOCATED])
    assert never[0][:2] == ("NEVER-1", "c7@shop.test") and never[0][4] == ""
    assert never[1][0] == "welcome" and "optimove available code (pc-welcome)" in never[1][4]
    assert sorted(code for code, *_ in lists[NOT_REDEEMED]) == ["OLD-5", "REUSED-1"]
    assert [to for code, _, to, *_ in lists[NOT_REDEEMED] if code == "REUSED-1"] == ["c3@shop.test"]


def test_the_n_days_rule_and_the_days(shop: sqlite3.Connection) -> None:
    summary = reconcile(shop, ReconcileOptions(unredeemed_after_days=60))
    assert summary.cutoff == "2026-09-21T07:00:00Z"
    assert summary.not_redeemed == 1
    assert [row[1] for row in finding_rows(shop, NOT_REDEEMED)] == ["OLD-5"]
    by_day = {day.day: day for day in summary.per_day}
    assert (by_day["2026-11-01"].allocations, by_day["2026-11-01"].redeemed) == (2, 2)
    assert by_day["2026-11-02"].redemptions == 1
    assert by_day["2026-11-20"].redemptions == 1  # 10:00 in Moscow is 07:00 UTC
    # Days follow the zone asked for: 07:00 UTC on Nov 20 is 23:00 on Nov 19 in Los Angeles.
    pacific = {
        day.day: day
        for day in reconcile(shop, ReconcileOptions(zone="America/Los_Angeles")).per_day
    }
    assert pacific["2026-11-19"].redemptions == 1
    assert "2026-11-20" not in pacific


def test_pages_of_each_list(shop: sqlite3.Connection) -> None:
    reconcile(shop)
    pager = Pager(RowQuery(RECONCILIATION, equals=(("finding", NEVER_ALLOCATED),)))
    assert pager.count(shop) == 2
    code_at = RECONCILIATION.column_names.index("code")
    assert [row[code_at] for row in pager.fetch(shop, 0, 10)] == ["NEVER-1", "welcome"]


def test_the_second_export_needs_no_mapping(shop: sqlite3.Connection, tmp_path: Path) -> None:
    again = write_csv(
        tmp_path / "orders-2.csv",
        SHOP_HEADER,
        [*REDEMPTIONS[:2], ["1007", "OLD-5", "c5@shop.test", "2026-11-21 10:00:00"]],
    )
    imported = import_redemptions(shop, again)  # found by its header
    assert imported.source.name == "Shop" and imported.result.rows_added == 1
    assert len(sources(shop)) == 1
    assert reconcile(shop).not_redeemed == 1  # REUSED-1 to c3 still; OLD-5 redeemed now
    # Removing that import takes its redemption back out.
    remove_import(shop, list_imports(shop)[0].id)
    assert shop.execute("SELECT count(*) FROM redemptions").fetchone() == (7,)


def test_removing_a_redemption_import_keeps_what_a_later_one_has(
    shop: sqlite3.Connection, tmp_path: Path
) -> None:
    later = write_csv(
        tmp_path / "orders-2.csv",
        SHOP_HEADER,
        [*REDEMPTIONS[:2], ["1007", "OLD-5", "c5@shop.test", "2026-11-21 10:00:00"]],
    )
    assert import_redemptions(shop, later).result.rows_added == 1
    [first] = [r for r in list_imports(shop) if r.file_name == "orders.csv"]
    result = remove_import(shop, first.id)
    assert (result.rows_shared, result.rows_removed) == (2, 5)
    orders = sorted(code for (code,) in shop.execute("SELECT code FROM redemptions"))
    assert orders == ["OLD-5", "SUMMER-002", "summer-001"]
    remove_import(shop, list_imports(shop)[0].id)
    assert shop.execute("SELECT count(*) FROM redemptions").fetchone() == (0,)


def test_a_fifo_is_refused_before_it_is_read(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    fifo = tmp_path / "orders.csv"
    os.mkfifo(fifo)
    with pytest.raises(ImportFileError) as raised:
        import_redemptions(conn, fifo, source_name="Shop", mapping=MAPPING)
    assert str(raised.value).startswith("orders.csv: ")
    conn.close()


def test_a_new_export_without_a_mapping_gets_a_suggestion(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    file = write_csv(tmp_path / "crm.csv", ["client_id", "Coupon", "Redeemed At"], [["1", "X", ""]])
    with pytest.raises(MappingNeeded) as raised:
        import_redemptions(conn, file)
    assert raised.value.suggestion == RedemptionMapping("Coupon", "client_id", "Redeemed At")
    assert "crm.csv: line 1: promodesk does not know this export yet" in str(raised.value)
    assert suggest_mapping(read_shape(file).header) == raised.value.suggestion
    assert conn.execute("SELECT count(*) FROM redemption_sources").fetchone() == (0,)
    conn.close()


@pytest.mark.parametrize(
    ("rows", "mapping", "problem"),
    [
        ([["1", "A", "x", "yesterday"]], MAPPING, "line 2: Created at: not an ISO 8601 date"),
        ([["1", "A", "x", "2026-11-01"], ["2"]], MAPPING, "line 3: expected at least 4 columns"),
        ([["1", "A", "x", ""]], RedemptionMapping("Code"), "line 1: there is no column 'Code'"),
        (
            [["1", "A", "x", ""]],
            RedemptionMapping("Discount Code", time_zone="Mars/Base"),
            "'Mars/Base' is not a time zone name",
        ),
        ([["1", "A\x1b[2J", "x", ""]], MAPPING, "line 2: an invisible control character"),
    ],
)
def test_bad_files_are_refused_whole_with_the_line(
    tmp_path: Path, rows: list[list[str]], mapping: RedemptionMapping, problem: str
) -> None:
    _path, conn = new_workspace(tmp_path)
    file = write_csv(tmp_path / "bad.csv", SHOP_HEADER, rows, delimiter=";")
    with pytest.raises(ImportFileError) as raised:
        import_redemptions(conn, file, source_name="Shop", mapping=mapping)
    assert problem in str(raised.value)
    assert str(raised.value).startswith("bad.csv: ")
    assert conn.execute("SELECT count(*) FROM redemptions").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM redemption_sources").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM import_history").fetchone() == (0,)
    conn.close()
