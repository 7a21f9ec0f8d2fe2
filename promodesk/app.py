"""Entry point: command-line commands run without Qt; everything else opens the window."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from promodesk import APP_NAME, __version__

log = logging.getLogger("promodesk")

CLI_COMMANDS = {"import", "sandbox"}


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in CLI_COMMANDS:
        from promodesk import cli  # no Qt for command-line work

        return cli.main(args)
    options = _parser().parse_args(args)
    if options.version:
        print(f"{APP_NAME} {__version__}")
        return 0
    return run_gui(options)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="Promotions and promo codes on Optimove, Altcraft and impact.com.",
        epilog="Commands: 'promodesk import FILE... [--workspace PATH]', "
        "'promodesk sandbox serve [--port N] [--json]'. Run one with --help for details.",
    )
    parser.add_argument("--workspace", type=Path, help="open this workspace file")
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="open the window on a fresh demo workspace, check every panel shows rows, exit 0 or 1",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    # For bench/: quit as soon as the window has painted (prints 'first-paint').
    parser.add_argument("--exit-after-first-paint", action="store_true", help=argparse.SUPPRESS)
    return parser


def setup_logging(*, to_file: bool) -> None:
    from promodesk.services.paths import log_dir

    root = logging.getLogger()
    root.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stream = logging.StreamHandler()
    stream.setLevel(logging.WARNING)
    stream.setFormatter(formatter)
    root.addHandler(stream)
    if to_file:
        try:
            log_dir().mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                log_dir() / "promodesk.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
        except OSError as error:
            log.warning("logging to a file is off: %s", error)
        else:
            handler.setFormatter(formatter)
            root.addHandler(handler)


def run_gui(options: argparse.Namespace) -> int:
    started = time.perf_counter()
    os.environ.setdefault("QT_API", "pyside6")
    setup_logging(to_file=not options.selftest)

    import qasync  # after QT_API is set (promodesk.qt sets it)

    from promodesk.qt import QApplication, QSettings, QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("promodesk.qt")

    def qt_message(kind: Any, _context: Any, message: str) -> None:
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

    from promodesk.services.workspace_session import EXPECTED_ERRORS
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    runner = TaskRunner()
    runner.expected_errors = EXPECTED_ERRORS
    settings_dir = (
        tempfile.TemporaryDirectory(prefix="promodesk-selftest-") if options.selftest else None
    )
    if settings_dir is not None:
        settings = QSettings(
            str(Path(settings_dir.name) / "settings.ini"), QSettings.Format.IniFormat
        )
    else:
        settings = QSettings()
    window = MainWindow(runner, settings)
    sys.excepthook = _crash_handler(window)
    if options.exit_after_first_paint:
        _exit_after_first_paint(window, app, started)
    window.show()

    # The loop runs until the window has closed and its jobs have rolled back; Qt's own
    # quit-on-last-window would stop the loop under the shutdown coroutine.
    app.setQuitOnLastWindowClosed(False)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    exit_code = 0
    with loop:
        if options.selftest:
            from promodesk.ui.selftest import run_selftest

            exit_code = loop.run_until_complete(run_selftest(window, Path(settings_dir.name)))
            window.close()
        elif not options.exit_after_first_paint:
            window.start(options.workspace)
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(window.shutdown())
    if settings_dir is not None:
        settings_dir.cleanup()
    return exit_code


def _set_icon(app: Any) -> None:
    from promodesk.qt import QIcon
    from promodesk.services.paths import resources_dir

    icon = resources_dir() / "icons" / "promodesk.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))


def _exit_after_first_paint(window: Any, app: Any, started: float) -> None:
    from promodesk.qt import QEvent, QObject, QTimer

    class FirstPaint(QObject):
        def eventFilter(self, _watched: Any, event: Any) -> bool:
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                print(f"first-paint {time.perf_counter() - started:.4f}", flush=True)
                QTimer.singleShot(0, window.close)
            return False

    window._first_paint = FirstPaint(window)
    window.installEventFilter(window._first_paint)


def _crash_handler(window: Any) -> Any:
    """Log anything unexpected and tell the user, without killing the app."""

    def handle(
        kind: type[BaseException], error: BaseException, trace: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        text = "".join(traceback.format_exception(kind, error, trace))
        log.error("unexpected error:\n%s", text)
        try:
            from promodesk.qt import QMessageBox

            box = QMessageBox(window)
            box.setIcon(QMessageBox.Icon.Critical)
            box.setWindowTitle("Something went wrong")
            box.setText(
                "promodesk hit an unexpected error. Your workspace is safe: unfinished changes "
                "were "
                "rolled back. The details were written to the log."
            )
            box.setDetailedText(text)
            box.open()
        except Exception:
            sys.__excepthook__(kind, error, trace)

    return handle


if __name__ == "__main__":
    raise SystemExit(main())
