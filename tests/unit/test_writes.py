"""The workspace's write side: record upserts, gone marks, removal of an import, search
exactness, counts kept by deltas (checked against a full recount) and state events."""

from __future__ import annotations

import json
import random
import sqlite3
import zlib
from datetime import date
from decimal import Decimal
from itertools import product
from pathlib import Path

import pytest

from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
from promodesk.domain.values import now_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.store import writes
from promodesk.store.db import connect, transaction
from promodesk.store.importers.base import ImportHints, SourceRef, ensure_account
from promodesk.store.importers.dispatch import import_file
from promodesk.store.imports import ImportNotRemovable, list_imports, remove_import
from promodesk.store.indexer import build_indexes
from promodesk.store.query import Pager, RowQuery
from promodesk.store.records import altcraft_row, details_json, fingerprint, impact_row
from promodesk.store.rollups import recount
from promodesk.store.runs import finish_run, start_run
from promodesk.store.schema import APPLICATION_ID, MIGRATIONS, _statements
from promodesk.store.tables import ALTCRAFT_CODES as ALTCRAFT_SPEC
from promodesk.store.tables import IMPACT_CODES as IMPACT_SPEC
from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, Staging, upsert
from tests.conftest import DEMO_DIR
from tests.helpers import impact_code, impact_page, new_workspace, write_json

AS_OF = "2026-11-20T09:30:00Z"
LATER = "2026-11-21T09:30:00Z"

COUNT_COLUMNS = {
    "altcraft_programs": (
        "loyalty_id",
        "code_count",
        "available_count",
        "attached_count",
        "activated_count",
        "expired_count",
    ),
    "impact_programs": ("campaign_id", "name", "code_count", "active_count", "partner_count"),
    "optimove_promotions": ("promotion_id", "promocode_count", "allocation_count"),
    "optimove_promocodes": ("promocode_id", "file_count", "allocation_count"),
    "optimove_code_files": ("file_id", "allocation_count", "code_count"),
}


def counts(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {
        table: sorted(
            conn.execute(f"SELECT account_id, {', '.join(columns)} FROM {table}").fetchall()
        )
        for table, columns in COUNT_COLUMNS.items()
    }


def assert_counts_match_a_recount(conn: sqlite3.Connection) -> None:
    """Counts kept by deltas must equal what counting every row gives."""
    kept = counts(conn)
    conn.execute("SAVEPOINT recount")
    for account_id, vendor in conn.execute("SELECT id, vendor FROM accounts").fetchall():
        recount(conn, Vendor(vendor), account_id)
    recounted = counts(conn)
    conn.execute("ROLLBACK TO recount")
    conn.execute("RELEASE recount")
    assert kept == recounted


def altcraft(code: str, **dates: str) -> tuple:
    return altcraft_row(AltcraftCodeRecord(code=code, **dates), "5")


def impact(n: int, **fields: object) -> tuple:
    return impact_row(ImpactPromoCodeRecord.model_validate(impact_code(n, **fields)))


def search(conn: sqlite3.Connection, spec, text: str) -> list[str]:
    pager = Pager(RowQuery(spec, search=text))
    column = spec.column_names.index("code")
    return [row[column] for row in pager.fetch(conn, 0, 1000)]


def check_search_index(conn: sqlite3.Connection) -> None:
    """The trigram index holds exactly the rows up to its watermark (SQLite raises
    DatabaseError from 'integrity-check' when an external-content index disagrees)."""
    upto = conn.execute(
        "SELECT indexed_upto FROM search_index_state WHERE table_name = 'altcraft_codes'"
    ).fetchone()[0]
    assert upto == conn.execute("SELECT max(id) FROM altcraft_codes").fetchone()[0]
    conn.execute(
        "INSERT INTO fts_altcraft_codes(fts_altcraft_codes, rank) VALUES ('integrity-check', 1)"
    )
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.fixture
def workspace(tmp_path: Path):
    _path, conn = new_workspace(tmp_path)
    yield conn
    conn.close()


def new_run(conn: sqlite3.Connection, account: int, kind: str = "sync") -> int:
    return start_run(conn, kind, account_id=account)  # type: ignore[arg-type]


def impact_account(conn: sqlite3.Connection, codes: int = 0) -> tuple[int, int]:
    """An impact.com account with codes 0..codes-1 written by a run of its own: (account,
    run)."""
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="acc", name="Acc", kind="live")
        run = new_run(conn, account)
        if codes:
            rows = [impact(n) for n in range(codes)]
            upsert(conn, IMPACT_CODES, account, rows, run_id=run, as_of=AS_OF)
    return account, run


def test_an_upsert_reports_what_changed_and_records_state_events(workspace) -> None:
    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.ALTCRAFT, key="acc", name="Acc", kind="live")
        first = new_run(conn, account)
        outcome = upsert(
            conn,
            ALTCRAFT_CODES,
            account,
            [altcraft("A1"), altcraft("A2"), altcraft("A2")],
            run_id=first,
            as_of=AS_OF,
        )
    assert (outcome.added, outcome.changed, outcome.unchanged) == (2, 0, 0)
    with transaction(conn):
        second = new_run(conn, account)
        outcome = upsert(
            conn,
            ALTCRAFT_CODES,
            account,
            [altcraft("A1", attached="2026-11-21T10:00:00Z"), altcraft("A2"), altcraft("A3")],
            run_id=second,
            as_of=LATER,
        )
    assert (outcome.added, outcome.changed, outcome.unchanged) == (1, 1, 1)
    assert len(outcome.changed_ids) == 2
    events = conn.execute(
        "SELECT run_id, old_state, new_state FROM state_events WHERE table_name = 'altcraft_codes'"
    ).fetchall()
    assert events == [(second, "available", "attached")]
    added_by = dict(conn.execute("SELECT code, added_run FROM altcraft_codes").fetchall())
    assert added_by == {"A1": first, "A2": first, "A3": second}
    assert conn.execute(
        "SELECT code_count, available_count, attached_count FROM altcraft_programs"
    ).fetchone() == (3, 2, 1)
    assert_counts_match_a_recount(conn)


def test_an_older_record_never_overwrites_a_newer_one(workspace) -> None:
    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.ALTCRAFT, key="acc", name="Acc", kind="live")
        upsert(
            conn,
            ALTCRAFT_CODES,
            account,
            [altcraft("A1", attached="2026-11-21T10:00:00Z")],
            run_id=new_run(conn, account),
            as_of=LATER,
        )
        outcome = upsert(
            conn,
            ALTCRAFT_CODES,
            account,
            [altcraft("A1")],
            run_id=new_run(conn, account),
            as_of=AS_OF,
        )
    assert (outcome.added, outcome.changed, outcome.unchanged) == (0, 0, 1)
    assert conn.execute("SELECT status FROM altcraft_codes").fetchone() == ("attached",)


def test_a_full_sync_marks_what_the_vendor_no_longer_has_and_brings_it_back(workspace) -> None:
    conn = workspace
    account, _ = impact_account(conn, 5)
    with transaction(conn):
        run = new_run(conn, account)
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add([impact(n) for n in (0, 1, 2)])
        staging.add([impact(3, State="INACTIVE")])
        outcome = staging.write(run_id=run, as_of=LATER, gone_scope={})
    assert (outcome.added, outcome.changed, outcome.unchanged, outcome.gone) == (0, 1, 3, 1)
    states = dict(conn.execute("SELECT code, status FROM impact_codes").fetchall())
    assert states == {
        "IMP0000": "active",
        "IMP0001": "active",
        "IMP0002": "active",
        "IMP0003": "inactive",
        "IMP0004": "gone",
    }
    assert conn.execute("SELECT gone_run FROM impact_codes WHERE code = 'IMP0004'").fetchone() == (
        run,
    )
    program = conn.execute("SELECT code_count, active_count FROM impact_programs").fetchone()
    assert program == (4, 3)
    assert_counts_match_a_recount(conn)
    with transaction(conn):
        back = new_run(conn, account)
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add([impact(n) for n in range(5)])
        outcome = staging.write(run_id=back, as_of="2026-11-22T09:30:00Z", gone_scope={})
    assert outcome.returned == 1 and outcome.gone == 0
    assert conn.execute(
        "SELECT status, gone_run FROM impact_codes WHERE code = 'IMP0004'"
    ).fetchone() == ("active", 0)
    events = conn.execute(
        "SELECT run_id, old_state, new_state FROM state_events ORDER BY id"
    ).fetchall()
    assert events == [
        (run, "active", "inactive"),
        (run, "active", "gone"),
        (back, "inactive", "active"),
        (back, "gone", "active"),
    ]
    assert_counts_match_a_recount(conn)


def test_a_gone_scope_only_covers_what_was_synced(workspace) -> None:
    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.ALTCRAFT, key="acc", name="Acc", kind="live")
        rows = [
            altcraft_row(AltcraftCodeRecord(code=f"C{n}"), program)
            for program in ("5", "6")
            for n in range(3)
        ]
        upsert(conn, ALTCRAFT_CODES, account, rows, run_id=new_run(conn, account), as_of=AS_OF)
    with transaction(conn):
        staging = Staging(conn, ALTCRAFT_CODES, account)
        staging.add([altcraft_row(AltcraftCodeRecord(code="C0"), "5")])
        outcome = staging.write(
            run_id=new_run(conn, account), as_of=LATER, gone_scope={"loyalty_id": "5"}
        )
    assert outcome.gone == 2
    gone = conn.execute(
        "SELECT loyalty_id, code FROM altcraft_codes WHERE status = 'gone' ORDER BY code"
    ).fetchall()
    assert gone == [("5", "C1"), ("5", "C2")]
    assert_counts_match_a_recount(conn)


def test_random_writes_keep_every_count_equal_to_a_recount(workspace) -> None:
    conn = workspace
    rng = random.Random(7)
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="acc", name="Acc", kind="live")
    for step in range(25):
        with transaction(conn):
            run = new_run(conn, account)
            staging = Staging(conn, IMPACT_CODES, account)
            chosen = rng.sample(range(60), rng.randint(20, 60))
            programs = [rng.randint(0, 3) for _ in chosen]
            staging.add(
                impact(
                    n,
                    CampaignId=str(1000 + program),
                    CampaignName=f"Program {program}",
                    AssignedPartnerId=str(rng.randint(1, 6)),
                    State=rng.choice(["ACTIVE", "INACTIVE"]),
                )
                for n, program in zip(chosen, programs, strict=True)
            )
            staging.write(
                run_id=run,
                as_of=f"2026-11-{1 + step:02d}T00:00:00Z",
                gone_scope={} if step % 3 else None,
            )
        assert_counts_match_a_recount(conn)


def test_search_stays_exact_when_rows_change_go_and_ids_are_reused(workspace) -> None:
    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="acc", name="Acc", kind="live")
        upsert(
            conn,
            IMPACT_CODES,
            account,
            [impact(n) for n in range(10)],
            run_id=new_run(conn, account),
            as_of=AS_OF,
        )
    build_indexes(conn)  # every row is in the trigram index now
    # A code renamed at the vendor: the old text no longer finds it, the new one does.
    with transaction(conn):
        upsert(
            conn,
            IMPACT_CODES,
            account,
            [impact(9, Code="RENAMED-XYZ")],
            run_id=new_run(conn, account),
            as_of=LATER,
        )
    assert search(conn, IMPACT_SPEC, "IMP0009") == []
    assert search(conn, IMPACT_SPEC, "NAMED-X") == ["RENAMED-XYZ"]


def test_removing_an_import_takes_its_rows_counts_and_index_entries(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    try:
        good = import_file(conn, DEMO_DIR / "altcraft_export_all_loyalty-5.json")
        # The wrong import of issue 13: the same codes without their program.
        wrong_file = tmp_path / "alt-codes.json"
        wrong_file.write_bytes((DEMO_DIR / "altcraft_export_all_loyalty-5.json").read_bytes())
        wrong = import_file(conn, wrong_file)
        assert wrong.rows_added == good.rows_added
        build_indexes(conn)
        programs = [row[0] for row in conn.execute("SELECT loyalty_id FROM altcraft_programs")]
        assert sorted(programs) == ["5", "? alt-codes"]
        history = list_imports(conn)
        assert [record.file_name for record in history] == [
            "alt-codes.json",
            "altcraft_export_all_loyalty-5.json",
        ]
        code = conn.execute("SELECT code FROM altcraft_codes ORDER BY id DESC LIMIT 1").fetchone()[
            0
        ]
        assert search(conn, ALTCRAFT_SPEC, code) == [code, code]

        result = remove_import(conn, history[0].id)
        assert result.rows_removed == wrong.rows_added  # its codes (its program goes too)
        assert [row[0] for row in conn.execute("SELECT loyalty_id FROM altcraft_programs")] == ["5"]
        assert search(conn, ALTCRAFT_SPEC, code) == [code]
        assert [record.file_name for record in list_imports(conn)] == [
            "altcraft_export_all_loyalty-5.json"
        ]
        assert_counts_match_a_recount(conn)
        check_search_index(conn)
        # A new row that reuses a removed row's id is found by search, before and after the
        # index builder has caught up with it.
        import_file(conn, wrong_file)
        assert search(conn, ALTCRAFT_SPEC, code) == [code, code]
        build_indexes(conn)
        assert search(conn, ALTCRAFT_SPEC, code) == [code, code]
        check_search_index(conn)
    finally:
        conn.close()


def test_an_altcraft_export_imported_keeps_what_the_workspace_knew(tmp_path: Path) -> None:
    """An export_all file sends a code's attachment and activation only: importing one after
    `get` answers (here saved in a file) keeps their creation, expiry and holder."""
    full = {
        "code": "GIFT-1",
        "loyalty_id": 5,
        "created": "2026-10-01T00:00:00Z",
        "is_attached": True,
        "is_activated": False,
        "is_expired": True,
        "attached": "2026-10-02T00:00:00Z",
        "activated": "",
        "expired": "2026-11-01T00:00:00Z",
        "expire_date": "2026-11-01T00:00:00Z",
        "database_id": 1,
        "profile_id": "p-1",
    }
    columns = "status, created, expired, expire_date, profile_id, database_id"
    _path, conn = new_workspace(tmp_path)
    try:
        # (a `get` may also say a code is expired by its flag alone)
        flagged = {**full, "code": "GIFT-3", "expired": "", "attached": "", "profile_id": None}
        import_file(conn, write_json(tmp_path / "gets-5.json", {"data": [full, flagged]}))
        before = conn.execute(f"SELECT {columns} FROM altcraft_codes ORDER BY code").fetchall()
        assert before == [
            ("expired", full["created"], full["expired"], full["expire_date"], "p-1", 1),
            ("expired", full["created"], "", full["expire_date"], "", 1),
        ]
        exported = [
            {"code": "GIFT-1", "attached": full["attached"]},
            {"code": "GIFT-2"},
            {"code": "GIFT-3"},
        ]
        import_file(
            conn, write_json(tmp_path / "altcraft_export_all_loyalty-5.json", {"data": exported})
        )
        rows = conn.execute(f"SELECT code, {columns} FROM altcraft_codes ORDER BY code").fetchall()
        assert rows == [
            ("GIFT-1", *before[0]),
            ("GIFT-2", "available", "", "", "", "", ""),
            ("GIFT-3", "expired", full["created"], "", full["expire_date"], "", ""),
        ]
        assert_counts_match_a_recount(conn)
    finally:
        conn.close()


def test_every_table_an_import_writes_has_its_number_for_shared_rows() -> None:
    from promodesk.store.bulk import DEDUPE_KEYS
    from promodesk.store.schema import SHARED_TABLES

    assert set(SHARED_TABLES) == {*writes.RECORD_TABLES, *DEDUPE_KEYS, "redemptions"}
    assert len(set(SHARED_TABLES.values())) == len(SHARED_TABLES)


SHARED_ROWS = {
    "altcraft_export_all_loyalty-5.json": "altcraft_codes",
    "impact_promocodes_2pages.json": "impact_codes",
    "optimove_allocations_2026-11-20.csv": "optimove_allocations",
    "optimove_unique_codes_spring_batch3.csv": "optimove_pool_codes",
}


def table_rows(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()


@pytest.mark.parametrize(
    ("demo", "first_lines"),
    [*((demo, None) for demo in sorted(SHARED_ROWS)), ("optimove_allocations_2026-11-20.csv", 41)],
)
def test_removing_an_import_keeps_the_rows_a_later_import_also_has(
    tmp_path: Path, demo: str, first_lines: int | None
) -> None:
    """Monday's export, then Tuesday's with the same rows: removing Monday's must not take
    Tuesday's rows with it. (Monday's with only the first lines: Tuesday's, bigger than what
    the workspace holds, is bulk loaded, which finds what was there after the load.)"""
    table = SHARED_ROWS[demo]
    _path, conn = new_workspace(tmp_path)
    try:
        lines = (DEMO_DIR / demo).read_text(encoding="utf-8").splitlines(keepends=True)
        monday, tuesday, wednesday = (tmp_path / f"{day}-{demo}" for day in ("mon", "tue", "wed"))
        monday.write_text("".join(lines[:first_lines]))
        for day in (tuesday, wednesday):
            day.write_text("".join(lines))
        import_file(conn, monday)
        import_file(conn, tuesday)
        build_indexes(conn)
        everything = table_rows(conn, table)

        def remove(file: Path) -> None:
            [record] = [r for r in list_imports(conn) if r.file_name == file.name]
            remove_import(conn, record.id)
            assert_counts_match_a_recount(conn)
            build_indexes(conn)
            if table == "altcraft_codes" and table_rows(conn, table):
                check_search_index(conn)

        remove(monday)
        assert [r[0] for r in table_rows(conn, table)] == [r[0] for r in everything]
        # Tuesday's import has added them now: its history says so (removing it takes them).
        [later] = list_imports(conn)
        assert (later.file_name, later.rows_added) == (tuesday.name, len(everything))
        # Three alike: the middle one goes, then the first hands its rows to the last.
        import_file(conn, wednesday)
        remove(tuesday)
        assert len(table_rows(conn, table)) == len(everything)
        remove(wednesday)
        assert table_rows(conn, table) == []
        # Nothing left from files: no "as of" either.
        dated = conn.execute("SELECT as_of FROM accounts WHERE kind = 'imported'").fetchall()
        assert dated and set(dated) == {("",)}
        assert conn.execute("SELECT count(*) FROM import_shares").fetchone()[0] == 0
        assert (
            conn.execute(
                "SELECT (SELECT count(*) FROM altcraft_programs) + (SELECT count(*) FROM "
                "impact_programs) + (SELECT count(*) FROM optimove_promotions)"
            ).fetchone()[0]
            == 0
        )
    finally:
        conn.close()


def test_a_merged_workspace_that_repeats_imported_files_takes_their_rows_over(
    tmp_path: Path,
) -> None:
    names = sorted(SHARED_ROWS)
    other_path, other = new_workspace(tmp_path / "other")
    for name in names:
        import_file(other, DEMO_DIR / name)
    other.close()
    _path, conn = new_workspace(tmp_path / "mine")
    try:
        for name in names:
            import_file(conn, DEMO_DIR / name)
        import_file(conn, other_path)
        sizes = {table: len(table_rows(conn, table)) for table in SHARED_ROWS.values()}
        merge, *files = list_imports(conn)
        for record in files:
            assert remove_import(conn, record.id).rows_removed == 0
            assert_counts_match_a_recount(conn)
        assert {table: len(table_rows(conn, table)) for table in SHARED_ROWS.values()} == sizes
        remove_import(conn, merge.id)
        assert {
            table: len(table_rows(conn, table)) for table in SHARED_ROWS.values()
        } == dict.fromkeys(sizes, 0)
        assert_counts_match_a_recount(conn)
    finally:
        conn.close()


def test_a_program_kept_for_its_codes_stays_when_another_import_goes(tmp_path: Path) -> None:
    """A program an import brought stays after that import is removed while a Refresh has
    confirmed its codes; once Altcraft drops them (gone), removing another, unrelated import
    must leave the program and its gone codes alone."""
    _path, conn = new_workspace(tmp_path)
    try:
        five = import_file(conn, DEMO_DIR / "altcraft_export_all_loyalty-5.json")
        account = conn.execute("SELECT account_id FROM altcraft_codes LIMIT 1").fetchone()[0]
        columns = ", ".join(ALTCRAFT_CODES.columns)

        def refresh(*, codes: bool) -> None:
            with transaction(conn):
                staging = Staging(conn, ALTCRAFT_CODES, account)
                if codes:  # (what a sync writes: each code with its fingerprint)
                    staging.add_kept(
                        conn.execute(f"SELECT {columns}, 7 FROM altcraft_codes").fetchall()
                    )
                run = new_run(conn, account)
                # (after the demo file's own time, whenever it was copied)
                staging.write(run_id=run, as_of=now_utc_text(), gone_scope={"loyalty_id": "5"})
                finish_run(conn, run, "done")

        refresh(codes=True)
        import_file(conn, DEMO_DIR / "altcraft_export_all_loyalty-8.xml")
        [first] = [r for r in list_imports(conn) if r.file_name == five.path.name]
        assert remove_import(conn, first.id).rows_kept == five.rows_added
        refresh(codes=False)  # Altcraft emptied program 5
        gone = conn.execute("SELECT count(*) FROM altcraft_codes WHERE status = 'gone'")
        assert gone.fetchone()[0] == five.rows_added
        [eight] = list_imports(conn)
        remove_import(conn, eight.id)
        programs = conn.execute("SELECT loyalty_id FROM altcraft_programs").fetchall()
        assert programs == [("5",)]
        assert_counts_match_a_recount(conn)
    finally:
        conn.close()


def test_removing_an_allocation_import_restores_every_count(tmp_path: Path) -> None:
    from tests.helpers import allocation_rows, write_allocations

    _path, conn = new_workspace(tmp_path)
    try:
        import_file(conn, write_allocations(tmp_path / "a.csv", allocation_rows(50)))
        before = counts(conn)
        second = write_allocations(
            tmp_path / "b.csv",
            allocation_rows(30, start=40)
            + allocation_rows(20, promocode="pc-2", promotion="promo-2"),
        )
        import_file(conn, second)
        assert_counts_match_a_recount(conn)
        remove_import(conn, list_imports(conn)[0].id)
        assert counts(conn) == before
        assert conn.execute("SELECT count(*) FROM optimove_allocations").fetchone() == (50,)
        assert_counts_match_a_recount(conn)
    finally:
        conn.close()


def test_removing_an_impact_import_takes_its_codes_and_programs(tmp_path: Path) -> None:
    """impact.com programs carry names from their codes; a removal carries none (it used to
    stop on that: "zip() argument 2 is shorter")."""
    _path, conn = new_workspace(tmp_path)
    try:
        kept = import_file(conn, DEMO_DIR / "impact_promocodes_2pages.json")
        before = counts(conn)
        extra = write_json(
            tmp_path / "more.json",
            impact_page(
                [
                    impact_code(n, Id=str(9_000_000 + n), CampaignId="555", CampaignName="New")
                    for n in range(9)
                ]
            ),
        )
        import_file(conn, extra)
        result = remove_import(conn, list_imports(conn)[0].id)
        assert result.rows_removed == 9  # its codes (and the program they made goes)
        assert counts(conn) == before
        assert conn.execute("SELECT count(*) FROM impact_codes").fetchone() == (kept.rows_added,)
        assert_counts_match_a_recount(conn)
    finally:
        conn.close()


def test_an_export_imported_for_an_account_is_the_rows_its_sync_writes(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    try:
        export = write_json(
            tmp_path / "codes.json", impact_page([impact_code(n) for n in range(4)])
        )
        source = SourceRef(Vendor.IMPACT, key="acc-1", name="Shop impact")
        import_file(conn, export, hints=ImportHints(source=source, as_of=AS_OF))
        account = conn.execute("SELECT id FROM accounts WHERE key = 'acc-1'").fetchone()[0]
        with transaction(conn):
            outcome = upsert(
                conn,
                IMPACT_CODES,
                account,
                [impact(n) for n in range(5)],
                run_id=new_run(conn, account),
                as_of=LATER,
            )
        assert (outcome.added, outcome.unchanged) == (1, 4)
        assert conn.execute("SELECT count(*) FROM impact_codes").fetchone() == (5,)
        with pytest.raises(Exception, match="cannot go into the Optimove account"):
            import_file(
                conn,
                export,
                hints=ImportHints(
                    source=SourceRef(Vendor.OPTIMOVE, key="o", name="Optimove account")
                ),
            )
    finally:
        conn.close()


def test_a_format_1_workspace_is_migrated_and_its_old_imports_are_not_removable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.promodesk"
    old = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        old.execute(statement)
    old.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    old.execute("PRAGMA user_version = 1")
    old.execute(
        "INSERT INTO accounts(id, vendor, key, name, kind) VALUES (1, 'impact', 'imported', 'Imported files', 'imported')"
    )
    old.execute(
        "INSERT INTO impact_codes(account_id, promo_code_id, code, status, campaign_id, partner_id) "
        "VALUES (1, 1, 'OLD1', 'active', '1000', '7'), (1, 2, 'OLD2', 'active', '1000', '8')"
    )
    old.execute(
        "INSERT INTO import_history(account_id, kind, file_name, file_path, sha256, size, "
        "rows_read, rows_added, as_of, imported_at) VALUES (1, 'impact-json', 'old.json', "
        "'/x/old.json', 'ab', 10, 2, 2, '', '')"
    )
    old.commit()
    old.close()
    conn = connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
        assert conn.execute("SELECT count(*) FROM impact_program_partners").fetchone() == (2,)
        [record] = list_imports(conn)
        assert not record.removable
        with pytest.raises(ImportNotRemovable, match="older promodesk"):
            remove_import(conn, record.id)
    finally:
        conn.close()


def test_removing_an_impact_import_and_codes_without_a_program_name(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    try:
        nameless = write_json(
            tmp_path / "nameless.json",
            impact_page([impact_code(n, CampaignName="", CampaignId="1001") for n in range(3)]),
        )
        assert import_file(conn, nameless).rows_added == 3
        imported = import_file(conn, DEMO_DIR / "impact_promocodes_2pages.json")
        assert_counts_match_a_recount(conn)
        history = list_imports(conn)
        result = remove_import(conn, history[0].id)
        assert result.rows_removed >= imported.rows_added
        assert conn.execute("SELECT count(*) FROM impact_codes").fetchone() == (3,)
        assert_counts_match_a_recount(conn)
    finally:
        conn.close()


def test_a_code_file_gone_at_the_vendor_no_longer_counts_for_its_promocode(workspace) -> None:
    from promodesk.store.records import optimove_code_file_row
    from promodesk.store.writes import OPTIMOVE_CODE_FILES

    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.OPTIMOVE, key="o", name="O", kind="live")
        files = [
            optimove_code_file_row(file_id=f, promocode_id="pc-1", code_count=10)
            for f in ("f1", "f2")
        ]
        staging = Staging(conn, OPTIMOVE_CODE_FILES, account)
        staging.add(files)
        staging.write(
            run_id=new_run(conn, account), as_of=AS_OF, gone_scope={"promocode_id": "pc-1"}
        )
        staging = Staging(conn, OPTIMOVE_CODE_FILES, account)
        staging.add(files[1:])
        outcome = staging.write(
            run_id=new_run(conn, account), as_of=LATER, gone_scope={"promocode_id": "pc-1"}
        )
    assert outcome.gone == 1
    assert conn.execute("SELECT file_count FROM optimove_promocodes").fetchone() == (1,)
    assert_counts_match_a_recount(conn)


def test_the_index_builder_never_raises_its_watermark_over_removed_rows(tmp_path: Path) -> None:
    from promodesk.domain.jobs import Progress
    from promodesk.store.query import indexed_upto

    _path, builder = new_workspace(tmp_path)
    other = connect(_path)  # another process removing the import between two chunks
    try:
        big = tmp_path / "altcraft_loyalty-5.json"
        big.write_text(json.dumps({"data": [{"code": f"OLD{n:06d}"} for n in range(60_000)]}))
        import_file(builder, big)
        removed: list[object] = []

        def progress(update: Progress) -> None:
            if update.message == "Indexing codes for search" and update.done > 0 and not removed:
                removed.append(remove_import(other, list_imports(other)[0].id))

        build_indexes(builder, progress=progress)
        assert removed and indexed_upto(other, ALTCRAFT_SPEC) == 0
        small = tmp_path / "altcraft_loyalty-6.json"
        small.write_text(json.dumps({"data": [{"code": f"NEW{n:06d}"} for n in range(10)]}))
        import_file(other, small)
        assert search(other, ALTCRAFT_SPEC, "NEW000003") == ["NEW000003"]
    finally:
        other.close()
        builder.close()


def test_staging_outside_a_transaction_neither_waits_for_nor_blocks_another_writer(
    tmp_path: Path,
) -> None:
    """A sync stages page by page before its one write transaction: each batch is a
    transaction of its own (fast), on temp tables only, so it never takes the workspace's
    write lock that the window or an import may hold meanwhile."""
    path, conn = new_workspace(tmp_path)
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="acc", name="Acc", kind="live")
    conn.close()
    other = connect(path, shared=True)
    syncing = connect(path, shared=True)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the workspace
        syncing.execute("PRAGMA busy_timeout = 0")  # waiting would be an error here
        staging = Staging(syncing, IMPACT_CODES, account)
        staging.add([impact(n) for n in range(3)])
        staging.add_missing([(7_000_100,)])
        assert not syncing.in_transaction  # each batch committed on its own
        assert syncing.execute("SELECT count(*) FROM temp.stage_impact_codes").fetchone() == (3,)
        other.execute("ROLLBACK")
        with transaction(syncing):
            outcome = staging.write(run_id=new_run(syncing, account), as_of=AS_OF)
        assert outcome.added == 3
    finally:
        other.close()
        syncing.close()


def test_a_write_retried_after_its_transaction_was_rolled_back_still_marks_only_the_missing(
    workspace,
) -> None:
    """A sync's write is retried whole when SQLite is busy at COMMIT: the staged rows and
    the list of missing codes come back with the rollback, and so must the rule that only
    those are gone (not every unchanged code the sync did not stage)."""
    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="acc", name="Acc", kind="live")
        upsert(conn, IMPACT_CODES, account, [impact(n) for n in range(5)], run_id=1, as_of=AS_OF)
    staging = Staging(conn, IMPACT_CODES, account)
    staging.add_unchanged(4)
    staging.add_missing([(7_000_004,)])  # staged before the write's transaction
    conn.execute("BEGIN IMMEDIATE")
    first = staging.write(run_id=new_run(conn, account), as_of=LATER, gone_scope={})
    assert first.gone == 1
    conn.execute("ROLLBACK")  # e.g. the COMMIT met a busy workspace
    with transaction(conn):
        again = staging.write(run_id=new_run(conn, account), as_of=LATER, gone_scope={})
    assert (again.gone, again.unchanged) == (1, 4)
    gone = conn.execute("SELECT promo_code_id FROM impact_codes WHERE status = 'gone'")
    assert gone.fetchall() == [(7_000_004,)]


def kept(row: tuple, fingerprint: int = 11) -> tuple:
    """A row with its bookkeeping (the fingerprint), as a sync stages it."""
    return (*row, fingerprint)


def test_new_records_go_straight_in_and_one_whose_key_was_there_is_merged(workspace) -> None:
    """`add_new` records skip the stage; one the caller took for new but whose row exists
    (here marked gone by an earlier sync) must come back, not fail or be doubled."""
    conn = workspace
    account, first = impact_account(conn, 5)
    with transaction(conn):
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add([impact(n) for n in range(4)])
        gone_run = new_run(conn, account)
        staging.write(run_id=gone_run, as_of=AS_OF, gone_scope={})
    build_indexes(conn)
    assert conn.execute("SELECT status FROM impact_codes WHERE code = 'IMP0004'").fetchone() == (
        "gone",
    )

    with transaction(conn):
        run = new_run(conn, account)
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add_kept([kept(impact(0, State="INACTIVE"))])
        staging.add_new([kept(impact(n, CampaignId="1001"), 20 + n) for n in (4, 5, 6)])
        # Sent twice (two pages): the later one wins.
        staging.add_new([kept(impact(6, CampaignId="1001", State="INACTIVE"), 36)])
        outcome = staging.write(run_id=run, as_of=LATER)
    assert (outcome.added, outcome.changed, outcome.returned, outcome.unchanged) == (2, 2, 1, 0)
    rows = conn.execute(
        "SELECT code, status, campaign_id, fingerprint, added_run, as_of FROM impact_codes "
        "WHERE code IN ('IMP0000', 'IMP0004', 'IMP0005', 'IMP0006') ORDER BY code"
    ).fetchall()
    assert rows == [
        ("IMP0000", "inactive", "1000", 11, first, LATER),
        ("IMP0004", "active", "1001", 24, first, LATER),
        ("IMP0005", "active", "1001", 25, run, LATER),
        ("IMP0006", "inactive", "1001", 36, run, LATER),
    ]
    assert conn.execute("SELECT count(*) FROM impact_codes").fetchone() == (7,)
    events = conn.execute(
        "SELECT old_state, new_state FROM state_events WHERE run_id = ? ORDER BY row_id", (run,)
    ).fetchall()
    assert events == [("active", "inactive"), ("gone", "active")]
    assert_counts_match_a_recount(conn)
    build_indexes(conn)
    assert search(conn, IMPACT_SPEC, "IMP0006") == ["IMP0006"]
    assert search(conn, IMPACT_SPEC, "IMP0004") == ["IMP0004"]


def test_new_records_with_others_staged_count_each_once(workspace, monkeypatch) -> None:
    monkeypatch.setattr(writes, "NEW_ROWS_PER_INSERT", 4)  # the six new ones: 4 + 2
    conn = workspace
    account, _ = impact_account(conn, 3)
    with transaction(conn):
        run = new_run(conn, account)
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add_kept([kept(impact(0)), kept(impact(1, State="INACTIVE"))])
        staging.add_unchanged(1)
        staging.add_new([kept(impact(n, CampaignId=str(1000 + n % 2))) for n in range(3, 9)])
        outcome = staging.write(run_id=run, as_of=LATER, gone_scope={})
    # Code 0 was staged unchanged (its fingerprint is new: bookkeeping, not a change); code 2
    # was listed neither as unchanged nor missing: gone, as a full sync says.
    assert (outcome.added, outcome.changed, outcome.unchanged, outcome.gone) == (6, 1, 2, 1)
    assert conn.execute(
        "SELECT count(*) FROM impact_codes WHERE added_run = ?", (run,)
    ).fetchone() == (6,)
    assert conn.execute(
        "SELECT fingerprint FROM impact_codes WHERE code = 'IMP0000'"
    ).fetchone() == (11,)
    assert_counts_match_a_recount(conn)


def test_new_records_beyond_what_is_held_go_through_the_stage(workspace, monkeypatch) -> None:
    monkeypatch.setattr(writes, "NEW_ROWS_HELD", 2)
    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.ALTCRAFT, key="acc", name="Acc", kind="live")
    staging = Staging(conn, ALTCRAFT_CODES, account)
    staging.add_new([kept(altcraft(f"C{n}")) for n in range(5)])
    staging.add_new([kept(altcraft("C4", attached="2026-11-02T00:00:00Z"))])  # staged: wins
    staging.add_new([kept(altcraft("C0", attached="2026-11-03T00:00:00Z"))])  # held: wins
    assert len(staging.held()) == 2
    assert conn.execute("SELECT count(*) FROM temp.stage_altcraft_codes").fetchone() == (3,)
    with transaction(conn):
        outcome = staging.write(run_id=new_run(conn, account), as_of=AS_OF)
    assert (outcome.added, outcome.changed, outcome.unchanged) == (5, 0, 0)
    attached = conn.execute(
        "SELECT code, attached FROM altcraft_codes WHERE attached != '' ORDER BY code"
    ).fetchall()
    assert attached == [("C0", "2026-11-03T00:00:00Z"), ("C4", "2026-11-02T00:00:00Z")]
    program = conn.execute("SELECT code_count, attached_count FROM altcraft_programs")
    assert program.fetchone() == (5, 2)
    assert_counts_match_a_recount(conn)


def test_new_records_are_written_again_when_the_write_is_retried(workspace) -> None:
    conn = workspace
    account, _ = impact_account(conn)
    staging = Staging(conn, IMPACT_CODES, account)
    staging.add_new([kept(impact(n)) for n in range(4)])
    conn.execute("BEGIN IMMEDIATE")
    assert staging.write(run_id=new_run(conn, account), as_of=AS_OF).added == 4
    conn.execute("ROLLBACK")  # e.g. the COMMIT met a busy workspace
    with transaction(conn):
        again = staging.write(run_id=new_run(conn, account), as_of=AS_OF)
    assert (again.added, again.unchanged) == (4, 0)
    assert conn.execute("SELECT count(*) FROM impact_codes").fetchone() == (4,)
    assert_counts_match_a_recount(conn)


def test_a_fingerprint_is_the_same_whatever_types_the_vendor_sent() -> None:
    """Strings are joined as they are (the fast path); other values through str(), so a
    record sent typed and one sent as strings hash alike: CRC-32 (signed) above Adler-32 of
    the values joined by U+001F."""
    as_text = {"Id": "7000001", "Code": "A1", "Active": "True", "Deal": "None"}
    typed = {"Id": 7000001, "Code": "A1", "Active": True, "Deal": None}
    data = b"7000001\x1fA1\x1fTrue\x1fNone"
    stored = int.from_bytes(
        zlib.crc32(data).to_bytes(4, "big") + zlib.adler32(data).to_bytes(4, "big"),
        "big",
        signed=True,
    )
    assert fingerprint(as_text) == fingerprint(typed) == stored
    assert fingerprint({"Code": "A1", "State": "ACTIVE"}) != fingerprint(
        {"Code": "A1", "State": "EXPIRED"}
    )


def test_a_fingerprint_is_a_signed_64_bit_integer_and_never_0() -> None:
    """SQLite's INTEGER holds it; 0 means "not known" (rows other paths wrote)."""
    prints = [fingerprint({"Code": f"C{n}", "State": "x" * (n % 7)}) for n in range(20_000)]
    assert all(-(2**63) <= value < 2**63 and value != 0 for value in prints)
    assert any(value < 0 for value in prints) and any(value > 0 for value in prints)
    assert len(set(prints)) == len(prints)


def test_details_are_the_json_the_standard_encoder_writes() -> None:
    """details_json reuses json's C encoder (built once); its text must be json.dumps's with
    the same options, whatever the vendor sent."""
    samples: list[dict[str, object]] = [
        {"SynchAdsPromoCodes": "false"},
        {"Zeta": 1, "Alpha": True, "Mid": None, "Rate": 12.5, "Neg": -0.0},
        {"Name": 'Ünïcode «quoted» "and" \\ back', "Emoji": "🎟", "Tab": "a\tb"},
        {"DealProducts": [{"Sku": "A1", "Qty": 2}, "x", 3], "Nested": {"b": [], "a": {}}},
        {"Amount": Decimal("5.10"), "When": date(2026, 11, 30)},
    ]
    for details in samples:
        assert details_json(details) == json.dumps(
            details, ensure_ascii=False, sort_keys=True, default=str
        )
    assert details_json({}) == "{}"


def test_a_record_both_staged_and_held_is_written_once_as_added(workspace) -> None:
    """The same new key given to add_kept and to add_new (the sync keeps them apart, but the
    store must not count it twice): one row, added, not also changed; the held one wins."""
    conn = workspace
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="acc", name="Acc", kind="live")
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add_kept([kept(impact(1, State="INACTIVE"), 5)])
        staging.add_new([kept(impact(1), 7), kept(impact(2), 8)])
        run = new_run(conn, account)
        outcome = staging.write(run_id=run, as_of=AS_OF)
    assert (outcome.added, outcome.changed, outcome.unchanged) == (2, 0, 0)
    rows = conn.execute("SELECT code, status, fingerprint FROM impact_codes ORDER BY code")
    assert rows.fetchall() == [("IMP0001", "active", 7), ("IMP0002", "active", 8)]
    assert conn.execute("SELECT count(*) FROM state_events").fetchone() == (0,)
    assert_counts_match_a_recount(conn)


def test_held_records_take_0_for_unset_bookkeeping_and_refuse_a_wrong_width(workspace) -> None:
    conn = workspace
    account, _ = impact_account(conn)
    staging = Staging(conn, IMPACT_CODES, account)
    staging.add_new([kept(impact(1), None)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="16 values, not 15"):
        staging.add_new([impact(2)])  # without its fingerprint: every value would shift
    with transaction(conn):
        assert staging.write(run_id=new_run(conn, account), as_of=AS_OF).added == 1
    assert conn.execute("SELECT code, fingerprint FROM impact_codes").fetchall() == [("IMP0001", 0)]


def test_a_commit_refused_as_busy_rolls_back_so_the_retry_is_a_transaction_again(
    tmp_path: Path,
) -> None:
    """In rollback-journal mode (a workspace where WAL is not possible) a COMMIT waits for
    readers and can be refused as busy; SQLite keeps the transaction open. It must be rolled
    back: a retry inside it would become a savepoint and never commit."""
    path, conn = new_workspace(tmp_path)
    assert conn.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)
    with transaction(conn):
        account = ensure_account(conn, Vendor.IMPACT, key="acc", name="Acc", kind="live")
    conn.execute("PRAGMA busy_timeout = 0")
    reader = connect(path, readonly=True)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM impact_codes").fetchone()  # holds a read lock
        with pytest.raises(sqlite3.OperationalError, match="locked"), transaction(conn):
            upsert(conn, IMPACT_CODES, account, [impact(1)], run_id=1, as_of=AS_OF)
        assert not conn.in_transaction
        reader.execute("COMMIT")
        with transaction(conn):
            outcome = upsert(conn, IMPACT_CODES, account, [impact(1)], run_id=1, as_of=AS_OF)
        assert outcome.added == 1
    finally:
        reader.close()
        conn.close()
    again = connect(path, readonly=True)
    try:
        assert again.execute("SELECT count(*) FROM impact_codes").fetchone() == (1,)
    finally:
        again.close()


def test_held_records_counted_from_memory_match_a_recount(workspace, monkeypatch) -> None:
    """The rollups count held records from memory and only the rows above them in SQL:
    programs, their names (a name '' does not hide another) and partners come out as a
    recount gives, with new records both held and staged and known ones changed."""
    monkeypatch.setattr(writes, "NEW_ROWS_HELD", 6)
    conn = workspace
    account, _ = impact_account(conn, 3)
    with transaction(conn):
        run = new_run(conn, account)
        staging = Staging(conn, IMPACT_CODES, account)
        moved = impact(1, CampaignId="1002", CampaignName="", State="INACTIVE")
        staging.add_kept([kept(moved)])
        # Held: 3..8; staged: 9..11. Campaign 1001's name is only in a staged record, 1002's
        # only in a held one.
        names = {4: "Beta", 9: "Alpha"}
        staging.add_new(
            [
                kept(
                    impact(
                        n,
                        CampaignId=str(1001 + n % 3),
                        CampaignName=names.get(n, ""),
                        AssignedPartnerId=str(2000 + n % 2),
                    )
                )
                for n in range(3, 12)
            ]
        )
        assert len(staging.held()) == 6
        outcome = staging.write(run_id=run, as_of=LATER)
    assert (outcome.added, outcome.changed) == (9, 1)
    programs = conn.execute(
        "SELECT campaign_id, name, code_count, active_count, partner_count FROM impact_programs "
        "ORDER BY campaign_id"
    ).fetchall()
    assert programs == [
        ("1000", "Acme Campaign", 2, 2, 2),
        ("1001", "Alpha", 3, 3, 2),
        ("1002", "Beta", 4, 3, 2),
        ("1003", "", 3, 3, 2),
    ]
    assert_counts_match_a_recount(conn)


def test_a_new_record_held_twice_is_added_once_as_sent_last(workspace) -> None:
    """Two pages carrying the same new code: the insert finds the key twice, takes its rows
    out again and inserts each key once, the later record (added, not also changed)."""
    conn = workspace
    account, _ = impact_account(conn)
    with transaction(conn):
        run = new_run(conn, account)
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add_new([kept(impact(n)) for n in range(3)])
        staging.add_new([kept(impact(1, State="INACTIVE"), 12)])
        outcome = staging.write(run_id=run, as_of=AS_OF)
    assert (outcome.added, outcome.changed, outcome.unchanged) == (3, 0, 0)
    assert len(staging.held()) == 3
    assert conn.execute(
        "SELECT status, fingerprint FROM impact_codes WHERE promo_code_id = 7000001"
    ).fetchone() == ("inactive", 12)
    assert conn.execute("SELECT count(*) FROM state_events").fetchone() == (0,)
    assert conn.execute("SELECT code_count, active_count FROM impact_programs").fetchone() == (
        3,
        2,
    )
    assert_counts_match_a_recount(conn)


def test_an_impact_row_carries_the_records_own_fields_status_and_details() -> None:
    """impact_row reads the fields in one call and the status text past the enum: for every
    state impact.com may send (any case, absent, unknown), it must say what the record does,
    and the details pane gets the vendor's unset fields left out and the code's Uri."""
    seen = set()
    for state in ("ACTIVE", "INACTIVE", "inactive", " Inactive ", None, "", "PAUSED"):
        record = ImpactPromoCodeRecord.model_validate(
            impact_code(
                4,
                State=state,
                DealId="3",
                DealName="AcmeDeal3",
                EndDate="2026-08-31T23:59:59-07:00",
                DiscountType="",
                DiscountPercent=10,
                BogoBuyName=None,
                Uri="/Advertisers/IRabc/PromoCodes/7000004",
            )
        )
        row = impact_row(record)
        assert row[2] == record.status.value
        assert type(row[2]) is str  # (the text, not the enum member that equals it)
        assert row[:2] == (7_000_004, "IMP0004")
        assert row[3:] == (
            "1000",
            "Acme Campaign",
            "2001",
            "Partner 1",
            "ALWAYS",
            "LI",
            "2026-01-15T18:00:00Z",
            "2026-06-01T07:00:00Z",
            "2026-09-01T06:59:59Z",
            "3",
            "AcmeDeal3",
            '{"DiscountPercent": 10, "Uri": "/Advertisers/IRabc/PromoCodes/7000004"}',
        )
        seen.add(row[2])
    assert seen == {"active", "inactive"}
    # What impact.com leaves out is an empty text in its column, and no details.
    bare = {"Id": "7000005", "Code": "IMP0005", "State": "ACTIVE"}
    assert impact_row(ImpactPromoCodeRecord.model_validate(bare)) == (
        7_000_005,
        "IMP0005",
        "active",
        *[""] * 11,
        "{}",
    )


def test_an_altcraft_row_carries_the_records_own_status_for_every_flag_and_date() -> None:
    """altcraft_row looks the status text up rather than asking the record: for every mix
    of flags (get) and dates (export_all), it must be what `record.status` says."""
    date = "2026-11-02T00:00:00Z"
    seen = set()
    for flags in product((None, False, True), repeat=3):
        for dates in product(("", date), repeat=3):
            record = AltcraftCodeRecord(
                code="C1",
                is_attached=flags[0],
                is_activated=flags[1],
                is_expired=flags[2],
                attached=dates[0],
                activated=dates[1],
                expired=dates[2],
            )
            row = altcraft_row(record, "5")
            assert row[2] == record.status.value
            assert row[4:7] == dates
            seen.add(row[2])
    assert seen == {"available", "attached", "activated", "expired"}
