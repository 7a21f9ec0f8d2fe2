#!/usr/bin/env python3
"""Drive the real window as a marketer would, on a fresh demo workspace with the built-in
sandbox accounts, and take a screenshot of each panel doing live work, its forms, the bulk
review and progress, History, the jobs list and the offline state (docs/screenshots/live-*.png).

QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \
    .venv/bin/python scripts/live_screenshots.py [--out DIR]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from screenshot_run import arguments, run_in_window_loop

os.environ.setdefault("QT_API", "pyside6")
os.environ["PROMODESK_KEYRING"] = "memory"  # the sandbox accounts never reach a keychain


async def settle(seconds: float = 0.4) -> None:
    """Let the window paint. (Not QApplication.processEvents(): run inside this coroutine,
    it would step other asyncio tasks re-entrantly, which asyncio refuses.)"""
    await asyncio.sleep(seconds)


async def until(check: Callable[[], Any], what: str = "the window") -> None:
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not get there")
        await asyncio.sleep(0.05)


def running(window: Any) -> list[Any]:
    return [job for job in window.runner.jobs if not job.done]


async def idle(window: Any) -> None:
    """Until no job runs and every table has its rows."""
    await until(
        lambda: (
            not running(window)
            and not any(
                browser.model.busy for panel in window.panels.values() for browser in panel.browsers
            )
        ),
        "the jobs",
    )
    await settle(0.3)


class Camera:
    def __init__(self, window: Any, out: Path) -> None:
        self.window = window
        self.out = out

    def widget(self, widget: Any, name: str) -> None:
        target = self.out / f"live-{name}.png"
        widget.grab().save(str(target))
        print(target)

    def screen(self, name: str) -> None:
        """The whole screen: the window with whatever floats over it (a box, a popup)."""
        target = self.out / f"live-{name}.png"
        self.window.screen().grabWindow(0).save(str(target))
        print(target)


def centre(dialog: Any, window: Any) -> None:
    dialog.move(window.geometry().center() - dialog.rect().center())


async def pick_sandbox(window: Any, vendor: Any) -> Any:
    """The vendor's tab, its sandbox account picked in the account bar (as a click would)."""
    panel = window.panel_of(vendor)
    window.tabs.setCurrentWidget(panel)
    await until(lambda: window.live.accounts_loaded is not None, "the accounts")
    bar = panel.account_bar
    await until(lambda: any(source.sandbox for source in bar.sources), "the sandbox")
    index = next(n for n, source in enumerate(bar.sources) if source.sandbox)
    bar.picker.setCurrentIndex(index)
    bar.picker.activated.emit(index)
    await idle(window)
    return panel


async def select(browser: Any, column: str, value: Any) -> None:
    model = browser.model
    at = model.spec.column_names.index(column)

    def row_of_value() -> int | None:
        values = [(model.row_at(n) or [None] * (at + 1))[at] for n in range(model.rowCount())]
        return values.index(value) if value in values else None

    await until(lambda: row_of_value() is not None, f"{value!r} in {column}")
    browser.view.selectRow(row_of_value())
    browser.view.setFocus()
    await settle()


async def opened(operations: Any, name: str, track: bool = False) -> Any:
    """The form of an operation, opened from its action as the menu would."""
    operation = operations.by_name[name]
    before = operations.dialog  # the last one, maybe deleted since it closed
    (operations.track if track else operations.trigger)(operation)
    await until(lambda: operations.dialog is not before and operations.dialog.isVisible())
    await settle()
    return operations.dialog


async def optimove(window: Any, camera: Camera) -> None:
    """The sandbox picked, a promotion it has added by its ID; a slow Refresh with its
    progress and Cancel, then "as of"; a promotion created from its form, renamed; the tiers
    editor; a check of customers."""
    from promodesk.domain.vendors import Vendor

    panel = await pick_sandbox(window, Vendor.OPTIMOVE)
    operations = panel.live_panel.operations
    dialog = await opened(operations, "get_promotion", track=True)
    dialog.form.editors["promotion_id"].set_value("spring-welcome-2026")
    dialog.submit()
    await idle(window)
    window.dismiss_messages()
    fake = window.accounts.connections.fake(Vendor.OPTIMOVE)
    fake.faults.configure({"script": ["slow"] * 4, "slow_seconds": 1.5})
    window.refresh_current()
    await until(lambda: panel.account_bar.busy_cancel.isVisible(), "the refresh")
    await settle(0.8)
    camera.widget(window, "optimove-refreshing")
    await idle(window)
    fake.faults.configure({"script": [], "slow_seconds": 0.0})
    await select(panel.promotions, "promotion_id", "spring-welcome-2026")
    camera.widget(window, "optimove-refreshed")
    window.dismiss_messages()

    operations = panel.live_panel.operations
    dialog = await opened(operations, "create_promotion")
    centre(dialog, window)
    for name, value in (
        ("name", "Summer sale"),
        ("code", "SUMMER26"),
        ("description", "15% off summer shoes for newsletter readers"),
        ("promotion_id", "summer-26"),
    ):
        dialog.form.editors[name].set_value(value)
    await settle()
    camera.screen("optimove-new-promotion")
    dialog.submit()
    await idle(window)
    await select(panel.promotions, "promotion_id", "summer-26")
    dialog = await opened(operations, "set_metadata")
    centre(dialog, window)
    dialog.form.editors["name"].set_value("Summer sale — shoes")
    await settle()
    camera.screen("optimove-edit-promotion")
    dialog.submit()
    await idle(window)

    dialog = await opened(operations, "set_tiers")
    centre(dialog, window)
    tiers = dialog.form.editors["tiers"]
    tiers.add_tier()
    tiers.tier_id.setText("gold")
    tiers.tier_name.setText("Gold customers")
    tiers.benefits.setPlainText('[{"rewardType": "discount", "percent": 20}]')
    tiers.add_condition({"attribute": "LTV", "operator": ">", "value": 500})
    tiers.add_condition({"parent": 0, "attribute": "Country", "operator": "=", "value": "DE"})
    tiers.add_tier()
    tiers.tier_id.setText("everyone")
    tiers.tier_name.setText("Everyone else")
    tiers.benefits.setPlainText('[{"rewardType": "discount", "percent": 5}]')
    tiers.list.setCurrentRow(0)
    await settle()
    camera.widget(dialog, "optimove-tiers")
    dialog.submit()
    await idle(window)

    dialog = await opened(operations, "validate_promotion")
    centre(dialog, window)
    dialog.form.editors["promo_code"].set_value("SPRING26")
    dialog.form.editors["customer_ids"].set_value(["c1001", "c1002", "c1003", "vip-7"])
    dialog.submit()
    await until(lambda: dialog.results.isVisible(), "the check of customers")
    await settle()
    camera.widget(dialog, "optimove-check-customers")
    dialog.reject()
    await select(panel.promotions, "promotion_id", "summer-26")
    camera.widget(window, "optimove")
    window.dismiss_messages()


async def altcraft(window: Any, camera: Camera) -> None:
    """The sandbox's program refreshed; a code attached to a profile from its form; a bulk
    change of expiry reviewed before it runs."""
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QItemSelectionModel

    panel = await pick_sandbox(window, Vendor.ALTCRAFT)
    window.refresh_current()
    await idle(window)
    window.dismiss_messages()
    operations = panel.live_panel.operations
    await select(panel.codes, "code", "LOY5-0003")
    dialog = await opened(operations, "attach")
    centre(dialog, window)
    dialog.form.editors["matching"].set_value("email")
    dialog.form.editors["email"].set_value("ann@example.com")
    await settle()
    camera.screen("altcraft-attach")
    dialog.submit()
    await idle(window)

    codes = panel.codes
    codes.view.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(4, 10):
        codes.view.selectionModel().select(codes.model.index(row, 0), flags)
    await settle()
    bulk = operations.start_bulk(operations.by_name["update"], codes)
    centre(bulk, window)
    await until(lambda: bulk.start_button.isEnabled(), "the bulk review")
    bulk.form.editors["expire_date"].set_value(datetime(2027, 1, 31, 23, 59).astimezone())
    await settle()
    camera.widget(bulk, "altcraft-bulk-review")
    bulk.close()
    await select(panel.codes, "code", "LOY5-0003")
    camera.widget(window, "altcraft")
    window.dismiss_messages()


async def impact(window: Any, camera: Camera) -> None:
    """A bulk expire of nine codes, one already gone at impact.com: its progress with each
    code's outcome while it runs, then done with Retry failed."""
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QItemSelectionModel

    panel = await pick_sandbox(window, Vendor.IMPACT)
    window.refresh_current()
    await idle(window)
    window.dismiss_messages()
    operations = panel.live_panel.operations
    fake = window.accounts.connections.fake(Vendor.IMPACT)
    gone = fake.state.codes.pop(7_000_008)
    codes = panel.codes
    codes.view.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(3, 12):
        codes.view.selectionModel().select(codes.model.index(row, 0), flags)
    await settle()
    bulk = operations.start_bulk(operations.by_name["expire"], codes)
    centre(bulk, window)
    await until(lambda: bulk.start_button.isEnabled(), "the bulk review")
    await settle()
    camera.widget(bulk, "impact-bulk-review")
    # Slow answers for the middle of the run, so it can be seen going.
    fake.faults.configure({"script": [None] * 4 + ["slow"] * 12, "slow_seconds": 0.7})
    bulk.start()
    await until(lambda: bulk.confirm_box is not None and bulk.confirm_box.isVisible())
    await settle()
    bulk.confirm_box.findChild(object, "confirmYes").click()
    await until(lambda: bulk.model.counts().get("ok", 0) >= 2, "the first expired codes")
    await settle(0.3)
    camera.widget(bulk, "impact-bulk-running")
    await until(lambda: bulk.retry_button.isVisible(), "the end of the run")
    fake.faults.configure({"script": [], "slow_seconds": 0.0})
    await settle()
    camera.widget(bulk, "impact-bulk-done")
    fake.state.codes[7_000_008] = gone
    bulk.close()
    await idle(window)
    await select(panel.codes, "promo_code_id", 7_000_004)
    camera.widget(window, "impact")
    window.dismiss_messages()


async def history(window: Any, camera: Camera) -> None:
    history = window.show_history()
    centre(history, window)
    await idle(window)
    await settle(0.6)
    camera.widget(history, "history")
    history.close()


async def jobs_list(window: Any, camera: Camera) -> None:
    """Two refreshes at once (both sandboxes slow): the jobs list with a Cancel for each."""
    from promodesk.domain.vendors import Vendor

    slow = {"script": ["slow"] * 6, "slow_seconds": 2.5}
    for vendor in (Vendor.ALTCRAFT, Vendor.OPTIMOVE):
        window.accounts.connections.fake(vendor).faults.configure(slow)
        panel = window.panel_of(vendor)
        window.tabs.setCurrentWidget(panel)
        panel.live_panel.refresh()
    await until(lambda: len(running(window)) >= 2, "two refreshes")
    await settle(0.5)
    listing = window.job_status.show_list()
    await until(lambda: len(listing.rows) >= 2, "the jobs list")
    await settle(0.3)
    camera.screen("jobs")
    listing.hide()
    await idle(window)
    for vendor in (Vendor.ALTCRAFT, Vendor.OPTIMOVE):
        window.accounts.connections.fake(vendor).faults.configure({"script": []})
    window.dismiss_messages()


async def offline(window: Any, camera: Camera) -> None:
    """The switch off: the write actions disabled, the reason in their tooltip."""
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QPoint, QToolTip

    panel = window.panel_of(Vendor.OPTIMOVE)
    window.tabs.setCurrentWidget(panel)
    await select(panel.promotions, "promotion_id", "summer-26")
    window.online_switch.click()
    await settle()
    operations = panel.live_panel.operations
    button = next(b for b in operations.buttons if b.text() == "Promotions")
    menu = button.menu()
    menu.popup(button.mapToGlobal(QPoint(0, button.height())))
    await settle()
    action = operations.actions["set_metadata"]
    geometry = menu.actionGeometry(action)
    menu.setActiveAction(action)
    # Beside the menu, not over it (a tooltip goes where the pointer would be).
    tip_at = menu.mapToGlobal(
        QPoint(-menu.fontMetrics().horizontalAdvance(action.toolTip()) - 40, geometry.top())
    )
    QToolTip.showText(tip_at, action.toolTip(), menu)
    await settle(0.6)
    camera.screen("offline")
    QToolTip.hideText()
    menu.hide()
    window.online_switch.click()
    await settle()


async def walk(out: Path) -> None:
    from promodesk.qt import QSettings
    from promodesk.services.demo import ensure_demo_workspace
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    scratch = Path(tempfile.mkdtemp())
    settings = QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(TaskRunner(), settings, accounts_path=scratch / "accounts.json")
    window.show()
    path = await ensure_demo_workspace(scratch / "Demo.promodesk")
    await window.open_workspace(path).as_future()
    window.dismiss_messages()
    camera = Camera(window, out)
    await optimove(window, camera)
    await altcraft(window, camera)
    await impact(window, camera)
    await history(window, camera)
    await jobs_list(window, camera)
    await offline(window, camera)
    window.close()
    await window.shutdown()


def main() -> None:
    out = arguments().out
    run_in_window_loop(lambda: walk(out))


if __name__ == "__main__":
    main()
