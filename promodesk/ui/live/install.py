"""How the window gets live work, in one call (`install_live`, after its first paint): the
LiveSession, each panel's accounts and operations, the vendor menu, View ▸ History and
Running jobs, and the status bar's online/offline switch for the account on screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promodesk.qt import QAction, QKeySequence, QMenu, QToolButton
from promodesk.ui.live.session import LiveSession

if TYPE_CHECKING:
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.panels.base import VendorPanel


class OnlineSwitch(QToolButton):
    """The status bar's switch for the account the current panel shows: online (the panel
    works with the vendor) or offline (the workspace only; changes are disabled)."""

    def __init__(self, window: MainWindow, live: LiveSession) -> None:
        super().__init__()
        self.setObjectName("onlineSwitch")
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.window_ = window
        self.live = live
        self.toggled.connect(self._toggled)
        self._updating = False
        self.hide()

    def update_for(self, panel: VendorPanel | None) -> None:
        source = panel.source if panel is not None else None
        if source is None or source.imported:
            self.hide()
            return
        online = self.live.is_online(source)
        self._updating = True
        self.setChecked(online)
        self._updating = False
        self.setText("● Online" if online else "○ Offline")
        self.setToolTip(
            f"{source.name} is online: the panel works with {source.vendor.display_name}. "
            "Click to work offline."
            if online
            else f"{source.name} is offline: the panel shows the workspace only and changes "
            "are disabled. Click to go online."
        )
        self.show()

    def _toggled(self, on: bool) -> None:
        if self._updating:
            return
        panel = self.window_.current_panel()
        source = panel.source
        if source is None:
            return
        self.live.set_online(source, on)
        if on:
            panel.show_message(
                "info",
                f"{source.name} is online again.",
                action=("Refresh now", lambda: panel.live_panel and panel.live_panel.refresh()),
            )


def mnemonic_title(name: str, others: list[str]) -> str:
    """`name` with an Alt+letter no other menu of the bar has: "&Altcraft", but
    "i&mpact.com" beside "&Insights"."""
    taken = set()
    for text in (other.replace("&&", "") for other in others):
        at = text.find("&")
        if 0 <= at < len(text) - 1:
            taken.add(text[at + 1].lower())
    for at, char in enumerate(name):
        if char.isalnum() and char.lower() not in taken:
            return f"{name[:at]}&{name[at:]}"
    return name


def install_live(window: MainWindow) -> LiveSession:
    live = LiveSession(window)
    switch = OnlineSwitch(window, live)
    window.statusBar().addPermanentWidget(switch)  # bottom right, like a connection light
    window.online_switch = switch

    def follow() -> None:
        vendor = window.current_vendor()
        switch.update_for(window.panels.get(vendor) if vendor is not None else None)

    live.online_changed.connect(lambda _key: (follow(), window.update_status()))
    window.tabs.currentChanged.connect(lambda _index: follow())
    window.accounts_changed.connect(live.load_accounts)
    window.info_refreshed.connect(live.sources_changed.emit)

    vendor_menu = QMenu(window)
    vendor_menu.setObjectName("vendorMenu")
    vendor_menu.setToolTipsVisible(True)
    window.vendor_menu = vendor_menu

    def fill_vendor_menu() -> None:
        vendor_menu.clear()
        panel = window.current_panel()
        vendor_menu.addAction(window.refresh_action)
        if panel.live_panel is not None:
            panel.live_panel.operations.fill_vendor_menu(vendor_menu)

    def title_vendor_menu() -> None:
        vendor = window.current_vendor()  # (None on All codes: every vendor, no menu)
        vendor_menu.menuAction().setVisible(vendor is not None)
        if vendor is not None:
            bar = window.menuBar()
            others = [a.text() for a in bar.actions() if a != vendor_menu.menuAction()]
            vendor_menu.setTitle(mnemonic_title(vendor.display_name, others))

    vendor_menu.aboutToShow.connect(fill_vendor_menu)
    window.tabs.currentChanged.connect(lambda _index: title_vendor_menu())
    title_vendor_menu()
    # After View, before Create and Help: the menus of what is on screen come first.
    bar = window.menuBar()
    later = [a for a in bar.actions() if a.menu() and a.menu().objectName() == "createMenu"]
    bar.insertMenu(later[0] if later else bar.actions()[-1], vendor_menu)

    history = QAction("&History…", window)
    history.setObjectName("historyAction")
    history.setShortcuts([QKeySequence("Ctrl+H")])
    history.setStatusTip("Every change made through promodesk, and work left unfinished")
    history.triggered.connect(lambda: window.show_history())
    jobs = QAction("Running &jobs…", window)
    jobs.setObjectName("jobsAction")
    jobs.setShortcuts([QKeySequence("Ctrl+J")])
    jobs.setStatusTip("Every job running now, each with its own Cancel")
    jobs.triggered.connect(lambda: window.job_status.show_list())
    window.addAction(history)
    window.addAction(jobs)
    window.view_menu.addSeparator()
    window.view_menu.addAction(history)
    window.view_menu.addAction(jobs)
    window.history_action = history

    for panel in window.panels.values():
        panel.attach_live(live)
    return live
