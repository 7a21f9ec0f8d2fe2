"""What the wizards share: the wizard frame (jobs, Cancel, Escape), account and file pickers,
progress, the list of steps, a small table model for results, and plain-text labels.

Every wizard is opened with `open()` and runs its work through the window's TaskRunner, so
network and file work never blocks the window and the status bar shows it like any job.
Escape or Cancel while a job runs stops the job first (what it did stays on record and can
be resumed); pressed again, it closes the wizard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import Progress
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QModelIndex,
    QPersistentModelIndex,
    QProgressBar,
    QPushButton,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
    Signal,
)
from promodesk.ui.widgets.plain import plain_tooltip
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    from promodesk.qt import QDragEnterEvent, QDropEvent, QKeyEvent
    from promodesk.services.accounts import Account
    from promodesk.services.wizard_runs import Step
    from promodesk.ui.tasks import Job
    from promodesk.ui.wizards import Wizards

AnyIndex = QModelIndex | QPersistentModelIndex
# The wizards fit a 1366x768 laptop with the window manager's frame and a taskbar.
SIZE = (800, 600)


def plain_label(text: str = "", *, secondary: bool = False, name: str = "") -> QLabel:
    """A wrapped label that shows data as written (a file called "<b>x.csv" is not bold)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if secondary:
        label.setStyleSheet(secondary_text_style(label))
    if name:
        label.setObjectName(name)
    return label


def count_words(count: int, noun: str, plural: str = "") -> str:
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


class WizardRefusal(Exception):
    """What a wizard cannot do, in a marketer's words (a file with too many codes)."""


class _Refused:
    def __init__(self, error: BaseException) -> None:
        self.error = error


# What a wizard's work may refuse in words (the window's runner already knows vendor, file and
# workspace errors), by module and class: an error of a module not loaded yet cannot be one of
# them, so checking costs no import (the operation tables take ~80 ms to import).
REFUSALS = (
    ("promodesk.services.wizard_runs", "PlanError"),
    ("promodesk.services.operations.executor", "InputError"),
    ("promodesk.services.operations.executor", "NotAllowed"),
    ("promodesk.services.codes", "AllocationExportError"),
    ("promodesk.services.impact_batch", "ImpactFileError"),
)


def is_refusal(error: BaseException) -> bool:
    import sys

    if isinstance(error, WizardRefusal):
        return True
    for module, name in REFUSALS:
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(error, getattr(loaded, name)):
            return True
    return False


class WizardBase(QWizard):
    """A wizard of promodesk: sized for a laptop, its jobs on the window's runner."""

    busy_changed = Signal(bool)

    def __init__(self, hub: Wizards, title: str, name: str) -> None:
        super().__init__(hub.window)
        self.hub = hub
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.job: Job | None = None
        screen = hub.window.screen()
        room = screen.availableGeometry() if screen is not None else None
        width, height = SIZE
        if room is not None:
            width, height = min(width, room.width() - 40), min(height, room.height() - 60)
        self.resize(width, height)

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.done

    def start(
        self,
        title: str,
        work: Callable[[Callable[[Progress], None]], Any],
        on_done: Callable[[Job], None],
        *,
        progress: ProgressBox | None = None,
    ) -> Job:
        """Run `work` as the wizard's job (one at a time); `on_done(job)` when it ends. A
        refusal in words (a plan that cannot run, inputs a model refuses, an export that
        cannot be made) ends the job with `job.error` set, like a vendor's refusal."""

        async def guarded(report: Callable[[Progress], None]) -> Any:
            try:
                return await work(report)
            except Exception as error:
                if not is_refusal(error):
                    raise
                return _Refused(error)

        def done(job: Job) -> None:
            if isinstance(job.result, _Refused):
                job.error, job.result = job.result.error, None
            if self.job is job:
                self.job = None
            try:
                on_done(job)
            finally:
                self.busy_changed.emit(False)
                self._update_buttons()

        job = self.hub.runner.start(title, guarded, on_done=done)
        self.job = job
        if progress is not None:
            progress.follow(job)
        self.busy_changed.emit(True)
        self._update_buttons()
        return job

    def _update_buttons(self) -> None:
        page = self.currentPage()
        if page is not None:
            page.completeChanged.emit()
        # Through the wizard: it sets its buttons' texts again on every page change.
        self.setButtonText(QWizard.WizardButton.CancelButton, "Stop" if self.busy else "Cancel")
        cancel = self.button(QWizard.WizardButton.CancelButton)
        cancel.setToolTip(
            "Stop what is running; what is done stays done and can be resumed" if self.busy else ""
        )

    def reject(self) -> None:
        if self.busy and self.job is not None:
            self.job.cancel()  # the first Cancel (or Escape) stops the job, not the wizard
            return
        super().reject()

    def done(self, result: int) -> None:
        super().done(result)
        self.hub.closed(self)


class WizardPageBase(QWizardPage):
    """A page whose Next/Finish waits for the wizard's job."""

    def wizard_base(self) -> WizardBase:
        wizard = self.wizard()
        assert isinstance(wizard, WizardBase)
        return wizard

    def isComplete(self) -> bool:
        wizard = self.wizard()
        if isinstance(wizard, WizardBase) and wizard.busy:
            return False
        return self.ready()

    def ready(self) -> bool:
        return super().isComplete()

    def changed(self) -> None:
        self.completeChanged.emit()


class ProgressBox(QWidget):
    """What a job is doing, with a bar (busy when the total is unknown)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = plain_label(name="progressText")
        self.bar = QProgressBar()
        self.bar.setObjectName("progressBar")
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.hide()

    def follow(self, job: Job) -> None:
        self.show()
        self.bar.show()
        self.label.setText(job.title + "…")
        self.bar.setRange(0, 0)
        job.progressed.connect(lambda update, job=job: self._progressed(job, update))
        self._job = job

    _job: Job | None = None

    def _progressed(self, job: Job, update: Progress) -> None:
        if job is not self._job or job.done:
            return  # a later job (or the end) has the word now
        if update.message:
            self.label.setText(update.message)
        fraction = update.fraction
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))

    def finish(self, text: str) -> None:
        """The job ended: `text` says how, and the bar goes (a full bar after a failure
        would read as success)."""
        self.show()
        self.label.setText(text)
        self.bar.hide()


def offer_choices(combo: QComboBox, choices: Sequence[str]) -> None:
    """An editable box's list, replaced without losing what is typed (and without signals)."""
    typed = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(list(choices))
    combo.setEditText(typed)
    combo.blockSignals(False)


def offer_from_workspace(
    hub: Wizards, combo: QComboBox, sql: str, params: Sequence[Any] = ()
) -> None:
    """The ids `sql` finds in the workspace (read off the GUI thread), offered in `combo`."""

    def read(conn: Any) -> list[str]:
        return [str(value) for (value,) in conn.execute(sql, tuple(params))]

    hub.read(read, lambda found: offer_choices(combo, found or []))


class AccountPicker(QComboBox):
    """The accounts of one vendor (the built-in sandbox first), loaded off the GUI thread;
    the last one used is chosen again."""

    loaded = Signal()

    def __init__(self, hub: Wizards, vendor: Vendor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hub = hub
        self.vendor = vendor
        self.setObjectName(f"{vendor.value}Account")
        self.setMinimumContentsLength(24)
        self.ready = False
        # Item data holds the account's id: a Python object kept in a QVariant outlives the
        # combo box badly (PySide frees it again at garbage collection).
        self.accounts: list[Account] = []
        self.currentIndexChanged.connect(self._remember)
        hub.load_accounts(vendor, self._fill)

    def _fill(self, accounts: list[Account]) -> None:
        last = self.wanted or self.hub.settings_value(f"wizards/account/{self.vendor.value}")
        self.blockSignals(True)
        self.clear()
        self.accounts = list(accounts)
        for account in accounts:
            text = (
                f"{account.name} (built-in practice account, no network)"
                if account.sandbox
                else account.name
            )
            self.addItem(text, account.id)
        chosen = next((n for n, a in enumerate(accounts) if a.id == last), 0)
        self.setCurrentIndex(chosen if accounts else -1)
        self.blockSignals(False)
        self.ready = True
        self.loaded.emit()
        self.currentIndexChanged.emit(self.currentIndex())

    def _remember(self, _index: int) -> None:
        account = self.account()
        if account is not None and self.ready:
            self.hub.set_settings_value(f"wizards/account/{self.vendor.value}", account.id)

    def account(self) -> Account | None:
        row = self.currentIndex()
        return self.accounts[row] if 0 <= row < len(self.accounts) else None

    def choose(self, account_id: str) -> bool:
        """Select an account; asked before the accounts are loaded, it is chosen then."""
        if not self.ready:
            self.wanted = account_id
            return True
        row = self.findData(account_id)
        if row >= 0:
            self.setCurrentIndex(row)
        return row >= 0

    wanted = ""


class PathField(QWidget):
    """A file name with a Choose… button (the file dialog is `open()`ed, never exec'd)."""

    changed = Signal(str)

    def __init__(
        self,
        *,
        save: bool,
        filters: str = "CSV files (*.csv *.txt);;All files (*)",
        name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.save = save
        self.filters = filters
        self.edit = QLineEdit()
        if name:
            self.edit.setObjectName(name)
        self.edit.textChanged.connect(self.changed)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.clicked.connect(self.choose)
        self.dialog: QFileDialog | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.choose_button)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_path(self, path: Path | None) -> None:
        self.edit.setText(str(path) if path is not None else "")

    def choose(self) -> QFileDialog:
        current = self.path()
        start = str(current) if current is not None else str(Path.home())
        dialog = QFileDialog(self, "Save as" if self.save else "Choose a file", start)
        dialog.setNameFilters(self.filters.split(";;"))
        if self.save:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setDefaultSuffix("csv")
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(lambda name: self.set_path(Path(name)))
        self.dialog = dialog
        dialog.open()
        return dialog


def local_files(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class FileList(QListWidget):
    """Files to work on: added with a button or dropped on it; Delete removes the selected."""

    files_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeFiles")
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)

    def paths(self) -> list[Path]:
        return [Path(self.item(row).data(Qt.ItemDataRole.UserRole)) for row in range(self.count())]

    def add(self, paths: Sequence[Path]) -> None:
        known = set(self.paths())
        for path in paths:
            path = Path(path)
            if path in known:
                continue
            known.add(path)
            item = QListWidgetItem(path.name)
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(plain_tooltip(str(path)))
            self.addItem(item)
        self.files_changed.emit()

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            self.takeItem(self.row(item))
        self.files_changed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selectedItems():
            self.remove_selected()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: Any) -> None:
        event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_files(event)
        if paths:
            event.acceptProposedAction()
            self.add(paths)


STEP_WORDS = {
    "pending": ("○", "not done yet"),
    "running": ("…", "working on it"),
    "ok": ("✓", "done"),
    "skipped": ("✓", "done"),
    "failed": ("✗", "failed"),
    "unknown": ("?", "not known whether it was done"),
}


def step_text(step: Step) -> str:
    """'✓  Created promotion Winter sale (winter-sale-3fa2)', '?  promocode pc-1: not known
    whether it was done — Optimove: the service failed (HTTP 500)'."""
    mark, words = STEP_WORDS.get(step.status, ("?", step.status))
    if step.status in ("ok", "skipped") and step.message:
        return f"{mark}  {step.message}"
    text = f"{mark}  {step.target}: {words}"
    if step.message and step.status in ("failed", "unknown"):
        text += f" — {step.message}"
    return text


class StepList(QListWidget):
    """The steps of a plan and where each stands."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("steps")
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def set_steps(self, steps: Sequence[Step]) -> None:
        self.clear()
        for step in steps:
            item = QListWidgetItem(step_text(step))
            item.setData(Qt.ItemDataRole.UserRole, step.position)
            item.setToolTip(plain_tooltip(step_text(step)))
            self.addItem(item)

    def update_step(self, step: Step) -> None:
        for row in range(self.count()):
            item = self.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == step.position:
                item.setText(step_text(step))
                item.setToolTip(plain_tooltip(step_text(step)))
                return

    def texts(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count())]


class RowsModel(QAbstractTableModel):
    """A few thousand rows of text held in memory (results of a wizard's run, a review):
    not for workspace tables, which page through SQLite (ui/models/store_table.py)."""

    def __init__(
        self,
        headers: Sequence[str],
        *,
        numeric: Sequence[int] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.headers = list(headers)
        self.numeric = frozenset(numeric)
        self.rows: list[tuple[str, ...]] = []

    def set_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        self.beginResetModel()
        self.rows = [self._row(row) for row in rows]
        self.endResetModel()

    def append(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        first = len(self.rows)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        self.rows.extend(self._row(row) for row in rows)
        self.endInsertRows()

    def replace(self, row: int, values: Sequence[Any]) -> None:
        if not 0 <= row < len(self.rows):
            return
        self.rows[row] = self._row(values)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.headers) - 1))

    def _row(self, values: Sequence[Any]) -> tuple[str, ...]:
        cells = tuple("" if value is None else str(value) for value in values)
        return (cells + ("",) * len(self.headers))[: len(self.headers)]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        if not 0 <= index.column() < len(self.headers):
            return None
        value = self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(value) if value else None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in self.numeric:
            return int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def column(self, column: int) -> list[str]:
        return [row[column] for row in self.rows]


def table_view(model: QAbstractTableModel, name: str, *, stretch: int = -1) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setTabKeyNavigation(False)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(stretch < 0)
    if stretch >= 0:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def fit_columns(view: QTableView, *, widest: int = 260) -> None:
    """Columns as wide as their contents (up to `widest`), measured once on the rows shown."""
    header = view.horizontalHeader()
    for section in range(header.count()):
        if header.sectionResizeMode(section) == QHeaderView.ResizeMode.Stretch:
            continue
        view.resizeColumnToContents(section)
        header.resizeSection(section, min(header.sectionSize(section), widest))


def buttons_row(*buttons: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    return row


def default_sibling(path: Path, suffix: str) -> Path:
    """`spring.csv` -> `spring-fixed.csv` beside it."""
    return path.with_name(f"{path.stem}-{suffix}.csv")
