"""What the commands share: progress on stderr, the workspace argument, messages."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TextIO

from promodesk.domain.jobs import Progress


class ProgressLine:
    """Progress on stderr: one updating line on a terminal, a line per 10% otherwise."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last_step = -1
        self._last_draw = 0.0

    def __call__(self, update: Progress) -> None:
        fraction = update.fraction
        percent = f"{fraction:4.0%}" if fraction is not None else "  …"
        if self.tty:
            now = time.monotonic()
            if now - self._last_draw > 0.1 or fraction == 1.0:
                self._last_draw = now
                self.stream.write(f"\r{percent} {update.message[:70]:<70}")
                self.stream.flush()
            return
        step = int((fraction or 0) * 10)
        if step != self._last_step:
            self._last_step = step
            print(f"{percent} {update.message}", file=self.stream, flush=True)

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


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (ESC, CR, ...) from data shown escaped,
    so a file name or a vendor message cannot move the cursor or recolour the screen."""
    return "".join(
        char if char.isprintable() or char in "\n\t" else f"\\x{ord(char):02x}" for char in text
    )


def error(text: str) -> None:
    print(f"error: {printable(text)}", file=sys.stderr)
