"""What the commands share: progress on stderr, the workspace argument, messages."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from promodesk.domain.jobs import Progress
from promodesk.domain.text import printable as _printable


class ProgressLine:
    """Progress on stderr: one updating line on a terminal, a line per 10% otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_step = -1
        self._last_draw = 0.0

    def __call__(self, update: Progress) -> None:
        fraction = update.fraction
        message = printable(update.message)  # it names files: no raw control characters
        percent = f"{fraction:4.0%}" if fraction is not None else "  …"
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw > 0.1 or fraction == 1.0:
                self._last_draw = now
                self.stream.write(f"\r{percent} {message[:70]:<70}")
                self.stream.flush()
            return
        step = int((fraction or 0) * 10)
        if step != self._last_step:
            self._last_step = step
            print(f"{percent} {message}", file=self.stream, flush=True)

    def done(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 76 + "\r")
            self.stream.flush()


def add_workspace_argument(parser: argparse.ArgumentParser, *, what: str) -> None:
    from promodesk.services.paths import default_workspace

    parser.add_argument(
        "--workspace",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"workspace file {what} (default: {default_workspace()})",
    )


def workspace_of(args: argparse.Namespace) -> Path:
    from promodesk.services.paths import default_workspace

    chosen: Path | None = args.workspace
    return chosen if chosen is not None else default_workspace()


def printable(text: object) -> str:
    """Any object as text for a terminal: promodesk.domain.text.printable of str(text), which
    escapes control characters, line breaks and tabs included (a file name or a vendor
    message must not move the cursor, recolour the screen or forge a line of output)."""
    return _printable(str(text))


def say(label: str, text: object) -> None:
    """One line on stderr, e.g. "error: bad.csv: line 3: ...". Text from files and vendors
    (names, values, messages) is shown escaped: an ESC, a carriage return or a line break in
    it must not reach the terminal (it could rewrite the screen, or forge a line of output)."""
    print(f"{label}: {printable(text)}" if label else printable(text), file=sys.stderr)


def error(text: str) -> None:
    say("error", text)


def tsv(*fields: object) -> str:
    """One tab-separated line of output; a tab or line break inside a field is escaped, so
    that it cannot add a column or a line."""
    return "\t".join(printable(field) for field in fields)


def add_workspace_choice(parser: argparse.ArgumentParser, *, what: str) -> None:
    """--workspace PATH or --no-workspace; without either, the default workspace if it exists."""
    from promodesk.services.paths import default_workspace

    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--workspace",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"workspace {what} (default: {default_workspace()}, when it exists)",
    )
    group.add_argument("--no-workspace", action="store_true", help="do not look at any workspace")


def chosen_workspace(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The workspace to use (or None) and, when there is none, why (for a note on stderr)."""
    from promodesk.services.paths import default_workspace

    if getattr(args, "no_workspace", False):
        return None, ""
    if args.workspace is not None:
        return args.workspace, ""
    default = default_workspace()
    if default.exists():
        return default, ""
    return None, f"no workspace at {printable(default)}: codes were not compared with known ones"
