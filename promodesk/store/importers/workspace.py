"""Merging another promodesk workspace file into the open one."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn
from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.store.bulk import DEDUPE_KEYS, bulk_load
from promodesk.store.db import connect
from promodesk.store.importers.base import ImportFileError, ImportResult, ensure_account
from promodesk.store.rollups import recount_all
from promodesk.store.schema import SCHEMA_VERSION, WorkspaceFormatError, schema_problem
from promodesk.store.tables import ALL_TABLES
from promodesk.store.writes import GONE_TABLES, RECORD_TABLES, RecordTable, Staging

# Small tables first so the counts at the end see every row.
_MERGE_ORDER = [spec for spec in ALL_TABLES if spec.name not in DEDUPE_KEYS] + [
    spec for spec in ALL_TABLES if spec.name in DEDUPE_KEYS
]
# Parent rows (their counts are recounted after the merge).
_UPSERT_KEYS = {
    "altcraft_programs": ("account_id", "loyalty_id"),
    "impact_programs": ("account_id", "campaign_id"),
}
# Run ids of the other workspace mean nothing here: its rows count as added by the merge, and
# a "gone" mark keeps only its meaning (set or not).
_RUN_COLUMNS = {
    "added_run": "{run}",
    "gone_run": "CASE WHEN s.gone_run != 0 THEN {run} ELSE 0 END",
}


def attachable_copy(path: Path) -> tuple[Path, Path | None]:
    """A file at the current schema version to ATTACH: the file itself, or a migrated copy
    (the user's file is never modified). Returns (path to attach, temp dir to delete); on a
    refusal nothing is left behind."""
    try:
        probe = connect(path, readonly=True)
    except WorkspaceFormatError as error:
        raise ImportFileError(path, str(error)) from None
    except sqlite3.DatabaseError as error:
        raise ImportFileError(path, f"the workspace file is damaged ({error})") from None
    try:
        version = probe.execute("PRAGMA user_version").fetchone()[0]
        check = probe.execute("PRAGMA quick_check").fetchone()[0]
        problem = schema_problem(probe)
    finally:
        probe.close()
    if check != "ok":
        raise ImportFileError(path, f"the workspace file is damaged ({check})")
    if problem:
        raise ImportFileError(path, problem)
    if version == SCHEMA_VERSION:
        return path, None
    folder = Path(tempfile.mkdtemp(prefix="promodesk-merge-"))
    copy = folder / "workspace.promodesk"
    try:
        shutil.copyfile(path, copy)
        connect(copy).close()  # migrates the copy
    except BaseException as error:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(error, OSError | sqlite3.DatabaseError | WorkspaceFormatError):
            raise ImportFileError(
                path, f"the workspace could not be brought up to date ({error})"
            ) from None
        raise
    return copy, folder


def merge_workspace(
    conn: sqlite3.Connection,
    attached: str,
    result: ImportResult,
    *,
    run_id: int,
    cancel: CancelToken,
    progress: ProgressFn,
) -> set[tuple[Vendor, int]]:
    """Copy every row of the ATTACHed workspace `attached` into main (inside a transaction).

    Returns the (vendor, account id) pairs whose counts need refreshing.
    """
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS merge_accounts(src_id INTEGER PRIMARY KEY, dst_id INTEGER)"
    )
    conn.execute("DELETE FROM temp.merge_accounts")
    touched: set[tuple[Vendor, int]] = set()
    for src_id, vendor, key, name, kind in conn.execute(
        f"SELECT id, vendor, key, name, kind FROM {attached}.accounts"
    ).fetchall():
        dst_id = ensure_account(conn, Vendor(vendor), key=key, name=name, kind=kind)
        conn.execute("INSERT INTO temp.merge_accounts VALUES (?, ?)", (src_id, dst_id))
        touched.add((Vendor(vendor), dst_id))
    conn.execute(
        f"UPDATE accounts SET as_of = max(as_of, (SELECT s.as_of FROM {attached}.accounts s "
        "JOIN temp.merge_accounts m ON m.src_id = s.id WHERE m.dst_id = accounts.id)) "
        "WHERE id IN (SELECT dst_id FROM temp.merge_accounts)"
    )
    for step, spec in enumerate(_MERGE_ORDER):
        cancel.raise_if_cancelled()
        progress(Progress(step, len(_MERGE_ORDER), f"Merging {spec.name.replace('_', ' ')}"))
        result.rows_read += conn.execute(f"SELECT count(*) FROM {attached}.{spec.name}").fetchone()[
            0
        ]
        before = conn.execute(f"SELECT count(*) FROM {spec.name}").fetchone()[0]
        columns = [
            row[1] for row in conn.execute(f"PRAGMA main.table_info({spec.name})") if row[1] != "id"
        ]
        selected = ", ".join(
            "m.dst_id"
            if name == "account_id"
            else _RUN_COLUMNS[name].format(run=int(run_id))
            if name in _RUN_COLUMNS
            else f"s.{name}"
            for name in columns
        )
        source = (
            f"SELECT {selected} FROM {attached}.{spec.name} s "
            "JOIN temp.merge_accounts m ON m.src_id = s.account_id WHERE 1 ORDER BY s.id"
        )
        target = f"{spec.name}({', '.join(columns)})"
        if spec.name in DEDUPE_KEYS:
            with bulk_load(conn, spec, enabled=before == 0, run_id=run_id) as on_conflict:
                conn.execute(f"INSERT INTO {target} {source}{on_conflict}")
        elif spec.name in RECORD_TABLES:
            _merge_records(conn, attached, RECORD_TABLES[spec.name], run_id)
        else:  # parents (programs): names and as_of; their counts are recounted below
            key = _UPSERT_KEYS[spec.name]
            updates = ", ".join(
                f"{name} = excluded.{name}"
                for name in columns
                if name not in key and name not in _RUN_COLUMNS
            )
            conn.execute(
                f"INSERT INTO {target} {source} ON CONFLICT({', '.join(key)}) DO UPDATE SET "
                f"{updates} WHERE excluded.as_of > {spec.name}.as_of"
            )
        result.rows_added += (
            conn.execute(f"SELECT count(*) FROM {spec.name}").fetchone()[0] - before
        )
    # The merge copied whole tables, so recounting what it touched costs what it copied.
    recount_all(conn, touched)
    return touched


def _merge_records(
    conn: sqlite3.Connection, attached: str, table: RecordTable, run_id: int
) -> None:
    """Vendor records go through the one writer, account by account, keeping their as_of."""
    columns = ", ".join(f"s.{name}" for name in table.columns)
    pairs = conn.execute("SELECT src_id, dst_id FROM temp.merge_accounts").fetchall()
    for src_id, dst_id in pairs:
        staging = Staging(conn, table, dst_id)
        staging.add_selected(
            f"SELECT {columns}, s.as_of FROM {attached}.{table.name} s WHERE s.account_id = ? "
            "ORDER BY s.id",
            src_id,
        )
        if not staging.count:
            continue
        staging.write(run_id=run_id, as_of="")
        if table.state and table.name in GONE_TABLES:
            # Rows the other workspace knew as gone arrive in state 'gone': mark them so.
            conn.execute(
                f"UPDATE {table.name} SET gone_run = ? WHERE account_id = ? AND "
                f"{table.state} = ? AND gone_run = 0",
                (run_id, dst_id, CodeStatus.GONE.value),
            )
