#!/usr/bin/env python3
"""Take the README screenshots: the real window on a fresh demo workspace, one per vendor,
the Accounts dialog and the import history, at the size a first start gets on a 1366x768
laptop screen (the window sizes itself to the screen).

QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \
    .venv/bin/python scripts/screenshots.py [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

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
    await shoot_live_work(window, out)
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


async def settle(seconds: float = 0.4) -> None:
    from promodesk.qt import QApplication

    await asyncio.sleep(seconds)
    QApplication.processEvents()


async def idle(window: Any) -> None:
    """Until no job runs and every table has its rows."""
    for _ in range(600):
        if not [job for job in window.runner.jobs if not job.done] and not any(
            browser.model.busy for panel in window.panels.values() for browser in panel.browsers
        ):
            break
        await asyncio.sleep(0.05)
    await settle(0.3)


def save(widget: Any, out: Path, name: str) -> None:
    target = out / f"{name}.png"
    widget.grab().save(str(target))
    print(target)


def screen_shot(window: Any, out: Path, name: str) -> None:
    """The whole screen: the window with the dialog open over it."""
    target = out / f"{name}.png"
    window.screen().grabWindow(0).save(str(target))
    print(target)


def centre(dialog: Any, window: Any) -> None:
    dialog.move(window.geometry().center() - dialog.rect().center())


async def pick_sandbox(window: Any, vendor: Any) -> Any:
    panel = window.panel_of(vendor)
    window.tabs.setCurrentWidget(panel)
    for _ in range(200):
        if window.live.accounts_loaded is not None:
            break
        await asyncio.sleep(0.05)
    sandbox = next(source for source in window.live.sources(vendor) if source.sandbox)
    panel.live_panel.pick(sandbox)
    panel.account_bar.set_sources(panel.live_panel.sources, sandbox)
    await idle(window)
    return panel


async def select(window: Any, browser: Any, column: str, value: Any) -> None:
    model = browser.model
    at = model.spec.column_names.index(column)
    for _ in range(200):
        rows = [model.row_at(n) for n in range(model.rowCount())]
        values = [row[at] if row else None for row in rows]
        if value in values:
            browser.view.selectRow(values.index(value))
            browser.view.setFocus()
            break
        await asyncio.sleep(0.05)
    await settle(0.4)


async def shoot_live_work(window: Any, out: Path) -> None:
    """Each panel doing live work on its sandbox, and the forms, dialogs and views of it."""
    from promodesk.domain.vendors import Vendor

    window.message_bar.dismiss()
    window.resize(window.width(), window.height())
    # impact.com: a Refresh of the sandbox, a code expired (its row changed in place).
    panel = await pick_sandbox(window, Vendor.IMPACT)
    window.refresh_current()
    await idle(window)
    operations = panel.live_panel.operations
    await select(window, panel.codes, "promo_code_id", 7_000_003)
    operations.trigger(operations.by_name["expire"])
    await settle()
    box = operations.dialog
    centre(box, window)
    await settle()
    screen_shot(window, out, "live-confirm-expire")
    box.findChild(object, "confirmYes").click()
    await idle(window)
    await select(window, panel.codes, "promo_code_id", 7_000_003)
    save(window, out, "live-impact")
    # The form of a new code: choices in words, a date with its time zone.
    operations.trigger(operations.by_name["create"])
    await settle()
    dialog = operations.dialog
    centre(dialog, window)
    dialog.form.editors["start_date"].use.setChecked(True)
    await settle()
    save(dialog, out, "live-form-new-code")
    dialog.reject()
    # Bulk: expire several codes, one of them gone at the vendor (it fails; Retry failed).
    fake = window.accounts.connections.fake(Vendor.IMPACT)
    gone = fake.state.codes.pop(7_000_008)
    codes = panel.codes
    from promodesk.qt import QItemSelectionModel

    codes.view.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(3, 12):
        codes.view.selectionModel().select(codes.model.index(row, 0), flags)
    await settle()
    bulk = operations.start_bulk(operations.by_name["expire"], codes)
    centre(bulk, window)
    for _ in range(200):
        if bulk.start_button.isEnabled():
            break
        await asyncio.sleep(0.05)
    await settle()
    save(bulk, out, "live-bulk-review")
    bulk.start()
    await settle()
    bulk.confirm_box.findChild(object, "confirmYes").click()
    for _ in range(400):
        if bulk.retry_button.isVisible():
            break
        await asyncio.sleep(0.05)
    await settle()
    save(bulk, out, "live-bulk-done")
    fake.state.codes[7_000_008] = gone
    bulk.close()
    await idle(window)

    # Altcraft: the sandbox's program read, a code attached to a profile.
    panel = await pick_sandbox(window, Vendor.ALTCRAFT)
    window.refresh_current()
    await idle(window)
    operations = panel.live_panel.operations
    await select(window, panel.codes, "code", "LOY5-0003")
    operations.trigger(operations.by_name["attach"])
    await settle()
    dialog = operations.dialog
    centre(dialog, window)
    dialog.form.editors["matching"].set_value("email")
    dialog.form.editors["email"].set_value("ann@example.com")
    await settle()
    save(dialog, out, "live-form-attach")
    dialog.submit()
    await idle(window)
    await select(window, panel.codes, "code", "LOY5-0003")
    save(window, out, "live-altcraft")

    # Optimove: a promotion tracked by its ID, one created; the tiers editor, a check of
    # customers, several changes at once.
    panel = await pick_sandbox(window, Vendor.OPTIMOVE)
    operations = panel.live_panel.operations
    operations.track(operations.by_name["get_promotion"])
    await settle()
    dialog = operations.dialog
    centre(dialog, window)
    dialog.form.editors["promotion_id"].set_value("spring-welcome-2026")
    await settle()
    save(dialog, out, "live-track-promotion")
    dialog.submit()
    await idle(window)
    operations.trigger(operations.by_name["create_promotion"])
    await settle()
    dialog = operations.dialog
    for name, value in (
        ("name", "Summer sale"),
        ("code", "SUMMER26"),
        ("promotion_id", "summer-26"),
    ):
        dialog.form.editors[name].set_value(value)
    dialog.submit()
    await idle(window)
    await select(window, panel.promotions, "promotion_id", "summer-26")
    operations.trigger(operations.by_name["set_tiers"])
    await settle()
    dialog = operations.dialog
    centre(dialog, window)
    tiers = dialog.form.editors["tiers"]
    tiers.add_tier()
    tiers.tier_id.setText("gold")
    tiers.tier_name.setText("Gold")
    tiers.benefits.setPlainText('[{"rewardType": "discount", "percent": 20}]')
    tiers.add_condition({"attribute": "LTV", "operator": ">", "value": 500})
    tiers.add_condition({"parent": 0, "attribute": "Country", "operator": "=", "value": "DE"})
    tiers.add_tier()
    tiers.tier_id.setText("everyone")
    tiers.tier_name.setText("Everyone")
    tiers.benefits.setPlainText('[{"rewardType": "discount", "percent": 5}]')
    tiers.list.setCurrentRow(0)
    await settle()
    save(dialog, out, "live-tiers")
    dialog.submit()
    await idle(window)
    operations.trigger(operations.by_name["promotion_transaction"])
    await settle()
    dialog = operations.dialog
    centre(dialog, window)
    changes = dialog.form.editors["commands"]
    kinds = {kind.name: kind for kind in changes.kinds}
    form = changes.add(kinds["setMetadata"])
    form.editors["name"].set_value("Summer sale — final")
    changes.add(kinds["activate"])
    changes.list.setCurrentRow(0)
    await settle()
    save(dialog, out, "live-changes")
    dialog.reject()
    operations.trigger(operations.by_name["validate_promotion"])
    await settle()
    dialog = operations.dialog
    centre(dialog, window)
    dialog.form.editors["promo_code"].set_value("SPRING26")
    dialog.form.editors["customer_ids"].set_value(["c1001", "c1002", "c1003", "vip-7"])
    dialog.submit()
    for _ in range(200):
        if dialog.results.isVisible():
            break
        await asyncio.sleep(0.05)
    await settle()
    save(dialog, out, "live-validate")
    dialog.reject()
    await select(window, panel.promotions, "promotion_id", "spring-welcome-2026")
    save(window, out, "live-optimove")

    # History: every change, filtered; unfinished work to resume.
    history = window.show_history()
    centre(history, window)
    await idle(window)
    await settle(0.6)
    save(history, out, "live-history")
    history.close()
    # Offline: the switch in the status bar, actions disabled with the reason.
    panel = window.panel_of(Vendor.IMPACT)
    window.tabs.setCurrentWidget(panel)
    await settle()
    window.online_switch.click()
    await settle()
    save(window, out, "live-offline")
    window.online_switch.click()
    await settle()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "screenshots"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import qasync

    from promodesk.qt import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(shoot(args.out))


if __name__ == "__main__":
    main()
