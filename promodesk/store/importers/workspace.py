"""Merging another promodesk workspace file into the open one."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn
from promodesk.domain.vendors import Vendor
from promodesk.store.bulk import DEDUPE_KEYS, bulk_load
from promodesk.store.db import connect
from promodesk.store.importers.base import ImportFileError, ImportResult, ensure_account
from promodesk.store.rollups import (
    count_new_allocations,
    refresh_altcraft,
    refresh_impact,
    refresh_optimove,
)
from promodesk.store.schema import SCHEMA_VERSION, WorkspaceFormatError, schema_problem
from promodesk.store.tables import ALL_TABLES

# Small tables first so the counts at the end see every row.
_MERGE_ORDER = [spec for spec in ALL_TABLES if spec.name not in DEDUPE_KEYS] + [
    spec for spec in ALL_TABLES if spec.name in DEDUPE_KEYS
]
_UPSERT_KEYS = {
    "optimove_promotions": ("account_id", "promotion_id"),
    "optimove_promocodes": ("account_id", "promocode_id"),
    "optimove_code_files": ("account_id", "file_id"),
    "altcraft_programs": ("account_id", "loyalty_id"),
    "altcraft_codes": ("account_id", "loyalty_id", "code"),
    "impact_programs": ("account_id", "campaign_id"),
    "impact_codes": ("account_id", "promo_code_id"),
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
    last_allocation = conn.execute(
        "SELECT coalesce(max(id), 0) FROM optimove_allocations"
    ).fetchone()[0]
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
            "m.dst_id" if name == "account_id" else f"s.{name}" for name in columns
        )
        source = (
            f"SELECT {selected} FROM {attached}.{spec.name} s "
            "JOIN temp.merge_accounts m ON m.src_id = s.account_id WHERE 1 ORDER BY s.id"
        )
        target = f"{spec.name}({', '.join(columns)})"
        if spec.name in DEDUPE_KEYS:
            with bulk_load(conn, spec, enabled=before == 0) as on_conflict:
                conn.execute(f"INSERT INTO {target} {source}{on_conflict}")
        else:
            key = _UPSERT_KEYS[spec.name]
            updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in key)
            conn.execute(
                f"INSERT INTO {target} {source} ON CONFLICT({', '.join(key)}) DO UPDATE SET "
                f"{updates} WHERE excluded.as_of > {spec.name}.as_of"
            )
        result.rows_added += (
            conn.execute(f"SELECT count(*) FROM {spec.name}").fetchone()[0] - before
        )
    count_new_allocations(conn, last_allocation)
    for vendor, account_id in touched:
        {
            Vendor.OPTIMOVE: refresh_optimove,
            Vendor.ALTCRAFT: refresh_altcraft,
            Vendor.IMPACT: refresh_impact,
        }[vendor](conn, account_id)
    return touched
