#!/usr/bin/env python3
"""Take the README screenshots: the real window on a fresh demo workspace, one per vendor,
the Accounts dialog and the import history, at the size a first start gets on a 1366x768
laptop screen (the window sizes itself to the screen).

QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \
    .venv/bin/python scripts/screenshots.py [--out DIR]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from screenshot_run import arguments, run_in_window_loop

os.environ.setdefault("QT_API", "pyside6")
os.environ["PROMODESK_KEYRING"] = "memory"  # the screenshot's account never reaches a keychain


async def shoot(out: Path) -> None:
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QApplication, QSettings
    from promodesk.services.demo import ensure_demo_workspace
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.selftest import _rows_shown
    from promodesk.ui.tasks import TaskRunner

    scratch = Path(tempfile.mkdtemp())
    settings = QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(TaskRunner(), settings, accounts_path=scratch / "accounts.json")
    window.show()
    path = await ensure_demo_workspace(scratch / "Demo.promodesk")
    await window.open_workspace(path).as_future()
    picks = {
        Vendor.OPTIMOVE: ("promocodes", 1),
        Vendor.ALTCRAFT: ("programs", 0),
        Vendor.IMPACT: ("programs", 0),
    }
    for vendor, panel in window.panels.items():
        window.tabs.setCurrentWidget(panel)
        for browser in panel.browsers:
            await _rows_shown(browser)
        name, row = picks[vendor]
        container = getattr(panel, name)
        container.view.selectRow(row)
        await asyncio.sleep(0.4)
        codes = panel.browsers[-1] if vendor is not Vendor.OPTIMOVE else panel.allocations
        await _rows_shown(codes)
        codes.view.selectRow(2)
        codes.view.setFocus()
        await asyncio.sleep(0.4)
        QApplication.processEvents()
        target = out / f"{vendor.value}.png"
        window.grab().save(str(target))
        print(target)
        window.message_bar.dismiss()  # the Demo's note shows in the first shot only
    await shoot_accounts(window, out)
    await shoot_import_history(window, out)
    window.close()
    await window.shutdown()


async def shoot_accounts(window: Any, out: Path) -> None:
    """The Accounts dialog: a saved impact.com account beside the built-in sandboxes."""
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QApplication
    from promodesk.services.accounts import Account

    account = Account(
        vendor=Vendor.IMPACT,
        name="Brand EU",
        settings={
            "base_url": "https://api.impact.com",
            "account_sid": "IRa1b2c3d4e5f6a7b8c9d0",
            "response_format": "json",
        },
    )
    await window.accounts.save(account, "screenshot-placeholder-token")
    dialog = window.show_accounts()
    await dialog.reload(select=account.id).as_future()
    dialog.move(window.geometry().center() - dialog.rect().center())
    await asyncio.sleep(0.3)
    dialog.account_list.setCurrentRow(0)
    await dialog.test_connection().as_future()  # type: ignore[union-attr]
    await asyncio.sleep(0.3)
    QApplication.processEvents()
    dialog.grab().save(str(out / "accounts.png"))
    print(out / "accounts.png")
    dialog.hide()


async def shoot_import_history(window: Any, out: Path) -> None:
    from promodesk.qt import QApplication

    window.message_bar.dismiss()
    dialog = window.show_import_history()
    await dialog.reload().as_future()
    dialog.move(window.geometry().center() - dialog.rect().center())
    dialog.view.selectRow(1)
    await asyncio.sleep(0.3)
    QApplication.processEvents()
    dialog.grab().save(str(out / "import-history.png"))
    print(out / "import-history.png")
    dialog.close()


def main() -> None:
    out = arguments().out
    run_in_window_loop(lambda: shoot(out))


if __name__ == "__main__":
    main()
