"""Collisions (store/collisions.py): one code live at two vendors, two accounts or two pools,
case, look-alikes and invisible characters normalised; what is not live does not count."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.store import inventory
from promodesk.store.collisions import (
    COLLISIONS,
    TWO_ACCOUNTS,
    TWO_POOLS,
    TWO_VENDORS,
    CollisionCount,
    collision_rows,
    find_collisions,
    places_of,
)
from promodesk.store.db import transaction
from promodesk.store.importers.base import ImportHints, SourceRef, ensure_account
from promodesk.store.importers.dispatch import import_file
from promodesk.store.indexer import build_indexes
from promodesk.store.query import Pager, RowQuery
from promodesk.store.records import optimove_promocode_row
from promodesk.store.runs import start_run
from promodesk.store.writes import OPTIMOVE_PROMOCODES, upsert
from tests.helpers import impact_code, impact_page, new_workspace, write_allocations, write_json


def altcraft_export(path: Path, codes: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps({"error": 0, "data": codes}), encoding="utf-8")
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    _path, conn = new_workspace(tmp_path)
    impact_shop = SourceRef(Vendor.IMPACT, key="impact-a", name="impact A")
    impact_other = SourceRef(Vendor.IMPACT, key="impact-b", name="impact B")
    import_file(
        conn,
        write_json(
            tmp_path / "a.json",
            impact_page(
                [
                    impact_code(1, Code="SUMMER10"),
                    impact_code(2, Code="TWOACC"),
                    impact_code(3, Code="OLDCODE", State="INACTIVE"),
                ]
            ),
        ),
        hints=ImportHints(source=impact_shop),
    )
    import_file(
        conn,
        write_json(tmp_path / "b.json", impact_page([impact_code(9, Code="twoacc")])),
        hints=ImportHints(source=impact_other),
    )
    import_file(
        conn,
        altcraft_export(
            tmp_path / "loyalty-5.json",
            [
                {"code": "summer10"},
                {"code": "DUP-1"},
                {"code": "OLDCODE", "expired": "2026-01-01T00:00:00Z"},
            ],
        ),
    )
    import_file(conn, altcraft_export(tmp_path / "loyalty-6.json", [{"code": "DUP-1"}]))
    rows = [
        ["c1", "pc-1", "p-1", "f-1", "ALLOC-1", "2026-11-01T10:00:00Z", "1", "1", "1"],
        ["c2", "pc-1", "p-1", "f-1", "ALLOC-1", "2026-11-02T10:00:00Z", "1", "1", "1"],
        ["c3", "pc-1", "p-1", "f-1", "ALLOC-2", "2026-11-02T10:00:00Z", "1", "1", "1"],
        ["c4", "pc-2", "p-1", "f-2", "ALLOC-2", "2026-11-02T10:00:00Z", "1", "1", "1"],
    ]
    import_file(conn, write_allocations(tmp_path / "alloc.csv", rows))
    optimove = ensure_account(
        conn, Vendor.OPTIMOVE, key="imported", name="Imported files", kind="imported"
    )
    with transaction(conn):
        run = start_run(conn, "sync", account_id=optimove)
        # "SUMMERl0" with a lower-case L: a look-alike of SUMMER10.
        upsert(
            conn,
            OPTIMOVE_PROMOCODES,
            optimove,
            [optimove_promocode_row(promocode_id="pc-g", global_code="SUMMERl0")],
            run_id=run,
            as_of="2099-01-01T00:00:00Z",
        )
    # A local file (not uploaded: live nowhere) with a code that is live elsewhere.
    local = tmp_path / "new-codes.csv"
    local.write_text("TWOACC\nFRESH-1\n", encoding="utf-8")
    import_file(conn, local)
    build_indexes(conn)
    yield conn
    conn.close()


def test_the_report(workspace: sqlite3.Connection) -> None:
    counts = find_collisions(workspace)
    assert counts == [
        CollisionCount(TWO_ACCOUNTS, 1),
        CollisionCount(TWO_POOLS, 2),
        CollisionCount(TWO_VENDORS, 1),
    ]
    rows = workspace.execute(
        "SELECT code_key, code, collision, alike, vendor, pool, codes FROM temp.collisions "
        "ORDER BY code_key, vendor, pool"
    ).fetchall()
    by_key: dict[str, list[tuple[object, ...]]] = {}
    for row in rows:
        by_key.setdefault(row[0], []).append(row[1:])
    assert set(by_key) == {"summer10", "tw0acc", "dup-1", "a110c-2"}
    summer = by_key["summer10"]
    assert {(code, vendor) for code, _, _, vendor, _, _ in summer} == {
        ("summer10", "altcraft"),
        ("SUMMER10", "impact"),
        ("SUMMERl0", "optimove"),
    }
    alike = {code: how for code, _, how, *_ in summer}
    assert alike["summer10"] == "the same code"  # the first place is the reference
    assert alike["SUMMER10"] == "differs only in upper/lower case"
    assert alike["SUMMERl0"].startswith("looks the same")
    assert {row[4] for row in by_key["dup-1"]} == {"5", "6"}
    # ALLOC-1 was allocated twice in one pool: no collision; ALLOC-2 in two promocodes.
    assert [(row[4], row[5]) for row in by_key["a110c-2"]] == [("pc-1", 1), ("pc-2", 1)]
    # Expired and inactive codes are not live: OLDCODE collides with nothing.
    assert "01dc0de" not in by_key
    exported = list(collision_rows(workspace))
    assert [row[:3] for row in exported if row[0] == "tw0acc"] == [
        ("tw0acc", "TWOACC", TWO_ACCOUNTS),
        ("tw0acc", "twoacc", TWO_ACCOUNTS),
    ]
    assert {row[5] for row in exported if row[0] == "tw0acc"} == {"impact A", "impact B"}
    pager = Pager(RowQuery(COLLISIONS, equals=(("collision", TWO_POOLS),)))
    assert pager.count(workspace) == 4


def test_after_a_sync_only_the_accounts_collisions(workspace: sqlite3.Connection) -> None:
    account = workspace.execute("SELECT id FROM accounts WHERE key = 'impact-b'").fetchone()[0]
    assert find_collisions(workspace, account_id=account) == [CollisionCount(TWO_ACCOUNTS, 1)]


def test_each_accounts_collisions_are_the_full_reports_rows_of_that_account(
    workspace: sqlite3.Connection,
) -> None:
    """The report after a sync lists, of that account's live codes, only those live in
    another place (another vendor, account or pool; not two in one pool, like ALLOC-1): the
    same rows as the full report's for the keys that involve the account."""

    def listed() -> set[tuple[object, ...]]:
        return set(
            workspace.execute(
                "SELECT code_key, collision, vendor, account_id, pool FROM temp.collisions"
            )
        )

    find_collisions(workspace)
    everything = listed()
    scoped_any = False
    for (account,) in workspace.execute("SELECT id FROM accounts").fetchall():
        find_collisions(workspace, account_id=account)
        keys = {row[0] for row in everything if row[3] == account}
        assert listed() == {row for row in everything if row[0] in keys}
        scoped_any = scoped_any or bool(keys)
    assert scoped_any
    # The same without the key index (not built yet): all of the account's keys, in Python.
    workspace.execute("SAVEPOINT unindexed")
    workspace.execute("DROP INDEX ix_code_inventory__code_key")
    for (account,) in workspace.execute("SELECT id FROM accounts").fetchall():
        find_collisions(workspace, account_id=account)
        keys = {row[0] for row in everything if row[3] == account}
        assert listed() == {row for row in everything if row[0] in keys}
    workspace.execute("ROLLBACK TO unindexed")
    workspace.execute("RELEASE unindexed")


def test_a_batch_of_codes_against_the_live_ones(workspace: sqlite3.Connection) -> None:
    batch = [
        (1, "ＳＵＭＭＥＲ１０"),  # fullwidth
        (2, "SUM\u200bMER10"),  # a zero-width space inside
        (3, "FRESH-1"),  # only in the local file: live nowhere
        (4, "OLDCODE"),  # expired and inactive
        (5, "alloc-1"),
    ]
    found = list(places_of(workspace, batch))
    by_key: dict[int, set[tuple[str, str]]] = {}
    for place in found:
        by_key.setdefault(place.key, set()).add((place.vendor.value, place.live_code))
    summer = {("altcraft", "summer10"), ("impact", "SUMMER10"), ("optimove", "SUMMERl0")}
    assert by_key == {1: summer, 2: summer, 5: {("optimove", "ALLOC-1")}}
    assert [place.alike for place in found if place.key == 5] == [
        "differs only in upper/lower case"
    ]
    # The probe leaves nothing behind in the connection.
    assert not workspace.execute(
        "SELECT name FROM temp.sqlite_master WHERE name LIKE 'collision_probe%'"
    ).fetchall()


def test_codes_not_yet_in_the_inventory_are_not_seen_until_it_catches_up(
    workspace: sqlite3.Connection, tmp_path: Path
) -> None:
    import_file(workspace, altcraft_export(tmp_path / "loyalty-7.json", [{"code": "FRESH-9"}]))
    import_file(
        workspace, write_json(tmp_path / "c.json", impact_page([impact_code(50, Code="fresh-9")]))
    )
    assert list(places_of(workspace, [(1, "FRESH-9")])) == []
    inventory.catch_up(workspace)
    assert {p.vendor for p in places_of(workspace, [(1, "FRESH-9")])} == {
        Vendor.ALTCRAFT,
        Vendor.IMPACT,
    }
