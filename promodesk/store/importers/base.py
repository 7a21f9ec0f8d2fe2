"""What every importer shares: the error a user sees, the result, and a byte source that
reports progress, hashes the file as it goes and stops when the user cancels."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.text import file_label, storable
from promodesk.domain.values import CANONICAL_FORMAT, now_utc_text
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
        super().__init__(f"{file_label(self.path)}: {where}{problem}")


_NOT_A_FILE = (
    (stat.S_ISDIR, "this is a folder, not a file"),
    (stat.S_ISFIFO, "this is a named pipe (FIFO), not a saved file: it would never end"),
    (stat.S_ISSOCK, "this is a socket, not a saved file"),
    (stat.S_ISCHR, "this is a device, not a saved file"),
    (stat.S_ISBLK, "this is a disk device, not a saved file"),
)


def _refuse_unless_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    for test, problem in _NOT_A_FILE:
        if test(mode):
            raise ImportFileError(path, problem)
    raise ImportFileError(path, "this is not a regular file")


_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def open_regular(path: Path) -> io.FileIO:
    """Open a file to read it, refusing anything that is not a regular file before reading a
    byte of it: a FIFO blocks the reader until someone writes to it (forever, often), and a
    device never ends. Checked on the path first, then on what was actually opened (which
    does not block: O_NONBLOCK), in case the path changed in between."""
    path = Path(path)
    try:
        _refuse_unless_regular(path, os.stat(path).st_mode)
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _O_BINARY)
    except FileNotFoundError:
        raise ImportFileError(path, "the file does not exist (moved or deleted?)") from None
    except PermissionError:
        raise ImportFileError(path, "promodesk is not allowed to read this file") from None
    except OSError as error:
        raise ImportFileError(path, f"the file cannot be read ({error.strerror})") from None
    try:
        _refuse_unless_regular(path, os.fstat(descriptor).st_mode)
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(descriptor, True)
        return io.FileIO(descriptor, "rb", closefd=True)
    except BaseException:
        os.close(descriptor)
        raise


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
        text = f"{file_label(self.path)}: {self.rows_added:,} new {noun}"
        if self.rows_updated:
            text += f", {self.rows_updated:,} updated"
        unchanged = self.rows_read - self.rows_added - self.rows_updated
        if unchanged > 0:
            text += f", {unchanged:,} already in the workspace"
        if self.already_imported and not self.rows_added and not self.rows_updated:
            text += f" (this file was imported before, on {_day(self.already_imported)})"
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
        self._handle = open_regular(self.path)
        self.size = os.fstat(self._handle.fileno()).st_size
        self._limits: ChunkCheck | None = None
        self._sha = hashlib.sha256()
        self._cancel = cancel or CancelToken()
        self._progress = progress
        self._label = label or f"Importing {file_label(self.path)}"
        self.bytes_read = 0
        self.newlines = 0
        self._next_report = 0
        self._hashed_separately = False

    def read_into(self, buffer: bytearray | memoryview) -> int:
        self._cancel.raise_if_cancelled()
        count = self._handle.readinto(buffer) or 0
        if count:
            chunk = bytes(memoryview(buffer)[:count])
            if self._limits is not None:
                self._limits.check(chunk)
            self._sha.update(chunk)
            self.newlines += chunk.count(b"\n")
            self.bytes_read += count
            if self.bytes_read >= self._next_report:
                self._next_report = self.bytes_read + _PROGRESS_EVERY
                self._progress(Progress(self.bytes_read, self.size, self._label))
        return count

    @contextmanager
    def fast_text(self, encoding: str, limits: ChunkCheck) -> Iterator[io.TextIOWrapper]:
        """The file as text through Python's C I/O stack, for parsers whose per-row work is all
        in C (csv.reader into executemany): Python runs once per 64 KiB chunk, to apply
        `limits` to it, and never per row.

        Progress comes from a watcher thread that reads the file position; the hash from a
        second thread over its own handle (hashlib releases the GIL, so it runs on another
        core). Cancelling works through the SQLite interrupt the importer registers.
        """
        raw = open_regular(self.path)
        handle = io.TextIOWrapper(checked_reader(raw, limits), encoding=encoding, newline="")
        # Reads of 64 KiB, not 8: one limits check (a Python call) per 64 KiB.
        handle._CHUNK_SIZE = _CHUNK  # type: ignore[attr-defined]
        descriptor = raw.fileno()
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.1):
                position = os.lseek(descriptor, 0, os.SEEK_CUR)
                self._progress(Progress(position, self.size, self._label))

        def hash_file() -> None:
            with open_regular(self.path) as separate:
                while not stop.is_set() and (chunk := separate.read(1 << 20)):
                    self._sha.update(chunk)

        watcher = threading.Thread(target=watch, name="import-progress", daemon=True)
        hasher = threading.Thread(target=hash_file, name="import-hash", daemon=True)
        watcher.start()
        hasher.start()
        completed = False
        try:
            yield handle
            completed = True
        finally:
            if not completed:  # refused or cancelled: the hash is not needed
                stop.set()
            hasher.join()
            stop.set()
            watcher.join()
            handle.close()
            self._hashed_separately = True
            self.bytes_read = self.size
            self._progress(Progress(self.size, self.size, self._label))

    def buffered(self, limits: ChunkCheck | None = None) -> io.BufferedReader:
        """A reader for parsers, with `limits` applied to every chunk before the parser gets
        it. Closing it (as text wrappers do) leaves this file open."""
        self._limits = limits
        return io.BufferedReader(_RawView(self), buffer_size=_CHUNK)

    def hexdigest_of_whole_file(self) -> str:
        """The file's SHA-256; reads whatever the parser did not need, to hash it all."""
        if self._hashed_separately:
            return self._sha.hexdigest()
        self._limits = None  # the rest is hashed, not parsed
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
        stamp = os.fstat(self._handle.fileno()).st_mtime
        try:
            return datetime.fromtimestamp(stamp, UTC).strftime(CANONICAL_FORMAT)
        except (OverflowError, ValueError, OSError):  # a modification time in year 60,000
            return now_utc_text()


_CHUNK = 1 << 16


class ChunkCheck(Protocol):
    """What limits.py provides: a check of each chunk, in order, raising ImportFileError."""

    def check(self, chunk: bytes) -> None: ...


def checked_reader(raw: io.FileIO, limits: ChunkCheck) -> io.BufferedReader:
    """`raw` read in 64 KiB chunks, each passing `limits` before the reader returns it."""
    return io.BufferedReader(_CheckedRaw(raw, limits), buffer_size=_CHUNK)


class _CheckedRaw(io.RawIOBase):
    """A raw file whose chunks pass `limits` before any reader above it sees them."""

    def __init__(self, raw: io.FileIO, limits: ChunkCheck) -> None:
        super().__init__()
        self._raw = raw
        self._limits = limits

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buffer) or 0
        if count:
            self._limits.check(bytes(memoryview(buffer)[:count]))
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


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


def _day(utc_text: str) -> str:
    """ "2026-12-01T10:25:27Z" as the window writes days ("01 Dec 2026")."""
    try:
        return f"{datetime.strptime(utc_text[:10], '%Y-%m-%d'):%d %b %Y}"
    except ValueError:  # (a workspace another program wrote)
        return utc_text


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
    now = now_utc_text()
    result.already_imported = previous_import(conn, sha256)
    conn.execute(
        "INSERT INTO import_history(account_id, run_id, kind, file_name, file_path, sha256, "
        "size, rows_read, rows_added, as_of, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            account_id,
            run_id,
            result.kind.value,
            file_label(result.path),
            storable(str(result.path)),
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
