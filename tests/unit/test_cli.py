"""The command line, run as a real process like a user (or a script) would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from promodesk.store.db import connect
from tests.conftest import DEMO_DIR
from tests.helpers import allocation_rows, write_allocations

NO_QT = (
    "import sys; from promodesk.app import main; code = main(sys.argv[1:]); "
    "assert not [m for m in sys.modules if m.startswith(('PySide6', 'qasync'))], 'Qt was loaded'; "
    "sys.exit(code)"
)


def promodesk(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", NO_QT, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def rows(workspace: Path, table: str) -> int:
    conn = connect(workspace, readonly=True)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def test_import_creates_the_workspace_and_reports_on_stderr(tmp_path: Path) -> None:
    workspace = tmp_path / "cli.promodesk"
    files = [str(path) for path in sorted(DEMO_DIR.iterdir())]
    done = promodesk("import", *files, "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert "created workspace" in done.stderr
    assert "imported optimove_allocations_2026-11-20.csv: 20,000 new allocations" in done.stderr
    assert f"workspace: {workspace}" in done.stderr
    assert rows(workspace, "optimove_allocations") == 20_000
    # The CLI leaves the workspace indexed, ready for the window.
    conn = connect(workspace, readonly=True)
    indexes = {
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")
    }
    conn.close()
    assert "ix_optimove_allocations__customer_id" in indexes


def test_a_bad_file_exits_1_with_the_reason(tmp_path: Path) -> None:
    workspace = tmp_path / "cli.promodesk"
    good = write_allocations(tmp_path / "good.csv", allocation_rows(5))
    bad = tmp_path / "bad.json"
    bad.write_text('{"data": [{"code": "A"},', encoding="utf-8")
    done = promodesk("import", str(good), str(bad), "--workspace", str(workspace))
    assert done.returncode == 1
    assert "imported good.csv: 5 new allocations" in done.stderr
    assert "error: bad.json: line 1: broken JSON" in done.stderr
    assert rows(workspace, "optimove_allocations") == 5


def test_missing_file_and_default_workspace(tmp_path: Path) -> None:
    done = promodesk("import", str(tmp_path / "nope.csv"))
    assert done.returncode == 1
    assert "nope.csv: the file does not exist" in done.stderr
    assert "My workspace.promodesk" in done.stderr  # the default workspace, under XDG_DATA_HOME


def test_loyalty_id_option_files_altcraft_codes(tmp_path: Path) -> None:
    workspace = tmp_path / "cli.promodesk"
    export = tmp_path / "export.json"
    export.write_text('{"data": [{"code": "A1"}, {"code": "A2"}], "error": 0}', encoding="utf-8")
    done = promodesk("import", str(export), "--workspace", str(workspace), "--loyalty-id", "77")
    assert done.returncode == 0, done.stderr
    conn = connect(workspace, readonly=True)
    assert conn.execute("SELECT DISTINCT loyalty_id FROM altcraft_codes").fetchall() == [("77",)]
    conn.close()


def test_ctrl_c_rolls_the_import_back(tmp_path: Path) -> None:
    workspace = tmp_path / "cli.promodesk"
    big = write_allocations(tmp_path / "big.csv", allocation_rows(600_000))
    with subprocess.Popen(
        [sys.executable, "-c", NO_QT, "import", str(big), "--workspace", str(workspace)],
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:  # wait until it is importing
            if "%" in line and "Importing" in line and not line.startswith("  0%"):
                break
        time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read()
        assert process.wait(timeout=60) == 130
    assert "cancelled: nothing from this run was kept" in rest
    assert rows(workspace, "optimove_allocations") == 0


def test_version_and_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "promodesk", "--version"], capture_output=True, text=True, timeout=60
    )
    from promodesk import __version__

    assert done.returncode == 0 and done.stdout.strip() == f"promodesk {__version__}"
    done = promodesk("import", "--help")
    assert done.returncode == 0 and "--workspace" in done.stdout


@pytest.mark.gui
def test_selftest_opens_the_window_and_checks_every_panel() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "promodesk", "--selftest"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")},
    )
    assert done.returncode == 0, done.stderr
    assert "selftest: ok" in done.stdout
    assert "Secrets are" in done.stdout and ".Keyring" not in done.stdout  # not "fail.Keyring"
    for table in (
        "Optimove · Allocations: 20,000 rows",
        "Altcraft · Promo codes: 500 rows",
        "impact.com · Promo codes: 300 rows",
    ):
        assert table in done.stdout
    # Qt Charts is there and draws (the bundle runs this self-test too).
    assert re.search(r"Pool runway chart: [1-9]\d* days drawn", done.stdout), done.stdout


def test_file_names_and_data_reach_the_terminal_escaped(tmp_path: Path) -> None:
    workspace = tmp_path / "cli.promodesk"
    name = "evil\x1b]0;owned\x07\rname\n.csv"
    path = write_allocations(tmp_path / name, allocation_rows(3))
    codes = tmp_path / os.fsdecode(b"codes-\xff\x1b[2J.txt")
    codes.write_text("GOOD1\nBAD\x1b[31mCODE\n")
    done = promodesk("import", str(path), str(codes), "--workspace", str(workspace))
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stderr and "\r" not in done.stderr and "\x07" not in done.stderr
    assert "imported evil\\x1b]0;owned\\x07\\rname\\n.csv: 3 new allocations" in done.stderr
    assert "error: codes-\\xff\\x1b[2J.txt: line 2: an invisible control character" in (done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert all(
        line.startswith(("imported ", "error: ", "workspace: ", "created ")) or "%" in line
        for line in lines
    ), lines


def test_a_file_name_that_is_not_utf8_imports_without_a_traceback(tmp_path: Path) -> None:
    workspace = tmp_path / "cli.promodesk"
    export = tmp_path / os.fsdecode(b"caf\xe9-loyalty-3.json")
    export.write_text('{"data": [{"code": "A1"}], "error": 0}', encoding="utf-8")
    done = promodesk("import", str(export), "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    assert "imported caf\\xe9-loyalty-3.json: 1 new codes" in done.stderr
    assert rows(workspace, "altcraft_codes") == 1


def test_impossible_dates_and_huge_ids_are_messages_not_tracebacks(tmp_path: Path) -> None:
    workspace = tmp_path / "cli.promodesk"
    late = tmp_path / "late.json"
    late.write_text(
        '{"data": [{"code": "A1", "created": "9999-12-31T23:30:00-05:00"}], "error": 0}'
    )
    early = tmp_path / "early.csv"
    early.write_text(
        "customerId,promocodeId,promotionId,fileId,uniqueCode,timestamp,occurenceId,seriesId,"
        "actionId\nC1,pc,p,f,X,0001-01-01T00:00:00+01:00,1,1,1\n"
    )
    ids = tmp_path / "ids.json"
    ids.write_text('{"PromoCodes": [{"Id": "99999999999999999999", "Code": "X"}]}')
    done = promodesk("import", str(late), str(early), str(ids), "--workspace", str(workspace))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr, done.stderr
    assert "late.json: record 1, near line 1: created: " in done.stderr
    assert "after the year 9999" in done.stderr
    assert "early.csv: line 2: timestamp: " in done.stderr and "before the year 1" in done.stderr
    assert "ids.json: record 1, near line 1: Id: " in done.stderr
    assert "too large for an impact.com id" in done.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    done = promodesk("import", str(fifo), "--workspace", str(tmp_path / "w.promodesk"), timeout=60)
    assert done.returncode == 1
    assert "export.csv: this is a named pipe (FIFO), not a saved file" in done.stderr
    as_workspace = promodesk(
        "import",
        str(DEMO_DIR / "impact_promocodes_2pages.json"),
        "--workspace",
        str(fifo),
        timeout=60,
    )
    assert as_workspace.returncode == 1
    assert "not a workspace file" in as_workspace.stderr


def test_a_loyalty_id_with_control_characters_is_a_usage_error(tmp_path: Path) -> None:
    export = tmp_path / "export.json"
    export.write_text('{"data": [{"code": "A1"}], "error": 0}', encoding="utf-8")
    done = promodesk("import", str(export), "--loyalty-id", "5\x1b[2J")
    assert done.returncode == 2
    assert "a loyalty program id is a number" in done.stderr
