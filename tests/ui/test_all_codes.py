"""All codes and View ▸ Dates in the real window, on a prepared workspace whose answers are
known: three Optimove allocations (imported), four Altcraft codes of an account on Moscow
time, two impact.com codes of an account on UTC.

    status     Optimove  Altcraft            impact.com
    available            ALT-AVAIL
    allocated  3 codes   ALT-ATT             IMP-ACTIVE
    used                 ALT-USED
    expired              ALT-EXP             IMP-OFF

ALT-ATT expires at midnight in Moscow (2026-12-31T21:00:00Z), IMP-ACTIVE at midnight UTC
(2027-01-01T00:00:00Z): both were given as dates without a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
from promodesk.domain.status import Status
from promodesk.domain.vendors import Vendor
from promodesk.qt import QApplication, QDate, Qt
from promodesk.services.accounts import Account, AccountStore
from promodesk.store.db import connect, transaction
from promodesk.store.importers.base import ensure_account
from promodesk.store.importers.dispatch import import_file
from promodesk.store.records import altcraft_row, impact_row
from promodesk.store.runs import start_run
from promodesk.store.workspace import create_workspace
from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, Staging
from promodesk.ui.main_window import MainWindow
from promodesk.ui.models.formatting import DATE_ONLY_MARK
from tests.helpers import allocation_rows, write_allocations
from tests.ui.conftest import close_window, wait_job

O, A, I = Vendor.OPTIMOVE, Vendor.ALTCRAFT, Vendor.IMPACT  # noqa: E741
ALL_CODES = {
    "CODE0000000",
    "CODE0000001",
    "CODE0000002",
    "ALT-AVAIL",
    "ALT-ATT",
    "ALT-USED",
    "ALT-EXP",
    "IMP-ACTIVE",
    "IMP-OFF",
}
ATTACHED_AT = "2026-10-05T09:30:00Z"  # 12:30 in Moscow


def prepared_workspace(folder: Path) -> Path:
    path = folder / "Known.promodesk"
    create_workspace(path, label="Known")
    conn = connect(path)
    import_file(conn, write_allocations(folder / "allocations.csv", allocation_rows(3)))
    with transaction(conn):
        altcraft = ensure_account(conn, A, key="alt-msk", name="Shop RU", kind="live")
        run = start_run(conn, "sync", account_id=altcraft)
        records = [
            AltcraftCodeRecord(code="ALT-AVAIL", created="2026-08-01T10:00:00Z"),
            AltcraftCodeRecord(
                code="ALT-ATT",
                created="2026-08-01T10:00:00Z",
                attached=ATTACHED_AT,
                expire_date="2026-12-31T21:00:00Z",
            ),
            AltcraftCodeRecord(
                code="ALT-USED",
                created="2026-08-01T10:00:00Z",
                attached="2026-10-06T10:00:00Z",
                activated="2026-10-07T10:00:00Z",
            ),
            AltcraftCodeRecord(
                code="ALT-EXP", created="2026-08-01T10:00:00Z", expired="2026-10-08T10:00:00Z"
            ),
        ]
        staging = Staging(conn, ALTCRAFT_CODES, altcraft)
        staging.add([altcraft_row(record, "77") for record in records])
        staging.write(run_id=run, as_of="2026-11-20T09:00:00Z")
        impact = ensure_account(conn, I, key="imp-utc", name="Partners", kind="live")
        run = start_run(conn, "sync", account_id=impact)
        rows = [
            impact_row(
                ImpactPromoCodeRecord.model_validate(
                    {
                        "Id": str(5000 + n),
                        "Code": code,
                        "CampaignId": "1000",
                        "CampaignName": "Spring",
                        "AssignedPartnerId": "2000",
                        "AssignedPartnerName": "Alpine",
                        "CreatedDate": "2026-06-01T00:00:00Z",
                        "State": state,
                        "EndDate": end,
                    }
                )
            )
            for n, (code, state, end) in enumerate(
                (("IMP-ACTIVE", "ACTIVE", "2027-01-01T00:00:00Z"), ("IMP-OFF", "INACTIVE", ""))
            )
        ]
        staging = Staging(conn, IMPACT_CODES, impact)
        staging.add(rows)
        staging.write(run_id=run, as_of="2026-11-20T09:00:00Z")
    conn.close()
    return path


@pytest.fixture
def known(qtbot: Any, windows: Any, tmp_path: Path) -> Any:
    """The window on the prepared workspace, the Altcraft account's zone Europe/Moscow, on
    the All codes tab with every code gathered."""
    AccountStore(tmp_path / "accounts.json").save(
        [
            Account(
                id="alt-msk", vendor=A, name="Shop RU", settings={"time_zone": "Europe/Moscow"}
            ),
            Account(id="imp-utc", vendor=I, name="Partners", settings={"time_zone": "UTC"}),
        ]
    )
    path = prepared_workspace(tmp_path)
    window = windows()
    window.show()
    assert wait_job(qtbot, window.open_workspace(path)).error is None
    qtbot.waitUntil(lambda: window.live.accounts_loaded is not None, timeout=15_000)
    window.all_codes.action.trigger()
    panel = window.all_codes.panel
    qtbot.waitUntil(
        lambda: panel.counts is not None and panel.counts.total() == 9 and not panel.counts.pending,
        timeout=15_000,
    )
    wait_rows(qtbot, panel)
    return window


def wait_rows(qtbot: Any, panel: Any) -> None:
    qtbot.waitUntil(lambda: not panel.codes.model.busy, timeout=15_000)


def shown(panel: Any, column: str = "code") -> list[str]:
    model = panel.codes.model
    at = [c.name for c in model.columns].index(column)
    return [model.data(model.index(row, at)) for row in range(model.rowCount())]


def row_of(panel: Any, code: str) -> int:
    return shown(panel).index(code)


def activate(qtbot: Any, window: Any) -> None:
    window.raise_()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)


def test_ctrl_4_opens_all_codes_with_every_code_and_the_counts(qtbot: Any, known: Any) -> None:
    window = known
    window.tabs.setCurrentIndex(0)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    panel = window.all_codes.panel
    assert window.tabs.currentWidget() is panel
    assert window.tabs.tabText(window.tabs.currentIndex()) == "All codes"
    assert window.current_vendor() is None
    assert not window.vendor_menu.menuAction().isVisible()  # no one vendor's menu here
    assert set(shown(panel)) == ALL_CODES
    assert panel.codes.count_label.text() == "9 codes"
    assert panel.total_label.text() == "9 codes"
    numbers = {s: b.text().split()[-1] for s, b in panel.status_buttons.items() if b.isVisible()}
    assert numbers == {
        Status.AVAILABLE: "1",
        Status.ALLOCATED: "5",
        Status.USED: "1",
        Status.EXPIRED: "2",
    }
    vendors = {v: b.text().split()[-1] for v, b in panel.vendor_buttons.items()}
    assert vendors == {O: "3", A: "4", I: "2"}
    # And back: Ctrl+1 is still Optimove.
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is window.panels[O]


def test_all_codes_is_built_ahead_once_a_workspace_opened_and_ctrl_4_only_shows_it(
    qtbot: Any, windows: Any, tmp_path: Path
) -> None:
    """Building the panel costs the GUI thread tens of milliseconds: it is done while the
    window idles after a workspace opened, so Ctrl+4 finds it with its rows."""
    window = windows()
    window.show()
    assert not window.all_codes.built  # nothing built at start: the first paint stays fast
    assert wait_job(qtbot, window.open_workspace(prepared_workspace(tmp_path))).error is None
    assert window.tabs.currentIndex() == 0 and not window.all_codes.built
    qtbot.waitUntil(lambda: window.all_codes.built, timeout=15_000)
    assert window.tabs.currentIndex() == 0  # built behind the scenes, not shown
    panel = window.all_codes.panel
    wait_rows(qtbot, panel)
    assert set(shown(panel)) == ALL_CODES
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is panel
    assert set(shown(panel)) == ALL_CODES  # there at once, no query to wait for


def test_counts_filter_when_clicked_and_follow_each_other(qtbot: Any, known: Any) -> None:
    panel = known.all_codes.panel
    qtbot.mouseClick(panel.status_buttons[Status.EXPIRED], Qt.MouseButton.LeftButton)
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["ALT-EXP", "IMP-OFF"]
    assert panel.status_buttons[Status.EXPIRED].isChecked()
    # The vendor counts are those of the expired codes now.
    assert {v: b.text().split()[-1] for v, b in panel.vendor_buttons.items()} == {
        O: "0",
        A: "1",
        I: "1",
    }
    qtbot.mouseClick(panel.vendor_buttons[I], Qt.MouseButton.LeftButton)
    wait_rows(qtbot, panel)
    assert shown(panel) == ["IMP-OFF"]
    assert panel.vendor_combo.currentText() == "impact.com"
    # Clicked again: that filter goes.
    qtbot.mouseClick(panel.status_buttons[Status.EXPIRED], Qt.MouseButton.LeftButton)
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["IMP-ACTIVE", "IMP-OFF"]
    assert panel.status_buttons[Status.ALLOCATED].text().split()[-1] == "1"


def test_filters_by_vendor_account_program_and_dates_and_search(qtbot: Any, known: Any) -> None:
    panel = known.all_codes.panel
    panel.vendor_combo.setCurrentIndex(panel.vendor_combo.findData("altcraft"))
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["ALT-ATT", "ALT-AVAIL", "ALT-EXP", "ALT-USED"]
    # The account filter offers that vendor's accounts only.
    accounts = [panel.account_combo.itemText(n) for n in range(panel.account_combo.count())]
    assert accounts == ["All accounts", "Shop RU"]
    panel.clear_filters()
    wait_rows(qtbot, panel)
    assert set(shown(panel)) == ALL_CODES
    partners = panel.account_combo.findText("Partners (impact.com)")
    panel.account_combo.setCurrentIndex(partners)
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["IMP-ACTIVE", "IMP-OFF"]
    panel.clear_filters()
    wait_rows(qtbot, panel)

    # A program, from a code's context menu: Only codes of "Spring".
    row = row_of(panel, "IMP-OFF")
    panel.codes.view.selectRow(row)
    from promodesk.qt import QMenu

    menu = QMenu()
    panel._extend_menu(menu)
    only = next(a for a in menu.actions() if a.text() == "Only codes of “Spring”")
    only.trigger()
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["IMP-ACTIVE", "IMP-OFF"]
    assert panel.codes.scope_label.text() == "of “Spring”"
    qtbot.mouseClick(panel.codes.scope_clear, Qt.MouseButton.LeftButton)
    wait_rows(qtbot, panel)
    assert set(shown(panel)) == ALL_CODES

    # Given in October 2026 (the Altcraft codes attached then); the allocations are September's.
    panel.date_column.setCurrentIndex(panel.date_column.findData("given_at"))
    panel.date_from.setDate(QDate(2026, 10, 1))
    panel.date_until.setDate(QDate(2026, 10, 31))
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["ALT-ATT", "ALT-USED"]
    # Expiring up to a day: codes without an expiry are not "before" it.
    panel.date_from.setDate(QDate(2000, 1, 1))  # "any"
    panel.date_column.setCurrentIndex(panel.date_column.findData("expires_at"))
    panel.date_until.setDate(QDate(2027, 6, 30))
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["ALT-ATT", "IMP-ACTIVE"]
    assert panel.date_range()[0] == "expires_at" and panel.date_range()[1] is not None
    panel.clear_filters()
    wait_rows(qtbot, panel)

    # Search: part of a code at every vendor, and a customer id prefix.
    panel.codes.search_box.setText("ACT")
    panel.codes._apply_search()
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["IMP-ACTIVE"]
    panel.codes.search_box.setText("CODE000000")
    panel.codes._apply_search()
    wait_rows(qtbot, panel)
    assert sorted(shown(panel)) == ["CODE0000000", "CODE0000001", "CODE0000002"]
    panel.codes.search_box.setText("nothing-like-it")
    panel.codes._apply_search()
    wait_rows(qtbot, panel)
    assert panel.codes.empty_label.isVisible()
    assert panel.codes.empty_label.text() == "Nothing matches “nothing-like-it”."


def test_sorting_is_done_by_the_store(qtbot: Any, known: Any) -> None:
    panel = known.all_codes.panel
    header = panel.codes.view.horizontalHeader()
    columns = [c.name for c in panel.codes.model.columns]
    header.setSortIndicator(columns.index("vendor"), Qt.SortOrder.DescendingOrder)
    wait_rows(qtbot, panel)
    assert panel.codes.model.query.sort == "vendor" and panel.codes.model.query.descending
    vendors = shown(panel, "vendor")
    assert vendors == ["Optimove"] * 3 + ["impact.com"] * 2 + ["Altcraft"] * 4
    header.setSortIndicator(columns.index("expires_at"), Qt.SortOrder.DescendingOrder)
    wait_rows(qtbot, panel)
    assert shown(panel)[:2] == ["IMP-ACTIVE", "ALT-ATT"]


def test_the_details_pane_shows_the_mapping_and_every_clock(qtbot: Any, known: Any) -> None:
    panel = known.all_codes.panel
    panel.codes.view.selectRow(row_of(panel, "ALT-ATT"))
    qtbot.waitUntil(lambda: "ALT-ATT" in panel.details.toPlainText(), timeout=5_000)
    text = panel.details.toPlainText()
    assert panel.codes.status_combo is not None
    assert panel.codes.status_combo.itemText(0) == "All statuses"  # not the vendors' "states"
    assert "Allocated / attached" in text
    assert "Altcraft says\nattached" in text
    assert "Attached to a customer profile, not used yet" in text
    assert "Shop RU" in text
    # The attach time on all three clocks (tests run with TZ=UTC: this computer is UTC, so
    # those two are said once).
    assert "05 Oct 2026 12:30 MSK · Europe/Moscow" in text
    assert "05 Oct 2026 09:30 UTC · this computer" in text
    assert text.count("05 Oct 2026 09:30") == 1
    # The expiry was a date without a time, in Moscow.
    assert "Expires at 00:00 on 01 Jan 2027 Europe/Moscow" in text
    # The vendor's whole mapping, each state with its status.
    assert "How promodesk reads Altcraft's states" in text
    for state in ("available", "attached", "activated", "expired"):
        assert f"\n{state}\n" in text


def test_the_dates_switch_changes_every_table_and_is_kept(qtbot: Any, known: Any) -> None:
    window = known
    panel = window.all_codes.panel
    model = panel.codes.model
    columns = [c.name for c in model.columns]
    given, expires = columns.index("given_at"), columns.index("expires_at")
    attached = row_of(panel, "ALT-ATT")

    def cell(column: int, row: int = attached) -> str:
        return str(model.data(model.index(row, column)))

    assert window.all_codes.date_actions["local"].isChecked()  # the default
    assert cell(given) == "05 Oct 2026 09:30"
    window.all_codes.date_actions["vendor"].trigger()
    assert cell(given) == "05 Oct 2026 12:30 MSK"
    assert cell(expires) == f"01 Jan 2027 00:00 MSK {DATE_ONLY_MARK}"
    tip = str(model.data(model.index(attached, expires), Qt.ItemDataRole.ToolTipRole))
    assert "Expires at 00:00 on 01 Jan 2027 Europe/Moscow" in tip
    impact = row_of(panel, "IMP-ACTIVE")
    assert cell(expires, impact) == f"01 Jan 2027 00:00 UTC {DATE_ONLY_MARK}"
    assert cell(expires, row_of(panel, "ALT-USED")) == ""
    window.all_codes.date_actions["utc"].trigger()
    assert cell(given) == "05 Oct 2026 09:30 UTC"
    assert cell(expires) == f"31 Dec 2026 21:00 UTC {DATE_ONLY_MARK}"
    assert not window.all_codes.date_actions["vendor"].isChecked()
    # A vendor tab's dates follow the same switch (Altcraft: Attached, in the account's zone).
    codes = window.panels[A].codes
    codes.set_base_filter({})
    qtbot.waitUntil(lambda: not codes.model.busy and codes.model.rowCount() == 4, timeout=10_000)
    names = [c.name for c in codes.model.columns]
    at = [codes.model.value(codes.model.row_at(r), "code") for r in range(4)].index("ALT-ATT")
    attached_cell = codes.model.index(at, names.index("attached"))
    assert codes.model.data(attached_cell) == "05 Oct 2026 09:30 UTC"
    window.all_codes.date_actions["vendor"].trigger()
    assert codes.model.data(attached_cell) == "05 Oct 2026 12:30 MSK"
    assert window.settings.value("view/dates") == "vendor"  # kept for the next start


def test_the_dates_choice_is_read_back_at_start(qtbot: Any, windows: Any, tmp_path: Path) -> None:
    (tmp_path / "settings.ini").write_text("[view]\ndates=utc\n")
    window = windows()
    assert window.all_codes.date_actions["utc"].isChecked()
    assert not window.all_codes.date_actions["local"].isChecked()
    window.all_codes.panel  # noqa: B018 - built: the saved clock is applied
    from promodesk.ui.models.formatting import CLOCK

    assert CLOCK.view.value == "utc"
    window.all_codes.show_dates_in("local")  # (the clock is one per app: leave it as found)


def test_an_empty_workspace_says_what_to_do(qtbot: Any, empty_window: MainWindow) -> None:
    window = empty_window
    window.all_codes.action.trigger()
    panel = window.all_codes.panel
    qtbot.waitUntil(lambda: panel.counts is not None, timeout=10_000)
    wait_rows(qtbot, panel)
    assert panel.codes.empty_label.isVisible()
    text = panel.codes.empty_label.text()
    assert text.startswith("No codes in this workspace yet.")
    assert "Open saved export" in text and "Refresh (F5)" in text
    assert panel.total_label.text() == "0 codes"


def test_an_import_shows_in_all_codes(qtbot: Any, known: Any, tmp_path: Path) -> None:
    window = known
    panel = window.all_codes.panel
    window.all_codes.action.trigger()
    more = write_allocations(tmp_path / "more.csv", allocation_rows(2, start=10))
    assert wait_job(qtbot, window.import_paths([more])).error is None
    qtbot.waitUntil(lambda: "CODE0000011" in shown(panel), timeout=15_000)
    qtbot.waitUntil(lambda: panel.total_label.text() == "11 codes", timeout=15_000)


def test_a_hidden_all_codes_tab_reads_again_once_when_shown(
    qtbot: Any, known: Any, tmp_path: Path
) -> None:
    """Behind another tab it does not query on every change (a bulk run makes hundreds):
    the change shows when the tab does."""
    window = known
    panel = window.all_codes.panel
    window.tabs.setCurrentIndex(0)
    more = write_allocations(tmp_path / "more.csv", allocation_rows(2, start=10))
    assert wait_job(qtbot, window.import_paths([more])).error is None
    qtbot.waitUntil(lambda: window.panels[O].allocations.model.rowCount() == 5, timeout=15_000)
    qtbot.wait(300)  # what a hidden tab would have read by now
    assert "CODE0000011" not in shown(panel) and panel.total_label.text() == "9 codes"
    window.all_codes.action.trigger()
    qtbot.waitUntil(lambda: "CODE0000011" in shown(panel), timeout=15_000)
    qtbot.waitUntil(lambda: panel.total_label.text() == "11 codes", timeout=15_000)


def test_copy_and_find_work_on_all_codes(qtbot: Any, known: Any) -> None:
    window = known
    panel = window.all_codes.panel
    window.all_codes.action.trigger()
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is panel.codes.search_box
    assert window.current_panel() is panel
    panel.codes.view.selectRow(row_of(panel, "ALT-USED"))
    window.copy_action.trigger()
    qtbot.waitUntil(lambda: "ALT-USED" in QApplication.clipboard().text(), timeout=10_000)
    # In the order on screen: the code first.
    assert QApplication.clipboard().text().splitlines()[0].startswith("Code\tStatus\tVendor")


def test_the_layout_of_all_codes_is_kept(qtbot: Any, windows: Any) -> None:
    window = windows()
    window.show()
    window.all_codes.action.trigger()
    window.all_codes.panel.codes.view.horizontalHeader().resizeSection(2, 333)
    close_window(qtbot, window)
    again = windows()
    assert again.all_codes.panel.codes.view.horizontalHeader().sectionSize(2) == 333


def test_a_tab_built_ahead_and_never_shown_keeps_no_layout(
    qtbot: Any, windows: Any, tmp_path: Path
) -> None:
    """Never laid out, its sizes are Qt's placeholders: kept, they would squeeze the next
    session's details pane and freeze its column widths."""
    from promodesk.ui.all_codes import COLUMNS_KEY, LAYOUT_KEY

    window = windows()
    window.show()
    assert wait_job(qtbot, window.open_workspace(prepared_workspace(tmp_path))).error is None
    qtbot.waitUntil(lambda: window.all_codes.built, timeout=15_000)
    settings = window.settings
    close_window(qtbot, window)
    assert settings.value(LAYOUT_KEY) is None and settings.value(COLUMNS_KEY) is None


def test_all_codes_follows_a_sync_and_an_operation_that_adds_a_code(live_window: Any) -> None:
    from datetime import datetime, timedelta

    live = live_window
    window = live.window
    panel = window.all_codes.panel
    live.sync(I)
    # Hidden behind the impact.com tab, All codes reads the change again when it is shown.
    window.all_codes.action.trigger()
    live.wait_for(lambda: panel.counts is not None and panel.counts.by_vendor().get(I) == 25)
    live.wait_for(lambda: panel.codes.model.rowCount() == 25 and not panel.codes.model.busy)
    # An operation that adds a code: it is in All codes without another refresh or import.
    created = live.run(
        I,
        "create",
        {
            "partner_id": 2552842,
            "campaign_id": 1000,
            "code": "FRESH-10",
            "credit_policy": "WINNER",
            "type_": "LI",
            "start_date": datetime.now().astimezone() + timedelta(days=1),
        },
    )
    assert created.error is None and created.result.status == "ok"
    window.all_codes.action.trigger()
    live.wait_for(lambda: "FRESH-10" in shown(panel))
    assert panel.counts is not None
    live.wait_for(lambda: panel.total_label.text() == "26 codes")
    # A change in place (expire) moves the code to Expired at once.
    live.select(live.panel(I).codes, "code", "FRESH-10")
    assert live.run(I, "expire").error is None
    window.all_codes.action.trigger()
    live.wait_for(
        lambda: (
            panel.counts is not None
            and panel.counts.by_status(vendor=I).get(Status.EXPIRED, 0) >= 1
            and "Expired" in shown(panel, "status")
        )
    )
