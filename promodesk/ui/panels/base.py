"""What the three vendor panels share: tables over one workspace, a details pane, wiring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.qt import QApplication, QSplitter, Qt, QVBoxLayout, QWidget, Signal
from promodesk.store.query import Row
from promodesk.ui.panels.details import DetailsView
from promodesk.ui.panels.table_browser import TableBrowser

if TYPE_CHECKING:
    from promodesk.store.reader import StoreReader

EMPTY_HINT = (
    "No {noun} in this workspace yet.\n\n"
    "Open a saved export with File ▸ Open saved export… (Ctrl+O), or drop the file on this window."
)


def status_choices(*statuses: CodeStatus) -> list[tuple[str, str]]:
    return [(status.value.capitalize(), status.value) for status in statuses]


class VendorPanel(QWidget):
    vendor: Vendor
    message = Signal(str, str)
    # (browser, "copy" or "export", the RowSet to export or None): the window's RowTransfer
    # does the work, with progress and Cancel in the status bar.
    rows_requested = Signal(object, str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.browsers: list[TableBrowser] = []
        self.details = DetailsView()
        self._last_browser: TableBrowser | None = None
        self.splitters: list[QSplitter] = []  # their sizes are saved with the window layout

    def add_browser(self, browser: TableBrowser, *, title_column: str) -> TableBrowser:
        self.browsers.append(browser)
        browser.message.connect(self.message.emit)
        browser.copy_requested.connect(lambda: self.rows_requested.emit(browser, "copy", None))
        browser.export_requested.connect(
            lambda rows: self.rows_requested.emit(browser, "export", rows)
        )
        browser.current_row_changed.connect(
            lambda row, browser=browser: self._show_details(browser, row, title_column)
        )
        browser.view.installEventFilter(self)
        return browser

    def arrange(
        self, left: QWidget, center: QWidget, *, stretch: tuple[int, int, int] = (3, 6, 2)
    ) -> None:
        """Left: what to pick from; centre: its codes; right: details of the selected row."""
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(f"{self.vendor.value}Splitter")
        for position, widget in enumerate((left, center, self.details)):
            self.splitter.addWidget(widget)
            self.splitter.setStretchFactor(position, stretch[position])
            self.splitter.setCollapsible(position, position == 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.splitters.insert(0, self.splitter)

    def narrow(
        self, parent: TableBrowser, child: TableBrowser, keys: dict[str, str], label: str
    ) -> None:
        """Selecting a row in `parent` narrows `child` to rows sharing `keys`
        ({child column: parent column}); `label` names the selection ('in {promotion_id}')."""

        def apply(row: Row | None) -> None:
            if row is None:
                child.set_scope({}, "")
                return
            values = {mine: parent.model.value(row, theirs) for mine, theirs in keys.items()}
            shown = {name: parent.model.value(row, name) for name in parent.spec.column_names}
            child.set_scope(values, label.format(**shown))

        parent.current_row_changed.connect(apply)
        child.scope_cleared.connect(parent.clear_selection)

    @property
    def main_browser(self) -> TableBrowser:
        """The codes table the panel opens on."""
        return self.browsers[-1]

    def set_reader(self, reader: StoreReader | None) -> None:
        self.details.set_reader(reader)
        for browser in self.browsers:
            browser.set_reader(reader)

    def set_account_names(self, names: dict[int, str]) -> None:
        self.details.set_account_names(names)

    def refresh(self) -> None:
        for browser in self.browsers:
            browser.model.refresh()

    def active_browser(self) -> TableBrowser:
        focused = QApplication.focusWidget()
        for browser in self.browsers:
            if focused is not None and browser.isAncestorOf(focused):
                return browser
        return self._last_browser or self.browsers[-1]

    def focus_search(self) -> None:
        self.active_browser().focus_search()


    def _show_details(self, browser: TableBrowser, row: Row | None, title_column: str) -> None:
        if row is None:
            if self._last_browser is browser:
                self.details.show_row(browser.spec, None)
            return
        self._last_browser = browser
        self.details.show_row(
            browser.spec,
            browser.model.value(row, "id"),
            str(browser.model.value(row, title_column)),
        )

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if event.type() == event.Type.FocusIn:
            for browser in self.browsers:
                if watched is browser.view:
                    self._last_browser = browser
        return super().eventFilter(watched, event)
