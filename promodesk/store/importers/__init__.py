"""Importing saved exports into a workspace: detect the kind, stream it in, all or nothing.

Every import runs in one transaction. A bad record, a cancel or a crash rolls it back, so the
workspace is exactly as it was; the error names the file, the line and the problem.
"""

from __future__ import annotations

import codecs
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

from promodesk.domain.jobs import CancelToken, JobCancelled, ProgressFn, ignore_progress
from promodesk.store.db import transaction
from promodesk.store.importers.base import (
    ImportFileError,
    ImportHints,
    ImportKind,
    ImportResult,
    SourceFile,
    imported_account,
    record_import,
)
from promodesk.store.importers.detect import Detected, bad_encoding_at, detect
from promodesk.store.importers.optimove import import_allocations, import_unique_codes
from promodesk.store.importers.streams import file_sha256
from promodesk.store.importers.vendor_exports import import_altcraft, import_impact
from promodesk.store.importers.workspace import attachable_copy, merge_workspace

__all__ = [
    "ImportFileError",
    "ImportHints",
    "ImportKind",
    "ImportResult",
    "detect",
    "import_file",
]

Importer = Callable[[sqlite3.Connection, SourceFile, Detected, ImportHints, ImportResult], None]

_IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.OPTIMOVE_ALLOCATIONS: import_allocations,
    ImportKind.OPTIMOVE_UNIQUE_CODES: import_unique_codes,
    ImportKind.ALTCRAFT_JSON: import_altcraft,
    ImportKind.ALTCRAFT_XML: import_altcraft,
    ImportKind.IMPACT_JSON: import_impact,
    ImportKind.IMPACT_XML: import_impact,
}


def import_file(
    conn: sqlite3.Connection,
    path: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
    hints: ImportHints | None = None,
) -> ImportResult:
    """Import one saved export (or merge a workspace file) into the workspace behind `conn`."""
    path = Path(path)
    token = cancel or CancelToken()
    detected = detect(path)
    result = ImportResult(path=path, kind=detected.kind)
    unregister = token.on_cancel(conn.interrupt)
    try:
        if detected.kind is ImportKind.WORKSPACE:
            _merge(conn, path, result, token, progress)
        else:
            _import(conn, path, detected, hints or ImportHints(), result, token, progress)
    except sqlite3.OperationalError as error:
        if token.cancelled:
            raise JobCancelled() from None
        raise ImportFileError(path, f"the workspace could not be written ({error})") from error
    finally:
        unregister()
    return result


def _import(
    conn: sqlite3.Connection,
    path: Path,
    detected: Detected,
    hints: ImportHints,
    result: ImportResult,
    token: CancelToken,
    progress: ProgressFn,
) -> None:
    source = SourceFile(path, cancel=token, progress=progress)
    try:
        with transaction(conn):
            try:
                _IMPORTERS[detected.kind](conn, source, detected, hints, result)
            except UnicodeDecodeError:
                raise _locate_bad_bytes(path) from None
            sha256 = source.hexdigest_of_whole_file()
            vendor = detected.kind.vendor
            assert vendor is not None
            record_import(
                conn,
                account_id=imported_account(conn, vendor),
                result=result,
                sha256=sha256,
                size=source.size,
                as_of=source.modified_utc(),
            )
    finally:
        source.close()


def _locate_bad_bytes(path: Path) -> ImportFileError:
    """The exact line of the first byte that is not UTF-8 (read again, on the error path)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                # The decoder prepends bytes it held back from the previous chunk.
                held_back = len(error.object) - len(chunk)
                return bad_encoding_at(path, offset - held_back + error.start)
            offset += len(chunk)
    return bad_encoding_at(path, max(0, offset - 1))


def _merge(
    conn: sqlite3.Connection,
    path: Path,
    result: ImportResult,
    token: CancelToken,
    progress: ProgressFn,
) -> None:
    main_file = conn.execute("PRAGMA database_list").fetchone()[2]
    if main_file and Path(main_file).resolve() == path.resolve():
        raise ImportFileError(path, "this is the workspace that is open now")
    attach_path, temp_dir = attachable_copy(path)
    conn.execute("ATTACH DATABASE ? AS merged", (str(attach_path),))
    try:
        with transaction(conn):
            merge_workspace(conn, "merged", result, cancel=token, progress=progress)
            newest = conn.execute(
                "SELECT coalesce(max(as_of), '') FROM merged.accounts"
            ).fetchone()[0]
            record_import(
                conn,
                account_id=None,
                result=result,
                sha256=file_sha256(path),
                size=path.stat().st_size,
                as_of=newest,
            )
    finally:
        conn.execute("DETACH DATABASE merged")
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
