"""An open workspace file: its label, where its data came from, saving a copy."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from promodesk.atomic import atomic_path
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.values import now_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.store import WORKSPACE_SUFFIX
from promodesk.store.db import connect, transaction

__all__ = ["WORKSPACE_SUFFIX", "SourceInfo", "as_of_by_vendor", "create_workspace", "save_copy"]


@dataclass(frozen=True)
class SourceInfo:
    vendor: Vendor
    account_id: int
    name: str
    kind: str  # imported | sandbox | live
    as_of: str
    key: str = ""  # 'imported', or the settings account's id (the sandbox's: sandbox-<vendor>)


def create_workspace(path: Path, *, label: str) -> None:
    """A new, empty workspace file (made under a temporary name, then moved into place)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    with atomic_path(path) as temp:
        conn = connect(temp, create=True)
        try:
            with transaction(conn):
                conn.executemany(
                    "INSERT INTO meta(key, value) VALUES (?, ?)",
                    [("label", label), ("created_at", now_utc_text())],
                )
            conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL back in before the move
        finally:
            conn.close()


def read_label(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM meta WHERE key = 'label'").fetchone()
    return str(row[0]) if row else ""


def set_label(conn: sqlite3.Connection, label: str) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('label', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (label,),
        )


def sources(conn: sqlite3.Connection) -> list[SourceInfo]:
    return [
        SourceInfo(Vendor(vendor), account_id, name, kind, as_of, key)
        for account_id, vendor, name, kind, as_of, key in conn.execute(
            "SELECT id, vendor, name, kind, as_of, key FROM accounts ORDER BY vendor, name"
        )
    ]


def as_of_by_vendor(conn: sqlite3.Connection) -> dict[Vendor, str]:
    """Newest data time per vendor ('' for a vendor with no data)."""
    found = {
        Vendor(vendor): as_of
        for vendor, as_of in conn.execute("SELECT vendor, max(as_of) FROM accounts GROUP BY vendor")
    }
    return {vendor: found.get(vendor) or "" for vendor in Vendor}


def save_copy(
    conn: sqlite3.Connection,
    target: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> None:
    """Write the whole workspace to `target` as one self-contained file, atomically.

    The copy goes to a temporary file beside the target and replaces it only when complete,
    so a cancelled or failed save leaves whatever was at `target` untouched.
    """
    token = cancel or CancelToken()
    target = Path(target)
    with atomic_path(target) as temp:
        destination = sqlite3.connect(temp)
        try:

            def report(status: int, remaining: int, total: int) -> None:
                progress(Progress(total - remaining, total, f"Saving {target.name}"))
                if token.cancelled:
                    # Raising inside the callback aborts the copy (sqlite3 re-raises it).
                    raise sqlite3.OperationalError("cancelled")

            try:
                conn.backup(destination, pages=2048, progress=report)
            except sqlite3.OperationalError:
                token.raise_if_cancelled()
                raise
            destination.execute("PRAGMA journal_mode = DELETE")
        finally:
            destination.close()
        token.raise_if_cancelled()
