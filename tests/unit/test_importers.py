"""Importing saved exports: every kind of good file, and every kind of bad file."""

from __future__ import annotations

import codecs
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest

from promodesk.domain.jobs import CancelToken, JobCancelled, Progress
from promodesk.store.importers.base import ImportFileError, ImportHints, ImportKind
from promodesk.store.importers.detect import detect
from promodesk.store.importers.dispatch import import_file
from promodesk.store.schema import SCHEMA_VERSION
from tests.helpers import (
    allocation_rows,
    count,
    impact_code,
    impact_page,
    new_workspace,
    write_allocations,
    write_json,
)

TABLES = (
    "optimove_allocations",
    "optimove_pool_codes",
    "optimove_promotions",
    "optimove_promocodes",
    "optimove_code_files",
    "altcraft_codes",
    "altcraft_programs",
    "impact_codes",
    "impact_programs",
    "import_history",
)


def snapshot(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {
        table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall() for table in TABLES
    }


@pytest.fixture
def workspace(tmp_path: Path):
    _path, conn = new_workspace(tmp_path)
    yield conn
    conn.close()


@pytest.fixture
def seeded(workspace, demo_dir: Path):
    """A workspace already holding the demo data, to prove bad imports do not touch it."""
    for path in sorted(demo_dir.iterdir()):
        import_file(workspace, path)
    return workspace


# -- good files --------------------------------------------------------------------------------


def test_demo_exports_import_with_expected_counts(workspace, demo_dir: Path) -> None:
    kinds = {}
    for path in sorted(demo_dir.iterdir()):
        result = import_file(workspace, path)
        kinds[path.name] = result.kind
        assert result.rows_added == result.rows_read > 0
    assert set(kinds.values()) == {
        ImportKind.OPTIMOVE_ALLOCATIONS,
        ImportKind.OPTIMOVE_UNIQUE_CODES,
        ImportKind.ALTCRAFT_JSON,
        ImportKind.ALTCRAFT_XML,
        ImportKind.IMPACT_JSON,
    }
    assert count(workspace, "optimove_allocations") == 20_000
    assert count(workspace, "optimove_promotions") == 3
    assert count(workspace, "optimove_pool_codes") == 5_000
    assert count(workspace, "altcraft_codes") == 500
    assert (
        workspace.execute(
            "SELECT group_concat(loyalty_id) FROM altcraft_programs ORDER BY loyalty_id"
        ).fetchone()[0]
        == "5,8"
    )
    assert count(workspace, "impact_codes") == 300
    assert count(workspace, "impact_programs") == 3
    per_promotion = dict(
        workspace.execute("SELECT promotion_id, allocation_count FROM optimove_promotions")
    )
    assert per_promotion == {
        "spring-welcome-2026": 9_000,
        "summer-sale-2026": 7_000,
        "vip-winback-q4": 4_000,
    }


def test_reimporting_the_same_files_adds_nothing(workspace, demo_dir: Path) -> None:
    for path in sorted(demo_dir.iterdir()):
        import_file(workspace, path)
    before = snapshot(workspace)
    for path in sorted(demo_dir.iterdir()):
        result = import_file(workspace, path)
        assert result.rows_added == 0 and result.rows_updated == 0
        assert result.already_imported
        day = datetime.strptime(result.already_imported[:10], "%Y-%m-%d")
        assert f"imported before, on {day:%d %b %Y})" in result.summary()  # "01 Dec 2026"
    after = snapshot(workspace)
    assert {t: rows for t, rows in after.items() if t != "import_history"} == {
        t: rows for t, rows in before.items() if t != "import_history"
    }


def test_allocation_export_variants_are_read_alike(workspace, tmp_path: Path) -> None:
    rows = allocation_rows(50)
    # Semicolons, a BOM, CRLF line ends, shuffled column order, a trailing blank line,
    # and timestamps with an offset instead of Z.
    shuffled = [
        "uniqueCode",
        "customerId",
        "timestamp",
        "promocodeId",
        "promotionId",
        "fileId",
        "actionId",
        "seriesId",
        "occurenceId",
    ]
    order = [4, 0, 5, 1, 2, 3, 8, 7, 6]
    lines = [";".join(shuffled)]
    for row in rows:
        moved = [row[i] for i in order]
        moved[2] = moved[2].replace("Z", "+02:00")
        lines.append(";".join(moved))
    path = tmp_path / "export.csv"
    path.write_bytes(codecs.BOM_UTF8 + ("\r\n".join(lines) + "\r\n\r\n").encode())
    result = import_file(workspace, path)
    assert result.rows_added == 50
    code, customer, allocated, occurrence = workspace.execute(
        "SELECT unique_code, customer_id, allocated_at, occurence_id FROM optimove_allocations "
        "ORDER BY id LIMIT 1"
    ).fetchone()
    assert (code, customer) == ("CODE0000000", "C0000000")
    assert allocated == "2026-09-01T08:00:00Z"  # +02:00 normalised to UTC
    assert occurrence == 100 and isinstance(occurrence, int)  # audit ids sort as numbers


def test_leading_zeros_in_customer_ids_and_codes_survive(workspace, tmp_path: Path) -> None:
    row = ["000123", "pc", "promo", "f", "000777", "2026-09-01T00:00:00Z", "", "", ""]
    import_file(workspace, write_allocations(tmp_path / "a.csv", [row]))
    assert workspace.execute(
        "SELECT customer_id, unique_code FROM optimove_allocations"
    ).fetchone() == ("000123", "000777")


def test_overlapping_exports_by_file_and_by_promocode_are_deduplicated(
    workspace, tmp_path: Path
) -> None:
    file_a = allocation_rows(300, file_id="f-a")
    file_b = allocation_rows(200, file_id="f-b", start=300)
    import_file(workspace, write_allocations(tmp_path / "by_file_a.csv", file_a))
    # The whole-promocode export repeats file A's rows and adds file B's (incremental path).
    result = import_file(
        workspace, write_allocations(tmp_path / "by_promocode.csv", file_a + file_b)
    )
    assert result.rows_added == 200
    assert count(workspace, "optimove_allocations") == 500
    files = dict(workspace.execute("SELECT file_id, allocation_count FROM optimove_code_files"))
    assert files == {"f-a": 300, "f-b": 200}


def test_bulk_load_into_a_smaller_table_still_deduplicates(workspace, tmp_path: Path) -> None:
    import_file(workspace, write_allocations(tmp_path / "small.csv", allocation_rows(10)))
    # 5,000 rows > 10 existing: the bulk path drops the key, loads, and restores it.
    result = import_file(workspace, write_allocations(tmp_path / "big.csv", allocation_rows(5_000)))
    assert result.rows_added == 4_990
    assert count(workspace, "optimove_allocations") == 5_000
    indexes = {
        name for (name,) in workspace.execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    assert "ux_optimove_allocations" in indexes


def test_duplicate_rows_inside_one_file_count_once(workspace, tmp_path: Path) -> None:
    rows = allocation_rows(20)
    result = import_file(workspace, write_allocations(tmp_path / "dupes.csv", rows + rows[:5]))
    assert result.rows_read == 25 and result.rows_added == 20


def test_unique_code_file_with_header_duplicates_and_utf16(workspace, tmp_path: Path) -> None:
    path = tmp_path / "codes.txt"
    path.write_text("code\nAAA111\nBBB222\n  CCC333  \nAAA111\n\n", encoding="utf-16")
    assert detect(path).kind is ImportKind.OPTIMOVE_UNIQUE_CODES
    result = import_file(workspace, path)
    assert result.rows_added == 3
    assert any("header" in warning for warning in result.warnings)
    assert any("duplicate" in warning for warning in result.warnings)
    assert any("spaces" in warning for warning in result.warnings)
    file_name, codes = workspace.execute(
        "SELECT file_name, code_count FROM optimove_code_files"
    ).fetchone()
    assert (file_name, codes) == ("codes.txt", 3)


def test_altcraft_json_xml_and_single_code_response(workspace, tmp_path: Path) -> None:
    write_json(
        tmp_path / "loyalty_7.json",
        {
            "data": [
                {"code": "A1"},
                {"code": "A2", "attached": "2026-01-02T03:04:05Z"},
                {
                    "code": "A3",
                    "attached": "2026-01-02T03:04:05Z",
                    "activated": "2026-01-03T00:00:00Z",
                },
            ],
            "error": 0,
            "error_text": "Successful operation",
        },
    )
    (tmp_path / "loyalty-9.xml").write_text(
        "<?xml version='1.0'?>\n<xml>\n<data><code>X1</code></data>\n"
        "<data><code>X2</code><attached>2026-02-02T00:00:00Z</attached></data>\n"
        "<error>0</error><error_text>Successful operation</error_text></xml>\n",
        encoding="utf-8",
    )
    write_json(
        tmp_path / "get.json",
        {
            "data": {
                "created": "2024-04-01T12:39:34Z",
                "is_attached": True,
                "is_activated": False,
                "is_expired": True,
                "attached": "",
                "activated": "",
                "expired": "2024-05-01T00:00:00Z",
                "expire_date": "",
                "loyalty_id": 5,
                "code": "CODE-1",
                "database_id": 3,
                "profile_id": "p-9",
            },
            "error": 0,
            "error_text": "Successful operation",
        },
    )
    for name in ("loyalty_7.json", "loyalty-9.xml", "get.json"):
        import_file(workspace, tmp_path / name)
    statuses = dict(
        workspace.execute("SELECT code, status || '@' || loyalty_id FROM altcraft_codes")
    )
    assert statuses == {
        "A1": "available@7",
        "A2": "attached@7",
        "A3": "activated@7",
        "X1": "available@9",
        "X2": "attached@9",
        "CODE-1": "expired@5",
    }
    assert workspace.execute(
        "SELECT profile_id, database_id FROM altcraft_codes WHERE code='CODE-1'"
    ).fetchone() == ("p-9", 3)


def test_newer_altcraft_export_updates_state(workspace, tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "loyalty_7.json", {"data": [{"code": "A1"}, {"code": "A2"}], "error": 0}
    )
    import_file(workspace, path)
    write_json(
        path,
        {"data": [{"code": "A1", "attached": "2026-03-01T00:00:00Z"}, {"code": "A2"}], "error": 0},
    )
    result = import_file(workspace, path)
    assert (result.rows_added, result.rows_updated) == (0, 1)
    assert workspace.execute(
        "SELECT attached_count, available_count FROM altcraft_programs"
    ).fetchone() == (1, 1)


def test_altcraft_file_without_program_is_filed_with_a_warning(workspace, tmp_path: Path) -> None:
    path = write_json(tmp_path / "export.json", {"data": [{"code": "A1"}], "error": 0})
    result = import_file(workspace, path)
    assert any("loyalty program" in warning for warning in result.warnings)
    result = import_file(workspace, path, hints=ImportHints(loyalty_id="42"))
    assert (
        workspace.execute("SELECT count(*) FROM altcraft_codes WHERE loyalty_id='42'").fetchone()[0]
        == 1
    )


@pytest.mark.parametrize("shape", ["one-page", "concatenated", "array"])
def test_impact_json_pages_in_every_shape(workspace, tmp_path: Path, shape: str) -> None:
    first = impact_page([impact_code(n) for n in range(3)], 1, 2)
    second = impact_page([impact_code(n) for n in range(3, 5)], 2, 2)
    path = tmp_path / "impact.json"
    if shape == "one-page":
        write_json(path, impact_page([impact_code(n) for n in range(5)]))
    elif shape == "concatenated":
        import json

        path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n", encoding="utf-8")
    else:
        write_json(path, [first, second])
    assert import_file(workspace, path).rows_added == 5
    start, end, status = workspace.execute(
        "SELECT start_date, end_date, status FROM impact_codes ORDER BY promo_code_id LIMIT 1"
    ).fetchone()
    assert (start, end, status) == ("2026-06-01T07:00:00Z", "", "active")


def test_impact_xml_and_numbers_as_numbers(workspace, tmp_path: Path) -> None:
    path = tmp_path / "codes.xml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ImpactRadiusResponse>\n'
        '<PromoCodes page="1" numpages="1" pagesize="1000" total="2">\n'
        "<PromoCode><Id>12345</Id><Code>SUMMER25</Code><Type>LI</Type><CreditPolicy>WINNER</CreditPolicy>"
        "<CampaignId>1000</CampaignId><CampaignName>Acme</CampaignName><AssignedPartnerId>2552842</AssignedPartnerId>"
        "<AssignedPartnerName>Wile E. Coyote</AssignedPartnerName><State>INACTIVE</State><EndDate/></PromoCode>\n"
        "<PromoCode><Id>12346</Id><Code>WINTER10</Code><State>ACTIVE</State></PromoCode>\n"
        "</PromoCodes>\n</ImpactRadiusResponse>\n",
        encoding="utf-8",
    )
    write_json(tmp_path / "numeric.json", impact_page([impact_code(1, Id=12347, CampaignId=1000)]))
    import_file(workspace, path)
    import_file(workspace, tmp_path / "numeric.json")
    rows = workspace.execute(
        "SELECT promo_code_id, code, status FROM impact_codes ORDER BY promo_code_id"
    ).fetchall()
    assert rows == [
        (12345, "SUMMER25", "inactive"),
        (12346, "WINTER10", "active"),
        (12347, "IMP0001", "active"),
    ]


def test_merging_another_workspace(tmp_path: Path, demo_dir: Path) -> None:
    other_path, other = new_workspace(tmp_path, "other.promodesk")
    for path in sorted(demo_dir.iterdir()):
        import_file(other, path)
    other.close()
    _, main = new_workspace(tmp_path, "main.promodesk")
    import_file(main, write_allocations(tmp_path / "mine.csv", allocation_rows(10)))
    result = import_file(main, other_path)
    assert result.kind is ImportKind.WORKSPACE
    assert count(main, "optimove_allocations") == 20_010
    assert count(main, "impact_codes") == 300
    per_promotion = dict(
        main.execute("SELECT promotion_id, allocation_count FROM optimove_promotions")
    )
    assert per_promotion == {
        "promo-1": 10,
        "spring-welcome-2026": 9_000,
        "summer-sale-2026": 7_000,
        "vip-winback-q4": 4_000,
    }
    # Same source account on both sides is one account, and merging again adds nothing.
    assert main.execute("SELECT count(*) FROM accounts WHERE vendor='optimove'").fetchone()[0] == 1
    again = import_file(main, other_path)
    assert again.rows_added == 0
    assert count(main, "optimove_allocations") == 20_010
    main.close()


# -- bad files: a clear message, and the workspace exactly as it was -----------------------------


def bad(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


BAD_FILES = {
    "empty": ("empty.csv", b"", None, "empty (0 bytes)"),
    "blank": ("blank.csv", b"  \n\n", None, "only blank"),
    "png": ("image.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, None, "PNG image"),
    "xlsx": ("book.xlsx", b"PK\x03\x04" + b"\x00" * 100, None, "Excel workbook"),
    "binary": ("blob.bin", b"abc\ndef\n\x00\x01\x02", 3, "binary file"),
    "cp1252": (
        "latin.csv",
        ",".join(
            (
                "customerId",
                "promocodeId",
                "promotionId",
                "fileId",
                "uniqueCode",
                "timestamp",
                "occurenceId",
                "seriesId",
                "actionId",
            )
        ).encode()
        + b"\nC1,pc,p,f,CODE1,2026-09-01T00:00:00Z,1,1,1\nC2,pc,p,f,CAF\xc9,2026-09-01T00:00:00Z,1,1,1\n",
        3,
        "Windows-1252",
    ),
    "wrong-columns": (
        "other.csv",
        b"email,name,points\na@b.c,Ann,10\n",
        1,
        "not an Optimove allocation export",
    ),
    "missing-column": (
        "partial.csv",
        b"customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp\n",
        1,
        "missing the column(s) occurenceId, seriesId, actionId",
    ),
    "short-row": (
        "short.csv",
        b"customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp,occurenceId,seriesId,actionId\n"
        b"C1,pc,p,f,CODE1,2026-09-01T00:00:00Z,1,1,1\nC2,pc,p,f\n",
        3,
        "expected 9 columns, found 4",
    ),
    "two-cell-row": (
        "stub.csv",
        b"customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp,occurenceId,seriesId,actionId\n"
        b"C1,pc,p,f,CODE1,2026-09-01T00:00:00Z,1,1,1\nC2,pc\n",
        3,
        "expected 9 columns, found 2",
    ),
    "empty-code": (
        "nocode.csv",
        b"customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp,occurenceId,seriesId,actionId\n"
        b"C1,pc,p,f,,2026-09-01T00:00:00Z,1,1,1\n",
        2,
        "uniqueCode is empty",
    ),
    "bad-date": (
        "date.csv",
        b"customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp,occurenceId,seriesId,actionId\n"
        b"C1,pc,p,f,X,yesterday,1,1,1\n",
        2,
        "not an ISO 8601 date",
    ),
    "truncated-json": ("cut.json", b'{"data": [\n {"code": "A1"},\n {"code": "A2"', 3, "truncated"),
    "truncated-xml": (
        "cut.xml",
        b"<xml>\n<data><code>A1</code></data>\n<data><code>A2</co",
        3,
        "truncated",
    ),
    "malformed-xml": (
        "bad.xml",
        b"<xml>\n<data><code>A1</code></data>\n<data><code>A<2</code></data></xml>",
        3,
        "malformed",
    ),
    "json-other": ("other.json", b'{"users": [{"id": 1}]}', 1, "not an Altcraft or impact.com"),
    "xml-other": ("feed.xml", b"<?xml version='1.0'?>\n<rss><channel/></rss>", 2, "<rss>"),
    "impact-no-code": (
        "imp.json",
        b'{"@page": "1", "PromoCodes": [{"Id": "1", "Code": "OK1"}, {"Id": "2", "Code": ""}]}',
        None,
        "record 2",
    ),
    "impact-bad-id": (
        "imp2.json",
        b'{"@page": "1", "PromoCodes": [{"Id": "abc", "Code": "X"}]}',
        None,
        "Id must be a number",
    ),
    "altcraft-error": (
        "err.json",
        b'{"data": null, "error": 401, "error_text": "API token required"}',
        None,
        "Altcraft error (401: API token required)",
    ),
    "impact-error": (
        "err2.xml",
        b"<ImpactRadiusResponse><Status>ERROR</Status><Message>Validation Failed</Message>"
        b"</ImpactRadiusResponse>",
        None,
        "impact.com error: Validation Failed",
    ),
    "xml-bomb": (
        "bomb.xml",
        b'<?xml version="1.0"?>\n<!DOCTYPE xml [\n<!ENTITY a "aaaaaaaaaa">\n'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n<xml><data><code>&b;</code></data></xml>',
        None,
        "entities",
    ),
    "xml-external": (
        "ext.xml",
        b'<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b"<xml><data><code>&x;</code></data></xml>",
        None,
        "entities",
    ),
    "codes-with-commas": ("codes.txt", b"AAA111\nBBB,222\n", None, "first line"),
    "codes-with-space": ("codes2.txt", b"AAA111\nBBB 222\n", 2, "contains a space"),
    "not-a-workspace": ("x.promodesk", b"SQLite format 3\x00" + b"\x00" * 200, None, "workspace"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_gets_a_clear_message_and_changes_nothing(
    seeded, tmp_path: Path, case: str
) -> None:
    name, content, line, problem = BAD_FILES[case]
    if case == "codes-with-commas":
        # A comma on line 2 only: detection sees a one-column first line, the reader finds it.
        line, problem = 2, "more than one column"
    path = bad(tmp_path, name, content)
    before = snapshot(seeded)
    with pytest.raises(ImportFileError) as caught:
        import_file(seeded, path)
    error = caught.value
    assert str(error).startswith(name + ": ")
    assert problem in str(error), str(error)
    if line is not None:
        assert error.line == line, str(error)
    assert snapshot(seeded) == before


def test_missing_file_and_folder(seeded, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="does not exist"):
        import_file(seeded, tmp_path / "nope.csv")
    with pytest.raises(ImportFileError, match="folder"):
        import_file(seeded, tmp_path)


def test_a_bad_row_after_many_good_ones_rolls_everything_back(seeded, tmp_path: Path) -> None:
    rows = allocation_rows(30_000, promocode="pc-new")
    rows.append(["C", "pc-new", "p", "f", "", "2026-09-01T00:00:00Z", "1", "1", "1"])
    before = snapshot(seeded)
    with pytest.raises(ImportFileError) as caught:
        import_file(seeded, write_allocations(tmp_path / "late.csv", rows))
    assert caught.value.line == 30_002
    assert snapshot(seeded) == before
    indexes = {
        name for (name,) in seeded.execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    assert "ux_optimove_allocations" in indexes  # the bulk path's dropped key came back


def test_invalid_utf8_deep_in_a_big_file_names_its_line(seeded, tmp_path: Path) -> None:
    rows = allocation_rows(40_000)
    path = write_allocations(tmp_path / "big.csv", rows)
    data = path.read_bytes().replace(b"CODE0039000", b"CODE\xff039000")
    path.write_bytes(data)
    with pytest.raises(ImportFileError) as caught:
        import_file(seeded, path)
    assert caught.value.line == 39_002
    assert "not valid UTF-8" in str(caught.value)


def test_cancel_mid_import_rolls_back(seeded, tmp_path: Path) -> None:
    path = write_allocations(tmp_path / "big.csv", allocation_rows(60_000, promocode="pc-cancel"))
    token = CancelToken()
    seen: list[Progress] = []

    def progress(update: Progress) -> None:
        seen.append(update)
        if update.done > 1_000_000:
            token.cancel()

    before = snapshot(seeded)
    with pytest.raises(JobCancelled):
        import_file(seeded, path, cancel=token, progress=progress)
    assert seen and seen[-1].total == path.stat().st_size
    assert snapshot(seeded) == before


def test_workspace_from_a_newer_promodesk_is_refused(seeded, tmp_path: Path) -> None:
    other, conn = new_workspace(tmp_path, "future.promodesk")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(ImportFileError, match="newer promodesk"):
        import_file(seeded, other)


def test_the_open_workspace_cannot_be_merged_into_itself(tmp_path: Path) -> None:
    path, conn = new_workspace(tmp_path)
    with pytest.raises(ImportFileError, match="open now"):
        import_file(conn, path)
    conn.close()


def test_a_batch_skips_bad_files_and_keeps_good_ones(workspace, tmp_path: Path) -> None:
    from promodesk.store.importers.dispatch import import_files

    good_a = write_allocations(tmp_path / "a.csv", allocation_rows(10, promocode="pc-a"))
    broken = bad(tmp_path, "broken.json", b'{"data": [')
    good_b = write_allocations(tmp_path / "b.csv", allocation_rows(20, promocode="pc-b"))
    batch = import_files(workspace, [good_a, broken, good_b])
    assert [result.path.name for result in batch.results] == ["a.csv", "b.csv"]
    assert [error.path.name for error in batch.errors] == ["broken.json"]
    assert count(workspace, "optimove_allocations") == 30


def test_cancelling_a_batch_rolls_back_the_files_already_done(workspace, tmp_path: Path) -> None:
    from promodesk.store.importers.dispatch import import_files

    first = write_allocations(tmp_path / "first.csv", allocation_rows(1_000, promocode="pc-1"))
    second = write_allocations(tmp_path / "second.csv", allocation_rows(80_000, promocode="pc-2"))
    token = CancelToken()

    def progress(update: Progress) -> None:
        if update.done > first.stat().st_size + 2_000_000:  # well into the second file
            token.cancel()

    with pytest.raises(JobCancelled):
        import_files(workspace, [first, second], cancel=token, progress=progress)
    assert count(workspace, "optimove_allocations") == 0
    assert count(workspace, "import_history") == 0


def test_every_reference_points_at_a_real_row(tmp_path: Path, demo_dir: Path) -> None:
    """Foreign keys are declared but not enforced per row (speed); this holds them to it."""
    other_path, other = new_workspace(tmp_path, "other.promodesk")
    for path in sorted(demo_dir.iterdir()):
        import_file(other, path)
    other.close()
    _, main = new_workspace(tmp_path, "main.promodesk")
    import_file(main, write_allocations(tmp_path / "mine.csv", allocation_rows(10)))
    import_file(main, other_path)
    assert main.execute("PRAGMA foreign_key_check").fetchall() == []
    main.close()


def test_the_same_allocation_written_two_ways_is_one_row(workspace, tmp_path: Path) -> None:
    row = ["C1", "pc", "promo", "f", "CODE1", "2026-09-01T10:00:00Z", "1", "1", "1"]
    same_with_offset = [*row[:5], "2026-09-01T12:00:00+02:00", *row[6:]]
    other = ["C2", "pc", "promo", "f", "CODE2", "2026-09-01 08:30", "1", "1", "1"]
    result = import_file(
        workspace, write_allocations(tmp_path / "mixed.csv", [row, same_with_offset, other])
    )
    assert (result.rows_read, result.rows_added) == (3, 2)
    stamps = dict(workspace.execute("SELECT unique_code, allocated_at FROM optimove_allocations"))
    assert stamps == {"CODE1": "2026-09-01T10:00:00Z", "CODE2": "2026-09-01T08:30:00Z"}
    assert workspace.execute("SELECT allocation_count FROM optimove_promocodes").fetchone() == (2,)


def test_a_small_file_into_a_big_table_is_checked_and_normalised_the_same_way(
    workspace, tmp_path: Path
) -> None:
    # Into a table larger than the file the rows go in one by one against the dedupe key
    # (no bulk load); the checks and the date normalisation must hold on that path too.
    import_file(workspace, write_allocations(tmp_path / "big.csv", allocation_rows(200)))
    assert count(workspace, "optimove_allocations") == 200
    existing = allocation_rows(1, start=7)[0]  # stored as ...T10:07:00Z
    same_with_offset = [*existing[:5], existing[5].replace("T10:", "T12:")[:-1] + "+02:00"]
    same_with_offset += existing[6:]
    new = allocation_rows(1, start=500)[0]
    new[5] = "2026-10-02 09:15"
    result = import_file(
        workspace, write_allocations(tmp_path / "small.csv", [same_with_offset, new])
    )
    assert (result.rows_read, result.rows_added) == (2, 1)
    assert workspace.execute(
        "SELECT allocated_at FROM optimove_allocations WHERE unique_code = ?", (new[4],)
    ).fetchone() == ("2026-10-02T09:15:00Z",)

    before = snapshot(workspace)
    for problem, row, message in (
        ("empty", [*new[:1], "", *new[2:]], "promocodeId is empty"),
        ("date", [*new[:5], "next week", *new[6:]], "not an ISO 8601 date"),
    ):
        rows = [*allocation_rows(2, start=900), row]
        with pytest.raises(ImportFileError) as refused:
            import_file(workspace, write_allocations(tmp_path / f"{problem}.csv", rows))
        assert refused.value.line == 4, problem
        assert message in refused.value.problem
        assert snapshot(workspace) == before  # nothing of the refused file stays
