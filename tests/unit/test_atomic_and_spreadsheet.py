"""Atomic writes and the spreadsheet-safe writer that exports, Copy and the wizards share."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promodesk.atomic import TEMP_SUFFIX, atomic_write, remove_leftovers, temp_path_for
from promodesk.codefiles.spreadsheet import safe_cell, to_clipboard_text, write_csv


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    target.write_text("old\n")

    def write_half() -> None:
        with atomic_write(target, "w", encoding="utf-8") as out:
            out.write("half of the new content")
            raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError):
        write_half()
    assert target.read_text() == "old\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export.csv"]


def test_a_complete_write_replaces_the_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "export.csv"
    with atomic_write(target, "w", encoding="utf-8") as out:
        out.write("new\n")
    assert target.read_text() == "new\n"
    assert [path.name for path in target.parent.iterdir()] == ["export.csv"]


def test_leftovers_of_interrupted_writes_are_removed_and_nothing_else(tmp_path: Path) -> None:
    old = temp_path_for(tmp_path / "a.csv")
    old.write_text("x")
    journal = Path(f"{temp_path_for(tmp_path / 'b.promodesk')}-journal")
    journal.write_text("x")
    fresh = temp_path_for(tmp_path / "c.csv")  # a write that may still be running
    fresh.write_text("x")
    mine = tmp_path / f".notes{TEMP_SUFFIX}.txt"
    mine.write_text("x")
    user = tmp_path / "report.csv"
    user.write_text("x")
    hour_ago = time.time() - 7200
    for path in (old, journal, mine, user):
        os.utime(path, (hour_ago, hour_ago))
    assert sorted(remove_leftovers(tmp_path)) == sorted([old, journal])
    assert fresh.exists() and mine.exists() and user.exists()


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("SUMMER-10", "SUMMER-10"),
        (-5, "-5"),
        (None, ""),
    ],
)
def test_formulas_are_made_text(value: object, written: str) -> None:
    assert safe_cell(value) == written


@given(st.lists(st.lists(st.text(max_size=12), min_size=3, max_size=3), max_size=20))
def test_csv_round_trip_is_exact_apart_from_the_formula_guard(rows: list[list[str]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "rows.csv"
        count = write_csv(target, ["a", "b", "c"], rows, bom=True)
        with target.open(encoding="utf-8-sig", newline="") as handle:
            back = list(csv.reader(handle))
    assert count == len(rows)
    assert back[0] == ["a", "b", "c"]
    assert back[1:] == [[safe_cell(cell) for cell in row] for row in rows]
    for row in back[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_clipboard_text_keeps_one_row_per_line() -> None:
    text = to_clipboard_text(["code", "note"], [["A1", "two\nlines"], ["=1+1", "x"]])
    assert list(csv.reader(text.splitlines(keepends=True), delimiter="\t")) == [
        ["code", "note"],
        ["A1", "two\nlines"],
        ["'=1+1", "x"],
    ]
