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
from promodesk.store.query import Row, RowSet
from promodesk.store.tables import Column, TableSpec
from promodesk.ui.models.formatting import display, plural
from promodesk.ui.models.store_table import StoreTableModel

if TYPE_CHECKING:
    from promodesk.store.reader import StoreReader

SEARCH_DELAY_MS = 180


class TableBrowser(QWidget):
    """A titled, searchable, filterable view of one store table."""

    current_row_changed = Signal(object)  # the stored row (tuple) or None
    scope_cleared = Signal()  # the user removed the "in <selection>" narrowing
    message = Signal(str, str)  # (level, text) for the window's message bar
    copy_requested = Signal()  # the user asked to copy the selected rows
    export_requested = Signal(object)  # RowSet: the user asked to export these rows

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

        # No shortcut of its own: the window's Edit ▸ Copy rows owns Ctrl+C (two actions on
        # one key made Qt refuse both as "ambiguous", and Ctrl+C copied nothing).
        copy_key = QKeySequence(QKeySequence.StandardKey.Copy).toString(
            QKeySequence.SequenceFormat.NativeText
        )
        self.copy_action = QAction(f"Copy rows\t{copy_key}", self)
        self.copy_action.triggered.connect(self.copy_requested.emit)

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

        self.model.rows_about_to_change.connect(self._forget_selection)
        self.model.query_applied.connect(self._query_applied)
        self.model.busy_changed.connect(self._update_count)
        self.model.failed.connect(lambda text: self.message.emit("error", text))
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self._sized_columns = False

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
        menu.addSeparator()
        selected = self.selected_rows()
        if selected is not None and selected.count > 1 and not selected.everything:
            menu.addAction(
                f"Export {plural(selected.count, 'selected row')}…",
                lambda: self.export_requested.emit(selected),
            )
        everything = self.all_rows()
        menu.addAction(
            f"Export all {plural(everything.count, 'row')}…",
            lambda: self.export_requested.emit(everything),
        ).setEnabled(everything.count > 0)
        menu.exec(self.view.viewport().mapToGlobal(position))

    def shown_columns(self) -> list[Column]:
        """The columns as the user arranged them: visual order, hidden ones left out."""
        header = self.view.horizontalHeader()
        return [
            self.model.columns[header.logicalIndex(visual)]
            for visual in range(header.count())
            if not header.isSectionHidden(header.logicalIndex(visual))
        ]

    def all_rows(self) -> RowSet:
        """Every row matching the current search and filters, however many."""
        return RowSet(self.model.shown_query, None, self.model.rowCount())

    def selected_rows(self) -> RowSet | None:
        """The selection as spans of positions (a select-all is one span, read as "every row
        matching the filter"); the current row when nothing is selected; None if neither."""
        count = self.model.rowCount()
        spans = sorted(
            (selected.top(), selected.bottom() + 1)
            for selected in self.view.selectionModel().selection()
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        if not merged and self.view.currentIndex().isValid():
            row = self.view.currentIndex().row()
            merged = [(row, row + 1)]
        if not merged or count == 0:
            return None
        if merged == [(0, count)]:
            return self.all_rows()
        return RowSet(
            self.model.shown_query, tuple(merged), sum(end - start for start, end in merged)
        )

    def _forget_selection(self) -> None:
        # The rows are about to be replaced or reordered, so the selection would point at
        # other rows anyway; dropping it first keeps Qt from walking every selected index.
        self.view.selectionModel().clearSelection()
