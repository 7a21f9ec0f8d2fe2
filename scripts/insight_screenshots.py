#!/usr/bin/env python3
"""Screenshots of the Insights views on the demo workspace, as a marketer sees them on a
1366x768 laptop: what changed (after a refresh of the impact.com codes), collisions, pool
runway (with its warning in the panel), and reconciliation (the mapping step, the lists, the
rate per day) with a shop's redemption export made from the demo's allocations.

QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1366x768x24" \
    .venv/bin/python scripts/insight_screenshots.py [--out DIR]
"""

from __future__ import annotations

import asyncio
import csv
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from screenshot_run import arguments, run_in_window_loop

os.environ.setdefault("QT_API", "pyside6")
os.environ["PROMODESK_KEYRING"] = "memory"

REFRESHED_AT = "2026-11-21T08:30:00Z"  # the pretend refresh, after the demo's exports


def refresh_impact(path: Path) -> None:
    """What a refresh of the demo's impact.com codes could find: a few codes deactivated, a
    few back on, three gone, four new (written through the one writer, as a sync writes)."""
    from promodesk.domain.records import ImpactPromoCodeRecord
    from promodesk.store.db import connect, transaction
    from promodesk.store.records import impact_row
    from promodesk.store.runs import start_run
    from promodesk.store.writes import IMPACT_CODES, Staging, mark_gone, update_fields

    conn = connect(path)
    try:
        account, campaign_id, campaign = conn.execute(
            "SELECT account_id, campaign_id, campaign_name FROM impact_codes ORDER BY id LIMIT 1"
        ).fetchone()
        active = [
            row[0]
            for row in conn.execute(
                "SELECT promo_code_id FROM impact_codes WHERE account_id = ? AND status = "
                "'active' ORDER BY code LIMIT 9",
                (account,),
            )
        ]
        inactive = [
            row[0]
            for row in conn.execute(
                "SELECT promo_code_id FROM impact_codes WHERE account_id = ? AND status = "
                "'inactive' ORDER BY code LIMIT 2",
                (account,),
            )
        ]
        with transaction(conn):
            run = start_run(conn, "sync", account_id=account, title="Refresh")
            for code_id in active[:6]:
                update_fields(
                    conn,
                    IMPACT_CODES,
                    account,
                    {"promo_code_id": code_id},
                    {"status": "inactive"},
                    run_id=run,
                    as_of=REFRESHED_AT,
                )
            for code_id in inactive:
                update_fields(
                    conn,
                    IMPACT_CODES,
                    account,
                    {"promo_code_id": code_id},
                    {"status": "active"},
                    run_id=run,
                    as_of=REFRESHED_AT,
                )
            mark_gone(
                conn,
                IMPACT_CODES,
                account,
                [{"promo_code_id": code_id} for code_id in active[6:9]],
                run_id=run,
                as_of=REFRESHED_AT,
            )
            staging = Staging(conn, IMPACT_CODES, account)
            staging.add(
                [
                    impact_row(
                        ImpactPromoCodeRecord.model_validate(
                            {
                                "Id": str(9_100_000 + n),
                                "Code": f"WINTER{n + 21}",
                                "Type": "LI",
                                "CreditPolicy": "ALWAYS",
                                "CampaignId": campaign_id,
                                "CampaignName": campaign,
                                "AssignedPartnerId": "",
                                "AssignedPartnerName": "",
                                "CreatedDate": "2026-11-20T16:00:00-08:00",
                                "StartDate": "2026-12-01T00:00:00-08:00",
                                "EndDate": "",
                                "State": "ACTIVE",
                                "DealId": "",
                                "DealName": "",
                            }
                        )
                    )
                    for n in range(4)
                ]
            )
            staging.write(run_id=run, as_of=REFRESHED_AT)
            conn.execute("UPDATE runs SET status = 'done' WHERE id = ?", (run,))
    finally:
        conn.close()
    from promodesk.services.reports import prepare

    prepare(path)


def shop_export(path: Path, target: Path) -> Path:
    """A shop's redemption export (semicolons, times without an offset) made from the demo's
    allocations: a third redeemed by their customer a few days later, a few by someone
    else, and some codes the shop took that were never allocated."""
    from datetime import datetime, timedelta

    from promodesk.store.db import connect

    conn = connect(path, readonly=True)
    try:
        allocations = conn.execute(
            "SELECT unique_code, customer_id, allocated_at FROM optimove_allocations ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["Order ID", "Discount Code", "Customer", "Redeemed At", "Total"])
        order = 50_000
        for n, (code, customer, at) in enumerate(allocations):
            if n % 3:
                continue
            when = datetime.fromisoformat(at.replace("Z", "+00:00")) + timedelta(
                days=1 + n % 5, hours=n % 7
            )
            if when.isoformat() > "2026-11-21":
                continue
            who = customer if n % 97 else f"guest-{n}"
            order += 1
            writer.writerow([order, code.lower(), who, when.strftime("%Y-%m-%d %H:%M"), "49.90"])
        for n in range(12):
            order += 1
            writer.writerow([order, f"FRIEND{n:03d}", f"guest-{n}", "2026-11-18 19:05", "25.00"])
    return target


async def settle(seconds: float = 0.6) -> None:
    from promodesk.qt import QApplication

    await asyncio.sleep(seconds)
    QApplication.processEvents()


async def until(condition: Callable[[], Any]) -> None:
    """Poll the window (its state changes through Qt signals, not asyncio events)."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the view did not settle")
        await asyncio.sleep(0.1)


def save(widget: Any, target: Path) -> None:
    widget.grab().save(str(target))
    print(target)


async def shoot(out: Path) -> None:
    from promodesk.domain.vendors import Vendor
    from promodesk.qt import QSettings
    from promodesk.services.demo import ensure_demo_workspace
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import TaskRunner

    scratch = Path(tempfile.mkdtemp())
    path = await ensure_demo_workspace(scratch / "Demo.promodesk")
    refresh_impact(path)
    export = shop_export(path, scratch / "shop-redemptions-november.csv")
    settings = QSettings(str(scratch / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("insights/runway_threshold_days", 60)
    window = MainWindow(TaskRunner(), settings, accounts_path=scratch / "accounts.json")
    window.show()
    await window.open_workspace(path).as_future()
    window.message_bar.dismiss()
    insights = window.insights

    # The runway warning in the Altcraft panel (threshold: 60 days).
    panel = window.panel_of(Vendor.ALTCRAFT)
    window.tabs.setCurrentWidget(panel)
    await until(lambda: panel.message_bar.isVisible())
    await settle()
    save(window, out / "insights-runway-warning.png")

    changes = insights.open("changes")
    changes.source.setCurrentIndex(changes.source.findText("Imported files (impact.com)"))
    await until(lambda: changes.computed and changes.job.done and not changes.browser.model.busy)
    await settle()
    save(changes, out / "insights-changes.png")
    changes.close()

    collisions = insights.open("collisions")
    await until(lambda: collisions.computed and not collisions.browser.model.busy)
    await settle()
    collisions.browser.view.selectRow(0)
    save(collisions, out / "insights-collisions.png")
    collisions.close()

    runway = insights.open("runway")
    await until(lambda: runway.computed)
    await settle()
    save(runway, out / "insights-runway.png")
    runway.close()

    reconcile = insights.open("reconcile")
    await until(lambda: reconcile.computed)
    reconcile.import_file(export)
    await until(lambda: reconcile.mapping_dialog is not None)
    await settle()
    save(reconcile.mapping_dialog, out / "insights-mapping.png")
    reconcile.mapping_dialog.source.setText("Shop EU")
    reconcile.mapping_dialog.accept()
    await until(lambda: reconcile.summary.text().startswith(tuple("0123456789")))
    await until(lambda: reconcile.computed and not reconcile.busy())
    await settle(seconds=1.0)
    reconcile.message_bar.dismiss()
    reconcile.tabs.setCurrentIndex(0)
    await settle()
    save(reconcile, out / "insights-reconciliation.png")
    reconcile.tabs.setCurrentWidget(reconcile.chart)
    await settle()
    save(reconcile, out / "insights-reconciliation-chart.png")
    reconcile.close()
    window.close()
    await window.shutdown()


def main() -> None:
    out = arguments().out
    run_in_window_loop(lambda: shoot(out))


if __name__ == "__main__":
    main()
