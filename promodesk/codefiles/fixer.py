"""The fixed file and the rejects file of a finished check.

The fixed file is every code the check kept, once, cleaned (trimmed, unquoted, invisible
characters removed, UTF-8, LF line breaks, no BOM), split in parts when over the vendor's cap.
It is made by reading the files again with the same line analysis and leaving out the lines
the report refused (both sorted by line, merged as they stream), so nothing is held in memory.
The rejects file lists each refused line with its file, line number, text and reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from promodesk.codefiles.analysis import codes_in
from promodesk.codefiles.reading import read_lines
from promodesk.codefiles.report import CheckReport
from promodesk.codefiles.spreadsheet import write_code_list, write_csv
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress

REJECTS_HEADER = ("file", "line", "code", "reason")


def write_fixed(
    report: CheckReport,
    target: Path,
    *,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> list[tuple[Path, int]]:
    """Write the kept codes of every usable file to `target` (or its parts); returns
    (file, codes) per file written. A cancel leaves no file behind."""
    if not report.finished:
        raise RuntimeError("the check is still running")
    token = cancel or CancelToken()
    return write_code_list(
        Path(target),
        _kept_batches(report, token, progress),
        max_bytes=report.rules.max_file_bytes,
    )


def _kept_batches(
    report: CheckReport, token: CancelToken, progress: ProgressFn
) -> Iterator[list[str]]:
    usable = [verdict for verdict in report.files if verdict.usable]
    total = sum(verdict.sniffed.size for verdict in usable) or 1
    done = 0
    for verdict in usable:
        refused = report.refused_lines(verdict.index)
        next_refused = next(refused, None)
        message = f"Writing the fixed codes of {verdict.path.name}"

        def report_bytes(position: int, before: int = done, message: str = message) -> None:
            progress(Progress(before + position, total, message))

        for chunk in read_lines(verdict.sniffed, cancel=token, on_bytes=report_bytes):
            keys, codes, _ = codes_in(chunk, report.rules)
            if not codes:
                continue
            if next_refused is None or next_refused > keys[-1]:
                yield codes
                continue
            kept = []
            for key, code in zip(keys, codes, strict=True):
                while next_refused is not None and next_refused < key:
                    next_refused = next(refused, None)
                if key != next_refused:
                    kept.append(code)
            yield kept
        done += verdict.sniffed.size


def write_rejects(report: CheckReport, target: Path, *, spreadsheet_safe: bool = True) -> int:
    """The refused lines as CSV (file, line, code, reason); safe to open in a spreadsheet."""
    if not report.finished:
        raise RuntimeError("the check is still running")
    return write_csv(
        Path(target), REJECTS_HEADER, report.rejects(), spreadsheet_safe=spreadsheet_safe
    )
