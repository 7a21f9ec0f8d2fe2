"""One workspace table with its search box, filters, row count, empty state and copy.

Every table in every vendor panel is one of these; the vendor panels only say which table,
which filters, and how selections narrow the tables next to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from promodesk.qt import (
    QAbstractItemView,
    QAction,
    QComboBox,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMenu,
    QModelIndex,
    QPoint,
    Qt,
    QTableView,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.store.query import Row
from promodesk.store.tables import TableSpec
from promodesk.ui.models.formatting import display
from promodesk.ui.models.store_table import StoreTableModel

if TYPE_CHECKING:
    from promodesk.store.reader import StoreReader

SEARCH_DELAY_MS = 180
MAX_COPY_ROWS = 200_000


class TableBrowser(QWidget):
    """A titled, searchable, filterable view of one store table."""

    current_row_changed = Signal(object)  # the stored row (tuple) or None
    scope_cleared = Signal()  # the user removed the "in <selection>" narrowing
    message = Signal(str, str)  # (level, text) for the window's message bar

    def __init__(
        self,
        spec: TableSpec,
        *,
        title: str,
        noun: str,
        search_placeholder: str,
        empty_hint: str,
        status_filter: tuple[str, Sequence[tuple[str, str]]] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"browser_{spec.name}")
        self.spec = spec
        self.noun = noun
        self.empty_hint = empty_hint
        self.model = StoreTableModel(spec, self)

        self.title = QLabel(title)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.count_label = QLabel()
        self.count_label.setObjectName("countLabel")
        self.count_label.setStyleSheet("color: palette(mid);")
        self.scope_label = QLabel()
        self.scope_clear = QToolButton()
        self.scope_clear.setText("✕")
        self.scope_clear.setAutoRaise(True)
        self.scope_clear.setToolTip("Show all")
        self.scope_clear.clicked.connect(self.scope_cleared.emit)
        self.scope_label.hide()
        self.scope_clear.hide()

        self.status_combo: QComboBox | None = None
        self._status_column = ""
        if status_filter is not None:
            self._status_column, choices = status_filter
            self.status_combo = QComboBox()
            self.status_combo.setObjectName("statusFilter")
            self.status_combo.setToolTip("Show only rows in this state")
            self.status_combo.addItem("All states", None)
            for label, value in choices:
                self.status_combo.addItem(label, value)
            self.status_combo.currentIndexChanged.connect(self._status_changed)

        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText(search_placeholder)
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMinimumWidth(200)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search_box.textChanged.connect(lambda _: self._search_timer.start())
        self.search_box.returnPressed.connect(self._apply_search)

        self.view = QTableView()
        self.view.setObjectName(f"table_{spec.name}")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Fixed, uniform rows: what lets a view hold a million rows without measuring them.
        rows = self.view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        rows.hide()
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setDefaultSectionSize(120)
        header.setMinimumSectionSize(48)
        # The indicator first: enabling sorting sorts by whatever the indicator says.
        section, order = self.model.sort_section()
        header.setSortIndicator(section, order)
        self.view.setSortingEnabled(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)

        self.copy_action = QAction("Copy rows", self.view)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.copy_action.triggered.connect(self.copy_selection)
        self.view.addAction(self.copy_action)

        self.empty_label = QLabel(self.view.viewport())
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet("color: palette(mid); padding: 24px;")
        self.empty_label.hide()
        self.view.viewport().installEventFilter(self)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title)
        top.addWidget(self.count_label)
        top.addWidget(self.scope_label)
        top.addWidget(self.scope_clear)
        top.addStretch(1)
        if self.status_combo is not None:
            top.addWidget(self.status_combo)
        top.addWidget(self.search_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)

        self.model.query_applied.connect(self._query_applied)
        self.model.busy_changed.connect(self._update_count)
        self.model.failed.connect(lambda text: self.message.emit("error", text))
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self._sized_columns = False
        self.copied_rows = 0

    # -- wiring from the panel -------------------------------------------------------------------

    def set_reader(self, reader: StoreReader | None) -> None:
        self.model.set_reader(reader)

    def set_scope(self, filters: dict[str, Any], description: str) -> None:
        """Narrow to rows matching `filters` (a selection next door); {} shows everything."""
        query = self.model.query
        for column in list(dict(query.equals)):
            if column != self._status_column:
                query = query.filtered(column, None)
        for column, value in filters.items():
            query = query.filtered(column, value)
        self.scope_label.setText(description)
        self.scope_label.setVisible(bool(filters))
        self.scope_clear.setVisible(bool(filters))
        if query != self.model.query:
            self.model.set_query(query)

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def current_row(self) -> Row | None:
        index = self.view.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def clear_selection(self) -> None:
        self.view.clearSelection()
        self.view.setCurrentIndex(QModelIndex())

    # -- internals -----------------------------------------------------------------------------

    def _apply_search(self) -> None:
        self._search_timer.stop()
        self.model.search(self.search_box.text().strip())

    def _status_changed(self) -> None:
        assert self.status_combo is not None
        self.model.filter_on(self._status_column, self.status_combo.currentData())

    def _query_applied(self) -> None:
        if not self._sized_columns and self.model.rowCount():
            self._size_columns()
        self._update_count()
        self.current_row_changed.emit(self.current_row())

    def _size_columns(self) -> None:
        """Widths from the first rows a table ever shows, once (the user's own widths, saved
        with the layout, win). Dates and counts have known widths; text is sampled."""
        self._sized_columns = True
        metrics = self.view.fontMetrics()
        fixed = {
            "datetime": metrics.horizontalAdvance("00 Www 0000 00:00") + 16,
            "count": metrics.horizontalAdvance("0,000,000") + 16,
            "flag": metrics.horizontalAdvance("Yes") + 16,
        }
        rows = [self.model.row_at(row) for row in range(min(12, self.model.rowCount()))]
        for section, column in enumerate(self.model.columns):
            widest = metrics.horizontalAdvance(column.label) + 28
            if column.kind in fixed:
                widest = max(widest, fixed[column.kind])
            else:
                for row in rows:
                    if row is not None:
                        text = display(column, self.model.value(row, column.name))
                        widest = max(widest, metrics.horizontalAdvance(text) + 16)
            self.view.setColumnWidth(section, max(60, min(widest, 320)))

    def _update_count(self) -> None:
        count = self.model.rowCount()
        searching = bool(self.model.query.search)
        if self.model.busy:
            text = "searching…" if searching else "loading…"
        elif searching:
            text = f"{count:,} {self.noun} match “{self.model.query.search}”"
        else:
            text = f"{count:,} {self.noun}"
        self.count_label.setText(text)
        self._update_empty_state()

    def _update_empty_state(self) -> None:
        empty = self.model.rowCount() == 0 and not self.model.busy
        if empty:
            filtered = self.model.query.search or self.model.query.equals
            self.empty_label.setText(
                f"Nothing matches “{self.model.query.search}”."
                if self.model.query.search
                else (f"No {self.noun} here." if filtered else self.empty_hint)
            )
            self.empty_label.resize(self.view.viewport().size())
        self.empty_label.setVisible(empty)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if watched is self.view.viewport() and event.type() == event.Type.Resize:
            self.empty_label.resize(self.view.viewport().size())
        return super().eventFilter(watched, event)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_row_changed.emit(
            self.model.row_at(current.row()) if current.isValid() else None
        )

    def _context_menu(self, position: QPoint) -> None:
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        index = self.view.indexAt(position)
        if index.isValid():
            value = self.model.data(index)
            column = self.model.columns[index.column()].label
            menu.addAction(
                f"Copy {column}", lambda: QGuiApplication.clipboard().setText(value or "")
            )
        menu.exec(self.view.viewport().mapToGlobal(position))

    def selected_positions(self) -> list[int]:
        selection = self.view.selectionModel()
        rows: set[int] = set()
        for selected in selection.selection():
            rows.update(range(selected.top(), selected.bottom() + 1))
        if not rows and self.view.currentIndex().isValid():
            rows.add(self.view.currentIndex().row())
        return sorted(rows)

    def copy_selection(self) -> None:
        """Selected rows as tab-separated text with a header, ready to paste in a sheet."""
        positions = self.selected_positions()
        if not positions:
            return
        if len(positions) > MAX_COPY_ROWS:
            self.message.emit(
                "warning",
                f"Copied the first {MAX_COPY_ROWS:,} of {len(positions):,} selected rows.",
            )
            positions = positions[:MAX_COPY_ROWS]
        loaded = self.model.loaded_rows(positions)
        if len(loaded) == len(positions):
            self._put_on_clipboard([loaded[p] for p in positions])
        else:
            self.model.fetch_rows(positions, self._copied)

    def _copied(self, rows: list[Row] | None) -> None:
        if rows is None:
            self.message.emit("warning", "The table changed while copying; select the rows again.")
            return
        self._put_on_clipboard(rows)

    def _put_on_clipboard(self, rows: list[Row]) -> None:
        columns = self.model.columns
        lines = ["\t".join(column.label for column in columns)]
        for row in rows:
            cells = [display(column, self.model.value(row, column.name)) for column in columns]
            lines.append("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in cells))
        QGuiApplication.clipboard().setText("\n".join(lines) + "\n")
        self.copied_rows = len(rows)
        self.message.emit(
            "info", f"Copied {len(rows):,} row{'s' if len(rows) != 1 else ''} to the clipboard."
        )
