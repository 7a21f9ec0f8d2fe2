"""What the window asks before an import, because a file cannot say it itself.

An Altcraft `export_all` answer does not name its loyalty program; without one the codes land
under "? <file name>" beside the right program. The window asks for the program first and
passes it on as `ImportHints(loyalty_id=...)`. Blocking (reads the head of each file): call it
from a worker thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from promodesk.store.importers.base import ImportFileError, ImportKind
from promodesk.store.importers.detect import HEAD_BYTES, detect
from promodesk.store.importers.streams import loyalty_id_from_name

_ALTCRAFT = (ImportKind.ALTCRAFT_JSON, ImportKind.ALTCRAFT_XML)
_WORKSPACE_SIDECARS = ("", "-wal", "-shm", "-journal")


def altcraft_program_unknown(path: Path, *, open_workspace: Path | None = None) -> bool:
    """True for an Altcraft export whose records and file name both leave out the loyalty
    program. Anything else (other kinds, unreadable files) is False: the import itself
    reports what is wrong with it."""
    path = Path(path)
    if _is_open_workspace(path, open_workspace) or not path.is_file():
        return False  # never opened here: the open workspace's locks, FIFOs that never end
    try:
        kind = detect(path).kind
    except (ImportFileError, OSError):
        return False
    if kind not in _ALTCRAFT or loyalty_id_from_name(path):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return False
    return b"loyalty_id" not in head


def files_without_program(
    paths: Sequence[Path], *, open_workspace: Path | None = None
) -> list[Path]:
    return [
        Path(path)
        for path in paths
        if altcraft_program_unknown(path, open_workspace=open_workspace)
    ]


def _is_open_workspace(path: Path, workspace: Path | None) -> bool:
    # Opening (and closing) the open workspace or its WAL outside SQLite would drop this
    # process's locks on it (see store/db.py), so those are recognised by name and inode.
    if workspace is None:
        return False
    for suffix in _WORKSPACE_SIDECARS:
        sidecar = Path(f"{workspace}{suffix}")
        with contextlib.suppress(OSError):
            if os.path.samefile(path, sidecar):
                return True
    return False
