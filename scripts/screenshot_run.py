"""What every screenshot script shares: where the pictures go, and a window's event loop
(qasync over a QApplication that does not quit when a window closes) to walk it in."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def arguments(
    describe: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """--out (docs/screenshots unless told), made if missing; `describe` adds a script's own."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=SCREENSHOTS)
    if describe is not None:
        describe(parser)
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def run_in_window_loop(walk: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """`walk()` to its end on a qasync loop, as the app runs."""
    import qasync

    from promodesk.qt import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        return loop.run_until_complete(walk())
