"""All codes: every code of every vendor and account in one table, on one status scale.

The table is `code_inventory` (store/inventory.py) through the same TableBrowser and model as
the vendor tables: search, sort and every filter are SQL on the reader thread. Above it, the
codes per status and per vendor (the inventory's kept counts: no pass over the codes), each
a button that filters; then the vendor, account and date filters. The details pane shows a
code's vendor state, the status it maps to and why (domain/status.py, the one mapping), and
each of its dates on all three clocks.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from promodesk.domain.dates import DateView
from promodesk.domain.status import LIFECYCLE, Status, rules_for, status_rule
from promodesk.domain.values import CANONICAL_FORMAT
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QComboBox,
    QDate,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    Qt,
    QTextBrowser,
    QTextOption,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.store.tables import CODE_INVENTORY
from promodesk.ui.models.formatting import CLOCK, plural
from promodesk.ui.panels.base import VendorPanel
from promodesk.ui.panels.details import date_html
from promodesk.ui.panels.table_browser import TableBrowser
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    import sqlite3

    from promodesk.domain.jobs import Progress
    from promodesk.store.reader import StoreReader
    from promodesk.store.workspace import SourceInfo

VENDOR_ORDER = (Vendor.OPTIMOVE, Vendor.ALTCRAFT, Vendor.IMPACT)
SHORT_STATUS = {
    Status.AVAILABLE: "Available",
    Status.ALLOCATED: "Allocated",
    Status.USED: "Used",
    Status.EXPIRED: "Expired",
    Status.GONE: "Gone",
}
# A colour per status (the counts' dot and the details pane's status), readable on light and
# dark themes alike.
STATUS_COLOURS = {
    Status.AVAILABLE: "#2e8b57",
    Status.ALLOCATED: "#2f6fd0",
    Status.USED: "#8a4fc7",
    Status.EXPIRED: "#b26a00",
    Status.GONE: "#888888",
}
EMPTY_HINT = (
    "No codes in this workspace yet.\n\n"
    "All codes gathers the codes of every vendor tab. Open a saved export with File ▸ Open "
    "saved export… (Ctrl+O) or drop it on the window; or pick an account in the Optimove, "
    "Altcraft or impact.com tab and Refresh (F5)."
)
# The columns' order on screen (the rest follow in the table's own order).
SHOWN_ORDER = (
    "code",
    "status",
    "vendor",
    "account_id",
    "program",
    "holder",
    "given_at",
    "expires_at",
    "used_at",
    "vendor_state",
)
DETAILS_MIN, DETAILS_WIDE = 280, 330  # the details pane's first width (px)
DATE_COLUMNS = (("given_at", "Given"), ("expires_at", "Expires"))
ANY_DATE = QDate(2000, 1, 1)  # the date edits' "any" (their minimum)
# Any stored date is after this; '' (no date) is before it: a range with only an end still
# leaves out the codes without that date.
EARLIEST = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Counts:
    """The kept counts: codes per (account, vendor, status), and codes not gathered yet."""

    rows: tuple[tuple[int, Vendor, Status, int], ...]
    pending: int

    def total(self, **only: Any) -> int:
        return sum(codes for *key, codes in self.rows if _matches(key, only))

    def by_status(self, **only: Any) -> dict[Status, int]:
        found: dict[Status, int] = {}
        for account, vendor, status, codes in self.rows:
            if _matches((account, vendor, status), only):
                found[status] = found.get(status, 0) + codes
        return found

    def by_vendor(self, **only: Any) -> dict[Vendor, int]:
        found: dict[Vendor, int] = {}
        for account, vendor, status, codes in self.rows:
            if _matches((account, vendor, status), only):
                found[vendor] = found.get(vendor, 0) + codes
        return found


def _matches(key: Sequence[Any], only: dict[str, Any]) -> bool:
    account, vendor, status = key
    return (
        only.get("account_id") in (None, account)
        and only.get("vendor") in (None, vendor)
        and only.get("status") in (None, status)
    )


def read_counts(conn: sqlite3.Connection) -> Counts:
    from promodesk.store.inventory import pending_rows, status_counts

    rows = tuple((c.account_id, c.vendor, c.status, c.codes) for c in status_counts(conn))
    return Counts(rows, pending_rows(conn))


class CountButton(QToolButton):
    """One count at the top ('Available 12,345'); checked while it filters the table."""

    def __init__(self, name: str, colour: str = "") -> None:
        super().__init__()
        self.setObjectName(name)
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.colour = colour
        text = f"color: {colour};" if colour else ""
        self.setStyleSheet(
            f"QToolButton {{ padding: 2px 8px; border-radius: 10px; {text} }}"
            "QToolButton:checked { background: palette(highlight); "
            "color: palette(highlighted-text); }"
        )

    def show_count(self, label: str, count: int) -> None:
        dot = "● " if self.colour else ""
        self.setText(f"{dot}{label}  {count:,}")


class AllCodesDetails(QTextBrowser):
    """The selected code: where it is (vendor, account, program), its vendor's state, the
    status that is, and why; its dates on all three clocks; and the vendor's whole mapping."""

    shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allCodesDetails")
        self.setOpenLinks(False)
        self.setMinimumWidth(180)
        self.setWordWrapMode(QTextOption.WrapMode.WordWrap)
        self.accounts: dict[int, str] = {}
        self._row: dict[str, Any] | None = None
        self.show_placeholder()

    def show_placeholder(self) -> None:
        self._row = None
        self.setHtml(
            "<p style='color:gray'>Select a code to see its status at its vendor, the status "
            "promodesk gives it and why, and its dates in every time zone.</p>"
        )

    def show_code(self, record: dict[str, Any] | None) -> None:
        if record is None:
            self.show_placeholder()
            return
        self._row = record
        self.setHtml(render_code(record, self.accounts))
        self.shown.emit()

    def dates_changed(self) -> None:
        if self._row is not None:
            self.show_code(self._row)


def render_code(record: dict[str, Any], accounts: dict[int, str]) -> str:
    from promodesk.store.inventory import SOURCES_BY_NUMBER

    vendor = Vendor(record["vendor"])
    source = SOURCES_BY_NUMBER.get(int(record["source"]))
    table = source.table if source is not None else ""
    state = str(record["vendor_state"] or "")
    rule = status_rule(vendor, table, state)
    status = rule.status
    account_id = record.get("account_id")
    colour = STATUS_COLOURS[status]
    rows = [
        _row("Status", f"<b style='color:{colour}'>● {html.escape(status.label)}</b>"),
        _row(
            f"{vendor.display_name} says",
            html.escape(state or "(no state: known from an export only)"),
        ),
        _row("Why", html.escape(rule.reason[:1].upper() + rule.reason[1:])),
        _row("Vendor", html.escape(vendor.display_name)),
        _row("Account", html.escape(accounts.get(int(account_id or 0), "") or "—")),
    ]
    if source is not None:
        rows.append(_row("What it is", html.escape(source.what[:1].upper() + source.what[1:])))
    for name in ("program", "pool", "holder"):
        value = record.get(name)
        if value not in (None, ""):
            rows.append(_row(CODE_INVENTORY.column(name).label, html.escape(str(value))))
    for name in ("given_at", "used_at", "expires_at"):
        column = CODE_INVENTORY.column(name)
        value = record.get(name)
        if value:
            rows.append(_row(column.label, date_html(value, account_id, expiry=column.expiry)))
    mapping = "".join(
        f"<tr><td>{html.escape(each.state or '(none)')}</td>"
        f"<td style='color:{STATUS_COLOURS[each.status]}'>{SHORT_STATUS[each.status]}</td>"
        f"<td style='color:gray'>{html.escape(each.reason)}</td></tr>"
        for each in rules_for(vendor, table)
    )
    heading = f"<h3 style='margin:0 0 6px 0'>{html.escape(str(record['code']))}</h3>"
    return (
        heading
        + "<table cellspacing='0' cellpadding='2'>"
        + "".join(rows)
        + "</table>"
        + f"<p style='margin-top:10px'><b>How promodesk reads {vendor.display_name}'s "
        "states</b></p><table cellspacing='0' cellpadding='2'>" + mapping + "</table>"
    )


def _row(label: str, value_html: str) -> str:
    return (
        f"<tr><td style='color:gray; padding-right:10px' valign='top'>{html.escape(label)}</td>"
        f"<td>{value_html}</td></tr>"
    )


class AllCodesPanel(VendorPanel):
    """The All codes tab. A VendorPanel to the window (search, copy, export, F5), over every
    vendor at once."""

    counts_shown = Signal()  # the counts at the top were read again (for tests)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel_all_codes")
        self.details = AllCodesDetails()  # instead of the vendor panels' stored-row pane
        self.counts: Counts | None = None
        self._sources: tuple[SourceInfo, ...] = ()
        self._filters: dict[str, Any] = {}
        self._details_fitted = False
        self.shown_once = False  # laid out on screen at least once (its layout is worth keeping)
        self.codes = self.add_browser(
            TableBrowser(
                CODE_INVENTORY,
                title="All codes",
                noun="code",
                search_placeholder="Search code or customer",
                search_help=(
                    "Finds codes containing the text, at every vendor, or held by a customer or "
                    "partner whose ID or name starts with it"
                ),
                empty_hint=EMPTY_HINT,
                status_filter=(
                    "status",
                    [(SHORT_STATUS[status], status.value) for status in LIFECYCLE],
                ),
                status_unknown="No code here has a status yet.",
            ),
            title_column="code",
        )
        browser = self.codes
        browser.model.set_value_names("vendor", {v.value: v.display_name for v in Vendor})
        browser.model.set_value_names("status", {s.value: SHORT_STATUS[s] for s in Status})
        browser.extend_menu = self._extend_menu
        browser.scope_cleared.connect(lambda: browser.set_scope({}, ""))
        assert browser.status_combo is not None
        browser.status_combo.currentIndexChanged.connect(lambda _i: self._show_counts())

        self.status_buttons: dict[Status, CountButton] = {}
        self.vendor_buttons: dict[Vendor, CountButton] = {}
        counts_row = QHBoxLayout()
        counts_row.setContentsMargins(4, 0, 4, 0)
        counts_row.setSpacing(2)
        self.total_label = QLabel()
        self.total_label.setObjectName("allCodesTotal")
        font = self.total_label.font()
        font.setBold(True)
        self.total_label.setFont(font)
        counts_row.addWidget(self.total_label)
        counts_row.addSpacing(8)
        for status in LIFECYCLE:
            button = CountButton(f"count_{status.value}", STATUS_COLOURS[status])
            button.setToolTip(f"{status.label}: show only these codes (click again for all)")
            button.clicked.connect(lambda _c=False, s=status: self._toggle_status(s))
            self.status_buttons[status] = button
            counts_row.addWidget(button)
        counts_row.addStretch(1)
        for vendor in VENDOR_ORDER:
            button = CountButton(f"count_{vendor.value}")
            button.setToolTip(f"Show only {vendor.display_name}'s codes (click again for all)")
            button.clicked.connect(lambda _c=False, v=vendor: self._toggle_vendor(v))
            self.vendor_buttons[vendor] = button
            counts_row.addWidget(button)
        self.pending_label = QLabel()
        self.pending_label.setObjectName("allCodesPending")
        self.pending_label.setStyleSheet(secondary_text_style(self))
        self.pending_label.hide()

        self.vendor_combo = QComboBox()
        self.vendor_combo.setObjectName("vendorFilter")
        self.vendor_combo.addItem("All vendors", None)
        for vendor in VENDOR_ORDER:
            self.vendor_combo.addItem(vendor.display_name, vendor.value)
        self.vendor_combo.currentIndexChanged.connect(lambda _i: self._vendor_picked())
        self.account_combo = QComboBox()
        self.account_combo.setObjectName("accountFilter")
        self.account_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.account_combo.addItem("All accounts", None)
        self.account_combo.currentIndexChanged.connect(lambda _i: self._apply_filters())
        self.date_column = QComboBox()
        self.date_column.setObjectName("dateColumn")
        for name, label in DATE_COLUMNS:
            self.date_column.addItem(label, name)
        self.date_column.setToolTip("Which date the range is about")
        self.date_from = self._date_edit("dateFrom", "from")
        self.date_until = self._date_edit("dateUntil", "until")
        self.date_column.currentIndexChanged.connect(lambda _i: self._apply_dates())
        self.clear_button = QToolButton()
        self.clear_button.setObjectName("clearFilters")
        self.clear_button.setText("Clear filters")
        self.clear_button.setAutoRaise(True)
        self.clear_button.clicked.connect(self.clear_filters)

        filters = QHBoxLayout()
        filters.setContentsMargins(4, 0, 4, 0)
        filters.setSpacing(6)
        for widget in (
            QLabel("Vendor"),
            self.vendor_combo,
            QLabel("Account"),
            self.account_combo,
            self.date_column,
            self.date_from,
            QLabel("to"),
            self.date_until,
            self.clear_button,
        ):
            filters.addWidget(widget)
        filters.addStretch(1)
        filters.addWidget(self.pending_label)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("allCodesSplitter")
        self.splitter.addWidget(self.codes)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 2)
        self._arrange_columns()
        self.splitter.setCollapsible(0, False)
        self.splitters.append(self.splitter)
        body = QWidget()
        body.setObjectName("panelBody")
        inner = QVBoxLayout(body)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(counts_row)
        layout.addLayout(filters)
        layout.addWidget(body, 1)
        self.message_bar.float_over(body)
        self._show_counts()

    def _arrange_columns(self) -> None:
        """The code first, then what a marketer scans for; where it comes from after (the
        user's own order, saved with the layout, replaces this)."""
        header = self.codes.view.horizontalHeader()
        names = [column.name for column in self.codes.model.columns]
        for position, name in enumerate(SHOWN_ORDER):
            header.moveSection(header.visualIndex(names.index(name)), position)

    def showEvent(self, event: Any) -> None:
        QWidget.showEvent(self, event)  # (no left side to fit, unlike the vendor panels)
        self.shown_once = True
        if not self._details_fitted and not self.layout_restored:
            self._details_fitted = True  # the details pane wide enough for a date's clocks
            total = sum(self.splitter.sizes())
            if total > 400:
                details = max(DETAILS_MIN, min(total // 3, DETAILS_WIDE))
                self.splitter.setSizes([total - details, details])

    def _date_edit(self, name: str, side: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd MMM yyyy")
        edit.setMinimumDate(ANY_DATE)
        edit.setSpecialValueText("any")  # shown at the minimum: no limit on that side
        edit.setDate(ANY_DATE)
        edit.setToolTip(
            f"Only codes with this date {side} this day (days on the clock of View ▸ Dates; "
            "'any': no limit)"
        )
        edit.dateChanged.connect(lambda _d: self._apply_dates())
        return edit

    # -- the window's side -----------------------------------------------------------------------

    def set_reader(self, reader: StoreReader | None) -> None:
        self._reader = reader
        self.details.show_placeholder()
        for browser in self.browsers:
            browser.set_reader(reader)
        self.workspace_changed()

    def set_account_names(self, names: dict[int, str]) -> None:
        self.details.accounts = dict(names)
        self.codes.model.set_value_names("account_id", names)

    def set_sources(self, sources: Sequence[SourceInfo]) -> None:
        """The workspace's accounts, for the account filter (and their names)."""
        self._sources = tuple(sources)
        self._fill_accounts()

    def workspace_changed(self) -> None:
        self.read(read_counts, self._counts_arrived)

    def follow(self) -> None:
        """The workspace changed (a sync, an operation, an import, the inventory fed new
        codes): counts and rows read again, the selection kept."""
        self.codes.refresh_keeping_selection()
        self.workspace_changed()

    def index_progressed(self, update: Progress | None) -> None:
        """The background builder moved on: if it gathered codes, show them."""
        self.read(read_counts, self._counts_maybe_grown)

    def _counts_maybe_grown(self, counts: Counts) -> None:
        before = self.counts
        if before is None or (before.rows, before.pending) != (counts.rows, counts.pending):
            self.codes.refresh_keeping_selection()
        self._counts_arrived(counts)

    def _show_details(self, browser: TableBrowser, row: Any, title_column: Any) -> None:
        if row is None:
            self.details.show_placeholder()
            return
        self._last_browser = browser
        names = browser.spec.column_names
        self.details.show_code(dict(zip(names, row, strict=True)))

    # -- counts ----------------------------------------------------------------------------------

    def _counts_arrived(self, counts: Counts) -> None:
        self.counts = counts
        self._show_counts()

    def _show_counts(self) -> None:
        counts = self.counts or Counts((), 0)
        account = self._filters.get("account_id")
        vendor = Vendor(self._filters["vendor"]) if self._filters.get("vendor") else None
        status_value = self._status_filter()
        status = Status(status_value) if status_value else None
        self.total_label.setText(plural(counts.total(), "code"))
        self.total_label.setToolTip("Every code of every vendor and account in this workspace")
        per_status = counts.by_status(account_id=account, vendor=vendor)
        for each, button in self.status_buttons.items():
            button.show_count(SHORT_STATUS[each], per_status.get(each, 0))
            button.setChecked(each is status)
            button.setVisible(bool(per_status.get(each)) or each is status or each.live)
        per_vendor = counts.by_vendor(account_id=account, status=status)
        for each, button in self.vendor_buttons.items():
            button.show_count(each.display_name, per_vendor.get(each, 0))
            button.setChecked(each is vendor)
        if counts.pending:
            self.pending_label.setText(f"Gathering {plural(counts.pending, 'more code')}…")
            self.pending_label.setToolTip(
                "New codes are being added to All codes in the background; the counts and the "
                "table follow."
            )
        self.pending_label.setVisible(bool(counts.pending))
        self.counts_shown.emit()

    def _status_filter(self) -> str | None:
        combo = self.codes.status_combo
        return combo.currentData() if combo is not None else None

    def _toggle_status(self, status: Status) -> None:
        combo = self.codes.status_combo
        assert combo is not None
        wanted = None if self._status_filter() == status.value else status.value
        combo.setCurrentIndex(max(0, combo.findData(wanted)))
        self._show_counts()

    def _toggle_vendor(self, vendor: Vendor) -> None:
        current = self.vendor_combo.currentData()
        wanted = None if current == vendor.value else vendor.value
        self.vendor_combo.setCurrentIndex(max(0, self.vendor_combo.findData(wanted)))
        self._show_counts()

    # -- filters ---------------------------------------------------------------------------------

    def _vendor_picked(self) -> None:
        self._fill_accounts()
        self._apply_filters()

    def _fill_accounts(self) -> None:
        vendor = self.vendor_combo.currentData()
        kept = self.account_combo.currentData()
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        self.account_combo.addItem("All accounts", None)
        for source in self._sources:
            if vendor in (None, source.vendor.value):
                label = source.name if vendor else f"{source.name} ({source.vendor.display_name})"
                self.account_combo.addItem(label, source.account_id)
        self.account_combo.setCurrentIndex(max(0, self.account_combo.findData(kept)))
        self.account_combo.blockSignals(False)
        if self.account_combo.currentData() != kept:
            self._apply_filters()

    def _apply_filters(self) -> None:
        filters = {
            column: value
            for column, value in (
                ("vendor", self.vendor_combo.currentData()),
                ("account_id", self.account_combo.currentData()),
            )
            if value is not None
        }
        if filters == self._filters:
            return
        self._filters = filters
        hint = EMPTY_HINT
        if filters:
            where = self.vendor_combo.currentText() if "vendor" in filters else ""
            account = self.account_combo.currentText() if "account_id" in filters else ""
            whose = " ".join(part for part in (where, "codes") if part)
            hint = f"No {whose}{f' from {account}' if account else ''} in this workspace yet."
        self.codes.set_base_filter(filters, hint)
        self._show_counts()

    def _apply_dates(self) -> None:
        column = self.date_column.currentData()
        for name, _label in DATE_COLUMNS:
            if name != column:
                self.codes.set_range(name, None, None)
        start = _day_start(self.date_from.date())
        end = _day_start(self.date_until.date(), next_day=True)
        self.codes.set_range(column, start or (EARLIEST if end else None), end)

    def date_range(self) -> tuple[str, str | None, str | None]:
        column = self.date_column.currentData()
        for name, low, high in self.codes.model.query.ranges:
            if name == column:
                return name, low, high
        return column, None, None

    def clear_filters(self) -> None:
        for widget in (self.date_from, self.date_until):
            widget.blockSignals(True)
            widget.setDate(ANY_DATE)
            widget.blockSignals(False)
        self._apply_dates()
        self.vendor_combo.setCurrentIndex(0)
        self.account_combo.setCurrentIndex(0)
        if self.codes.status_combo is not None:
            self.codes.status_combo.setCurrentIndex(0)
        self.codes.set_scope({}, "")
        self.codes.search_box.clear()
        self._show_counts()

    def _extend_menu(self, menu: QMenu) -> None:
        row = self.codes.current_row()
        if row is None:
            return
        model = self.codes.model
        code = str(model.value(row, "code"))
        for column, words in (("program", "of “{}”"), ("pool", "in pool “{}”")):
            value = model.value(row, column)
            if value not in (None, ""):
                menu.addAction(
                    f"Only codes {words.format(value)}",
                    lambda c=column, v=value, w=words: self.codes.set_scope({c: v}, w.format(v)),
                )
        key = model.value(row, "code_key")
        menu.addAction(
            f"The same code at every vendor (“{code}”)",
            lambda: self.codes.set_scope({"code_key": key}, f"same as “{code}”"),
        )


def _day_start(day: QDate, *, next_day: bool = False) -> str | None:
    """The moment a picked day starts, as stored text, on the clock of View ▸ Dates (the
    vendors' own zones differ per code: their days are taken in UTC)."""
    if day == ANY_DATE:
        return None
    picked = date(day.year(), day.month(), day.day())
    if next_day:
        picked = date.fromordinal(picked.toordinal() + 1)
    if CLOCK.view is DateView.LOCAL:
        moment = datetime.combine(picked, time()).astimezone()
    else:
        moment = datetime.combine(picked, time(), tzinfo=UTC)
    return moment.astimezone(UTC).strftime(CANONICAL_FORMAT)
