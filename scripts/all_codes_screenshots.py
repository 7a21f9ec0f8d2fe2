#!/usr/bin/env python3
"""Take the README screenshots of All codes and View ▸ Dates: the real window on a fresh demo
workspace, with an Altcraft account on Moscow time and an impact.com account on New York
time added (their codes written as a sync writes them), at the size a first start gets on a
1366x768 laptop screen.

QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \
    .venv/bin/python scripts/all_codes_screenshots.py [--out DIR]
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from screenshot_run import arguments, run_in_window_loop

os.environ.setdefault("QT_API", "pyside6")
os.environ["PROMODESK_KEYRING"] = "memory"  # the screenshot's accounts never reach a keychain

SHOP = ("shop-ru", "Shop RU", "Europe/Moscow")
PARTNERS = ("partners-us", "Partners US", "America/New_York")


def add_zoned_accounts(path: Path) -> None:
    """Codes of two accounts with time zones of their own, as a sync writes them."""
    from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
    from promodesk.domain.vendors import Vendor
    from promodesk.store.db import connect, transaction
    from promodesk.store.importers.base import ensure_account
    from promodesk.store.records import altcraft_row, impact_row
    from promodesk.store.runs import start_run
    from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, Staging

    conn = connect(path)
    with transaction(conn):
        account = ensure_account(conn, Vendor.ALTCRAFT, key=SHOP[0], name=SHOP[1], kind="live")
        run = start_run(conn, "sync", account_id=account)
        rows = []
        for n in range(60):
            fields: dict[str, Any] = {"created": "2026-09-01T07:00:00Z"}
            if n % 3:
                fields["attached"] = f"2026-10-{1 + n % 28:02d}T{6 + n % 12:02d}:15:00Z"
            if n % 3 == 2:
                fields["activated"] = f"2026-11-{1 + n % 18:02d}T{8 + n % 10:02d}:40:00Z"
            if n % 4 == 0:
                fields["expire_date"] = "2026-12-31T21:00:00Z"  # midnight in Moscow
            code = f"WINTER-{n:03d}-RU"
            rows.append(altcraft_row(AltcraftCodeRecord(code=code, **fields), "5012"))
        staging = Staging(conn, ALTCRAFT_CODES, account)
        staging.add(rows)
        staging.write(run_id=run, as_of="2026-11-20T09:00:00Z")
        account = ensure_account(
            conn, Vendor.IMPACT, key=PARTNERS[0], name=PARTNERS[1], kind="live"
        )
        run = start_run(conn, "sync", account_id=account)
        records = [
            ImpactPromoCodeRecord.model_validate(
                {
                    "Id": str(90_000 + n),
                    "Code": f"BFCM{n:02d}",
                    "CampaignId": "1200",
                    "CampaignName": "Black Friday US",
                    "AssignedPartnerId": str(3000 + n % 4),
                    "AssignedPartnerName": ("Deal Hunters", "Coupon Cave", "TechRadar", "Slick")[
                        n % 4
                    ],
                    "CreatedDate": f"2026-11-{1 + n % 20:02d}T14:00:00Z",
                    "State": "INACTIVE" if n % 7 == 0 else "ACTIVE",
                    "EndDate": "2026-12-01T05:00:00Z" if n % 2 else "",  # midnight in New York
                }
            )
            for n in range(30)
        ]
        staging = Staging(conn, IMPACT_CODES, account)
        staging.add([impact_row(record) for record in records])
        staging.write(run_id=run, as_of="2026-11-20T09:00:00Z")
    conn.close()


async def settle(seconds: float = 0.4) -> None:
    from promodesk.qt import QApplication

    await asyncio.sleep(seconds)
    QApplication.processEvents()


async def shoot(out: Path) -> None:
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QPoint, QSettings
    from promodesk.services.accounts import Account, AccountStore
    from promodesk.services.demo import ensure_demo_workspace
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    scratch = Path(tempfile.mkdtemp())
    AccountStore(scratch / "accounts.json").save(
        [
            Account(
                id=SHOP[0], vendor=Vendor.ALTCRAFT, name=SHOP[1], settings={"time_zone": SHOP[2]}
            ),
            Account(
                id=PARTNERS[0],
                vendor=Vendor.IMPACT,
                name=PARTNERS[1],
                settings={"time_zone": PARTNERS[2]},
            ),
        ]
    )
    path = await ensure_demo_workspace(scratch / "Demo.promodesk")
    add_zoned_accounts(path)
    settings = QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(TaskRunner(), settings, accounts_path=scratch / "accounts.json")
    window.show()
    await window.open_workspace(path).as_future()
    window.message_bar.dismiss()
    window.all_codes.action.trigger()
    panel = window.all_codes.panel
    for _ in range(400):
        counts = panel.counts
        if (
            counts is not None
            and not counts.pending
            and counts.total()
            and not panel.codes.model.busy
        ):
            break
        await asyncio.sleep(0.05)
    await settle(1.0)

    # With data and the details of a code: an Altcraft code attached in Moscow, expiring at
    # midnight there, shown on the vendor's clock.
    window.all_codes.show_dates_in("vendor")
    panel.codes.search_box.setText("-RU")
    panel.codes._apply_search()
    await settle(1.0)
    model = panel.codes.model
    codes = [model.value(model.row_at(n), "code") for n in range(model.rowCount())]
    panel.codes.view.setFocus()
    panel.codes.view.selectRow(codes.index("WINTER-004-RU"))
    await settle(0.8)
    target = out / "all-codes.png"
    window.grab().save(str(target))
    print(target)

    # Everything, on the computer's clock, filtered by a count: the used codes.
    panel.codes.search_box.clear()
    panel.codes._apply_search()
    window.all_codes.show_dates_in("local")
    await settle(0.6)
    panel.clear_filters()
    await settle(0.8)
    panel.codes.view.selectRow(0)
    await settle(0.6)
    target = out / "all-codes-overview.png"
    window.grab().save(str(target))
    print(target)

    # View ▸ Dates open over the table, on UTC.
    window.all_codes.show_dates_in("utc")
    await settle(0.4)
    bar = window.menuBar()
    view_action = next(a for a in bar.actions() if a.text().replace("&", "") == "View")
    window.view_menu.popup(bar.mapToGlobal(bar.actionGeometry(view_action).bottomLeft()))
    await settle(0.4)
    dates = window.all_codes.dates_menu.menuAction()
    rect = window.view_menu.actionGeometry(dates)
    window.view_menu.setActiveAction(dates)
    window.all_codes.dates_menu.popup(window.view_menu.mapToGlobal(rect.topRight() + QPoint(2, 0)))
    await settle(0.6)
    target = out / "all-codes-dates.png"
    frame = window.frameGeometry()  # the window with its menus open, not the empty screen
    window.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(
        str(target)
    )
    print(target)
    window.all_codes.dates_menu.hide()
    window.view_menu.hide()
    window.all_codes.show_dates_in("local")
    window.close()
    await window.shutdown()


def main() -> None:
    out = arguments().out
    run_in_window_loop(lambda: shoot(out))


if __name__ == "__main__":
    main()
