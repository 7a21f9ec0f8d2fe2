"""Importing saved exports into a workspace: detect the kind, stream it in, all or nothing.

Every import runs in one transaction. A bad record, a cancel or a crash rolls it back, so the
workspace is exactly as it was; the error names the file, the line and the problem.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from promodesk.domain.jobs import CancelToken, JobCancelled, Progress, ProgressFn, ignore_progress
from promodesk.domain.text import file_label
from promodesk.store.db import transaction
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportKind,
    ImportResult,
    ImportTarget,
    SourceFile,
    record_import,
    source_account,
)
from promodesk.store.importers.detect import Detected, detect, locate_bad_bytes
from promodesk.store.importers.optimove import import_allocations, import_unique_codes
from promodesk.store.importers.streams import file_sha256
from promodesk.store.importers.vendor_exports import import_altcraft, import_impact
from promodesk.store.importers.workspace import attachable_copy, merge_workspace
from promodesk.store.runs import start_run

Importer = Callable[
    [sqlite3.Connection, SourceFile, Detected, ImportHints, ImportTarget, ImportResult], None
]

_IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.OPTIMOVE_ALLOCATIONS: import_allocations,
    ImportKind.OPTIMOVE_UNIQUE_CODES: import_unique_codes,
    ImportKind.ALTCRAFT_JSON: import_altcraft,
    ImportKind.ALTCRAFT_XML: import_altcraft,
    ImportKind.IMPACT_JSON: import_impact,
    ImportKind.IMPACT_XML: import_impact,
}


@dataclass
class ImportBatch:
    results: list[ImportResult] = field(default_factory=list)
    errors: list[ImportFileError] = field(default_factory=list)


# SQLite attaches at most 10 databases to a connection; keep room for temp use.
_MAX_WORKSPACES_PER_BATCH = 8


def import_file(
    conn: sqlite3.Connection,
    path: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
    hints: ImportHints | None = None,
) -> ImportResult:
    """Import one saved export (or merge a workspace file); raises ImportFileError if bad."""
    batch = import_files(conn, [path], cancel=cancel, progress=progress, hints=hints)
    if batch.errors:
        raise batch.errors[0]
    return batch.results[0]


def import_files(
    conn: sqlite3.Connection,
    paths: list[Path],
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
    hints: ImportHints | None = None,
) -> ImportBatch:
    """Import several files as one job.

    A bad file is reported and skipped (nothing of it is kept); the good ones are imported.
    A cancel rolls back the whole job, files already done included.
    """
    token = cancel or CancelToken()
    batch = ImportBatch()
    planned: list[tuple[Path, Detected]] = []
    open_files = _files_of_open_workspace(conn)
    for path in map(Path, paths):
        try:
            # Checked before anything opens the file: opening and closing the open
            # workspace (or its WAL) outside SQLite would drop this process's locks on it.
            if _same_file(path, open_files):
                raise ImportFileError(path, "this is the workspace that is open now")
            planned.append((path, detect(path)))
        except ImportFileError as error:
            batch.errors.append(error)
    sizes = [path.stat().st_size for path, _ in planned]
    total = sum(sizes) or 1
    attached: dict[Path, str] = {}
    hashes: dict[Path, str] = {}
    temp_dirs: list[Path] = []
    unregister = token.on_cancel(conn.interrupt)
    try:
        for path, detected in planned:
            if detected.kind is ImportKind.WORKSPACE:
                try:
                    # Hashed before it is attached, for the same reason as above.
                    hashes[path] = file_sha256(path)
                    attached[path] = _attach(conn, path, len(attached), temp_dirs)
                except ImportFileError as error:
                    batch.errors.append(error)
        with transaction(conn):
            done = 0
            for (path, detected), size in zip(planned, sizes, strict=True):
                if detected.kind is ImportKind.WORKSPACE and path not in attached:
                    continue

                def file_progress(update: Progress, base: int = done, size: int = size) -> None:
                    fraction = update.fraction or 0.0
                    progress(Progress(base + int(fraction * size), total, update.message))

                try:
                    with transaction(conn):
                        if detected.kind is ImportKind.WORKSPACE:
                            result = _merge(
                                conn, path, attached[path], hashes[path], token, file_progress
                            )
                        else:
                            result = _import(
                                conn, path, detected, hints or ImportHints(), token, file_progress
                            )
                    batch.results.append(result)
                except ImportFileError as error:
                    batch.errors.append(error)
                done += size
                token.raise_if_cancelled()
    except sqlite3.OperationalError as error:
        if token.cancelled:
            raise JobCancelled() from None
        raise ImportFileError(Path(paths[0]), _write_failure(error)) from error
    finally:
        unregister()
        for schema in attached.values():
            conn.execute(f"DETACH DATABASE {schema}")
        for folder in temp_dirs:
            shutil.rmtree(folder, ignore_errors=True)
    return batch


def _write_failure(error: sqlite3.OperationalError) -> str:
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return (
            "the disk is full: nothing was imported; free some space (the import needs about "
            "twice the size of the files) and import again"
        )
    if code == sqlite3.SQLITE_READONLY:
        return "the workspace is read-only here: nothing was imported"
    return f"the workspace could not be written ({error})"


def _files_of_open_workspace(conn: sqlite3.Connection) -> list[Path]:
    main_file = conn.execute("PRAGMA database_list").fetchone()[2]
    if not main_file:
        return []
    return [Path(main_file + suffix) for suffix in ("", "-wal", "-shm", "-journal")]


def _same_file(path: Path, others: list[Path]) -> bool:
    for other in others:
        try:
            if path.resolve() == other.resolve() or os.path.samefile(path, other):
                return True
        except OSError:
            continue  # one of them does not exist
    return False


def _attach(conn: sqlite3.Connection, path: Path, number: int, temp_dirs: list[Path]) -> str:
    if number >= _MAX_WORKSPACES_PER_BATCH:
        raise ImportFileError(
            path, f"merge at most {_MAX_WORKSPACES_PER_BATCH} workspaces at a time"
        )
    attach_path, temp_dir = attachable_copy(path)
    if temp_dir is not None:
        temp_dirs.append(temp_dir)
    schema = f"merged{number}"
    conn.execute(f"ATTACH DATABASE ? AS {schema}", (str(attach_path),))
    return schema


def _import(
    conn: sqlite3.Connection,
    path: Path,
    detected: Detected,
    hints: ImportHints,
    token: CancelToken,
    progress: ProgressFn,
) -> ImportResult:
    result = ImportResult(path=path, kind=detected.kind)
    vendor = detected.kind.vendor
    assert vendor is not None
    if hints.source is not None and hints.source.vendor is not vendor:
        raise ImportFileError(
            path,
            f"this is {detected.kind.description}; it cannot go into the "
            f"{hints.source.vendor.display_name} account {hints.source.name}",
        )
    account_id = source_account(conn, vendor, hints.source)
    target = ImportTarget(
        account_id,
        start_run(conn, "import", account_id=account_id, title=f"Import {file_label(path)}"),
    )
    source = SourceFile(path, cancel=token, progress=progress, as_of=hints.as_of)
    try:
        try:
            _IMPORTERS[detected.kind](conn, source, detected, hints, target, result)
        except UnicodeDecodeError:
            raise locate_bad_bytes(path) from None
        record_import(
            conn,
            account_id=account_id,
            run_id=target.run_id,
            result=result,
            sha256=source.hexdigest_of_whole_file(),
            size=source.size,
            as_of=source.as_of(),
        )
    finally:
        source.close()
    return result


def _merge(
    conn: sqlite3.Connection,
    path: Path,
    schema: str,
    sha256: str,
    token: CancelToken,
    progress: ProgressFn,
) -> ImportResult:
    result = ImportResult(path=path, kind=ImportKind.WORKSPACE)
    run_id = start_run(conn, "merge", account_id=None, title=f"Merge {file_label(path)}")
    merge_workspace(conn, schema, result, run_id=run_id, cancel=token, progress=progress)
    newest = conn.execute(f"SELECT coalesce(max(as_of), '') FROM {schema}.accounts").fetchone()[0]
    record_import(
        conn,
        account_id=None,
        run_id=run_id,
        result=result,
        sha256=sha256,
        size=path.stat().st_size,
        as_of=newest,
    )
    return result
