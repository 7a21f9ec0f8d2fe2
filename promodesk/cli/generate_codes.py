"""promodesk generate-codes --count N [--length L] [--prefix P] [--suffix S] [--alphabet A]
[--workspace PATH] -o OUT"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from promodesk.cli.common import ProgressLine, add_workspace_choice, chosen_workspace, printable
from promodesk.domain.jobs import CancelToken, JobCancelled


def register(commands: Any) -> None:
    from promodesk.codefiles.generator import ALPHABETS, MAX_COUNT

    names = ", ".join(f"{name} ({letters})" for name, letters in ALPHABETS.items())
    generating = commands.add_parser(
        "generate-codes",
        help="generate unique random codes into a code file",
        description="Generate cryptographically random codes, one per line (UTF-8, no header: "
        "ready to upload), none repeating another or differing only in case or look-alike "
        "characters, and none already in the workspace at any vendor or account. Written "
        "atomically; progress on stderr. Exit status 0, 1 when the codes cannot be made "
        "(the reason is printed), 130 when interrupted (no file is left behind).",
    )
    generating.add_argument(
        "--count", type=int, required=True, metavar="N", help=f"how many (at most {MAX_COUNT:,})"
    )
    generating.add_argument(
        "--length", type=int, default=8, metavar="L", help="random characters per code (default 8)"
    )
    generating.add_argument("--prefix", default="", metavar="P", help="text before each code")
    generating.add_argument("--suffix", default="", metavar="S", help="text after each code")
    generating.add_argument(
        "--alphabet",
        default="safe",
        metavar="NAME",
        help=f"characters to draw from: {names}, or custom:CHARACTERS (default: safe, "
        "which has no look-alikes such as 0/O or 1/I/L)",
    )
    generating.add_argument("-o", "--output", type=Path, required=True, metavar="OUT")
    add_workspace_choice(generating, what="whose codes the new ones must differ from")
    generating.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from promodesk.codefiles.generator import CodeSpec, alphabet_named
    from promodesk.services.codes import generate_code_file
    from promodesk.services.workspace_session import EXPECTED_ERRORS

    try:
        spec = CodeSpec(
            args.count, args.length, args.prefix, args.suffix, alphabet_named(args.alphabet)
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    problems = spec.problems()
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    workspace, note = chosen_workspace(args)
    if workspace is not None and not workspace.is_file():
        print(f"error: no workspace at {printable(workspace)}", file=sys.stderr)
        return 1
    if note:
        print(f"note: {note}", file=sys.stderr)
    progress = ProgressLine()
    try:
        outcome = generate_code_file(
            spec, args.output, workspace=workspace, cancel=CancelToken(), progress=progress
        )
    except (KeyboardInterrupt, JobCancelled):
        progress.done()
        print("cancelled: no file was written", file=sys.stderr)
        return 130
    except ValueError as error:  # the workspace leaves too few codes of this shape
        return _failed(progress, error)
    except EXPECTED_ERRORS as error:
        return _failed(progress, error)
    progress.done()
    for path, count in outcome.files:
        print(f"wrote {count:,} codes to {printable(path)}", file=sys.stderr)
    if outcome.redrawn:
        print(
            f"{outcome.redrawn:,} drawn codes were already in the workspace and were replaced",
            file=sys.stderr,
        )
    return 0


def _failed(progress: ProgressLine, error: BaseException) -> int:
    progress.done()
    print(f"error: {printable(error)}", file=sys.stderr)
    return 1
