"""promodesk check-codes FILE... --vendor V [--json] [--fix OUT] [--rejects OUT] [--workspace P]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from promodesk.cli.common import ProgressLine, add_workspace_choice, chosen_workspace, printable
from promodesk.domain.jobs import CancelToken, JobCancelled

# Problems listed per file in readable output unless --max-problems says otherwise.
TEXT_PROBLEMS = 50
EXIT_CLEAN, EXIT_PROBLEMS, EXIT_UNUSABLE, EXIT_CANCELLED = 0, 1, 2, 130

_DESCRIPTION = """\
Check code files (one code per line) against a vendor's rules before uploading them, and
against every code already in the workspace. Each problem is reported with its line (counting
from 1): duplicates (also across the files given), case-only duplicates, codes already in the
workspace at any vendor or account, empty lines, spaces around codes, a byte order mark,
encodings other than UTF-8 (detected and converted), Windows line breaks, quoted values, extra
columns, spreadsheet damage (1.23E+05, lost leading zeros), look-alike characters (0/O, 1/l/I,
Cyrillic letters among Latin ones), invisible characters, characters unsafe in links, codes
over the vendor's length limit, a header row, binary content and files over the vendor's size
cap (Optimove: 10 MB).

--fix writes every code the check keeps, once and cleaned (UTF-8, LF line breaks), split into
OUT-1, OUT-2, ... when over the vendor's cap; --rejects writes the refused lines as CSV
(file, line, code, reason). Progress goes to stderr.

Exit status: 0 when every file can be uploaded as it is, 1 when problems were found, 2 when a
file cannot be used at all (missing, unreadable, binary) or the workspace cannot be read, 130
when interrupted (no output file is left behind).
"""

_EPILOG = """\
Readable output lists the first 50 problems of each file and says how many more there are.
--json prints one JSON object per file and line, with every problem (or the first N with
--max-problems N): {"file", "rows", "valid", "encoding", "usable", "problems": [{"line",
"code", "kind", "detail"}], "problems_omitted", "summary": {kind: count}}. "rows" counts the
file's lines, "valid" the codes the fixed file keeps. Non-ASCII text is \\u-escaped.
"""


def register(commands: Any) -> None:
    checking = commands.add_parser(
        "check-codes",
        help="check code files against a vendor's rules and the workspace",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    checking.add_argument("files", nargs="+", type=Path, metavar="FILE")
    checking.add_argument(
        "--vendor",
        required=True,
        choices=("optimove", "altcraft", "impact"),
        help="whose rules to check against",
    )
    checking.add_argument("--json", action="store_true", help="print the results as JSON lines")
    checking.add_argument("--fix", type=Path, metavar="OUT", help="write the fixed code file(s)")
    checking.add_argument(
        "--rejects", type=Path, metavar="OUT", help="write the refused lines as CSV"
    )
    checking.add_argument(
        "--max-problems",
        type=int,
        default=None,
        metavar="N",
        help=f"problems listed per file (default: {TEXT_PROBLEMS} in text, all with --json; "
        "0: all)",
    )
    checking.add_argument(
        "--encoding",
        default=None,
        metavar="NAME",
        help="read files without a byte order mark in this encoding (e.g. cp1251) instead of "
        "the detected one",
    )
    add_workspace_choice(checking, what="whose codes count as already used")
    checking.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from promodesk.codefiles.reading import encoding_named

    if args.encoding:
        try:
            encoding_named(args.encoding)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
    workspace, note = chosen_workspace(args)
    if workspace is not None and not workspace.is_file():
        print(f"error: no workspace at {printable(workspace)}", file=sys.stderr)
        return EXIT_UNUSABLE
    if note:
        print(f"note: {note}", file=sys.stderr)
    limit = (
        args.max_problems if args.max_problems is not None else (0 if args.json else TEXT_PROBLEMS)
    )
    return run_check(
        args.files,
        args.vendor,
        workspace=workspace,
        encoding=args.encoding,
        as_json=args.json,
        limit=limit or None,
        fixed=args.fix,
        rejects=args.rejects,
    )


def run_check(
    files: list[Path],
    vendor: str,
    *,
    workspace: Path | None,
    encoding: str | None,
    as_json: bool,
    limit: int | None,
    fixed: Path | None,
    rejects: Path | None,
) -> int:
    from promodesk.services.codes import check_code_files, write_fixes
    from promodesk.services.workspace_session import EXPECTED_ERRORS

    progress = ProgressLine()
    token = CancelToken()
    try:
        report = check_code_files(
            files, vendor, workspace=workspace, encoding=encoding, cancel=token, progress=progress
        )
    except (KeyboardInterrupt, JobCancelled):
        progress.done()
        print("cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except EXPECTED_ERRORS as error:
        progress.done()
        print(f"error: the workspace cannot be read: {printable(error)}", file=sys.stderr)
        return EXIT_UNUSABLE
    with report:
        progress.done()
        for verdict in report.files:
            if as_json:
                _print_json(report, verdict.index, limit, sys.stdout)
            else:
                _print_text(report, verdict.index, limit, sys.stdout)
        sys.stdout.flush()
        if fixed is not None or rejects is not None:
            try:
                outcome = write_fixes(
                    report, fixed=fixed, rejects=rejects, cancel=token, progress=progress
                )
            except (KeyboardInterrupt, JobCancelled):
                progress.done()
                print("cancelled: no fixed or rejects file was written", file=sys.stderr)
                return EXIT_CANCELLED
            except OSError as error:
                progress.done()
                print(f"error: cannot write the output: {printable(error)}", file=sys.stderr)
                return EXIT_UNUSABLE
            progress.done()
            _print_outputs(outcome.fixed, rejects, outcome.rejects)
        if not report.usable:
            return EXIT_UNUSABLE
        return EXIT_CLEAN if report.clean else EXIT_PROBLEMS


def _print_text(report: Any, index: int, limit: int | None, out: TextIO) -> None:
    verdict = report.files[index]
    name = printable(verdict.path)
    if not verdict.usable:
        reason = next(report.iter_problems(index, 1)).detail
        print(f"{name}: cannot be used: {printable(reason)}", file=out)
        return
    counts = f"{verdict.rows:,} line{'s' if verdict.rows != 1 else ''}"
    if verdict.clean:
        print(
            f"{name}: {counts}, {verdict.valid:,} codes, no problems: ready for "
            f"{report.rules.name} ({verdict.encoding})",
            file=out,
        )
        return
    print(
        f"{name}: {counts}, {verdict.valid:,} valid codes, {verdict.problems:,} "
        f"problem{'s' if verdict.problems != 1 else ''} ({verdict.encoding})",
        file=out,
    )
    for problem in report.iter_problems(index, limit):
        code = f" {printable(repr(problem.code[:60]))}" if problem.code else ""
        print(
            f"  line {problem.line:,}:{code} {printable(problem.detail)} [{problem.kind.value}]",
            file=out,
        )
    more = verdict.problems - (limit if limit is not None else verdict.problems)
    if more > 0:
        print(
            f"  … and {more:,} more (--max-problems 0 lists them all; --json gives them as data)",
            file=out,
        )
    summary = ", ".join(f"{kind} {count:,}" for kind, count in verdict.summary.items())
    print(f"  by kind: {summary}", file=out)


def _print_json(report: Any, index: int, limit: int | None, out: TextIO) -> None:
    """One object per line, its problems streamed (never all in memory)."""
    verdict = report.files[index]
    shown = verdict.problems if limit is None else min(limit, verdict.problems)
    head = {
        "file": str(verdict.path),
        "rows": verdict.rows,
        "valid": verdict.valid if verdict.usable else 0,
        "encoding": verdict.encoding,
        "usable": verdict.usable,
    }
    out.write(json.dumps(head)[:-1] + ', "problems": [')
    for number, problem in enumerate(report.iter_problems(index, shown)):
        out.write((", " if number else "") + json.dumps(problem.as_json()))
    tail = {"problems_omitted": verdict.problems - shown, "summary": verdict.summary}
    out.write("], " + json.dumps(tail)[1:] + "\n")


def _print_outputs(
    fixed: list[tuple[Path, int]], rejects: Path | None, rejected: int | None
) -> None:
    if len(fixed) == 1:
        path, count = fixed[0]
        print(f"fixed codes: {printable(path)} ({count:,} codes)", file=sys.stderr)
    elif fixed:
        parts = ", ".join(f"{printable(path)} ({count:,})" for path, count in fixed)
        print(f"fixed codes, split in {len(fixed)} files under the cap: {parts}", file=sys.stderr)
    if rejects is not None and rejected is not None:
        print(f"rejects: {printable(rejects)} ({rejected:,} lines)", file=sys.stderr)
