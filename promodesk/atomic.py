"""Writing files so that a reader only ever sees the old file or the whole new one.

Every file promodesk writes for a user (exports, fixed code files, saved workspaces, settings)
goes through here: the content goes to a temporary file beside the target (same folder, so the
final rename stays on one file system), is flushed to disk, and only then replaces the target.
A failure, a cancel or a crash leaves the target as it was and at worst a hidden temporary file,
which `remove_leftovers` deletes on a later start.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

# Temporary files are named ".<target name>.<random>.promodesk-tmp" so that leftovers can be
# told apart from anything else in the user's folders.
TEMP_SUFFIX = ".promodesk-tmp"


def temp_path_for(target: Path) -> Path:
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_path(target: Path, *, fsync: bool = True) -> Iterator[Path]:
    """Yields a temporary path beside `target` for the caller (or a library such as SQLite) to
    write; on success it is synced and moved over `target`, on any error it is deleted."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temp_path_for(target)
    try:
        yield temp
        if fsync:
            descriptor = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        os.replace(temp, target)
        if fsync:
            _fsync_folder(target.parent)
    finally:
        for leftover in (temp, Path(f"{temp}-journal"), Path(f"{temp}-wal"), Path(f"{temp}-shm")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


@contextlib.contextmanager
def atomic_write(
    target: Path,
    mode: str = "wb",
    *,
    encoding: str | None = None,
    newline: str | None = None,
    fsync: bool = True,
) -> Iterator[IO[Any]]:
    """`open(target, mode)` that replaces `target` only once the block ends without error."""
    if "w" not in mode:
        raise ValueError("atomic_write is for writing ('w' modes)")
    with (
        atomic_path(target, fsync=fsync) as temp,
        open(temp, mode, encoding=encoding, newline=newline) as handle,
    ):
        yield handle
        handle.flush()
        if fsync:
            os.fsync(handle.fileno())


def remove_leftovers(folder: Path, *, older_than_s: float = 3600.0) -> list[Path]:
    """Delete temporary files an interrupted write left in `folder` (only ours, and only ones
    old enough that no running write can still own them). Returns what was deleted."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    cutoff = time.time() - older_than_s
    for entry in entries:
        name = entry.name
        base = name.removesuffix("-journal").removesuffix("-wal").removesuffix("-shm")
        if not (name.startswith(".") and base.endswith(TEMP_SUFFIX)):
            continue
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed.append(entry)
        except OSError:
            continue
    return removed
