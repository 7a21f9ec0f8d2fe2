"""Two processes writing one workspace while this one also holds a long-lived reader.

This is the window (its reader thread's connection, an import of its own) beside a
`promodesk import` in a terminal. The processes take turns by messages, never by sleeping, so
every round has both writers closing connections while the other's are open.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from promodesk.services.workspace_session import import_into
from promodesk.store.db import connect
from promodesk.store.importers.dispatch import import_files
from promodesk.store.workspace import create_workspace
from tests.helpers import allocation_rows, write_allocations

ROUNDS = 12
ROWS_PER_IMPORT = 400

# The other process: one import per line it reads, "done N" after each.
CHILD = """
import sys
from pathlib import Path
from promodesk.services.workspace_session import import_into
workspace, folder = Path(sys.argv[1]), Path(sys.argv[2])
for line in sys.stdin:
    number = int(line)
    outcome = import_into(workspace, [folder / f"child-{number}.csv"])
    assert not outcome.errors, outcome.errors
    print(f"done {number} {outcome.rows_added}", flush=True)
"""


def _files(folder: Path, who: str, offset: int) -> list[Path]:
    return [
        write_allocations(
            folder / f"{who}-{number}.csv",
            allocation_rows(
                ROWS_PER_IMPORT,
                promocode=f"pc-{who}",
                start=offset + number * ROWS_PER_IMPORT,
            ),
        )
        for number in range(ROUNDS)
    ]


@pytest.mark.slow
def test_another_process_writing_beside_our_reader_and_writes_loses_nothing(
    tmp_path: Path,
) -> None:
    workspace = tmp_path / "shared.promodesk"
    create_workspace(workspace, label="shared")
    ours = _files(tmp_path, "parent", 0)
    _files(tmp_path, "child", 1_000_000)
    reader = connect(workspace, readonly=True)  # the window's reader thread holds one open
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(workspace), str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        for number in range(ROUNDS):
            reader.execute("SELECT count(*) FROM optimove_allocations").fetchone()
            outcome = import_into(workspace, [ours[number]])
            assert not outcome.errors, outcome.errors
            child.stdin.write(f"{number}\n")
            child.stdin.flush()
            assert child.stdout.readline().split() == ["done", str(number), str(ROWS_PER_IMPORT)]
            # Our reader must still see a consistent, growing workspace.
            seen = reader.execute("SELECT count(*) FROM optimove_allocations").fetchone()[0]
            assert seen == 2 * (number + 1) * ROWS_PER_IMPORT
    finally:
        child.stdin.close()
        child.wait(timeout=60)
        child.stdout.close()
        reader.close()
    assert child.returncode == 0
    check = sqlite3.connect(workspace)
    try:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = dict(
            check.execute(
                "SELECT promocode_id, count(*) FROM optimove_allocations GROUP BY promocode_id"
            ).fetchall()
        )
    finally:
        check.close()
    assert rows == {"pc-parent": ROUNDS * ROWS_PER_IMPORT, "pc-child": ROUNDS * ROWS_PER_IMPORT}


def test_importing_the_open_workspace_is_refused_without_opening_it(tmp_path: Path) -> None:
    workspace = tmp_path / "open.promodesk"
    create_workspace(workspace, label="open")
    conn = connect(workspace)
    try:
        batch = import_files(conn, [workspace, Path(f"{workspace}-wal")])
    finally:
        conn.close()
    assert [error.problem for error in batch.errors] == [
        "this is the workspace that is open now",
        "this is the workspace that is open now",
    ]


def test_a_run_is_claimed_by_one_at_a_time_until_it_ends_or_falls_silent(
    tmp_path: Path,
) -> None:
    from datetime import UTC, datetime, timedelta

    from promodesk.domain.values import CANONICAL_FORMAT
    from promodesk.store.db import transaction
    from promodesk.store.runs import beat_run, claim_run, release_run, run_info, start_run

    path = tmp_path / "runs.promodesk"
    create_workspace(path, label="runs")
    first, second = connect(path), connect(path)  # two processes' connections

    def heartbeat(conn: sqlite3.Connection, run: int, moment: datetime) -> None:
        with transaction(conn):
            conn.execute(
                "UPDATE runs SET heartbeat = ? WHERE id = ?",
                (moment.strftime(CANONICAL_FORMAT), run),
            )

    try:
        with transaction(first):
            run = start_run(first, "bulk", account_id=None)
        with transaction(first):
            assert claim_run(first, run, "A") is None  # planned, never run: anyone's
        with transaction(second):
            heard = claim_run(second, run, "B")
        assert heard is not None  # when A was last heard of: its heartbeat, as written
        (written,) = first.execute("SELECT heartbeat FROM runs WHERE id = ?", (run,)).fetchone()
        assert heard.strftime(CANONICAL_FORMAT) == written

        # A silent for over a minute (a crash): B takes it over; A is refused from then on,
        # its heartbeat is no longer its own, and its end does not end B's run.
        heartbeat(first, run, datetime.now(UTC) - timedelta(minutes=2))
        with transaction(second):
            assert claim_run(second, run, "B") is None
        with transaction(first):
            assert claim_run(first, run, "A") is not None
            assert beat_run(first, run, "A") is False
            release_run(first, run, "A", "cancelled")
        info = run_info(second, run)
        assert info is not None and info.status == "running"
        # B's heartbeat is what keeps it: aged and said again, it is still B's.
        heartbeat(second, run, datetime.now(UTC) - timedelta(minutes=2))
        with transaction(second):
            assert beat_run(second, run, "B") is True
        with transaction(first):
            assert claim_run(first, run, "A") is not None

        # A heartbeat from a clock since set back (an hour ahead) holds nothing.
        heartbeat(second, run, datetime.now(UTC) + timedelta(hours=1))
        with transaction(first):
            assert claim_run(first, run, "A") is None
        with transaction(first):
            release_run(first, run, "A", "cancelled")  # ended: anyone's again
        with transaction(second):
            assert claim_run(second, run, "B") is None
    finally:
        first.close()
        second.close()
