"""Runs: every import, sync, operation and bulk job that writes to the workspace is one.

A run's id is what rows (`added_run`, `gone_run`), state events, audit entries and journal
items point at, so "what did this import bring", "what changed since Monday's sync" and "which
items of this bulk job are left" all have an answer.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from promodesk.domain.values import now_utc_text

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
