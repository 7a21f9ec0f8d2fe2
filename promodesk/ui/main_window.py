"""The main window: one tab per vendor over the open workspace, menus, drop target, status."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk import __version__
from promodesk.domain.jobs import Progress, ProgressFn
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QAction,
    QByteArray,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMenu,
    QSettings,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.store import WORKSPACE_SUFFIX
from promodesk.ui.insights import install_insight_views
from promodesk.ui.tasks import Job, TaskRunner
from promodesk.ui.widgets.job_status import JobStatus
from promodesk.ui.widgets.message_bar import MessageBar
from promodesk.ui.wizards import install_wizards

if TYPE_CHECKING:
    from promodesk.qt import QCloseEvent, QDragEnterEvent, QDropEvent, QFileDialog
    from promodesk.services.accounts import AccountsService
    from promodesk.services.workspace_session import WorkspaceSession
    from promodesk.ui.all_codes import AllCodes
    from promodesk.ui.dialogs.accounts import AccountsDialog
    from promodesk.ui.dialogs.history import HistoryDialog
    from promodesk.ui.dialogs.import_history import ImportHistoryDialog
    from promodesk.ui.importing import ImportFlow
    from promodesk.ui.live.install import OnlineSwitch
    from promodesk.ui.live.session import LiveSession
    from promodesk.ui.panels.base import VendorPanel
    from promodesk.ui.row_transfer import RowTransfer
    from promodesk.ui.widgets.message_bar import Action
    from promodesk.ui.workspaces import Workspaces

# The services (asyncio, SQLite, the store) and the panels are imported where they are first
# used, so the window's frame paints before they load. The panels need Qt's enum namespace,
# which PySide6 builds in one go on first touch (~20 ms, 93 enums): nothing the first frame
# shows may touch `Qt`.

log = logging.getLogger("promodesk.ui")

MAX_RECENT = 10
EXPORT_FILTER = (
    "Saved exports (*.csv *.txt *.json *.xml *.promodesk);;"
    "Optimove allocation exports and code files (*.csv *.txt);;"
    "Altcraft / impact.com responses (*.json *.xml);;"
    f"promodesk workspaces (*{WORKSPACE_SUFFIX});;All files (*)"
)
WORKSPACE_FILTER = f"promodesk workspaces (*{WORKSPACE_SUFFIX});;All files (*)"
TAB_ORDER = (Vendor.OPTIMOVE, Vendor.ALTCRAFT, Vendor.IMPACT)


DEFAULT_SIZE = (1400, 860)
FRAME_ALLOWANCE = (16, 48)  # what a window manager's borders and title bar may add


def first_size() -> tuple[int, int]:
    """The size of a first start: the default, or less on a screen it would not fit
    (1400x860 left a 1366x768 laptop's status bar off-screen)."""
    from promodesk.qt import QGuiApplication

    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return DEFAULT_SIZE
    room = screen.availableGeometry()
    return (
        min(DEFAULT_SIZE[0], room.width() - FRAME_ALLOWANCE[0]),
        min(DEFAULT_SIZE[1], room.height() - FRAME_ALLOWANCE[1]),
    )


def _panel_type(vendor: Vendor) -> type[VendorPanel]:
    from promodesk.ui.panels.altcraft import AltcraftPanel
    from promodesk.ui.panels.impact import ImpactPanel
    from promodesk.ui.panels.optimove import OptimovePanel

    types: dict[Vendor, type[VendorPanel]] = {
        Vendor.OPTIMOVE: OptimovePanel,
        Vendor.ALTCRAFT: AltcraftPanel,
        Vendor.IMPACT: ImpactPanel,
    }
    return types[vendor]


class MainWindow(QMainWindow):
    closed = Signal()
    workspace_opened = Signal(object)  # WorkspaceSession
    imported = Signal(object)  # ImportOutcome
    panel_built = Signal(object)  # VendorPanel
    # An unfinished run of kind "wizard" or "upload" to pick up again (History ▸ Resume):
    # (run id, kind). The wizards connect to it.
    resume_requested = Signal(int, str)
    info_refreshed = Signal()  # the open workspace's sources and "as of" were read again
    accounts_changed = Signal()  # an account was added, changed or removed

    def __init__(
        self,
        runner: TaskRunner,
        settings: QSettings,
        *,
        defer_panels: bool = False,
        accounts_path: Path | None = None,
    ) -> None:
        """`defer_panels`: paint the frame (menus, tabs, status bar) first and build each
        panel when it is first needed: `current_panel()` builds the one on screen,
        `build_remaining_panels()` the others (the app calls both right after the first
        paint). `accounts_path`: where account settings live (default: the user's config
        folder)."""
        super().__init__()
        self.accounts_path = accounts_path
        self._accounts: AccountsService | None = None
        self.accounts_dialog: AccountsDialog | None = None
        self.setObjectName("mainWindow")
        self.runner = runner
        self.settings = settings
        self.session: WorkspaceSession | None = None
        self._account_names: dict[int, str] = {}
        self.setWindowTitle("promodesk")
        self.setAcceptDrops(True)
        self.resize(*first_size())

        self.message_bar = MessageBar()
        self._row_transfer: RowTransfer | None = None
        self._workspaces: Workspaces | None = None
        self._importing: ImportFlow | None = None
        self.opening: Job | None = None  # the workspace being opened, if any
        self.import_history: ImportHistoryDialog | None = None
        self.history: HistoryDialog | None = None
        self._live: LiveSession | None = None
        self._ready = False  # menus and status bar built: live work may be installed
        self.online_switch: OnlineSwitch | None = None
        self.panels: dict[Vendor, VendorPanel] = {}
        # Tabs after the vendor tabs (All codes): tab index -> its page, built on first use.
        self.extra_tabs: dict[int, Callable[[], VendorPanel]] = {}
        self.all_codes: AllCodes | None = None
        self.tabs = QTabWidget()
        self.tabs.setObjectName("vendorTabs")
        for vendor in TAB_ORDER:
            page = QWidget() if defer_panels else self._make_panel(vendor)
            self.tabs.addTab(page, vendor.display_name)
        self.tabs.currentChanged.connect(lambda _: self._update_status())

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.message_bar.float_over(central)  # never moves the tables under the pointer
        self._drop_hint: QLabel | None = None

        # Plain labels in the first frame; elided ones (a long workspace name never widens
        # the window) once a workspace is open: their resize handling would load PySide's
        # event types before the first paint (see _elided_status_labels).
        self.offline_label: QLabel = QLabel("Offline")
        self.offline_label.setObjectName("offlineLabel")
        self.workspace_caption = QLabel("Workspace:")
        self.workspace_label: QLabel = QLabel()
        self.workspace_label.setObjectName("workspaceLabel")
        self.index_label = QLabel()
        self.index_label.setObjectName("indexLabel")
        self.index_label.setStyleSheet("color: palette(mid);")
        self.job_status = JobStatus()
        status = self.statusBar()
        status.addWidget(self.offline_label)
        status.addWidget(self.workspace_caption)
        status.addWidget(self.workspace_label, 1)
        status.addPermanentWidget(self.index_label)
        status.addPermanentWidget(self.job_status)
        self.runner.job_started.connect(self._job_started)

        self._build_menus()
        from promodesk.ui.all_codes import install_all_codes  # (the frame's names only)

        install_all_codes(self)
        install_wizards(self)
        install_insight_views(self)
        self._restore_layout()
        self._update_status()
        self._ready = True
        if not defer_panels:
            self.live  # noqa: B018 - its panels are built already: give them live work now

    # -- menus -------------------------------------------------------------------------------

    def _action(self, text: str, slot: Any, shortcut: Any = None, *, tip: str = "") -> QAction:
        action = QAction(text, self)
        # setShortcuts(), not setShortcut(): it binds every key the platform gives a standard
        # action (Copy is also Ctrl+Insert, Refresh also F5), and does not make PySide6 load
        # Qt's whole enum namespace (~20 ms) before the first paint.
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)
        elif shortcut is not None:
            action.setShortcuts([QKeySequence(shortcut)])
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        self.open_export_action = self._action(
            "&Open saved export…",
            self.choose_exports,
            QKeySequence.StandardKey.Open,
            tip=(
                "Import exports saved from Optimove, Altcraft or impact.com (you can also drop "
                "them on the window)"
            ),
        )
        self.new_workspace_action = self._action(
            "&New workspace…",
            lambda: self.workspaces.choose_new(),
            QKeySequence.StandardKey.New,
            tip="Start an empty workspace for your own exports (the Demo stays as it is)",
        )
        self.open_workspace_action = self._action(
            "Open &workspace…",
            self.choose_workspace,
            "Ctrl+Shift+O",
            tip="Switch to another promodesk workspace file",
        )
        self.save_as_action = self._action(
            "&Save workspace as…",
            self.choose_save_target,
            QKeySequence.StandardKey.SaveAs,
            tip="Write the whole workspace to one file you can keep, send or open elsewhere",
        )
        self.import_history_action = self._action(
            "Import &history…",
            self.show_import_history,
            tip="Every file imported into this workspace; remove a wrong one with its rows",
        )
        self.demo_action = self._action("Open the &demo workspace", self.open_demo)
        self.accounts_action = self._action(
            "&Accounts…",
            self.show_accounts,
            "Ctrl+Shift+A",
            tip="Add, edit and test your Optimove, Altcraft and impact.com accounts",
        )
        file_menu.addAction(self.open_export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.new_workspace_action)
        file_menu.addAction(self.open_workspace_action)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addAction(self.import_history_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.demo_action)
        file_menu.addSeparator()
        file_menu.addAction(self.accounts_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        edit_menu = menus.addMenu("&Edit")
        self.copy_action = self._action(
            "&Copy rows",
            lambda: self.row_transfer.copy(self.current_panel().active_browser()),
            QKeySequence.StandardKey.Copy,
            tip="Copy the selected rows, with a header row, to paste into a spreadsheet",
        )
        self.export_rows_action = self._action(
            "&Export rows…",
            lambda: self.row_transfer.choose_export(self.current_panel().active_browser()),
            "Ctrl+E",
            tip="Save the selected rows, or every row the table shows, as a CSV file",
        )
        edit_menu.addAction(self.copy_action)
        edit_menu.addAction(self.export_rows_action)
        edit_menu.addAction(
            self._action(
                "&Find…",
                lambda: self.current_panel().focus_search(),
                QKeySequence.StandardKey.Find,
            )
        )

        view_menu = menus.addMenu("&View")
        for number, vendor in enumerate(TAB_ORDER, start=1):
            view_menu.addAction(
                self._action(
                    vendor.display_name,
                    lambda _=False, n=number - 1: self.tabs.setCurrentIndex(n),
                    f"Ctrl+{number}",
                )
            )
        view_menu.addSeparator()
        self.refresh_action = self._action(
            "&Refresh",
            self.refresh_current,
            QKeySequence.StandardKey.Refresh,
            tip="Read what the picked account has at the vendor (imported files: read the "
            "workspace again)",
        )
        view_menu.addAction(self.refresh_action)
        self.view_menu = view_menu
        self._action("Dismiss message", self.dismiss_messages, "Esc")  # window-wide

        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self._action("&About promodesk", self._about))

    def _make_panel(self, vendor: Vendor) -> VendorPanel:
        panel = _panel_type(vendor)()
        panel.message.connect(self.show_message)
        panel.rows_requested.connect(
            lambda browser, what, rows: self.row_transfer.handle(browser, what, rows)
        )
        panel.source_changed.connect(lambda _source: self._update_status())
        self.panels[vendor] = panel
        self._restore_panel_layout(vendor, panel)
        panel.set_account_names(self._account_names)
        if self._ready:
            panel.attach_live(self.live)  # its source (the filter) before its first rows
        if self.session is not None:
            panel.set_reader(self.session.reader)
        self.panel_built.emit(panel)
        return panel

    def _panel(self, index: int) -> VendorPanel:
        """The panel of tab `index`, built now if it has not been yet."""
        vendor = TAB_ORDER[index]
        if vendor not in self.panels:
            current = self.tabs.currentIndex()
            self.tabs.blockSignals(True)  # the tab is being swapped, not changed by the user
            self.tabs.removeTab(index)
            self.tabs.insertTab(index, self._make_panel(vendor), vendor.display_name)
            self.tabs.setCurrentIndex(current)
            self.tabs.blockSignals(False)
        return self.panels[vendor]

    def build_remaining_panels(self) -> None:
        for index in range(len(TAB_ORDER)):
            self._panel(index)

    def current_panel(self) -> VendorPanel:
        index = self.tabs.currentIndex()
        if index in self.extra_tabs:
            return self.extra_tabs[index]()
        return self._panel(index)

    def panel_of(self, vendor: Vendor) -> VendorPanel:
        return self._panel(TAB_ORDER.index(vendor))

    def show_vendor(self, vendor: Vendor) -> None:
        self.tabs.setCurrentIndex(TAB_ORDER.index(vendor))

    def current_vendor(self) -> Vendor | None:
        """The vendor of the tab on screen (None: All codes, every vendor)."""
        index = max(self.tabs.currentIndex(), 0)
        return TAB_ORDER[index] if index < len(TAB_ORDER) else None

    # -- live work ----------------------------------------------------------------------------

    @property
    def live(self) -> LiveSession:
        """Accounts, operations, Refresh (set up on first use, after the first paint)."""
        if self._live is None:
            from promodesk.ui.live.install import install_live

            self._live = install_live(self)
        return self._live

    def refresh_current(self) -> None:
        """F5: the panel on screen reads its account again (imported files: the workspace)."""
        panel = self.current_panel()
        if panel.live_panel is not None:
            panel.live_panel.refresh()
        else:
            self.refresh()

    def show_history(self) -> HistoryDialog | None:
        from promodesk.ui.dialogs.history import HistoryDialog

        if self.session is None:
            return None
        if self.history is None:
            self.history = HistoryDialog(self)
        self.history.show()
        self.history.raise_()
        self.history.reload()
        return self.history

    def dismiss_messages(self) -> None:
        self.message_bar.dismiss()
        for panel in self.panels.values():
            panel.message_bar.dismiss()

    # -- workspaces ----------------------------------------------------------------------------

    def start(self, workspace: Path | None) -> Job | None:
        """Open what the user asked for, else the last workspace, else the user's own
        workspace (the one `promodesk import` fills), else the demo. A file that went
        missing is not skipped silently: the user is asked what to do."""
        from promodesk.services.paths import default_workspace

        if workspace is not None:
            return self.open_workspace(workspace)
        last = self.settings.value("workspace/last", "", str)
        if last:
            return self.open_workspace(Path(last))
        if default_workspace().exists():
            return self.open_workspace(default_workspace())
        return self.open_demo()

    def open_demo(self) -> Job:
        from promodesk.services.demo import demo_workspace_path, ensure_demo_workspace
        from promodesk.services.workspace_session import WorkspaceSession

        async def work(progress: ProgressFn) -> WorkspaceSession:
            path = await ensure_demo_workspace(progress=progress)
            return await WorkspaceSession.open(path)

        if not demo_workspace_path().exists():
            self.show_message("info", "Preparing the demo workspace from sample exports…")
        return self.track_opening(
            self.runner.start("Opening the demo workspace", work, on_done=self.opened)
        )

    def open_workspace(self, path: Path) -> Job | None:
        """Open a workspace file; one that is not there gets a question, not an error."""
        from promodesk.services.workspace_session import WorkspaceSession

        path = Path(path)
        if not path.exists():
            self.workspaces.missing(path)
            return None

        async def work(_progress: ProgressFn) -> WorkspaceSession:
            return await WorkspaceSession.open(path)

        return self.track_opening(
            self.runner.start(f"Opening {path.name}", work, cancellable=False, on_done=self.opened)
        )

    def track_opening(self, job: Job) -> Job:
        """Imports asked for while a workspace opens wait for it (see ui/importing)."""
        self.opening = job
        job.finished.connect(lambda: self._opening_done(job))
        return job

    def _opening_done(self, job: Job) -> None:
        if self.opening is job:
            self.opening = None

    @property
    def workspaces(self) -> Workspaces:
        if self._workspaces is None:
            from promodesk.ui.workspaces import Workspaces

            self._workspaces = Workspaces(self)
        return self._workspaces

    @property
    def importing(self) -> ImportFlow:
        if self._importing is None:
            from promodesk.ui.importing import ImportFlow

            self._importing = ImportFlow(self)
        return self._importing

    def opened(self, job: Job) -> None:
        from promodesk.services.demo import DEMO_LABEL

        if job.error is not None or job.cancelled:
            if job.error is not None:
                self.show_message(
                    "error",
                    f"Could not open the workspace: {job.error}",
                    action=None if self.session is not None else ("Open the Demo", self.open_demo),
                )
            return
        session: WorkspaceSession = job.result
        previous, self.session = self.session, session
        if previous is not None:
            self.runner.start(
                "Closing the previous workspace",
                lambda _p: previous.close(),
                cancellable=False,
                background=True,
            )
        session.on_index_progress = self._index_progress
        self._account_names = {source.account_id: source.name for source in session.info.sources}
        self.live.workspace_opened()  # each panel's source (its filter) before its rows
        for panel in self.panels.values():
            panel.set_account_names(self._account_names)
            panel.set_reader(session.reader)
        self.settings.setValue("workspace/last", str(session.path))
        self.remember_recent(session.path)
        self._update_status()
        if session.info.label == DEMO_LABEL:
            self.show_message(
                "info",
                "This is the Demo workspace, built from sample exports to look around in. Your "
                "own exports go in a workspace of your own: open or drop them and promodesk "
                "offers one, or make one now.",
                action=("New workspace…", self.workspaces.choose_new),
            )
        elif self.message_bar.isVisible() and self.message_bar.action_button.text() == (
            "New workspace…"
        ):
            self.message_bar.dismiss()  # the Demo's note, about a workspace no longer open
        self.workspace_opened.emit(session)

    def file_dialog(self, name: str, title: str, start: Path, filters: str) -> QFileDialog:
        from promodesk.qt import QFileDialog  # loaded when first asked for, not at start-up

        dialog = QFileDialog(self, title, str(start), filters)
        dialog.setObjectName(name)
        return dialog

    def choose_workspace(self) -> None:
        dialog = self.file_dialog(
            "openWorkspaceDialog", "Open workspace", self._last_folder(), WORKSPACE_FILTER
        )
        dialog.setFileMode(dialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.open_workspace(Path(name)))
        dialog.open()

    def choose_save_target(self) -> None:
        if self.session is None:
            return
        suggested = (
            self._last_folder() / f"{self.session.info.label or 'workspace'}{WORKSPACE_SUFFIX}"
        )
        dialog = self.file_dialog(
            "saveWorkspaceDialog", "Save workspace as", suggested, WORKSPACE_FILTER
        )
        dialog.setAcceptMode(dialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix(WORKSPACE_SUFFIX.lstrip("."))
        dialog.fileSelected.connect(lambda name: self.save_workspace_as(Path(name)))
        dialog.open()

    def save_workspace_as(self, target: Path) -> Job | None:
        session = self.session
        if session is None:
            return None
        if Path(target).resolve() == session.path.resolve():
            self.show_message(
                "info", "That is the workspace's own file; everything in it is already saved."
            )
            return None

        async def work(progress: ProgressFn) -> Path:
            await session.save_as(target, progress=progress)
            return target

        def saved(job: Job) -> None:
            if job.error is not None:
                self.show_message("error", f"Could not save the workspace: {job.error}")
            elif not job.cancelled:
                self.show_message(
                    "info", f"Saved the workspace to {target}. It is now the open workspace."
                )
                self.open_workspace(target)

        return self.runner.start(f"Saving {Path(target).name}", work, on_done=saved)

    @property
    def row_transfer(self) -> RowTransfer:
        """Copy and export of rows (made on first use: it loads the workspace code)."""
        if self._row_transfer is None:
            from promodesk.ui.row_transfer import RowTransfer

            self._row_transfer = RowTransfer(
                self.runner,
                self.message_bar,
                lambda: self.session.path if self.session is not None else None,
                self.settings,
                self,
            )
        return self._row_transfer

    def show_import_history(self) -> ImportHistoryDialog | None:
        from promodesk.ui.dialogs.import_history import ImportHistoryDialog

        session = self.session
        if session is None:
            return None
        if self.import_history is not None:
            self.import_history.close()
            self.import_history.deleteLater()
        dialog = ImportHistoryDialog(session, self.runner, self)
        dialog.removed.connect(lambda _result: self.refresh())
        self.import_history = dialog
        dialog.open()
        dialog.reload()
        return dialog

    # -- accounts ------------------------------------------------------------------------------

    @property
    def accounts(self) -> AccountsService:
        """Made on first use: it imports httpx and the vendor clients (not needed to paint)."""
        if self._accounts is None:
            from promodesk.services.accounts import AccountsService, AccountStore

            self._accounts = AccountsService(AccountStore(self.accounts_path))
        return self._accounts

    def show_accounts(self) -> AccountsDialog:
        from promodesk.ui.dialogs.accounts import AccountsDialog

        if self.accounts_dialog is None:
            self.accounts_dialog = AccountsDialog(self.accounts, self.runner, self)
            self.accounts_dialog.changed.connect(self.accounts_changed.emit)
        self.accounts_dialog.open()
        self.accounts_dialog.raise_()
        return self.accounts_dialog

    # -- importing -----------------------------------------------------------------------------

    def choose_exports(self) -> None:
        dialog = self.file_dialog(
            "openExportDialog", "Open saved export", self._last_folder(), EXPORT_FILTER
        )
        dialog.setFileMode(dialog.FileMode.ExistingFiles)
        dialog.filesSelected.connect(
            lambda names: self.import_paths([Path(name) for name in names])
        )
        dialog.open()

    def import_paths(self, paths: Sequence[Path]) -> Job | None:
        return self.importing.start(paths)

    def refresh(self) -> None:
        session = self.session
        if session is None:
            return
        for panel in self.panels.values():
            panel.refresh()

        async def work(_progress: ProgressFn) -> None:
            await session.refresh_info()

        self.runner.start(
            "Reading workspace details",
            work,
            cancellable=False,
            background=True,
            on_done=lambda _job: self._after_refresh(session),
        )

    def _after_refresh(self, session: WorkspaceSession) -> None:
        if session is self.session:
            self._account_names = {
                source.account_id: source.name for source in session.info.sources
            }
            for panel in self.panels.values():
                panel.set_account_names(self._account_names)
            self._update_status()
            self.info_refreshed.emit()

    def workspace_info_changed(self) -> None:
        """The open workspace's sources and "as of" were read again (a sync, an operation):
        names, the status bar and the panels' sources follow."""
        if self.session is not None:
            self._after_refresh(self.session)

    def update_status(self) -> None:
        self._update_status()

    # -- drag and drop ---------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
            hint = self.drop_hint
            hint.setGeometry(self.centralWidget().rect().adjusted(12, 12, -12, -12))
            hint.raise_()
            hint.show()

    @property
    def drop_hint(self) -> QLabel:
        """The overlay shown while files are dragged over the window (made on first use)."""
        if self._drop_hint is None:
            from promodesk.qt import Qt

            hint = QLabel("Drop files here to import them into the workspace", self.centralWidget())
            hint.setObjectName("dropHint")
            hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
            hint.setStyleSheet(
                "background: rgba(30, 90, 200, 40); border: 3px dashed rgb(30, 90, 200);"
                "font-size: 18px; color: rgb(20, 60, 140); border-radius: 8px;"
            )
            hint.hide()
            self._drop_hint = hint
        return self._drop_hint

    def dragLeaveEvent(self, event: Any) -> None:
        self.drop_hint.hide()

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_hint.hide()
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    # -- status --------------------------------------------------------------------------------

    def show_message(
        self, level: str, text: str, details: str = "", action: Action | None = None
    ) -> None:
        self.message_bar.show_message(level, text, details, action)  # type: ignore[arg-type]

    def _job_started(self, job: Job) -> None:
        if not job.background:
            self.job_status.track(job)

    def _index_progress(self, update: Progress | None) -> None:
        if update is None or update.fraction is None:
            self.index_label.setText("")
            self.index_label.hide()
            return
        self.index_label.setText(f"{update.message} {update.fraction:.0%}")
        self.index_label.setToolTip(
            "Sorting and searching already work; they get faster once this finishes."
        )
        self.index_label.show()

    def _update_status(self) -> None:
        session = self.session
        vendor = self.current_vendor()
        if session is None:
            self.offline_label.setText("Offline")
            self.workspace_caption.hide()
            self.workspace_label.setText("")
            self.setWindowTitle("promodesk")
            return
        self._elided_status_labels()
        panel = self.panels.get(vendor) if vendor is not None else None
        if vendor is None:
            self.offline_label.setText("Every vendor and account in this workspace")
            self.offline_label.setToolTip("All codes shows the workspace on this computer.")
            if self.online_switch is not None:
                self.online_switch.update_for(None)
        elif panel is not None and panel.live_panel is not None and panel.source is not None:
            text, tip = panel.live_panel.status()  # where the panel's rows come from
            self.offline_label.setText(text)
            self.offline_label.setToolTip(tip)
            if self.online_switch is not None:
                self.online_switch.update_for(panel)
        else:
            from promodesk.store.tables import Column
            from promodesk.ui.models.formatting import display

            as_of = session.info.as_of.get(vendor, "")
            when = (
                f"data as of {display(Column('as_of', 'As of', 'datetime'), as_of)}"
                if as_of
                else f"no {vendor.display_name} data yet"
            )
            self.offline_label.setText(f"Offline · {when}")
            self.offline_label.setToolTip(
                "Everything shown comes from the workspace on this computer; no network is used."
            )
        label = session.info.label
        from promodesk.services.demo import DEMO_LABEL

        self.workspace_caption.show()
        # Plain text: a label "<font…>" reads as written. The Demo says what it is.
        self.workspace_label.setText(f"{label} (sample data)" if label == DEMO_LABEL else label)
        self.workspace_label.setToolTip(str(session.path))
        self.setWindowTitle(f"{label} — promodesk")

    def _elided_status_labels(self) -> None:
        """The status bar's labels become elided ones (done once, after the first paint)."""
        from promodesk.ui.widgets.elided_label import ElidedLabel

        if isinstance(self.offline_label, ElidedLabel):
            return
        status = self.statusBar()
        for name, position, stretch in (("offline_label", 0, 0), ("workspace_label", 2, 1)):
            old: QLabel = getattr(self, name)
            new = ElidedLabel()
            new.setObjectName(old.objectName())
            status.removeWidget(old)
            old.deleteLater()
            status.insertWidget(position, new, stretch)
            setattr(self, name, new)
        # Bold by style sheet: QFont and its eight enums need not load for it.
        self.workspace_label.setStyleSheet("font-weight: bold;")

    # -- settings ------------------------------------------------------------------------------

    def _last_folder(self) -> Path:
        folder = self.settings.value("files/last_folder", "", str)
        return Path(folder) if folder and Path(folder).is_dir() else Path.home()

    def remember_recent(self, path: Path) -> None:
        recent = [entry for entry in self._recent() if entry != str(path)]
        recent.insert(0, str(path))
        self.settings.setValue("files/recent", recent[:MAX_RECENT])

    def _recent(self) -> list[str]:
        value = self.settings.value("files/recent", [])
        if isinstance(value, str):
            return [value] if value else []
        return [str(entry) for entry in value or []]

    def _fill_recent_menu(self) -> None:
        from promodesk.services.paths import default_workspace

        self.recent_menu.clear()
        entries = [entry for entry in self._recent() if Path(entry).exists()]
        mine = default_workspace()
        if mine.exists() and str(mine) not in entries:
            entries.append(str(mine))  # the user's own workspace, also filled by the CLI
        if not entries:
            placeholder = self.recent_menu.addAction("No recent files")
            placeholder.setEnabled(False)
            return
        for entry in entries:
            path = Path(entry)
            action = self.recent_menu.addAction(path.name.replace("&", "&&"))  # not a mnemonic
            action.setToolTip(entry)
            action.setStatusTip(entry)
            if path.suffix == WORKSPACE_SUFFIX:
                action.triggered.connect(lambda _=False, p=path: self.open_workspace(p))
            else:
                action.triggered.connect(lambda _=False, p=path: self.import_paths([p]))
        self.recent_menu.addSeparator()
        self.recent_menu.addAction(
            "Clear the list", lambda: self.settings.setValue("files/recent", [])
        )

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        self.tabs.setCurrentIndex(int(self.settings.value("window/tab", 0) or 0))

    def _restore_panel_layout(self, vendor: Vendor, panel: VendorPanel) -> None:
        for number, splitter in enumerate(panel.splitters):
            sizes = self.settings.value(f"layout/{vendor.value}/{number}")
            if isinstance(sizes, QByteArray):
                panel.layout_restored = splitter.restoreState(sizes) or panel.layout_restored
        for browser in panel.browsers:
            header = self.settings.value(f"columns/{browser.spec.name}")
            if isinstance(header, QByteArray):
                browser.view.horizontalHeader().restoreState(header)
                browser._sized_columns = True  # the user's widths win over the automatic ones

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        for vendor, panel in self.panels.items():
            for number, splitter in enumerate(panel.splitters):
                self.settings.setValue(f"layout/{vendor.value}/{number}", splitter.saveState())
            for browser in panel.browsers:
                self.settings.setValue(
                    f"columns/{browser.spec.name}", browser.view.horizontalHeader().saveState()
                )
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.runner.cancel_all()
        event.accept()
        self.closed.emit()

    async def shutdown(self) -> None:
        """After the window closed: let cancelled jobs roll back, close the workspace."""
        await self.runner.shutdown()
        if self.session is not None:
            self.session.on_index_progress = lambda _update: None  # the window is going away
            await self.session.close()
            self.session = None
        if self._accounts is not None:
            await self._accounts.aclose()  # each account's HTTP client, once

    def _about(self) -> None:
        from promodesk.qt import QMessageBox

        box = QMessageBox(self)
        box.setWindowTitle("About promodesk")
        box.setText(
            f"<b>promodesk {__version__}</b><br>Promotions and promo codes on Optimove, Altcraft "
            f"and "
            "impact.com, in one window, online or offline."
        )
        box.open()
