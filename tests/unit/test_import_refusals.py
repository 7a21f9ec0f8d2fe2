"""What the importers refuse since the reliability review (issue 14): dates that are not real
instants, numbers and text that cannot be stored, files that are not files, damaged
workspaces, a full disk. Each refusal names the file, the line and the problem, and leaves
the workspace exactly as it was."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from promodesk.store.db import connect
from promodesk.store.importers.base import ImportFileError
from promodesk.store.importers.dispatch import import_file
from promodesk.store.schema import WorkspaceFormatError
from tests.helpers import (
    allocation_rows,
    count,
    impact_code,
    impact_page,
    named_pipe,
    new_workspace,
    write_allocations,
    write_json,
)
from tests.unit.test_importers import snapshot


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    _path, conn = new_workspace(tmp_path)
    import_file(conn, write_allocations(tmp_path / "seed.csv", allocation_rows(30)))
    yield conn
    conn.close()


def refused(conn: sqlite3.Connection, path: Path) -> ImportFileError:
    before = snapshot(conn)
    with pytest.raises(ImportFileError) as caught:
        import_file(conn, path)
    assert snapshot(conn) == before
    return caught.value


# -- dates ----------------------------------------------------------------------------------

BAD_TIMESTAMPS = {
    "now": "not an ISO 8601 date and time",
    "2459000.5": "not an ISO 8601 date and time",
    "2026-02-30T10:00:00Z": "day is out of range for month",
    "2026-13-01T10:00:00Z": "month must be in 1..12",
    "0001-01-01T00:00:00+01:00": "before the year 1",
    "9999-12-31T23:00:00-05:00": "after the year 9999",
    "2026-02-30 10:00": "day is out of range for month",
}


@pytest.mark.parametrize("stamp", sorted(BAD_TIMESTAMPS))
@pytest.mark.parametrize("rows_before", [3, 40_000])  # the row-by-row and the bulk path
def test_an_allocation_timestamp_that_is_no_instant_is_refused_with_its_line(
    seeded: sqlite3.Connection, tmp_path: Path, stamp: str, rows_before: int
) -> None:
    rows = allocation_rows(rows_before, promocode="pc-dates", start=1000)
    rows.append(["C1", "pc", "promo", "f", "CODE-X", stamp, "1", "1", "1"])
    error = refused(seeded, write_allocations(tmp_path / "dates.csv", rows))
    assert error.line == rows_before + 2
    assert error.problem.startswith("timestamp: ")
    assert BAD_TIMESTAMPS[stamp] in error.problem


def test_canonical_timestamps_and_others_are_stored_canonical(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = allocation_rows(3, promocode="pc-ok", start=500)
    rows[0][5] = "2026-09-01T12:00:00+02:00"
    rows[1][5] = "2024-02-29 23:59:59"
    rows[2][5] = "2026-09-01T10:00:00.250Z"
    import_file(seeded, write_allocations(tmp_path / "ok.csv", rows))
    stored = [
        stamp
        for (stamp,) in seeded.execute(
            "SELECT allocated_at FROM optimove_allocations WHERE promocode_id = 'pc-ok' ORDER BY id"
        )
    ]
    assert stored == ["2026-09-01T10:00:00Z", "2024-02-29T23:59:59Z", "2026-09-01T10:00:00Z"]


@pytest.mark.parametrize("stamp", ["2026-13-01T10:00:00Z", "0000-01-01T00:00:00Z"])
def test_vendor_dates_that_merely_look_canonical_are_checked(
    seeded: sqlite3.Connection, tmp_path: Path, stamp: str
) -> None:
    altcraft = write_json(
        tmp_path / "loyalty-5.json",
        {"data": [{"code": "A1"}, {"code": "A2", "attached": stamp}], "error": 0},
    )
    error = refused(seeded, altcraft)
    assert "record 2" in error.problem and "attached" in error.problem
    impact = write_json(tmp_path / "impact.json", impact_page([impact_code(1, EndDate=stamp)]))
    assert "EndDate" in refused(seeded, impact).problem


def test_an_offset_past_year_9999_is_a_message_not_a_crash(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    path = write_json(
        tmp_path / "impact.json",
        impact_page([impact_code(1), impact_code(2, CreatedDate="9999-12-31T23:30:00-01:00")]),
    )
    error = refused(seeded, path)
    assert "record 2" in error.problem and "after the year 9999" in error.problem


# -- numbers and text -----------------------------------------------------------------------


def test_an_impact_id_above_64_bits_is_refused(seeded: sqlite3.Connection, tmp_path: Path) -> None:
    for number, (Id, words) in enumerate(
        (
            ("9223372036854775808", "too large for an impact.com id"),  # as text
            (9223372036854775808, "too large (more than 64 bits)"),  # a number: ijson refuses
            (18446744073709551616, "too large (more than 64 bits)"),
        ),
        start=1,
    ):
        path = tmp_path / f"ids{number}.json"
        path.write_text(json.dumps(impact_page([impact_code(1), impact_code(2, Id=Id)])))
        assert words in refused(seeded, path).problem
    xml = tmp_path / "ids.xml"
    xml.write_text(
        "<ImpactRadiusResponse><PromoCodes>\n<PromoCode><Id>1</Id><Code>A</Code></PromoCode>\n"
        "<PromoCode><Id>99999999999999999999</Id><Code>B</Code></PromoCode>\n"
        "</PromoCodes></ImpactRadiusResponse>"
    )
    error = refused(seeded, xml)
    assert error.line == 3 and "too large" in error.problem  # XML records name their line


def test_a_nul_inside_a_csv_cell_past_the_first_64_kb_is_refused(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = allocation_rows(3000, promocode="pc-nul", start=2000)
    rows[2500][4] = "CODE\x00HIDDEN"
    path = write_allocations(tmp_path / "nul.csv", rows)
    assert path.read_bytes().index(b"\x00") > 64 * 1024
    error = refused(seeded, path)
    assert error.line == 2502
    assert "U+0000, NUL" in error.problem


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("AB\x1b[31mCD", "U+001B, ESC"),
        ("AB\x85CD", "U+0085"),
        ("AB\tCD", "U+0009"),
        ("AB\x7fCD", "U+007F"),
    ],
)
def test_control_characters_in_allocation_cells_are_refused(
    seeded: sqlite3.Connection, tmp_path: Path, cell: str, words: str
) -> None:
    rows = allocation_rows(5, promocode="pc-ctl", start=3000)
    rows[3][0] = cell
    error = refused(seeded, write_allocations(tmp_path / "ctl.csv", rows))
    assert error.line == 5 and words in error.problem


def test_a_line_break_inside_a_quoted_value_is_refused(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = allocation_rows(5, promocode="pc-q", start=4000)
    rows[2][4] = "CODE\nSECOND-LINE"
    error = refused(seeded, write_allocations(tmp_path / "quoted.csv", rows))
    assert error.line == 5 and "line break" in error.problem


def test_control_characters_in_json_codes_and_names_are_refused(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "loyalty-5.json"
    path.write_text('{"data": [{"code": "A1"}, {"code": "A2\\u001b[2J"}], "error": 0}')
    error = refused(seeded, path)
    assert "record 2" in error.problem and "U+001B, ESC" in error.problem


def test_codes_longer_than_the_vendor_allows_are_refused(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = allocation_rows(4, promocode="pc-long", start=5000)
    rows[1][4] = "L" * 256
    error = refused(seeded, write_allocations(tmp_path / "long.csv", rows))
    assert error.line == 3 and "256 characters long; Optimove codes have at most 255" in str(error)
    codes = tmp_path / "codes.txt"
    codes.write_text("AAA\n" + "L" * 300 + "\n")
    error = refused(seeded, codes)
    assert error.line == 2 and "at most 255" in error.problem


def test_a_loyalty_id_that_is_no_number_is_refused(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    from promodesk.store.importers.base import ImportHints

    path = write_json(tmp_path / "export.json", {"data": [{"code": "A1"}], "error": 0})
    with pytest.raises(ImportFileError, match="must be a number"):
        import_file(seeded, path, hints=ImportHints(loyalty_id="5\x1b[2J"))


# -- file names ------------------------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_is_imported_and_stored_readably(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    name = os.fsdecode(b"caf\xe9-loyalty-7.json")
    path = write_json(tmp_path / name, {"data": [{"code": "N1"}], "error": 0})
    result = import_file(seeded, path)
    assert result.summary().startswith("caf\\xe9-loyalty-7.json: 1 new codes")
    stored = seeded.execute(
        "SELECT file_name, file_path FROM import_history ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert stored[0] == "caf\\xe9-loyalty-7.json"
    assert stored[1].endswith("caf\\xe9-loyalty-7.json")
    codes = tmp_path / os.fsdecode(b"pool-\xff.txt")
    codes.write_text("P1\nP2\n")
    import_file(seeded, codes)
    assert seeded.execute(
        "SELECT file_name FROM optimove_code_files WHERE file_name LIKE 'pool-%'"
    ).fetchone() == ("pool-\\xff.txt",)
    broken = tmp_path / os.fsdecode(b"bad-\xfe.json")
    broken.write_text("{")
    assert str(refused(seeded, broken)).startswith("bad-\\xfe.json: ")


# -- things that are not regular files -------------------------------------------------------


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    with named_pipe(tmp_path / "export.csv") as path:
        yield path


def test_a_fifo_is_refused_before_it_is_opened(seeded: sqlite3.Connection, fifo: Path) -> None:
    assert "named pipe (FIFO)" in refused(seeded, fifo).problem


def test_devices_sockets_and_folders_are_refused(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    assert "device" in refused(seeded, Path("/dev/zero")).problem
    assert "folder" in refused(seeded, tmp_path).problem
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(tmp_path / "sock.csv"))
        assert "socket" in refused(seeded, tmp_path / "sock.csv").problem


def test_a_fifo_is_not_opened_as_a_workspace(fifo: Path) -> None:
    with pytest.raises(WorkspaceFormatError, match="not a workspace file"):
        connect(fifo)


# -- damaged workspaces and a full disk -------------------------------------------------------


def test_a_workspace_without_its_format_version_is_refused_honestly_and_leaves_nothing(
    seeded: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other, conn = new_workspace(tmp_path, "versionless.promodesk")
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    scratch = tmp_path / "system-temp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    error = refused(seeded, other)
    assert "lost its format version" in error.problem
    assert "table meta already exists" not in str(error)
    assert list(scratch.iterdir()) == []
    with pytest.raises(WorkspaceFormatError, match="lost its format version"):
        connect(other)


def test_an_old_workspace_is_migrated_in_a_copy_that_is_then_removed(
    seeded: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A migration that fails half-way (here: the copy cannot be written) leaves nothing behind.
    from promodesk.store import schema

    other, conn = new_workspace(tmp_path, "old.promodesk")
    conn.close()
    scratch = tmp_path / "system-temp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, "CREATE TABLE meta (x);"))
    import promodesk.store.importers.workspace as merging

    monkeypatch.setattr(merging, "SCHEMA_VERSION", schema.SCHEMA_VERSION)
    error = refused(seeded, other)
    assert "could not be brought up to date" in error.problem
    assert list(scratch.iterdir()) == []


def test_a_first_import_on_a_full_disk_says_so(tmp_path: Path) -> None:
    # SQLITE_FULL, as a full disk gives it: SQLite rolls the transaction back itself.
    _path, conn = new_workspace(tmp_path)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 20}")
    error = refused(conn, write_allocations(tmp_path / "big.csv", allocation_rows(30_000)))
    assert "the disk is full" in error.problem
    assert "cannot rollback" not in str(error)
    assert count(conn, "optimove_allocations") == 0
    conn.close()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="mounts need root")
def test_a_first_import_on_a_really_full_file_system_says_so(tmp_path: Path) -> None:
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode()[:200]}")
    try:
        path, conn = new_workspace(mount_point)
        source = write_allocations(tmp_path / "big.csv", allocation_rows(60_000))
        error = refused(conn, source)
        assert "the disk is full" in error.problem
        assert count(conn, "optimove_allocations") == 0
        conn.close()
        assert connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_header_of_thousands_of_columns_gets_a_short_message(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    # Checking a header was quadratic in its columns (list.count per name), and the message
    # listed every unexpected one.
    wide = tmp_path / "wide.csv"
    columns = "customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp,occurenceId,"
    columns += "seriesId,actionId"
    wide.write_text(columns + "," + ",".join(f"extra{n}" for n in range(5000)) + "\n")
    error = refused(seeded, wide)
    assert error.line == 1 and "unexpected column(s) extra0, extra1" in error.problem
    assert "and 4,988 more" in error.problem and len(str(error)) < 400
    repeated = tmp_path / "repeated.csv"
    repeated.write_text(",".join([columns] * 600) + "\n")
    error = refused(seeded, repeated)
    assert error.line == 1 and "appear twice" in error.problem


def test_a_first_line_longer_than_the_head_is_refused_up_front(
    seeded: sqlite3.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "one-line.csv"
    path.write_text("customerId," + "x" * 100_000 + "\n")
    error = refused(seeded, path)
    assert error.line == 1 and "first line is longer than 64 KB" in error.problem
