"""GUI test set-up: a qasync loop per test, a real window, a demo workspace copy per test.

Sync tests: each gets a qasync loop marked as already running (Qt's event processing inside
qtbot.wait* drives asyncio); teardown stops it and spins Qt once. Async tests get a qasync loop
from the pytest_asyncio_loop_factories hook and await futures resolved by Qt signals
(qtbot.wait* inside a coroutine can hang).
"""

from __future__ import annotations

import asyncio
import gc
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync

from promodesk.qt import QApplication, QSettings, QTimer
from promodesk.services.demo import build_demo_workspace
from promodesk.services.workspace_session import EXPECTED_ERRORS
from promodesk.ui.main_window import MainWindow
from promodesk.ui.tasks import Job, TaskRunner

pytestmark = pytest.mark.gui


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/ui/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.gui)


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Any]:
    def qt_loop() -> asyncio.AbstractEventLoop:
        app = QApplication.instance() or QApplication(["promodesk-tests"])
        app.setQuitOnLastWindowClosed(False)  # as in the app: closing a window is not quitting
        return qasync.QEventLoop(app)

    return {"qasync": qt_loop}


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    loop.stop()
    QTimer.singleShot(0, qapp.quit)
    qapp.exec()
    # Closed here, while Qt is alive: a loop left to the garbage collector tries to disconnect
    # signals of deleted Qt objects and prints errors at exit.
    loop.close()
    # qasync registered itself as the running loop and never unregisters; the next async
    # test's runner would refuse to start.
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)
    gc.unfreeze()  # (what the window froze after its jobs: QuietCollector)
    gc.collect()


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace, built once per run; tests get their own copy."""
    path = tmp_path_factory.mktemp("demo") / "Demo.promodesk"
    build_demo_workspace(path)
    return path


@pytest.fixture
def demo_copy(demo_master: Path, tmp_path: Path) -> Path:
    target = tmp_path / "Demo.promodesk"
    shutil.copyfile(demo_master, target)
    return target


def make_window(folder: Path, **options: Any) -> MainWindow:
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    runner = TaskRunner()
    runner.expected_errors = EXPECTED_ERRORS
    return MainWindow(runner, settings, accounts_path=folder / "accounts.json", **options)


@pytest.fixture
def windows(qtbot: Any, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Any]:
    """Makes main windows and, at teardown, closes them the way the app does: close, let the
    jobs roll back, close the workspace, then delete. (qtbot.addWidget would delete them
    before this teardown runs.)"""
    made: list[MainWindow] = []

    def make(folder: Path = tmp_path, **options: Any) -> MainWindow:
        window = make_window(folder, **options)
        made.append(window)
        return window

    yield make
    for window in made:
        if window.isVisible():
            close_window(qtbot, window)
        window.deleteLater()
    QApplication.processEvents()


def wait_job(qtbot: Any, job: Job | None, timeout: int = 30_000) -> Job:
    assert job is not None
    if not job.done:
        with qtbot.waitSignal(job.finished, timeout=timeout):
            pass
    return job


def close_window(qtbot: Any, window: MainWindow) -> None:
    if not window.isVisible():
        return
    window.close()
    done = asyncio.ensure_future(window.shutdown())
    qtbot.waitUntil(done.done, timeout=30_000)
    done.result()


@pytest.fixture
def window(qtbot: Any, windows: Any, demo_copy: Path) -> Iterator[MainWindow]:
    """The main window, open on a copy of the demo workspace, every table loaded."""
    main = windows()
    main.show()
    job = wait_job(qtbot, main.open_workspace(demo_copy))
    assert job.error is None, job.error
    # These tests import into their copy of the Demo; the question the Demo asks first
    # ("your own workspace instead?") has tests of its own.
    main.importing.demo_confirmed = True
    for panel in main.panels.values():
        for browser in panel.browsers:
            if browser.spec.name.startswith("optimove_legacy"):
                continue  # saved exports hold nothing for the legacy API
            qtbot.waitUntil(
                lambda b=browser: not b.model.busy and b.model.rowCount() > 0, timeout=15_000
            )
    return main


@pytest.fixture
def empty_window(qtbot: Any, windows: Any, tmp_path: Path) -> MainWindow:
    """The main window, shown, on a new workspace with nothing in it."""
    from promodesk.store.workspace import create_workspace

    path = tmp_path / "Empty.promodesk"
    create_workspace(path, label="Empty")
    main = windows()
    main.show()
    job = wait_job(qtbot, main.open_workspace(path))
    assert job.error is None, job.error
    return main


@pytest.fixture
def live_window(qtbot: Any, windows: Any, tmp_path: Path) -> Any:
    """The window on an empty workspace of its own, each panel on its vendor's sandbox (fakes
    of their own, no rate limit; clients that retry at once)."""
    from promodesk.domain.vendors import Vendor
    from promodesk.store.workspace import create_workspace
    from promodesk.vendors.altcraft.fake import FakeAltcraft
    from promodesk.vendors.impact.fake import FakeImpact
    from promodesk.vendors.optimove.fake import FakeOptimove
    from tests.integration.conftest import SleepRecorder, fast
    from tests.ui.live_driver import LiveDriver

    path = tmp_path / "Live.promodesk"
    create_workspace(path, label="Live")
    main = windows()
    fakes = {
        Vendor.OPTIMOVE: FakeOptimove(rate_limit=None),
        Vendor.ALTCRAFT: FakeAltcraft(rate_limit=None),
        Vendor.IMPACT: FakeImpact(rate_limit=None),
    }
    connections = main.accounts.connections
    connections.client_options.update(fast(SleepRecorder()))
    for vendor, fake in fakes.items():
        connections.use_fake(vendor, fake)
    driver = LiveDriver(qtbot, main, path, fakes)
    main.runner.job_finished.connect(driver.finished.append)
    main.show()
    assert wait_job(qtbot, main.open_workspace(path)).error is None
    qtbot.waitUntil(lambda: main.live.accounts_loaded is not None, timeout=15_000)
    for panel in main.panels.values():
        qtbot.waitUntil(
            lambda p=panel: p.source is not None and p.source.sandbox and bool(p.source.account),
            timeout=15_000,
        )
    driver.wait_idle()
    return driver
