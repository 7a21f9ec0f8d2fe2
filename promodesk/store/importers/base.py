"""What every importer shares: the error a user sees, the result, and a byte source that
reports progress, hashes the file as it goes and stops when the user cancels."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.values import CANONICAL_FORMAT
from promodesk.domain.vendors import Vendor


class ImportKind(StrEnum):
    OPTIMOVE_ALLOCATIONS = "optimove-allocations"
    OPTIMOVE_UNIQUE_CODES = "optimove-unique-codes"
    ALTCRAFT_JSON = "altcraft-json"
    ALTCRAFT_XML = "altcraft-xml"
    IMPACT_JSON = "impact-json"
    IMPACT_XML = "impact-xml"
    WORKSPACE = "workspace"
    # A shop's or CRM's redemption export (store/redemptions.py): never told from content,
    # imported on its own command with a column mapping.
    REDEMPTIONS = "redemptions"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @property
    def vendor(self) -> Vendor | None:
        return _VENDORS.get(self)


_DESCRIPTIONS = {
    ImportKind.OPTIMOVE_ALLOCATIONS: "Optimove allocation export (CSV)",
    ImportKind.OPTIMOVE_UNIQUE_CODES: "Optimove unique-code file",
    ImportKind.ALTCRAFT_JSON: "Altcraft promo codes (JSON)",
    ImportKind.ALTCRAFT_XML: "Altcraft promo codes (XML)",
    ImportKind.IMPACT_JSON: "impact.com promo codes (JSON)",
    ImportKind.IMPACT_XML: "impact.com promo codes (XML)",
    ImportKind.WORKSPACE: "promodesk workspace",
    ImportKind.REDEMPTIONS: "redemption export (CSV)",
}
_VENDORS = {
    ImportKind.OPTIMOVE_ALLOCATIONS: Vendor.OPTIMOVE,
    ImportKind.OPTIMOVE_UNIQUE_CODES: Vendor.OPTIMOVE,
    ImportKind.ALTCRAFT_JSON: Vendor.ALTCRAFT,
    ImportKind.ALTCRAFT_XML: Vendor.ALTCRAFT,
    ImportKind.IMPACT_JSON: Vendor.IMPACT,
    ImportKind.IMPACT_XML: Vendor.IMPACT,
}


class ImportFileError(Exception):
    """A file promodesk cannot import, said so a marketer can fix it: file, line, problem."""

    def __init__(self, path: Path, problem: str, *, line: int | None = None) -> None:
        self.path = Path(path)
        self.problem = problem
        self.line = line
        where = f"line {line:,}: " if line else ""
        super().__init__(f"{self.path.name}: {where}{problem}")


@dataclass
class ImportResult:
    path: Path
    kind: ImportKind
    rows_read: int = 0
    rows_added: int = 0
    rows_updated: int = 0
    already_imported: str = ""  # when this exact file was imported before
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        noun = "allocations" if self.kind is ImportKind.OPTIMOVE_ALLOCATIONS else "codes"
        if self.kind is ImportKind.WORKSPACE:
            noun = "rows"
        elif self.kind is ImportKind.REDEMPTIONS:
            noun = "redemptions"
        text = f"{self.path.name}: {self.rows_added:,} new {noun}"
        if self.rows_updated:
            text += f", {self.rows_updated:,} updated"
        unchanged = self.rows_read - self.rows_added - self.rows_updated
        if unchanged > 0:
            text += f", {unchanged:,} already in the workspace"
        if self.already_imported and not self.rows_added and not self.rows_updated:
            text += f" (this file was imported before, on {self.already_imported[:10]})"
        return text


@dataclass(frozen=True)
class SourceRef:
    """An account whose data a file holds: a sync of that account and an import of its export
    then write the same rows. `key` is the account's id in the settings."""

    vendor: Vendor
    key: str
    name: str
    kind: str = "live"  # live | sandbox


@dataclass(frozen=True)
class ImportTarget:
    """Where one file's rows go: the source (account) and the run that adds them."""

    account_id: int
    run_id: int


@dataclass(frozen=True)
class ImportHints:
    """What a file cannot say about itself (Altcraft exports do not name their program)."""

    loyalty_id: str | None = None
    # The account the file was exported from; None: the "Imported files" source.
    source: SourceRef | None = None
    # When the data is from (canonical UTC text); default: the file's modification time.
    as_of: str | None = None


_PROGRESS_EVERY = 1 << 20  # report and check for cancel once per MiB


class SourceFile:
    """A file read once, front to back: hashes, counts bytes and lines, reports progress,
    and raises JobCancelled from inside the parser when the user cancels."""

    def __init__(
        self,
        path: Path,
        *,
        cancel: CancelToken | None = None,
        progress: ProgressFn = ignore_progress,
        label: str = "",
        as_of: str | None = None,
    ) -> None:
        self.path = Path(path)
        self._as_of = as_of
        self.size = self.path.stat().st_size
        self._handle: io.BufferedReader = self.path.open("rb")
        self._sha = hashlib.sha256()
        self._cancel = cancel or CancelToken()
        self._progress = progress
        self._label = label or f"Importing {self.path.name}"
        self.bytes_read = 0
        self.newlines = 0
        self._next_report = 0
        self._hashed_separately = False

    def read_into(self, buffer: bytearray | memoryview) -> int:
        self._cancel.raise_if_cancelled()
        count = self._handle.readinto(buffer) or 0
        if count:
            chunk = bytes(memoryview(buffer)[:count])
            self._sha.update(chunk)
            self.newlines += chunk.count(b"\n")
            self.bytes_read += count
            if self.bytes_read >= self._next_report:
                self._next_report = self.bytes_read + _PROGRESS_EVERY
                self._progress(Progress(self.bytes_read, self.size, self._label))
        return count

    @contextmanager
    def fast_text(self, encoding: str) -> Iterator[io.TextIOWrapper]:
        """The file as text through Python's C I/O stack, for parsers whose per-row work is all
        in C (csv.reader into executemany): no Python call per chunk.

        Progress comes from a watcher thread that reads the file position; the hash from a
        second thread over its own handle (hashlib releases the GIL, so it runs on another
        core). Cancelling works through the SQLite interrupt the importer registers.
        """
        handle = self.path.open(encoding=encoding, newline="")
        descriptor = handle.buffer.raw.fileno()  # type: ignore[attr-defined]
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.1):
                position = os.lseek(descriptor, 0, os.SEEK_CUR)
                self._progress(Progress(position, self.size, self._label))

        def hash_file() -> None:
            with self.path.open("rb") as separate:
                for chunk in iter(lambda: separate.read(1 << 20), b""):
                    self._sha.update(chunk)

        watcher = threading.Thread(target=watch, name="import-progress", daemon=True)
        hasher = threading.Thread(target=hash_file, name="import-hash", daemon=True)
        watcher.start()
        hasher.start()
        try:
            yield handle
        finally:
            stop.set()
            watcher.join()
            hasher.join()
            handle.close()
            self._hashed_separately = True
            self.bytes_read = self.size
            self._progress(Progress(self.size, self.size, self._label))

    def buffered(self) -> io.BufferedReader:
        """A reader for parsers. Closing it (as text wrappers do) leaves this file open."""
        return io.BufferedReader(_RawView(self), buffer_size=1 << 16)

    def hexdigest_of_whole_file(self) -> str:
        """The file's SHA-256; reads whatever the parser did not need, to hash it all."""
        if self._hashed_separately:
            return self._sha.hexdigest()
        spare = bytearray(1 << 16)
        while self.read_into(spare):
            pass
        return self._sha.hexdigest()

    def close(self) -> None:
        self._handle.close()

    def as_of(self) -> str:
        """When this data is from: what the caller said, else when the file was saved."""
        if self._as_of:
            return self._as_of
        stamp = self.path.stat().st_mtime
        return datetime.fromtimestamp(stamp, UTC).strftime(CANONICAL_FORMAT)


class _RawView(io.RawIOBase):
    def __init__(self, source: SourceFile) -> None:
        super().__init__()
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._source.read_into(buffer)


IMPORTED_KEY = "imported"


def imported_account(conn: sqlite3.Connection, vendor: Vendor) -> int:
    """The workspace's source for files whose account is not known."""
    return ensure_account(conn, vendor, key=IMPORTED_KEY, name="Imported files", kind="imported")


def source_account(conn: sqlite3.Connection, vendor: Vendor, source: SourceRef | None) -> int:
    """The account a file's rows belong to (see SourceRef)."""
    if source is None:
        return imported_account(conn, vendor)
    return ensure_account(conn, vendor, key=source.key, name=source.name, kind=source.kind)


def ensure_account(
    conn: sqlite3.Connection, vendor: Vendor, *, key: str, name: str, kind: str
) -> int:
    conn.execute(
        "INSERT INTO accounts(vendor, key, name, kind) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(vendor, key) DO UPDATE SET name = excluded.name",
        (vendor.value, key, name, kind),
    )
    row = conn.execute(
        "SELECT id FROM accounts WHERE vendor = ? AND key = ?", (vendor.value, key)
    ).fetchone()
    return int(row[0])


def previous_import(conn: sqlite3.Connection, sha256: str) -> str:
    row = conn.execute(
        "SELECT imported_at FROM import_history WHERE sha256 = ? ORDER BY id LIMIT 1", (sha256,)
    ).fetchone()
    return str(row[0]) if row else ""


def record_import(
    conn: sqlite3.Connection,
    *,
    account_id: int | None,
    run_id: int,
    result: ImportResult,
    sha256: str,
    size: int,
    as_of: str,
) -> None:
    now = datetime.now(UTC).strftime(CANONICAL_FORMAT)
    result.already_imported = previous_import(conn, sha256)
    conn.execute(
        "INSERT INTO import_history(account_id, run_id, kind, file_name, file_path, sha256, "
        "size, rows_read, rows_added, as_of, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            account_id,
            run_id,
            result.kind.value,
            result.path.name,
            str(result.path),
            sha256,
            size,
            result.rows_read,
            result.rows_added,
            as_of,
            now,
        ),
    )
    if account_id is not None:
        conn.execute("UPDATE accounts SET as_of = max(as_of, ?) WHERE id = ?", (as_of, account_id))
    conn.execute(
        "UPDATE runs SET status = 'done', finished_at = ?, as_of = ?, added = ?, changed = ? "
        "WHERE id = ?",
        (now, as_of, result.rows_added, result.rows_updated, run_id),
    )
