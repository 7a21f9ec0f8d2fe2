"""File ▸ Import history…: every import into the workspace, and taking a wrong one back.

The list comes from the workspace's import history (file, what it was, source, rows, when).
"Remove this import…" asks first, then deletes the import with the rows it added (rows that
were there before it stay, and so do those the vendor has confirmed since), as one
transaction with progress and Cancel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import ProgressFn
from promodesk.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QModelIndex,
    QPersistentModelIndex,
    QPushButton,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.store.importers.base import ImportKind
from promodesk.store.tables import Column
from promodesk.ui.models.formatting import display, plain_tooltip, plural
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    from promodesk.services.workspace_session import WorkspaceSession
    from promodesk.store.imports import ImportRecord, RemovalResult
    from promodesk.ui.tasks import Job, TaskRunner

AnyIndex = QModelIndex | QPersistentModelIndex
_WHEN = Column("imported_at", "Imported", "datetime")
_AS_OF = Column("as_of", "Data as of", "datetime")
HEADERS = ("File", "What", "Source", "Rows added", "Imported", "Data as of")


def kind_text(kind: str) -> str:
    try:
        return ImportKind(kind).description
    except ValueError:
        return kind


class ImportHistoryModel(QAbstractTableModel):
    """The imports of one workspace, newest first (a few hundred at most: held in memory)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[ImportRecord] = []

    def set_records(self, records: list[ImportRecord]) -> None:
        self.beginResetModel()
        self.records = list(records)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.records):
            return None
        record = self.records[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(record, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0:
                return plain_tooltip(record.file_path)
            if column == 3:
                return plain_tooltip(
                    f"{record.rows_read:,} rows read; {record.rows_added:,} new or changed"
                )
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 3:
            return int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
        return None

    @staticmethod
    def _text(record: ImportRecord, column: int) -> str:
        if column == 0:
            return record.file_name
        if column == 1:
            return kind_text(record.kind)
        if column == 2:
            return record.source or "—"
        if column == 3:
            return f"{record.rows_added:,}"
        if column == 4:
            return display(_WHEN, record.imported_at)
        return display(_AS_OF, record.as_of)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class ImportHistoryDialog(QDialog):
    removed = Signal(object)  # RemovalResult: the window refreshes its tables

    def __init__(
        self, session: WorkspaceSession, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("importHistoryDialog")
        self.setWindowTitle(f"Import history — {session.info.label}")
        self.session = session
        self.runner = runner
        self.confirmation: QMessageBox | None = None
        self.model = ImportHistoryModel(self)
        self.view = QTableView()
        self.view.setObjectName("importHistory")
        self.view.setTabKeyNavigation(False)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._update())
        self.note = QLabel()
        self.note.setObjectName("importNote")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.setStyleSheet(secondary_text_style(self))
        self.remove_button = QPushButton("Remove this import…")
        self.remove_button.setObjectName("removeImport")
        self.remove_button.clicked.connect(self.confirm_remove)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.remove_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Every file imported into this workspace. Remove an import to take back the rows "
            "it added, for example a file imported into the wrong program."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self.view, 1)
        # In the table's place while there is nothing to list.
        self.empty = QLabel(
            "Nothing has been imported into this workspace yet. File ▸ Open saved export… "
            "(Ctrl+O) brings a file in, or drop files on the window."
        )
        self.empty.setObjectName("noImports")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(secondary_text_style(self) + " padding: 24px;")
        self.empty.hide()
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        self.resize(880, 420)
        self._update()

    def reload(self) -> Job:
        async def work(_progress: ProgressFn) -> list[ImportRecord]:
            return await self.session.list_imports()

        def loaded(job: Job) -> None:
            if job.error is not None:
                self.note.setText(f"Could not read the import history: {job.error}")
                return
            self.model.set_records(job.result)
            listed = self.model.rowCount() > 0
            self.view.setVisible(listed)
            self.empty.setVisible(not listed)
            if listed:
                self.view.selectRow(0)
            self._update()

        return self.runner.start(
            "Reading the import history",
            work,
            cancellable=False,
            background=True,
            on_done=loaded,
        )

    def selected(self) -> ImportRecord | None:
        index = self.view.currentIndex()
        return self.model.records[index.row()] if index.isValid() else None

    def _update(self) -> None:
        record = self.selected()
        self.remove_button.setEnabled(record is not None and record.removable)
        if not self.model.rowCount():
            self.note.setText("")  # (the list's place says so)
        elif record is None:
            self.note.setText("Select an import to see what removing it would do.")
        elif not record.removable:
            self.note.setText(
                f"{record.file_name} was imported by an older promodesk, which did not keep "
                "which rows each import added, so it cannot be removed on its own."
            )
        else:
            self.note.setText(
                f"Removing {record.file_name} takes back the {plural(record.rows_added, 'row')} "
                "it added, but for those a later import also has or a refresh or an operation "
                "has confirmed since. Rows that were in the workspace before it stay."
            )
        self.remove_button.setToolTip(plain_tooltip(self.note.text()))

    def confirm_remove(self) -> QMessageBox | None:
        record = self.selected()
        if record is None or not record.removable:
            return None
        box = QMessageBox(self)
        box.setObjectName("confirmRemoveImport")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Remove import")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Remove the import of “{record.file_name}” and the rows it added?")
        box.setInformativeText(
            f"Imported {display(_WHEN, record.imported_at)}, filed under "
            f"{record.source or 'Imported files'}: "
            f"{plural(record.rows_added, 'row')} added. Rows that were in the workspace before "
            "it stay, and so do rows a later import also has and rows the vendor has confirmed "
            "since (in a refresh of the account or an operation). This cannot be undone, but "
            "you can import the file again."
        )
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        remove.setObjectName("confirmRemove")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def answered(_result: int) -> None:
            self.confirmation = None
            if box.clickedButton() is remove:
                self.remove(record)
            box.deleteLater()

        box.finished.connect(answered)
        self.confirmation = box
        box.open()
        return box

    def remove(self, record: ImportRecord) -> Job:
        self.remove_button.setEnabled(False)

        async def work(progress: ProgressFn) -> RemovalResult:
            return await self.session.remove_import(record.id, progress=progress)

        def done(job: Job) -> None:
            if job.cancelled:
                self.note.setText(f"Cancelled: {record.file_name} and its rows are still there.")
            elif job.error is not None:
                self.note.setText(f"Could not remove {record.file_name}: {job.error}")
            else:
                result: RemovalResult = job.result
                self.removed.emit(result)
                self.reload().finished.connect(lambda: self.note.setText(removal_note(result)))
                return
            self._update()

        return self.runner.start(f"Removing {record.file_name}", work, on_done=done)


def removal_note(result: RemovalResult) -> str:
    text = (
        f"Removed {result.file_name} and the {plural(result.rows_removed, 'row')} it added."
        if result.rows_removed
        else f"Removed the import of {result.file_name}; no row went with it."
    )
    if result.rows_kept:
        text += (
            f" {plural(result.rows_kept, 'row')} it had added stayed: the vendor has confirmed "
            f"{'it' if result.rows_kept == 1 else 'them'} since, in a refresh or an operation."
        )
    if result.rows_shared:
        text += (
            f" {plural(result.rows_shared, 'row')} it had added stayed: a later import has "
            f"{'it' if result.rows_shared == 1 else 'them'} too."
        )
    return text
