"""Codes already in a workspace (store/known_codes.py) and the use cases that join the code-file
engine with the workspace and the vendors (services/codes.py): check, generate, export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from promodesk.codefiles.generator import CodeSpec
from promodesk.codefiles.problems import ProblemKind
from promodesk.domain.jobs import CancelToken, JobCancelled, Progress
from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.domain.vendors import Vendor
from promodesk.services.accounts import AccountsService, sandbox_account
from promodesk.services.codes import (
    AllocationExportError,
    check_code_files,
    check_code_files_async,
    export_account_allocations,
    export_workspace_allocations,
    generate_code_file,
)
from promodesk.store.allocation_export import AllocationScope
from promodesk.store.db import connect, transaction
from promodesk.store.known_codes import KnownCodesProbe
from tests.helpers import new_workspace


def _account(conn, vendor: str, name: str) -> int:  # type: ignore[no-untyped-def]
    conn.execute(
        "INSERT INTO accounts(vendor, key, name, kind) VALUES (?, ?, ?, 'imported')",
        (vendor, name.lower(), name),
    )
    return int(conn.execute("SELECT max(id) FROM accounts").fetchone()[0])


def _allocation(account: int, customer: str, code: str, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "account_id": account,
        "customer_id": customer,
        "promocode_id": "pc-1",
        "promotion_id": "promo-1",
        "file_id": "f-1",
        "unique_code": code,
        "allocated_at": "2026-09-01T10:00:00Z",
        "occurence_id": 100,
        "series_id": 7,
        "action_id": 42,
    }
    row.update(values)
    return row


def _insert_allocations(conn, rows: list[dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    columns = ", ".join(rows[0])
    marks = ", ".join(f":{name}" for name in rows[0])
    conn.executemany(f"INSERT INTO optimove_allocations({columns}) VALUES ({marks})", rows)
    conn.execute(
        "INSERT INTO optimove_allocation_counts(account_id, promocode_id, file_id, promotion_id, "
        "allocations) SELECT account_id, promocode_id, file_id, promotion_id, count(*) "
        "FROM optimove_allocations GROUP BY 1, 2, 3, 4"
    )


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A code in every place a workspace keeps codes, under three vendors and four sources."""
    path, conn = new_workspace(tmp_path)
    with transaction(conn):
        files = _account(conn, "optimove", "Imported files")
        live = _account(conn, "optimove", "Acme prod")
        altcraft = _account(conn, "altcraft", "Sandbox")
        impact = _account(conn, "impact", "Acme affiliates")
        conn.execute(
            "INSERT INTO optimove_code_files(account_id, file_id, file_name, promocode_id) "
            "VALUES (?, 'f-1', 'spring.csv', 'pc-1')",
            (files,),
        )
        conn.execute(
            "INSERT INTO optimove_pool_codes(account_id, file_id, code) VALUES (?, 'f-1', 'POOL-1')",
            (files,),
        )
        _insert_allocations(
            conn,
            [
                _allocation(live, "C1", "ALLOC-1"),
                _allocation(live, "C2", "ALLOC-1", allocated_at="2026-09-02T10:00:00Z"),
                _allocation(live, "=cmd|' /C calc'!A0", "+SUM(1)", occurence_id=-5),
                _allocation(live, "C4", "FILE2-1", file_id="f-2"),
            ],
        )
        conn.execute(
            "INSERT INTO optimove_promocodes(account_id, promocode_id, code_type, global_code, "
            "default_code) VALUES (?, 'pc-2', 'global', 'WELCOME2025', 'FALLBACK-1')",
            (live,),
        )
        conn.execute(
            "INSERT INTO altcraft_codes(account_id, loyalty_id, code, status) "
            "VALUES (?, '5', 'ÄLT-1', 'available')",
            (altcraft,),
        )
        conn.execute(
            "INSERT INTO runs(kind, account_id, started_at) VALUES ('sync', ?, '2026-11-20')",
            (impact,),
        )
        conn.execute(  # a sync found it gone from impact.com
            "INSERT INTO impact_codes(account_id, promo_code_id, code, status, campaign_name, "
            "partner_name, gone_run) VALUES (?, 1, 'IMP-1', 'active', 'Acme', 'Trail Deals Blog', "
            "(SELECT max(id) FROM runs))",
            (impact,),
        )
        conn.execute(
            "INSERT INTO optimove_legacy_promotions(account_id, promo_code, promotion_name) "
            "VALUES (?, 'SUMMER10', 'Summer sale')",
            (live,),
        )
        conn.executemany(
            "INSERT INTO optimove_legacy_codes(account_id, promo_code, action_id, for_date) "
            "VALUES (?, 'VIP20', 57, ?)",
            [(live, "2026-11-20"), (live, "2026-11-21")],
        )
    conn.close()
    return path


def test_codes_known_anywhere_are_found_whatever_their_case(
    workspace: Path, tmp_path: Path
) -> None:
    source = tmp_path / "new.csv"
    source.write_text(
        "pool-1\nalloc-1\nwelcome2025\nFallback-1\nält-1\nimp-1\nNEW-1\nsummer10\nvip20\n"
    )
    with check_code_files([source], Vendor.ALTCRAFT, workspace=workspace) as report:
        found = [(p.line, p.kind, p.detail) for p in report.iter_problems(0)]
        assert report.files[0].valid == 1
    assert all(kind is ProblemKind.IN_WORKSPACE for _, kind, _ in found)
    assert [
        (line, detail.removeprefix("already in the workspace: ")) for line, _, detail in found
    ] == [
        (1, "Optimove · Imported files · code file spring.csv of promocode pc-1"),
        (2, "Optimove · Acme prod · allocated in promocode pc-1"),  # twice allocated: said once
        (3, "Optimove · Acme prod · global code of promocode pc-2"),
        (4, "Optimove · Acme prod · default code of promocode pc-2"),
        (5, "Altcraft · Sandbox · loyalty program 5"),
        (
            6,
            "impact.com · Acme affiliates · program Acme, partner Trail Deals Blog (no longer at "
            "the vendor)",
        ),
        (8, "Optimove · Acme prod · legacy promotion Summer sale"),
        (9, "Optimove · Acme prod · legacy promo code of campaign action 57"),  # two dates: once
    ]


def test_a_probe_reports_every_place_by_key_and_leaves_nothing_behind(workspace: Path) -> None:
    conn = connect(workspace, readonly=True)
    probe = KnownCodesProbe(conn)
    probe.add([(7, "imp-1"), (9, "NOPE"), (12, "pool-1"), (20, "ÄLT-1")])
    conn.execute(
        "CREATE TEMP TABLE other AS SELECT 'ALLOC-1' AS code"  # (a second probe is separate)
    )
    second = KnownCodesProbe(conn)
    second.add([(1, "Alloc-1")])
    assert [(m.key, m.code, m.vendor) for m in probe.matches()] == [
        (7, "imp-1", Vendor.IMPACT),
        (12, "pool-1", Vendor.OPTIMOVE),
        (20, "ÄLT-1", Vendor.ALTCRAFT),
    ]
    assert [m.place for m in second.matches()] == ["allocated in promocode pc-1"]
    probe.close()
    second.close()
    temp_tables = conn.execute("SELECT name FROM temp.sqlite_master WHERE type='table'").fetchall()
    assert temp_tables == [("other",)]
    conn.close()


def test_generated_codes_avoid_every_code_of_the_workspace(tmp_path: Path) -> None:
    """16 codes can be made of A/B four times; the workspace has 8 of them (in two vendors,
    one in lower case): the 8 generated must be exactly the other 8."""
    every = [f"{n:04b}".replace("0", "A").replace("1", "B") for n in range(16)]
    path, conn = new_workspace(tmp_path)
    with transaction(conn):
        optimove = _account(conn, "optimove", "Imported files")
        altcraft = _account(conn, "altcraft", "Sandbox")
        for code in every[:4]:
            conn.execute(
                "INSERT INTO optimove_pool_codes(account_id, file_id, code) VALUES (?, 'f', ?)",
                (optimove, code.lower()),
            )
        for code in every[4:8]:
            conn.execute(
                "INSERT INTO altcraft_codes(account_id, loyalty_id, code, status) "
                "VALUES (?, '5', ?, 'available')",
                (altcraft, code),
            )
    conn.close()
    target = tmp_path / "generated.csv"
    outcome = generate_code_file(CodeSpec(8, 4, alphabet="AB"), target, workspace=path)
    assert sorted(target.read_text().split()) == sorted(every[8:])
    assert outcome.files == [(target, 8)]


def test_generating_more_codes_than_the_workspace_leaves_stops_with_a_reason(
    tmp_path: Path,
) -> None:
    """12 of the 16 A/B codes are taken: 8 new ones cannot be made (the count alone, 8 of 16,
    looked possible). The generator must say so, not draw for ever."""
    every = [f"{n:04b}".replace("0", "A").replace("1", "B") for n in range(16)]
    path, conn = new_workspace(tmp_path)
    with transaction(conn):
        altcraft = _account(conn, "altcraft", "Sandbox")
        conn.executemany(
            "INSERT INTO altcraft_codes(account_id, loyalty_id, code, status) "
            "VALUES (?, '5', ?, 'available')",
            [(altcraft, code) for code in every[:12]],
        )
    conn.close()
    target = tmp_path / "generated.csv"
    with pytest.raises(ValueError, match=r"no \d+ more different codes of 4 characters"):
        generate_code_file(CodeSpec(8, 4, alphabet="AB"), target, workspace=path)
    assert not target.exists()


def test_generating_without_a_workspace_splits_at_the_cap(tmp_path: Path) -> None:
    target = tmp_path / "codes.csv"
    outcome = generate_code_file(CodeSpec(100, 9), target, max_file_bytes=500)
    assert [count for _, count in outcome.files] == [50, 50]
    assert not target.exists()
    codes = [line for path, _ in outcome.files for line in path.read_text().split()]
    assert len(set(codes)) == 100


def _read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def test_workspace_export_has_the_nine_columns_and_safe_cells(
    workspace: Path, tmp_path: Path
) -> None:
    target = tmp_path / "export.csv"
    updates: list[Progress] = []
    rows = export_workspace_allocations(
        workspace, AllocationScope("pc-1"), target, bom=True, progress=updates.append
    )
    assert rows == 4
    assert target.read_bytes().startswith(b"\xef\xbb\xbfcustomerId,")
    written = _read_csv(target, "utf-8-sig")
    assert written[0] == list(ALLOCATION_COLUMNS)
    assert written[1] == [
        "C1",
        "pc-1",
        "promo-1",
        "f-1",
        "ALLOC-1",
        "2026-09-01T10:00:00Z",
        "100",
        "7",
        "42",
    ]
    # Text that a spreadsheet would run gets a quote; a number stays a number.
    assert written[3][:5] == ["'=cmd|' /C calc'!A0", "pc-1", "promo-1", "f-1", "'+SUM(1)"]
    assert written[3][6] == "-5"
    assert updates[-1] == Progress(4, 4, "Writing allocations (4)")

    plain = tmp_path / "plain.csv"
    export_workspace_allocations(
        workspace, AllocationScope("pc-1", "f-2"), plain, spreadsheet_safe=False
    )
    assert plain.read_bytes().startswith(b"customerId,")
    assert [row[4] for row in _read_csv(plain)[1:]] == ["FILE2-1"]
    unsafe = tmp_path / "unsafe.csv"
    export_workspace_allocations(workspace, AllocationScope("pc-1"), unsafe, spreadsheet_safe=False)
    assert _read_csv(unsafe)[3][0] == "=cmd|' /C calc'!A0"


def test_workspace_export_of_an_unknown_promocode_says_what_it_knows(
    workspace: Path, tmp_path: Path
) -> None:
    with pytest.raises(AllocationExportError, match=r"no promocode 'pc-9' \(it knows pc-1, pc-2\)"):
        export_workspace_allocations(workspace, AllocationScope("pc-9"), tmp_path / "x.csv")
    with pytest.raises(AllocationExportError, match="no code file 'f-9'"):
        export_workspace_allocations(workspace, AllocationScope("pc-1", "f-9"), tmp_path / "x.csv")
    empty = tmp_path / "empty.csv"  # a known promocode without allocations: just the header
    assert export_workspace_allocations(workspace, AllocationScope("pc-2"), empty) == 0
    assert _read_csv(empty) == [list(ALLOCATION_COLUMNS)]
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("test.")] == ["empty.csv"]


def test_a_cancelled_workspace_export_leaves_the_old_file(tmp_path: Path) -> None:
    path, conn = new_workspace(tmp_path)
    with transaction(conn):
        live = _account(conn, "optimove", "Acme prod")
        _insert_allocations(conn, [_allocation(live, f"C{n}", f"CODE-{n}") for n in range(25_000)])
    conn.close()
    target = tmp_path / "export.csv"
    target.write_text("the previous export\n")
    token = CancelToken()

    def cancel_midway(update: Progress) -> None:
        if update.done >= 10_000:
            token.cancel()

    with pytest.raises(JobCancelled):
        export_workspace_allocations(
            path, AllocationScope("pc-1"), target, cancel=token, progress=cancel_midway
        )
    assert target.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("test.")) == [
        "export.csv"
    ]


async def test_live_export_from_the_sandbox_is_made_safe(tmp_path: Path) -> None:
    service = AccountsService()
    try:
        client = await service.connections.client(sandbox_account(Vendor.OPTIMOVE))
        fake = service.connections.fake(Vendor.OPTIMOVE)
        promocode = fake.state.promocodes["pc-spring-welcome"]
        codes = [fake.state.allocate(promocode, customer, 42) for customer in ("=1+1", "C-2")]
        target = tmp_path / "live.csv"
        rows = await export_account_allocations(
            client,  # type: ignore[arg-type]
            AllocationScope("pc-spring-welcome"),
            target,
            bom=True,
        )
    finally:
        await service.aclose()
    assert rows == 2
    written = _read_csv(target, "utf-8-sig")
    assert written[0] == list(ALLOCATION_COLUMNS)
    assert [row[0] for row in written[1:]] == ["'=1+1", "C-2"]
    assert [row[4] for row in written[1:]] == codes
    assert sorted(path.name for path in tmp_path.iterdir()) == ["live.csv"]


class _DamagedExport:
    """A vendor answer cut in the middle of a row (a stand-in for Optimove, not our code)."""

    async def export_allocations(self, promocode_id: str, target: Path, **_: object) -> int:
        target.write_text(",".join(ALLOCATION_COLUMNS) + "\nC1,pc-1,promo-1,f-1,A,2026\n")
        return 1


async def test_a_damaged_live_export_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "live.csv"
    with pytest.raises(AllocationExportError, match="line 2 has 6 columns instead of 9"):
        await export_account_allocations(_DamagedExport(), AllocationScope("pc-1"), target)
    assert list(tmp_path.iterdir()) == []


async def test_the_async_check_runs_off_the_loop_and_reports_progress(
    workspace: Path, tmp_path: Path
) -> None:
    source = tmp_path / "codes.csv"
    source.write_text("".join(f"C-{n}\n" for n in range(50_000)))
    updates: list[Progress] = []
    report = await check_code_files_async(
        [source], "optimove", workspace=workspace, progress=updates.append
    )
    with report:
        assert report.clean
        assert report.files[0].valid == 50_000
    assert any(update.message == "Checking codes.csv" for update in updates)


def test_a_workspace_of_the_first_format_is_read_without_the_newer_tables(
    tmp_path: Path,
) -> None:
    """A read-only connection does not migrate: an older file lacks the legacy tables and the
    gone marks, and the look-up uses what it has."""
    import sqlite3

    from promodesk.store import schema

    path = tmp_path / "old.promodesk"
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in schema._statements(schema.MIGRATIONS[0]):
        raw.execute(statement)
    raw.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    raw.execute("PRAGMA user_version = 1")
    raw.execute(
        "INSERT INTO accounts(vendor, key, name, kind) VALUES ('altcraft', 'k', 'Old', 'imported')"
    )
    raw.execute(
        "INSERT INTO altcraft_codes(account_id, loyalty_id, code, status) VALUES (1, '5', 'OLD-1', 'x')"
    )
    raw.close()
    conn = connect(path, readonly=True)
    probe = KnownCodesProbe(conn)
    probe.add([(1, "old-1"), (2, "new-1")])
    assert [(m.key, m.where) for m in probe.matches()] == [
        (1, "Altcraft · Old · loyalty program 5")
    ]
    probe.close()
    conn.close()


def test_look_alikes_of_live_codes_are_found_too(tmp_path: Path) -> None:
    """A code that is a live code to a customer's eye (0/O, 1/l) is flagged with the code it
    looks like; an exact or case-only match is flagged by its place as before, not twice."""
    from tests.insight_workspace import build_insight_workspace

    workspace = build_insight_workspace(tmp_path)
    source = tmp_path / "new.csv"
    source.write_text("IMPOOO1\nimp0002\nIMP\u200b0004\nNEW-1\n", encoding="utf-8")
    with check_code_files([source], Vendor.OPTIMOVE, workspace=workspace) as report:
        found = [(p.line, p.kind, p.detail) for p in report.iter_problems(0)]
    places = {
        line: set(detail.removeprefix("already in the workspace: ").split("; "))
        for line, kind, detail in found
        if kind is ProblemKind.IN_WORKSPACE
    }
    assert places == {
        1: {
            "impact.com · Shop impact · looks like IMP0001 (allocated, program Acme Campaign)",
            "Optimove · Imported files · looks like imp0001 (allocated, promocode pc-slow)",
        },
        2: {"impact.com · Shop impact · program Acme Campaign, partner Partner 2"},
        # (an invisible character is set aside by the case-insensitive look-up already)
        3: {"impact.com · Shop impact · program Acme Campaign, partner Partner 1"},
    }
