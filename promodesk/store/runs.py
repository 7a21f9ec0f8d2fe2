"""Runs: every import, sync, operation and bulk job that writes to the workspace is one.

A run's id is what rows (`added_run`, `gone_run`), state events, audit entries and journal
items point at, so "what did this import bring", "what changed since Monday's sync" and "which
items of this bulk job are left" all have an answer.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from promodesk.domain.values import CANONICAL_FORMAT, now_utc_text

RunKind = Literal["import", "sync", "operation", "bulk", "merge", "wizard", "upload"]
RunStatus = Literal["running", "done", "failed", "cancelled"]


@dataclass(frozen=True)
class RunInfo:
    id: int
    kind: str
    account_id: int | None
    title: str
    status: str
    started_at: str
    finished_at: str
    as_of: str
    added: int
    changed: int
    gone: int
    message: str


def start_run(
    conn: sqlite3.Connection,
    kind: RunKind,
    *,
    account_id: int | None,
    title: str = "",
    as_of: str = "",
) -> int:
    """A new run (inside the caller's transaction, or on its own)."""
    cursor = conn.execute(
        "INSERT INTO runs(kind, account_id, title, started_at, as_of) VALUES (?, ?, ?, ?, ?)",
        (kind, account_id, title, now_utc_text(), as_of),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


def finish_run(
    conn: sqlite3.Connection,
    run_id: int,
    status: RunStatus,
    *,
    added: int = 0,
    changed: int = 0,
    gone: int = 0,
    message: str = "",
) -> None:
    conn.execute(
        "UPDATE runs SET status = ?, finished_at = ?, added = added + ?, changed = changed + ?, "
        "gone = gone + ?, message = ? WHERE id = ?",
        (status, now_utc_text(), added, changed, gone, message, run_id),
    )


# A run going on says so every HEARTBEAT_SECONDS; one not heard of for STALE_SECONDS was
# stopped without a word (a crash, a killed process) and may be taken over.
HEARTBEAT_SECONDS = 10
STALE_SECONDS = 60


def claim_run(conn: sqlite3.Connection, run_id: int, claimant: str) -> datetime | None:
    """Mark the run as going on for `claimant` (a token of its own), unless someone else has
    it and was heard of lately: then when that one was last heard of. One statement, so two
    claimants cannot both win."""
    now = datetime.now(UTC)
    claimed = conn.execute(
        "UPDATE runs SET status = 'running', finished_at = '', heartbeat = ?, claimed_by = ? "
        f"WHERE id = ? AND NOT (status = 'running' AND {_HEARD_LATELY})",
        (_text(now), claimant, run_id, *_lately(now)),
    ).rowcount
    if claimed:
        return None
    row = conn.execute("SELECT heartbeat FROM runs WHERE id = ?", (run_id,)).fetchone()
    try:
        return datetime.strptime(row[0], CANONICAL_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return now  # (another claimant's, just written in an unexpected form)


def beat_run(conn: sqlite3.Connection, run_id: int, claimant: str) -> bool:
    """The run `claimant` claimed is still going on; False when it is no longer its run (it
    fell silent and was taken over)."""
    return bool(
        conn.execute(
            "UPDATE runs SET heartbeat = ? WHERE id = ? AND status = 'running' AND claimed_by = ?",
            (now_utc_text(), run_id, claimant),
        ).rowcount
    )


def release_run(
    conn: sqlite3.Connection, run_id: int, claimant: str, status: RunStatus, *, message: str = ""
) -> None:
    """`finish_run`, by the claimant still holding it (one taken over is the new one's, and
    one ended meanwhile, e.g. left undone, stays as it was ended)."""
    held = conn.execute(
        "SELECT 1 FROM runs WHERE id = ? AND claimed_by = ? AND status = 'running'",
        (run_id, claimant),
    ).fetchone()
    if held:
        finish_run(conn, run_id, status, message=message)


def going_on(conn: sqlite3.Connection, run_id: int) -> bool:
    """Whether a claimant has the run (`claim_run`) and was heard of lately."""
    return bool(
        conn.execute(
            f"SELECT 1 FROM runs WHERE id = ? AND status = 'running' AND {_HEARD_LATELY}",
            (run_id, *_lately(datetime.now(UTC))),
        ).fetchone()
    )


# Heard of within STALE_SECONDS; a heartbeat further ahead than that is a clock that was set
# back since, not a runner (it would hold the run for as long).
_HEARD_LATELY = "heartbeat > ? AND heartbeat <= ?"


def _lately(now: datetime) -> tuple[str, str]:
    margin = timedelta(seconds=STALE_SECONDS)
    return _text(now - margin), _text(now + margin)


def _text(moment: datetime) -> str:
    return moment.strftime(CANONICAL_FORMAT)


def run_info(conn: sqlite3.Connection, run_id: int) -> RunInfo | None:
    row = conn.execute(
        "SELECT id, kind, account_id, title, status, started_at, finished_at, as_of, added, "
        "changed, gone, message FROM runs WHERE id = ?",
        (run_id,),
    ).fetchone()
    return RunInfo(*row) if row else None


def runs_of(
    conn: sqlite3.Connection, account_id: int, *, kind: RunKind | None = None
) -> list[RunInfo]:
    sql = (
        "SELECT id, kind, account_id, title, status, started_at, finished_at, as_of, added, "
        "changed, gone, message FROM runs WHERE account_id = ?"
    )
    params: list[object] = [account_id]
    if kind is not None:
        sql += " AND kind = ?"
        params.append(kind)
    return [RunInfo(*row) for row in conn.execute(sql + " ORDER BY id", params)]


def unfinished_runs(conn: sqlite3.Connection, kinds: tuple[RunKind, ...]) -> list[RunInfo]:
    """Runs of these kinds that did not end as done (interrupted by a crash, a close, a
    cancel or a failure), newest first: what the History view offers to resume."""
    marks = ", ".join("?" * len(kinds))
    return [
        RunInfo(*row)
        for row in conn.execute(
            "SELECT id, kind, account_id, title, status, started_at, finished_at, as_of, added, "
            f"changed, gone, message FROM runs WHERE kind IN ({marks}) AND status != 'done' "
            "ORDER BY id DESC",
            kinds,
        )
    ]
