"""What the three vendor panels share: tables over one workspace, a details pane, wiring."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.qt import QApplication, QSplitter, Qt, QVBoxLayout, QWidget, Signal
from promodesk.store.query import Row
from promodesk.ui.panels.account_bar import AccountBar
from promodesk.ui.panels.details import DetailsView
from promodesk.ui.panels.table_browser import TableBrowser
from promodesk.ui.widgets.message_bar import MessageBar

if TYPE_CHECKING:
    import sqlite3

    from promodesk.store.reader import StoreReader
    from promodesk.ui.live.session import LiveSession
    from promodesk.ui.live.sources import Source
    from promodesk.ui.panels.live_panel import PanelLive
    from promodesk.ui.widgets.message_bar import Action

LEFT_SHARE_MAX = 0.34  # of a panel's width, for what to pick from; the codes keep the rest
DETAILS_WIDTH = 230

OPEN_EXPORT_HINT = (
    "To look at a saved export instead, open it (Ctrl+O): it shows under Imported files."
)
EMPTY_HINT = (
    "No {noun} in this workspace yet.\n\n"
    "Open a saved export with File ▸ Open saved export… (Ctrl+O), or drop the file on this window."
)


def status_choices(*statuses: CodeStatus) -> list[tuple[str, str]]:
    return [(status.value.capitalize(), status.value) for status in statuses]


class VendorPanel(QWidget):
    vendor: Vendor
    message = Signal(str, str)
    source_changed = Signal(object)  # the Source it shows now (or its state changed)
    # (browser, "copy" or "export", the RowSet to export or None): the window's RowTransfer
    # does the work, with progress and Cancel in the status bar.
    rows_requested = Signal(object, str, object)
    _read_done = Signal(object)  # (reader, future, then) from the reader thread

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reader: StoreReader | None = None
        self._read_done.connect(self._read_arrived, Qt.ConnectionType.QueuedConnection)
        self.browsers: list[TableBrowser] = []
        self._titles: dict[TableBrowser, str | tuple[str, ...]] = {}
        self.details = DetailsView()
        self._last_browser: TableBrowser | None = None
        self.splitters: list[QSplitter] = []  # their sizes are saved with the window layout
        self.layout_restored = False  # the window restored the user's splitter sizes
        self._left_fitted = False
        self._left_browsers: list[TableBrowser] = []
        # Above the tables: the source picker, Refresh, the panel's work, its operations.
        self.account_bar = AccountBar()
        # The panel's own messages (an operation's outcome, a refresh), over its tables.
        self.message_bar = MessageBar()
        self.live_panel: PanelLive | None = None

    def add_browser(
        self, browser: TableBrowser, *, title_column: str | tuple[str, ...]
    ) -> TableBrowser:
        """`title_column`: what heads the details of a selected row (the first of several
        columns that is not empty, e.g. a file's name, else its id)."""
        self.browsers.append(browser)
        self._titles[browser] = title_column
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
        body = QWidget()  # the tables; the panel's messages float over their bottom edge
        body.setObjectName("panelBody")
        inner = QVBoxLayout(body)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.addWidget(self.splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.account_bar)
        layout.addWidget(body, 1)
        self.message_bar.float_over(body)
        self.splitters.insert(0, self.splitter)
        self._left_browsers = [b for b in self.browsers if b is left or left.isAncestorOf(b)]
        for browser in self._left_browsers:
            browser.contents_known.connect(self._fit_left)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._fit_left()  # a tab shown for the first time has only now been laid out

    def _fit_left(self) -> None:
        """Once, when the tables on the left first show data (and the user has no saved
        layout): make that side as wide as its columns, up to LEFT_SHARE_MAX of the panel, so that a
        first start shows them whole instead of cut at the edge."""
        browsers = self._left_browsers
        total = sum(self.splitter.sizes())
        ready = all(browser.model.rowCount() for browser in browsers[:1])
        if self.layout_restored or self._left_fitted or total < 200 or not ready:
            return
        self._left_fitted = True
        wanted = max(browser.natural_width() for browser in browsers) + 12
        left, _center, details = self.splitter.sizes()
        details = max(details, min(DETAILS_WIDTH, total // 5))  # codes in it stay on one line
        width = max(left, min(wanted, int(total * LEFT_SHARE_MAX)))
        self.splitter.setSizes([width, max(0, total - width - details), details])

    def narrow(
        self,
        parent: TableBrowser,
        child: TableBrowser,
        keys: dict[str, str],
        label: str | Callable[[dict[str, str]], str],
    ) -> None:
        """Selecting a row in `parent` narrows `child` to rows sharing `keys`
        ({child column: parent column}); `label` names the selection ('in {promotion_id}',
        or a function of the row's shown values)."""

        def apply(row: Row | None) -> None:
            if row is None:
                child.set_scope({}, "")
                return
            values = {mine: parent.model.value(row, theirs) for mine, theirs in keys.items()}
            shown = {
                column.name: parent.model.shown_text(row, column) for column in parent.spec.columns
            }
            child.set_scope(values, label(shown) if callable(label) else label.format(**shown))

        parent.current_row_changed.connect(apply)
        child.scope_cleared.connect(parent.clear_selection)

    @property
    def main_browser(self) -> TableBrowser:
        """The codes table the panel opens on."""
        return self.browsers[-1]

    @property
    def last_browser(self) -> TableBrowser | None:
        """The table the user last worked in."""
        return self._last_browser

    def browser_for(self, table: str) -> TableBrowser | None:
        return next((browser for browser in self.browsers if browser.spec.name == table), None)

    # -- live work -----------------------------------------------------------------------------

    def attach_live(self, live: LiveSession) -> PanelLive:
        """Accounts, Refresh and the vendor's operations (once the window's live work is
        set up: after the first paint)."""
        from promodesk.ui.panels.live_panel import PanelLive

        if self.live_panel is None:
            self.live_panel = PanelLive(self, live)
        return self.live_panel

    @property
    def source(self) -> Source | None:
        return self.live_panel.source if self.live_panel is not None else None

    def empty_hint_for(self, browser: TableBrowser, source: Source) -> str:
        """What an empty table says with this source picked."""
        if source.imported:
            return browser.imported_hint
        vendor = source.vendor.display_name
        return (
            f"No {browser.noun}s from {source.name} in this workspace yet.\n\n"
            f"Refresh (F5) reads what {source.name} has at {vendor}. " + OPEN_EXPORT_HINT
        )

    def show_message(
        self, level: str, text: str, details: str = "", action: Action | None = None
    ) -> None:
        self.message_bar.show_message(level, text, details, action)  # type: ignore[arg-type]

    def refresh_details(self) -> None:
        """Show the selected row's fields again (it changed in the workspace)."""
        browser = self._last_browser
        if browser is not None and browser.current_row() is not None:
            self._show_details(browser, browser.current_row(), self._titles[browser])

    def set_reader(self, reader: StoreReader | None) -> None:
        self._reader = reader
        self.details.set_reader(reader)
        for browser in self.browsers:
            browser.set_reader(reader)
        self.workspace_changed()

    def workspace_changed(self) -> None:
        """Another workspace, or new data in it: what panels read besides their tables."""

    def read(self, job: Callable[[sqlite3.Connection], Any], then: Callable[[Any], None]) -> None:
        """Run `job` on the reader thread and hand its result to `then` on the GUI thread
        (dropped if the workspace changed meanwhile or the read failed)."""
        reader = self._reader
        if reader is None:
            return
        try:
            future = reader.submit(job)
        except RuntimeError:  # the workspace is closing
            return

        def deliver(done: Future[Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the panel is gone
                self._read_done.emit((reader, done, then))

        future.add_done_callback(deliver)

    def _read_arrived(self, payload: tuple[Any, Future[Any], Callable[[Any], None]]) -> None:
        reader, future, then = payload
        if reader is self._reader and not future.cancelled() and future.exception() is None:
            then(future.result())

    def set_account_names(self, names: dict[int, str]) -> None:
        self.details.set_account_names(names)

    def refresh(self) -> None:
        for browser in self.browsers:
            browser.refresh()
        self.workspace_changed()

    def active_browser(self) -> TableBrowser:
        focused = QApplication.focusWidget()
        for browser in self.browsers:
            if focused is not None and browser.isAncestorOf(focused):
                return browser
        return self._last_browser or self.browsers[-1]

    def focus_search(self) -> None:
        self.active_browser().focus_search()

    def _show_details(
        self, browser: TableBrowser, row: Row | None, title_column: str | tuple[str, ...]
    ) -> None:
        if row is None:
            if self._last_browser is browser:
                self.details.show_row(browser.spec, None)
            return
        self._last_browser = browser
        names = (title_column,) if isinstance(title_column, str) else title_column
        title = next(
            (str(value) for name in names if (value := browser.model.value(row, name))), ""
        )
        self.details.show_row(browser.spec, browser.model.value(row, "id"), title)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if event.type() == event.Type.FocusIn:
            for browser in self.browsers:
                if watched is browser.view:
                    self._last_browser = browser
        return super().eventFilter(watched, event)
