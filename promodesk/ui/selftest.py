"""`promodesk --selftest`: the real window on a fresh demo workspace, every panel checked.

Used by CI on the source tree and on the standalone bundle: it proves the bundle carries its
resources, Qt plugins and SQLite features, that every panel shows rows, and that the Pool
runway view draws its chart (Qt Charts is loaded only then, so nothing else would notice a
bundle without it).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from promodesk.services.demo import ensure_demo_workspace
from promodesk.ui.main_window import MainWindow
from promodesk.ui.panels.table_browser import TableBrowser

TIMEOUT_S = 60.0


async def run_selftest(window: MainWindow, scratch: Path) -> int:
    started = time.perf_counter()
    try:
        path = await ensure_demo_workspace(scratch / "Demo.promodesk")
        job = window.open_workspace(path)
        await job.as_future()
        if job.error is not None:
            return _fail(f"the demo workspace did not open: {job.error}")
        lines = []
        for vendor, panel in window.panels.items():
            window.tabs.setCurrentWidget(panel)
            for browser in panel.browsers:
                if browser.spec.name.startswith("optimove_legacy"):
                    continue  # the legacy API's tables: no saved export fills them
                rows = await _rows_shown(browser)
                if rows == 0:
                    return _fail(
                        f"{vendor.display_name}: the {browser.title.text()} table shows no rows"
                    )
                lines.append(f"{vendor.display_name} · {browser.title.text()}: {rows:,} rows")
        if window.grab().isNull():
            return _fail("the window could not be drawn")
        problem = await _check_chart(window, lines)
        if problem:
            return _fail(problem)
        problem = await _check_sandbox_accounts(scratch, lines)
        if problem:
            return _fail(problem)
    except Exception as error:
        return _fail(f"{type(error).__name__}: {error}")
    for line in lines:
        print(f"  {line}")
    print(f"selftest: ok ({time.perf_counter() - started:.1f} s)", flush=True)
    return 0


async def _check_sandbox_accounts(scratch: Path, lines: list[str]) -> str:
    """Each built-in sandbox account connects (the vendor clients, fakes and their
    dependencies are all there) and the keychain answers (its backends are bundled)."""
    from promodesk.services.accounts import AccountsService, AccountStore

    service = AccountsService(AccountStore(scratch / "accounts.json"))
    try:
        keychain = await service.keychain()
        if keychain.persistent:
            lines.append(f"Secrets are stored in {keychain.backend}")
        else:
            lines.append(f"Secrets are kept for the session only: {keychain.reason}")
        for entry in await service.entries():
            check = await service.check(entry.account)
            if not check.ok:
                return f"the {entry.account.vendor.display_name} sandbox: {check.message}"
            lines.append(f"{entry.account.vendor.display_name} sandbox: {check.message}")
    finally:
        await service.aclose()
    return ""


async def _check_chart(window: MainWindow, lines: list[str]) -> str:
    """The Pool runway view opens on the demo and its chart draws the first pool's days."""
    view = window.insights.open("runway")
    if view is None:
        return "the Pool runway view did not open"
    try:
        chart = view.chart
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            if view.computed and chart.days and chart.chart().series():
                if chart.grab().isNull():
                    return "the Pool runway chart could not be drawn"
                lines.append(f"Pool runway chart: {len(chart.days)} days drawn")
                return ""
            await asyncio.sleep(0.02)
        return "the Pool runway chart shows nothing"
    finally:
        view.close()


async def _rows_shown(browser: TableBrowser) -> int:
    """Rows in the table once its first page is on screen (0 if it stays empty)."""
    deadline = time.monotonic() + TIMEOUT_S
    model = browser.model
    while time.monotonic() < deadline:
        if not model.busy and model.rowCount() > 0 and model.data(model.index(0, 0)) is not None:
            return model.rowCount()
        await asyncio.sleep(0.02)
    return 0


def _fail(reason: str) -> int:
    print(f"selftest: FAILED: {reason}", file=sys.stderr, flush=True)
    return 1
