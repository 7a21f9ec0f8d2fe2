"""How the window gets All codes and View ▸ Dates, in one call (`install_all_codes`).

Called while the window's frame is built (like install_wizards), so this module imports only
the names of the frame: the tab is a placeholder until the panel (ui/panels/all_codes.py),
the date formatting and the services load, a moment after a workspace opened (or when the
tab is first shown, if that comes first). The All codes
tab follows the workspace: a new workspace, new data (an import, a sync, an operation: the
window's `info_refreshed`), and the codes the background builder gathers into the inventory.
View ▸ Dates picks the clock of every date in every table (kept in the settings), and each
account's vendor time zone is read off the GUI thread when the workspace or the accounts
change.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from promodesk.qt import (
    QAction,
    QActionGroup,
    QByteArray,
    QKeySequence,
    QMenu,
    QObject,
    QTimer,
    QWidget,
    Signal,
)

if TYPE_CHECKING:
    import sqlite3

    from promodesk.domain.jobs import Progress
    from promodesk.services.workspace_session import WorkspaceSession
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.panels.all_codes import AllCodesPanel

TITLE = "All codes"
DATES_KEY = "view/dates"  # (ui/models/date_clock.py reads the same key)
DATE_CHOICES = (
    ("vendor", "&Vendor's time zone (each account's setting)"),
    ("local", "&Local time (this computer)"),
    ("utc", "&UTC"),
)
LAYOUT_KEY = "layout/all_codes"
# The panel is built this long after a workspace opened, while the window is idle: building
# it takes 20-40 ms of the GUI thread, which with the tab's first paint made Ctrl+4 stall
# past 50 ms; built ahead, Ctrl+4 only shows it (bench/all_codes_window.py).
PREBUILD_AFTER_MS = 800
COLUMNS_KEY = "columns/code_inventory"


class AllCodes(QObject):
    """The All codes tab of one window, and View ▸ Dates."""

    _zones_read = Signal(object)  # (session, future) from the reader thread

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.index = window.tabs.count()
        self._panel: AllCodesPanel | None = None
        self._made_ahead: AllCodesPanel | None = None  # built, not yet in its tab
        self._behind = False  # the workspace changed while the tab was hidden
        self._live_wired = False
        window.tabs.addTab(QWidget(), TITLE)
        window.extra_tabs[self.index] = lambda: self.panel
        window.tabs.currentChanged.connect(self._tab_changed)
        window.workspace_opened.connect(self._workspace_opened)
        window.info_refreshed.connect(self._data_changed)
        window.accounts_changed.connect(self.read_zones)
        window.panel_built.connect(lambda _panel: self.apply_saved_dates())
        window.closed.connect(self.save_layout)
        self._zones_read.connect(self._zones_arrived)

        menu = window.view_menu
        self.action = QAction(TITLE, window)
        self.action.setObjectName("allCodesAction")
        self.action.setShortcuts([QKeySequence(f"Ctrl+{self.index + 1}")])
        self.action.setStatusTip("Every code of every vendor and account, on one status scale")
        self.action.triggered.connect(lambda: window.tabs.setCurrentIndex(self.index))
        window.addAction(self.action)
        vendor_tabs = [a for a in menu.actions() if a.shortcuts()][: self.index]
        after = menu.actions()[menu.actions().index(vendor_tabs[-1]) + 1]
        menu.insertAction(after, self.action)

        self.dates_menu = QMenu("&Dates in", window)
        self.dates_menu.setObjectName("datesMenu")
        self.date_actions: dict[str, QAction] = {}
        saved = str(window.settings.value(DATES_KEY, "local", str) or "local")
        group = QActionGroup(self)  # one clock at a time (radio marks)
        for value, label in DATE_CHOICES:
            action = QAction(label, group)
            action.setObjectName(f"dates_{value}")
            action.setCheckable(True)
            action.setChecked(value == saved)
            action.triggered.connect(lambda _checked=False, v=value: self.show_dates_in(v))
            self.dates_menu.addAction(action)
            self.date_actions[value] = action
        if not any(action.isChecked() for action in self.date_actions.values()):
            self.date_actions["local"].setChecked(True)
        menu.insertMenu(menu.actions()[menu.actions().index(self.action) + 1], self.dates_menu)

    # -- the tab ---------------------------------------------------------------------------------

    @property
    def built(self) -> bool:
        return self._panel is not None

    @property
    def panel(self) -> AllCodesPanel:
        """The panel (built on first use: it loads the store's inventory and the models)."""
        if self._panel is None:
            panel = self._made_ahead or self._make_panel()
            self._made_ahead = None
            tabs = self.window.tabs
            current = tabs.currentIndex()
            tabs.blockSignals(True)  # the page is swapped in, the user changed nothing
            old = tabs.widget(self.index)
            tabs.removeTab(self.index)
            tabs.insertTab(self.index, panel, TITLE)
            tabs.setCurrentIndex(current)
            tabs.blockSignals(False)
            if old is not None:
                old.deleteLater()
            self._panel = panel
            from promodesk.ui.models.date_clock import date_clock_changed

            date_clock_changed().connect(panel.details.dates_changed)
            session = self.window.session
            if session is not None:
                self._show_workspace(session)
        return self._panel

    def _make_panel(self) -> AllCodesPanel:
        from promodesk.ui.panels.all_codes import AllCodesPanel

        self.apply_saved_dates()
        panel = AllCodesPanel()
        panel.message.connect(self.window.show_message)
        panel.rows_requested.connect(
            lambda browser, what, rows: self.window.row_transfer.handle(browser, what, rows)
        )
        self._restore_layout(panel)
        return panel

    def _tab_changed(self, index: int) -> None:
        if index == self.index and self.window._ready:
            self.panel  # noqa: B018 - built when first shown (after the first paint)
            if self._behind:
                self._follow()
        self.window.update_status()

    def _on_screen(self) -> bool:
        return self.window.tabs.currentIndex() == self.index

    def _workspace_opened(self, session: WorkspaceSession) -> None:
        self.apply_saved_dates()
        self._wire_live()
        # Codes the background builder gathers show as they arrive (the window's own
        # progress label keeps its part).
        shown = session.on_index_progress

        def progressed(update: Progress | None) -> None:
            shown(update)
            if self._panel is not None and self.window.session is session:
                if self._on_screen():
                    self._panel.index_progressed(update)
                else:
                    self._behind = True

        session.on_index_progress = progressed
        if self._panel is not None:
            self._behind = False
            self._show_workspace(session)
        else:
            QTimer.singleShot(PREBUILD_AFTER_MS, self, self._prebuild)
        self.read_zones()

    def _prebuild(self) -> None:
        """Built ahead in two turns of the event loop (the panel, then its place in the tabs
        and its first queries), so that neither stalls the window for long."""
        window = self.window
        if self._panel is None and window.session is not None and window.isVisible():
            if self._made_ahead is None:
                self._made_ahead = self._make_panel()
            QTimer.singleShot(0, self, self._place_ahead)

    def _place_ahead(self) -> None:
        window = self.window
        if (
            self._panel is None
            and self._made_ahead is not None
            and window.session is not None
            and window.isVisible()
        ):
            self.panel  # noqa: B018 - placed in its tab (not shown)
            QTimer.singleShot(0, self, self._lay_out_ahead)

    def _lay_out_ahead(self) -> None:
        """Styled and laid out while hidden (a third turn): Ctrl+4 is then only a paint."""
        panel = self._panel
        if panel is not None and self.window.isVisible() and not panel.isVisible():
            panel.ensurePolished()
            layout = panel.layout()
            if layout is not None:
                layout.activate()

    def _show_workspace(self, session: WorkspaceSession) -> None:
        panel = self.panel
        panel.set_account_names({source.account_id: source.name for source in session.info.sources})
        panel.set_sources(session.info.sources)
        panel.set_reader(session.reader)

    def _data_changed(self) -> None:
        if self._panel is not None and self.window.session is not None:
            if self._on_screen():
                self._follow()
            else:
                # Not read again behind the user's back on every change (a bulk run makes
                # many): once, when the tab is shown.
                self._behind = True
            self.read_zones()

    def _follow(self) -> None:
        session = self.window.session
        self._behind = False
        if self._panel is None or session is None:
            return
        self._panel.set_account_names(
            {source.account_id: source.name for source in session.info.sources}
        )
        self._panel.set_sources(session.info.sources)
        self._panel.follow()

    def _wire_live(self) -> None:
        """Accounts arrive (and change) through the live session: their zones follow."""
        if self._live_wired:
            return
        self._live_wired = True
        self.window.live.sources_changed.connect(self.read_zones)

    # -- View ▸ Dates ----------------------------------------------------------------------------

    def apply_saved_dates(self) -> None:
        from promodesk.ui.models.date_clock import saved_view, set_date_view

        set_date_view(saved_view(self.window.settings.value(DATES_KEY, "local", str)))

    def show_dates_in(self, value: str) -> None:
        from promodesk.ui.models.date_clock import saved_view, set_date_view

        for choice, action in self.date_actions.items():
            action.setChecked(choice == value)
        self.window.settings.setValue(DATES_KEY, value)
        set_date_view(saved_view(value))

    def read_zones(self) -> None:
        """Each workspace source's vendor time zone (its account's setting), read on the
        reader thread; the tables repaint their dates when they change."""
        session = self.window.session
        live = self.window._live  # the accounts, once loaded (never loaded from here)
        accounts = list(live.accounts_loaded or []) if live is not None else []
        if session is None:
            return

        def read(conn: sqlite3.Connection) -> Any:
            from promodesk.services.dates import DateRenderer, account_zones, workspace_sources

            return DateRenderer(account_zones(workspace_sources(conn), accounts))

        try:
            future = session.reader.submit(read)
        except RuntimeError:  # the workspace is closing
            return

        def deliver(done: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the window is gone
                self._zones_read.emit((session, done))

        future.add_done_callback(deliver)

    def _zones_arrived(self, payload: tuple[WorkspaceSession, Any]) -> None:
        session, future = payload
        if session is not self.window.session or future.cancelled() or future.exception():
            return
        from promodesk.ui.models.date_clock import set_zones

        set_zones(future.result())

    # -- layout ----------------------------------------------------------------------------------

    def _restore_layout(self, panel: AllCodesPanel) -> None:
        settings = self.window.settings
        sizes = settings.value(LAYOUT_KEY)
        if isinstance(sizes, QByteArray):
            panel.layout_restored = panel.splitter.restoreState(sizes)
        header = settings.value(COLUMNS_KEY)
        if isinstance(header, QByteArray):
            panel.codes.view.horizontalHeader().restoreState(header)
            panel.codes._sized_columns = True  # the user's widths win

    def save_layout(self) -> None:
        panel = self._panel
        if panel is None or not panel.shown_once:
            return  # built ahead but never laid out: its sizes are not the user's
        settings = self.window.settings
        settings.setValue(LAYOUT_KEY, panel.splitter.saveState())
        settings.setValue(COLUMNS_KEY, panel.codes.view.horizontalHeader().saveState())
        settings.sync()


def install_all_codes(window: MainWindow) -> AllCodes:
    all_codes = AllCodes(window)
    window.all_codes = all_codes
    return all_codes
