"""Use cases on one open workspace: open it, import into it, index it, save a copy of it.

Qt-free and async: the window and the CLI drive the same code. Writes (imports, index builds,
saves) take turns through one lock; reads for the UI go through the session's StoreReader on
their own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from promodesk.atomic import remove_leftovers
from promodesk.domain.jobs import CancelToken, JobCancelled, Progress, ProgressFn, ignore_progress
from promodesk.domain.text import file_label
from promodesk.domain.vendors import Vendor
from promodesk.services.jobs import run_blocking
from promodesk.services.paths import workspaces_dir
from promodesk.store.db import connect
from promodesk.store.importers.base import ImportFileError, ImportHints
from promodesk.store.imports import ImportNotRemovable
from promodesk.store.indexer import build_indexes
from promodesk.store.reader import StoreReader
from promodesk.store.schema import WorkspaceFormatError
from promodesk.store.workspace import (
    SourceInfo,
    as_of_by_vendor,
    create_workspace,
    read_label,
    save_copy,
    set_label,
    sources,
)
from promodesk.vendors.errors import VendorError

if TYPE_CHECKING:
    from promodesk.store.imports import ImportRecord, RemovalResult
    from promodesk.store.redemptions import RedemptionImport, RedemptionMapping

log = logging.getLogger("promodesk.workspace")

# Failures a user can understand and act on (a bad file, a file from a newer version, a full
# disk); the window shows them where the user is. Anything else is a bug.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    WorkspaceFormatError,
    ImportFileError,
    OSError,
    sqlite3.DatabaseError,
    VendorError,  # a vendor refused or could not be reached
    TimeoutError,  # e.g. a locked keychain that did not answer
    ImportNotRemovable,  # an import made before the workspace kept row provenance
)


@dataclass(frozen=True)
class WorkspaceInfo:
    path: Path
    label: str
    as_of: dict[Vendor, str]
    sources: tuple[SourceInfo, ...]


def read_info(path: Path) -> WorkspaceInfo:
    """Open (migrating if needed) and describe a workspace. Blocking: call from a thread."""
    conn = connect(path)
    try:
        return WorkspaceInfo(
            path=Path(path),
            label=read_label(conn) or Path(path).stem,
            as_of=as_of_by_vendor(conn),
            sources=tuple(sources(conn)),
        )
    finally:
        conn.close()


class WorkspaceSession:
    def __init__(self, info: WorkspaceInfo) -> None:
        self.info = info
        self.reader = StoreReader(info.path)
        self._write_lock = asyncio.Lock()
        self._index_task: asyncio.Task[None] | None = None
        # Set by the window: background index progress (None when finished).
        self.on_index_progress: Callable[[Progress | None], None] = lambda _: None

    @property
    def path(self) -> Path:
        return self.info.path

    @classmethod
    async def open(cls, path: Path) -> WorkspaceSession:
        def work(_token: CancelToken, _progress: ProgressFn) -> WorkspaceInfo:
            info = read_info(path)
            remove_stale_temporaries([workspaces_dir(), Path(path).parent])
            return info

        info = await run_blocking(work)
        session = cls(info)
        session.start_indexing()  # finishes what an interrupted run left, if anything
        return session

    @classmethod
    async def create(cls, path: Path, *, label: str) -> WorkspaceSession:
        await run_blocking(lambda _token, _progress: create_workspace(path, label=label))
        return await cls.open(path)

    async def refresh_info(self) -> WorkspaceInfo:
        self.info = await run_blocking(lambda _token, _progress: read_info(self.path))
        return self.info

    async def import_files(
        self,
        paths: Sequence[Path],
        *,
        progress: ProgressFn = ignore_progress,
        hints: ImportHints | None = None,
    ) -> ImportOutcome:
        def work(token: CancelToken, report: ProgressFn) -> ImportOutcome:
            return import_into(self.path, paths, cancel=token, progress=report, hints=hints)

        await self.stop_indexing()
        try:
            async with self._write_lock:
                outcome = await run_blocking(work, progress=progress)
        finally:
            self.start_indexing()
        for line in outcome.summaries:
            log.info("imported %s", line)
        for line in outcome.errors:
            log.warning("import refused: %s", line)
        await self.refresh_info()
        return outcome

    async def import_redemptions(
        self,
        path: Path,
        *,
        source_name: str | None = None,
        mapping: RedemptionMapping | None = None,
        progress: ProgressFn = ignore_progress,
    ) -> RedemptionImport:
        """Import a shop's redemption export (all or nothing; Cancel rolls back), like any
        import: the background index builder waits, and the workspace has one writer."""
        from promodesk.services.reports import import_redemption_file

        def work(token: CancelToken, report: ProgressFn) -> RedemptionImport:
            return import_redemption_file(
                self.path,
                path,
                source_name=source_name,
                mapping=mapping,
                cancel=token,
                progress=report,
            )

        await self.stop_indexing()
        try:
            async with self._write_lock:
                imported = await run_blocking(work, progress=progress)
        finally:
            self.start_indexing()
        log.info("imported redemptions: %s", imported.result.summary())
        await self.refresh_info()
        return imported

    async def save_as(self, target: Path, *, progress: ProgressFn = ignore_progress) -> None:
        """Write a complete copy to `target`; the copy then carries the target's name."""

        def work(token: CancelToken, report: ProgressFn) -> None:
            conn = connect(self.path)
            try:
                save_copy(conn, target, cancel=token, progress=report)
            finally:
                conn.close()
            copy = connect(target)
            try:
                set_label(copy, Path(target).stem)
            finally:
                copy.close()

        await self.stop_indexing()
        try:
            async with self._write_lock:
                await run_blocking(work, progress=progress)
        finally:
            self.start_indexing()

    async def list_imports(self) -> list[ImportRecord]:
        """Every import into this workspace, newest first (read on the reader thread)."""
        from promodesk.store.imports import list_imports

        return await asyncio.wrap_future(self.reader.submit(list_imports))

    async def remove_import(
        self, import_id: int, *, progress: ProgressFn = ignore_progress
    ) -> RemovalResult:
        """Take an import back with the rows it added, all or nothing (Cancel rolls back)."""
        from promodesk.store.imports import remove_import

        def work(token: CancelToken, report: ProgressFn) -> RemovalResult:
            conn = connect(self.path)
            try:
                return remove_import(conn, import_id, cancel=token, progress=report)
            finally:
                conn.close()

        await self.stop_indexing()
        try:
            async with self._write_lock:
                removed = await run_blocking(work, progress=progress)
        finally:
            self.start_indexing()
        log.info("removed the import %s (%d rows)", removed.file_name, removed.rows_removed)
        await self.refresh_info()
        return removed

    async def rename(self, label: str) -> None:
        def work(_token: CancelToken, _report: ProgressFn) -> None:
            conn = connect(self.path)
            try:
                set_label(conn, label)
            finally:
                conn.close()

        async with self._write_lock:
            await run_blocking(work)
        await self.refresh_info()

    # -- background index building -------------------------------------------------------------

    def start_indexing(self) -> None:
        if self._index_task is not None and not self._index_task.done():
            return
        self._index_task = asyncio.get_running_loop().create_task(self._build_indexes())

    async def stop_indexing(self) -> None:
        task, self._index_task = self._index_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def indexing(self) -> bool:
        return self._index_task is not None and not self._index_task.done()

    async def wait_for_indexes(self) -> None:
        """Until the index build ends. A cancel of the caller stops only the caller (the build
        is shared: All codes and search need it); the build's own cancel is not an error."""
        task = self._index_task
        if task is None:
            return
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.cancelled():
                raise

    async def _build_indexes(self) -> None:
        def work(token: CancelToken, report: ProgressFn) -> None:
            build_workspace_indexes(self.path, cancel=token, progress=report)

        try:
            async with self._write_lock:
                await run_blocking(work, progress=self.on_index_progress)
        except JobCancelled:
            pass
        except Exception:
            log.exception("building the search and sort indexes failed")
        finally:
            self.on_index_progress(None)

    async def close(self) -> None:
        await self.stop_indexing()
        await asyncio.get_running_loop().run_in_executor(None, self.reader.close)


def remove_stale_temporaries(folders: Sequence[Path]) -> list[Path]:
    """Delete what interrupted saves left in the folders promodesk writes workspaces to (a
    killed save-as leaves a hidden copy of the user's data beside its target). Runs when a
    workspace opens, which at start-up is after the first paint, on a worker thread."""
    removed: list[Path] = []
    for folder in dict.fromkeys(Path(folder).resolve() for folder in folders):
        removed += remove_leftovers(folder)
    for path in removed:
        log.info("removed %s, left by an interrupted save", path)
    return removed


def import_into(
    workspace: Path,
    paths: Sequence[Path],
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
    hints: ImportHints | None = None,
) -> ImportOutcome:
    """Import files into a workspace file as one job (blocking; the CLI calls it directly,
    the window through WorkspaceSession.import_files)."""
    # The parsers (pydantic, ijson, defusedxml) load on the first import, not at start-up.
    from promodesk.store.importers.dispatch import import_files

    conn = connect(workspace)
    try:
        batch = import_files(conn, list(paths), cancel=cancel, progress=progress, hints=hints)
    finally:
        conn.close()
    return ImportOutcome(
        summaries=[result.summary() for result in batch.results],
        warnings=[
            f"{file_label(result.path)}: {warning}"
            for result in batch.results
            for warning in result.warnings
        ],
        errors=[str(error) for error in batch.errors],
        rows_added=sum(result.rows_added + result.rows_updated for result in batch.results),
        vendors=tuple(
            vendor for result in batch.results if (vendor := result.kind.vendor) is not None
        ),
    )


def build_workspace_indexes(
    workspace: Path, *, cancel: CancelToken | None = None, progress: ProgressFn = ignore_progress
) -> None:
    conn = connect(workspace)
    try:
        build_indexes(conn, cancel=cancel, progress=progress)
    finally:
        conn.close()


@dataclass(frozen=True)
class ImportOutcome:
    summaries: list[str]
    warnings: list[str]
    errors: list[str]
    rows_added: int
    vendors: tuple[Vendor, ...] = ()  # whose rows the imported files were, in file order

    @property
    def imported_any(self) -> bool:
        return bool(self.summaries)

    @classmethod
    def combined(cls, outcomes: Sequence[ImportOutcome]) -> ImportOutcome:
        """One outcome for imports run one after another (files that needed other hints)."""
        return cls(
            summaries=[line for outcome in outcomes for line in outcome.summaries],
            warnings=[line for outcome in outcomes for line in outcome.warnings],
            errors=[line for outcome in outcomes for line in outcome.errors],
            rows_added=sum(outcome.rows_added for outcome in outcomes),
            vendors=tuple(vendor for outcome in outcomes for vendor in outcome.vendors),
        )
