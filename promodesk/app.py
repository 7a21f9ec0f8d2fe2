"""Entry point: command-line commands run without Qt; everything else opens the window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from promodesk import APP_NAME, __version__
from promodesk.vendors.redaction import install_log_redaction, redact

log = logging.getLogger("promodesk")
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from promodesk.cli import COMMANDS  # names only: the commands load when one is run

    if args and args[0] in COMMANDS:
        from promodesk import cli  # no Qt for command-line work

        return cli.main(args)
    options = _parser().parse_args(args)
    if options.version:
        print(f"{APP_NAME} {__version__}")
        return 0
    return run_gui(options)


def _parser() -> argparse.ArgumentParser:
    from promodesk.cli import COMMANDS

    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Promotions and promo codes on Optimove, Altcraft and impact.com.",
        epilog="Commands: "
        + ", ".join(sorted(COMMANDS))
        + ". Run 'promodesk COMMAND --help' for one's details.",
    )
    parser.add_argument("--workspace", type=Path, help="open this workspace file")
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="open the window on a fresh demo workspace, check every panel shows rows, exit 0 or 1",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    # For bench/: quit at the first paint of the window, or once the first table shows rows,
    # printing the seconds since start ("first-paint 0.41" / "rows 0.63").
    parser.add_argument("--exit-after", choices=("first-paint", "rows"), help=argparse.SUPPRESS)
    return parser


def setup_logging() -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    stream = logging.StreamHandler()
    stream.setLevel(logging.WARNING)
    stream.setFormatter(logging.Formatter(_LOG_FORMAT))
    root.addHandler(stream)
    install_log_redaction()


def attach_log_file() -> None:
    """The rotating log in the user's log folder (after the first paint: it costs ~10 ms)."""
    from logging.handlers import RotatingFileHandler

    from promodesk.services.paths import log_dir

    try:
        log_dir().mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            log_dir() / "promodesk.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError as error:
        log.warning("logging to a file is off: %s", error)
        return
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    logging.getLogger().addHandler(handler)
    install_log_redaction()


def run_gui(options: argparse.Namespace) -> int:
    started = time.perf_counter()
    os.environ.setdefault("QT_API", "pyside6")
    setup_logging()

    from promodesk.qt import QApplication, QSettings, QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("promodesk.qt")

    def qt_message(kind: Any, _context: Any, message: str) -> None:
        if "propagateSizeHints" in message:
            return  # the offscreen platform says this for every window; it means nothing here
        level = {
            QtMsgType.QtDebugMsg: logging.DEBUG,
            QtMsgType.QtInfoMsg: logging.INFO,
            QtMsgType.QtWarningMsg: logging.WARNING,
        }.get(kind, logging.ERROR)
        qt_log.log(level, "%s", message)

    qInstallMessageHandler(qt_message)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    _set_icon(app)

    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    runner = TaskRunner()
    scratch = None
    if options.selftest:
        import tempfile

        scratch = tempfile.TemporaryDirectory(prefix="promodesk-selftest-")
    if scratch is not None:  # the self-test never touches the user's settings
        settings = QSettings(str(Path(scratch.name) / "settings.ini"), QSettings.Format.IniFormat)
    else:
        settings = QSettings()
    window = MainWindow(runner, settings, defer_panels=True)
    closed_early: list[bool] = []  # the window can close before the loop below exists
    window.closed.connect(lambda: closed_early.append(True))
    sys.excepthook = _crash_handler(window)
    if options.exit_after:
        _exit_after(options.exit_after, window, started)
    window.show()
    _paint_now(app, window)
    if not options.selftest:
        attach_log_file()

    # Only now the async machinery and the services: the window is already on screen.
    import asyncio

    import qasync  # after QT_API is set (promodesk.qt sets it)

    from promodesk.services.workspace_session import EXPECTED_ERRORS

    runner.expected_errors = EXPECTED_ERRORS
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    # The loop runs until the window has closed and its jobs have rolled back; Qt's own
    # quit-on-last-window would stop the loop under the shutdown coroutine.
    app.setQuitOnLastWindowClosed(False)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    if closed_early:
        closed.set()
    exit_code = 0
    with loop:
        if scratch is not None:
            from promodesk.ui.selftest import run_selftest

            window.build_remaining_panels()
            exit_code = loop.run_until_complete(run_selftest(window, Path(scratch.name)))
            window.close()
        else:
            window.start(options.workspace)
            # The panels are built while the workspace opens on other threads: the one on
            # screen first, then the hidden tabs.
            loop.call_soon(window.current_panel)
            loop.call_soon(window.build_remaining_panels)
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(window.shutdown())
    if scratch is not None:
        scratch.cleanup()
    return exit_code


def _paint_now(app: Any, window: Any) -> None:
    """Let Qt map and paint the window before anything else loads (up to 0.3 s for a
    window manager or X server to expose it)."""
    deadline = time.monotonic() + 0.3
    handle = window.windowHandle()
    while handle is not None and not handle.isExposed() and time.monotonic() < deadline:
        app.processEvents()
    app.processEvents()


def _set_icon(app: Any) -> None:
    from promodesk.qt import QIcon
    from promodesk.services.paths import resources_dir

    icon = QIcon()
    for size in (16, 32, 48, 64, 128, 256):
        path = resources_dir() / "icons" / f"promodesk-{size}.png"
        if path.exists():
            icon.addFile(str(path))
    app.setWindowIcon(icon)


def _exit_after(what: str, window: Any, started: float) -> None:
    """Print the seconds since start and close at the window's first paint, or ("rows") at
    the first paint of the on-screen table with rows in it. That table's panel is built
    after the first paint, so the watch goes on when it is."""
    from promodesk.qt import QEvent, QObject, QTimer

    class Watch(QObject):
        def __init__(self, table: Any = None) -> None:
            super().__init__(window)
            self.table = table

        def eventFilter(self, watched: Any, event: Any) -> bool:
            if event.type() != QEvent.Type.Paint:
                return False
            if self.table is not None and not self.table.model.rowCount():
                return False
            watched.removeEventFilter(self)
            print(f"{what} {time.perf_counter() - started:.4f}", flush=True)
            QTimer.singleShot(0, window.close)
            return False

    def watch(target: Any, table: Any = None) -> None:
        window._exit_watch = Watch(table)
        target.installEventFilter(window._exit_watch)

    if what == "first-paint":
        watch(window)
        return
    shown = window.tabs.currentIndex()

    def panel_built(panel: Any) -> None:
        from promodesk.ui.main_window import TAB_ORDER

        if shown < len(TAB_ORDER) and panel.vendor == TAB_ORDER[shown]:
            watch(panel.main_browser.view.viewport(), panel.main_browser)

    window.panel_built.connect(panel_built)


def _crash_handler(window: Any) -> Any:
    """Log anything unexpected and tell the user, without killing the app."""

    def handle(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        text = redact("".join(traceback.format_exception(kind, error, trace)))
        log.error("unexpected error:\n%s", text)
        try:
            from promodesk.qt import QMessageBox

            box = QMessageBox(window)
            box.setIcon(QMessageBox.Icon.Critical)
            box.setWindowTitle("Something went wrong")
            box.setText(
                "promodesk hit an unexpected error. Your workspace is safe: unfinished changes "
                "were rolled back. The details were written to the log."
            )
            box.setDetailedText(text)
            box.open()
        except Exception:  # no window to show it in: the terminal gets it
            sys.__excepthook__(kind, error, trace)

    return handle


if __name__ == "__main__":
    raise SystemExit(main())
