"""The Demo workspace: built from the sample exports in resources/demo on first start."""

from __future__ import annotations

from pathlib import Path

from promodesk.atomic import atomic_path
from promodesk.domain.jobs import CancelToken, ProgressFn, ignore_progress
from promodesk.services.jobs import run_blocking
from promodesk.services.paths import resources_dir, workspaces_dir
from promodesk.store.db import connect
from promodesk.store.indexer import build_indexes
from promodesk.store.workspace import create_workspace

DEMO_LABEL = "Demo"
# The moment the sample exports pretend to have been saved (scripts/make_demo_data.py).
DEMO_AS_OF = "2026-11-20T09:30:00Z"


def demo_files() -> list[Path]:
    folder = resources_dir() / "demo"
    files = sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []
    if not files:
        raise FileNotFoundError(f"the demo exports are missing from {folder}")
    return files


def demo_workspace_path() -> Path:
    return workspaces_dir() / "Demo.promodesk"


def build_demo_workspace(
    target: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> Path:
    """Import the sample exports into a new workspace at `target` (atomically: built beside
    it under another name, then moved into place)."""
    from promodesk.store.importers.base import ImportHints
    from promodesk.store.importers.dispatch import import_files

    target = Path(target)
    with atomic_path(target) as building:
        create_workspace(building, label=DEMO_LABEL)
        conn = connect(building)
        try:
            batch = import_files(
                conn,
                demo_files(),
                cancel=cancel,
                progress=progress,
                hints=ImportHints(as_of=DEMO_AS_OF),
            )
            if batch.errors:
                raise RuntimeError(f"a demo export failed to import: {batch.errors[0]}")
            build_indexes(conn, cancel=cancel)
            conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            conn.close()
    return target


async def ensure_demo_workspace(
    target: Path | None = None, *, progress: ProgressFn = ignore_progress
) -> Path:
    path = target or demo_workspace_path()
    if path.exists():
        return path
    return await run_blocking(
        lambda token, report: build_demo_workspace(path, cancel=token, progress=report),
        progress=progress,
    )
