"""Code files and allocation exports as use cases: check, fix, generate, export.

Each use case is a blocking function (for the CLI and for a worker thread) with an async twin
that runs it through `jobs.run_blocking`, so a wizard awaits it with progress and Cancel while
the window stays live. The workspace is only read, through its own read-only connection: codes
being checked or generated are matched against it in that connection's TEMP database.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from promodesk.atomic import temp_path_for
from promodesk.codefiles.checker import check_files
from promodesk.codefiles.fixer import write_fixed, write_rejects
from promodesk.codefiles.generator import CodeGenerator, CodeSpec
from promodesk.codefiles.reading import encoding_named
from promodesk.codefiles.report import CheckReport
from promodesk.codefiles.rules import rules_for
from promodesk.codefiles.spreadsheet import safe_cell_sql, write_code_list, write_csv
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.domain.vendors import Vendor
from promodesk.services.jobs import run_blocking
from promodesk.services.reading import reading
from promodesk.store.allocation_export import (
    AllocationScope,
    allocation_rows,
    check_scope,
    count_allocations,
)
from promodesk.store.known_codes import KnownCodesProbe

_GENERATE_BATCH = 50_000


@contextlib.contextmanager
def _probe(workspace: Path | None, token: CancelToken) -> Iterator[KnownCodesProbe | None]:
    if workspace is None:
        yield None
        return
    with reading(workspace, token) as conn:
        probe = KnownCodesProbe(conn)
        try:
            yield probe
        finally:
            probe.close()


# -- check and fix -------------------------------------------------------------------------------


def check_code_files(
    paths: Sequence[Path],
    vendor: Vendor | str,
    *,
    workspace: Path | None = None,
    encoding: str | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> CheckReport:
    """Check files against a vendor's rules and (when given) the codes of a workspace. The
    caller closes the report. `encoding` overrides what is detected (e.g. "cp1251")."""
    token = cancel or CancelToken()
    chosen = encoding_named(encoding) if encoding else None
    with _probe(workspace, token) as probe:
        return check_files(
            paths, rules_for(vendor), known=probe, encoding=chosen, cancel=token, progress=progress
        )


async def check_code_files_async(
    paths: Sequence[Path],
    vendor: Vendor | str,
    *,
    workspace: Path | None = None,
    encoding: str | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> CheckReport:
    def work(token: CancelToken, report: ProgressFn) -> CheckReport:
        return check_code_files(
            paths, vendor, workspace=workspace, encoding=encoding, cancel=token, progress=report
        )

    return await run_blocking(work, progress=progress, cancel=cancel)


@dataclass(frozen=True)
class FixOutcome:
    fixed: list[tuple[Path, int]]  # (file, codes) per file written; several when split
    rejects: int | None  # lines in the rejects file (None: not asked for)


def write_fixes(
    report: CheckReport,
    *,
    fixed: Path | None = None,
    rejects: Path | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> FixOutcome:
    token = cancel or CancelToken()
    written = write_fixed(report, fixed, cancel=token, progress=progress) if fixed else []
    rejected = write_rejects(report, rejects) if rejects else None
    return FixOutcome(written, rejected)


async def write_fixes_async(
    report: CheckReport,
    *,
    fixed: Path | None = None,
    rejects: Path | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> FixOutcome:
    def work(token: CancelToken, report_progress: ProgressFn) -> FixOutcome:
        return write_fixes(
            report, fixed=fixed, rejects=rejects, cancel=token, progress=report_progress
        )

    return await run_blocking(work, progress=progress, cancel=cancel)


# -- generate ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedCodes:
    files: list[tuple[Path, int]]  # (file, codes); several when split at `max_file_bytes`
    redrawn: int  # codes drawn again because the workspace already had them


def generate_code_file(
    spec: CodeSpec,
    target: Path,
    *,
    workspace: Path | None = None,
    max_file_bytes: int | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> GeneratedCodes:
    """`spec.count` new codes in `target` (atomically), none known to the workspace.

    With a workspace, the codes wait in its connection's TEMP table while every code table
    is scanned for them once; codes found there are drawn again and the new ones looked up in
    another scan, until none is known (rare: the alphabet and length must leave room).
    """
    token = cancel or CancelToken()
    generator = CodeGenerator(spec)
    with _probe(workspace, token) as probe:
        drawn = _draws(generator, spec.count, token, progress)
        if probe is None:
            return GeneratedCodes(write_code_list(target, drawn, max_bytes=max_file_bytes), 0)
        next_key = 0
        for batch in drawn:
            probe.add(zip(range(next_key, next_key + len(batch)), batch, strict=True))
            next_key += len(batch)
        redrawn = 0
        while True:
            progress(Progress(0, 0, "Looking for the new codes in the workspace"))
            known = sorted({match.key for match in probe.matches()})
            if not known:
                break
            redrawn += len(known)
            probe.remove(known)
            again = generator.draw(len(known))
            probe.add(zip(range(next_key, next_key + len(again)), again, strict=True))
            next_key += len(again)
        files = write_code_list(
            target,
            _batched_codes(probe, token, spec.count, progress),
            max_bytes=max_file_bytes,
        )
        return GeneratedCodes(files, redrawn)


def _draws(
    generator: CodeGenerator, count: int, token: CancelToken, progress: ProgressFn
) -> Iterator[list[str]]:
    done = 0
    while done < count:
        token.raise_if_cancelled()
        batch = generator.draw(min(_GENERATE_BATCH, count - done))
        done += len(batch)
        progress(Progress(done, count, "Generating codes"))
        yield batch


def _batched_codes(
    probe: KnownCodesProbe, token: CancelToken, total: int, progress: ProgressFn
) -> Iterator[list[str]]:
    batch: list[str] = []
    written = 0
    for _, code in probe.entries():
        batch.append(code)
        if len(batch) == _GENERATE_BATCH:
            token.raise_if_cancelled()
            written += len(batch)
            progress(Progress(written, total, "Writing the codes"))
            yield batch
            batch = []
    yield batch


async def generate_code_file_async(
    spec: CodeSpec,
    target: Path,
    *,
    workspace: Path | None = None,
    max_file_bytes: int | None = None,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> GeneratedCodes:
    def work(token: CancelToken, report: ProgressFn) -> GeneratedCodes:
        return generate_code_file(
            spec,
            target,
            workspace=workspace,
            max_file_bytes=max_file_bytes,
            cancel=token,
            progress=report,
        )

    return await run_blocking(work, progress=progress, cancel=cancel)


# -- allocation exports --------------------------------------------------------------------------


class AllocationExportError(Exception):
    """An export cannot be made (unknown promocode, a damaged answer), said in plain words."""


def _export_progress(token: CancelToken, progress: ProgressFn, total: int) -> Callable[[int], None]:
    def on_rows(written: int) -> None:
        token.raise_if_cancelled()
        progress(Progress(written, total, f"Writing allocations ({written:,})"))

    return on_rows


def export_workspace_allocations(
    workspace: Path,
    scope: AllocationScope,
    target: Path,
    *,
    spreadsheet_safe: bool = True,
    bom: bool = False,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> int:
    """The allocations of a promocode (or one of its code files) in the workspace, as the
    vendor's nine-column CSV, streamed and written atomically. Returns the rows written."""
    token = cancel or CancelToken()
    with reading(workspace, token) as conn:
        try:
            check_scope(conn, scope)
        except LookupError as error:
            raise AllocationExportError(str(error)) from None
        total = count_allocations(conn, scope)
        # Safe cells are made in SQL: no Python call per cell.
        rows = allocation_rows(
            conn, scope, cell=safe_cell_sql if spreadsheet_safe else str, cancel=token
        )
        return write_csv(
            target,
            ALLOCATION_COLUMNS,
            rows,
            spreadsheet_safe=spreadsheet_safe,
            rows_are_safe=True,
            bom=bom,
            on_rows=_export_progress(token, progress, total),
        )


async def export_workspace_allocations_async(
    workspace: Path,
    scope: AllocationScope,
    target: Path,
    *,
    spreadsheet_safe: bool = True,
    bom: bool = False,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> int:
    def work(token: CancelToken, report: ProgressFn) -> int:
        return export_workspace_allocations(
            workspace,
            scope,
            target,
            spreadsheet_safe=spreadsheet_safe,
            bom=bom,
            cancel=token,
            progress=report,
        )

    return await run_blocking(work, progress=progress, cancel=cancel)


class AllocationExporter(Protocol):
    """What an Optimove client offers (vendors/optimove/client.py)."""

    async def export_allocations(
        self,
        promocode_id: str,
        target: Path,
        *,
        file_id: str | None = None,
        progress: ProgressFn = ...,
        cancel: CancelToken | None = None,
    ) -> int: ...


async def export_account_allocations(
    client: AllocationExporter,
    scope: AllocationScope,
    target: Path,
    *,
    spreadsheet_safe: bool = True,
    bom: bool = False,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> int:
    """Download the export from the live account, then write it like a workspace export
    (nine columns checked on every row, safe cells, optional BOM), atomically. The download
    waits in a temporary file beside the target (a leftover is removed on a later start)."""
    token = cancel or CancelToken()
    target = Path(target)
    download = temp_path_for(target)
    try:
        await client.export_allocations(
            scope.promocode_id, download, file_id=scope.file_id, progress=progress, cancel=token
        )

        def rewrite(job_token: CancelToken, report: ProgressFn) -> int:
            return _rewrite_export(download, target, spreadsheet_safe, bom, job_token, report)

        return await run_blocking(rewrite, progress=progress, cancel=token)
    finally:
        download.unlink(missing_ok=True)


def _rewrite_export(
    source: Path,
    target: Path,
    spreadsheet_safe: bool,
    bom: bool,
    token: CancelToken,
    progress: ProgressFn,
) -> int:
    columns = len(ALLOCATION_COLUMNS)
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [cell.strip() for cell in next(reader, [])]
        if header != list(ALLOCATION_COLUMNS):
            raise AllocationExportError(
                f"the export's columns are not the nine expected ({', '.join(header[:12])})"
            )

        def rows() -> Iterator[list[str]]:
            for row in reader:
                if len(row) != columns:
                    raise AllocationExportError(
                        f"the export from Optimove is damaged: line {reader.line_num:,} has "
                        f"{len(row)} columns instead of {columns}; nothing was written"
                    )
                yield row

        try:
            return write_csv(
                target,
                ALLOCATION_COLUMNS,
                rows(),
                spreadsheet_safe=spreadsheet_safe,
                bom=bom,
                on_rows=_export_progress(token, progress, 0),
            )
        except (csv.Error, UnicodeDecodeError) as error:
            raise AllocationExportError(
                f"the export from Optimove is damaged near line {reader.line_num:,} ({error}); "
                "nothing was written"
            ) from None


async def export_live_allocations(
    executor: Any,
    account: Any,
    scope: AllocationScope,
    target: Path,
    *,
    spreadsheet_safe: bool = True,
    bom: bool = False,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> int:
    """Like `export_account_allocations`, with the download made by the `export_allocations`
    operation through `executor` (services/operations/executor.py), so it is on record like
    every vendor call the window makes. A refusal or a lost answer raises
    AllocationExportError with the vendor's words; nothing is written under `target`."""
    from promodesk.services.operations import operation

    token = cancel or CancelToken()
    target = Path(target)
    download = temp_path_for(target)
    values: dict[str, Any] = {"promocode_id": scope.promocode_id, "target": download}
    if scope.file_id is not None:
        values["file_id"] = scope.file_id
    try:
        progress(Progress(0, 0, "Downloading the allocations from Optimove"))
        outcome = await executor.run(
            account, operation(Vendor.OPTIMOVE, "export_allocations"), values
        )
        if not outcome.ok:
            raise AllocationExportError(outcome.message)

        def rewrite(job_token: CancelToken, report: ProgressFn) -> int:
            return _rewrite_export(download, target, spreadsheet_safe, bom, job_token, report)

        return await run_blocking(rewrite, progress=progress, cancel=token)
    finally:
        download.unlink(missing_ok=True)
