"""One workspace table with its search box, filters, row count, empty state and copy.

Every table in every vendor panel is one of these; the vendor panels only say which table,
which filters, and how selections narrow the tables next to them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from promodesk.qt import (
    QAbstractItemView,
    QAction,
    QComboBox,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QItemSelectionModel,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMenu,
    QModelIndex,
    QPoint,
    QStyledItemDelegate,
    Qt,
    QTableView,
    QTimer,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.store.query import Row, RowSet
from promodesk.store.tables import Column, TableSpec
from promodesk.ui.models.formatting import DATE_ONLY_MARK, plain_tooltip, plural
from promodesk.ui.models.store_table import StoreTableModel
from promodesk.ui.widgets.elided_label import ElidedLabel
from promodesk.ui.widgets.style import secondary_text_style

if TYPE_CHECKING:
    import sqlite3

    from promodesk.store.reader import StoreReader

SEARCH_DELAY_MS = 180
RESELECT_AT_MOST = 1_000  # selected rows found again after a refresh (more: not walked)
SEARCH_MIN_WIDTH = 90
SAMPLED_ROWS = 200  # the first page: already loaded, and enough to see typical lengths
MAX_SAMPLED_WIDTH = 260  # text columns start no wider than this; longer text is elided


class TooltipWhenCut(QStyledItemDelegate):
    """A cell's tooltip only when its text does not fit (a date's local/UTC note always)."""

    def helpEvent(self, event: Any, view: Any, option: Any, index: QModelIndex) -> bool:
        text = index.data(Qt.ItemDataRole.DisplayRole)
        tip = index.data(Qt.ItemDataRole.ToolTipRole)
        if isinstance(text, str) and tip == plain_tooltip(text):  # the tip is just the text
            margin = view.style().pixelMetric(view.style().PixelMetric.PM_FocusFrameHMargin)
            if option.fontMetrics.horizontalAdvance(text) <= option.rect.width() - 2 * margin - 6:
                QToolTip.hideText()
                return True
        return super().helpEvent(event, view, option, index)


class TableBrowser(QWidget):
    """A titled, searchable, filterable view of one store table."""

    current_row_changed = Signal(object)  # the stored row (tuple) or None
    scope_cleared = Signal()  # the user removed the "in <selection>" narrowing
    message = Signal(str, str)  # (level, text) for the window's message bar
    copy_requested = Signal()  # the user asked to copy the selected rows
    export_requested = Signal(object)  # RowSet: the user asked to export these rows
    # The state filter offers what the table holds, and empty columns are hidden.
    contents_known = Signal()
    _contents_read = Signal(object)  # (reader, future) from the reader thread

    def __init__(
        self,
        spec: TableSpec,
        *,
        title: str,
        noun: str,
        search_placeholder: str,
        search_help: str = "",
        empty_hint: str,
        status_filter: tuple[str, Sequence[tuple[str, str]]] | None = None,
        status_unknown: str = "No row here has a known state.",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"browser_{spec.name}")
        self.spec = spec
        self.noun = noun  # singular: "allocation"; plural() makes "2 allocations"
        self.empty_hint = empty_hint
        self.imported_hint = empty_hint  # what it says with the imported files picked
        self.model = StoreTableModel(spec, self)

        self.title = ElidedLabel(title)  # in a narrow window, "Loyalty pro…"
        self.title.setObjectName("tableTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        # Elided labels: a long count or scope never widens the window (or moves a splitter).
        self.count_label = ElidedLabel()
        self.count_label.setObjectName("countLabel")
        self.count_label.setStyleSheet(secondary_text_style(self))
        self.scope_label = ElidedLabel()
        self.scope_label.setObjectName("scopeLabel")
        self.scope_clear = QToolButton()
        self.scope_clear.setText("✕")
        self.scope_clear.setAutoRaise(True)
        self.scope_clear.setToolTip("Show all")
        self.scope_clear.clicked.connect(self.scope_cleared.emit)
        for widget in (self.scope_clear,):
            # Hidden but still taking their place: a selection next door that shows them
            # must not change this table's minimum width (that moved the splitters).
            policy = widget.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            widget.setSizePolicy(policy)
            widget.hide()

        self.status_combo: QComboBox | None = None
        self._status_column = ""
        self._status_unknown = status_unknown
        self._reader: StoreReader | None = None
        self._contents_read.connect(self._contents_arrived, Qt.ConnectionType.QueuedConnection)
        if status_filter is not None:
            self._status_column, choices = status_filter
            self.status_combo = QComboBox()
            self.status_combo.setObjectName("statusFilter")
            self.status_combo.setToolTip("Show only rows in this state")
            self.status_combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToContents  # "State unknown" fits
            )
            self.status_combo.setMinimumContentsLength(6)
            self.status_combo.addItem(self._every_status, None)
            for label, value in choices:
                self.status_combo.addItem(label, value)
            self.status_combo.currentIndexChanged.connect(self._status_changed)

        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText(search_placeholder)
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setToolTip(search_help or search_placeholder)
        # As wide as its hint when there is room, narrower (down to SEARCH_MIN_WIDTH) when
        # not: the window's smallest width is the sum of such minimums.
        self.search_box.setMinimumWidth(SEARCH_MIN_WIDTH)
        self.search_box.setMaximumWidth(
            max(SEARCH_MIN_WIDTH, self.fontMetrics().horizontalAdvance(search_placeholder) + 40)
        )
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._apply_search)
        self.search_box.textChanged.connect(lambda _: self._search_timer.start())
        self.search_box.returnPressed.connect(self._apply_search)

        self.view = QTableView()
        self.view.setObjectName(f"table_{spec.name}")
        # Tab goes on to the next control, as in any form (a table that keeps it, moving
        # from cell to cell, traps the keyboard); the arrow keys move between cells.
        self.view.setTabKeyNavigation(False)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        # Cut at the end ("Budget Tracker…", not "Budge…acker"); the whole text is the tooltip.
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setItemDelegate(TooltipWhenCut(self.view))
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Fixed, uniform rows: what lets a view hold a million rows without measuring them.
        rows = self.view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 8)
        rows.hide()
        header = self.view.horizontalHeader()
        # The header gets a selection model of its own (always empty): with the view's, it
        # asks "is this column selected?" for every section it paints, and Qt answers by
        # walking every selected row (flags() per row: 100,000 selected rows froze the
        # window for 4 s on each repaint). Rows are selected here, never columns.
        header.setSelectionModel(QItemSelectionModel(self.model, header))
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
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)  # it repeats the search text
        self.empty_label.setWordWrap(True)
        self.empty_label.setStyleSheet(secondary_text_style(self) + " padding: 24px;")
        self.empty_label.hide()
        self.view.viewport().installEventFilter(self)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(4)
        top.addWidget(self.title)
        top.addWidget(self.count_label)
        top.addWidget(self.scope_label)
        top.addWidget(self.scope_clear)
        top.addStretch(1)
        if self.status_combo is not None:
            top.addWidget(self.status_combo)
        top.addWidget(self.search_box, 1)
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
        self._natural_widths: dict[int, int] = {}
        # Filters that stay whatever else is narrowed or cleared (the panel's account).
        self._base_filters: dict[str, Any] = {}
        # Adds the panel's actions for this table to its context menu (rows selected or not).
        self.extend_menu: Callable[[QMenu], None] | None = None
        self._reselect: tuple[int, list[tuple[int, int]]] | None = None
        self._keep_selection = False  # the next new rows keep the selection (by row id)

    @property
    def _every_status(self) -> str:
        """The filter's "everything" choice in the column's own word: "All states", "All
        statuses" (All codes), "All outcomes" (History)."""
        column = next((c for c in self.spec.columns if c.name == self._status_column), None)
        word = (column.label if column is not None else "State").lower()
        return f"All {word}es" if word.endswith("s") else f"All {word}s"

    # -- wiring from the panel -------------------------------------------------------------------

    def set_reader(self, reader: StoreReader | None) -> None:
        self._reader = reader
        self.model.set_reader(reader)
        self._read_contents()

    def refresh(self) -> None:
        """Read again: the workspace changed underneath (an import, a removal)."""
        self.model.refresh()
        self._read_contents()

    def refresh_keeping_selection(self) -> None:
        """Read again (rows were added or removed underneath), then select again the rows
        that are selected when the new rows arrive, where they still are: a refresh after a
        vendor operation must not lose the user's place (nor a click made meanwhile). Large
        selections are not walked (`refresh_rows` keeps them: it leaves rows in place)."""
        self._keep_selection = True
        self.refresh()

    def _remember_selection(self) -> tuple[int, list[tuple[int, int]]] | None:
        current = self.view.currentIndex()
        selected = self.view.selectionModel().selectedRows()
        if len(selected) > RESELECT_AT_MOST:
            return None
        remembered: list[tuple[int, int]] = []
        for index in selected or ([current] if current.isValid() else []):
            row = self.model.row_at(index.row())
            if row is not None:
                remembered.append((index.row(), self.model.value(row, "id")))
        if not remembered:
            return None
        return (current.row() if current.isValid() else -1), remembered

    def refresh_rows(self, row_ids: Sequence[int]) -> None:
        """These rows changed in place (an operation's result): their cells show the new
        values; positions, selection and scroll stay."""
        self.model.refresh_rows(row_ids)

    def set_base_filter(
        self, filters: dict[str, Any], empty_hint: str | None = None, *, run: bool = True
    ) -> None:
        """Filters kept under every narrowing (the panel's account); `empty_hint`: what the
        empty table says with them. `run=False`: only remembered, for the next workspace."""
        if empty_hint is not None:
            self.empty_hint = empty_hint
        query = self.model.query
        for column in self._base_filters:
            query = query.filtered(column, None)
        self._base_filters = dict(filters)
        for column, value in filters.items():
            query = query.filtered(column, value)
        if query != self.model.query:
            self.clear_selection()
            if run:
                self.model.set_query(query)
            else:
                self.model.use_query(query)
        else:
            self._update_empty_state()

    def set_range(self, column: str, low: Any, high: Any) -> None:
        """Only rows with low <= column < high (either end None: open)."""
        query = self.model.query.between(column, low, high)
        if query != self.model.query:
            self.model.set_query(query)

    def _read_contents(self) -> None:
        """What the table holds, beyond its rows: which states (the filter offers only those,
        since a state no row has can only ever show nothing, or says that the state is not
        known at all) and which columns hold anything (empty ones are hidden: saved exports
        leave many vendor fields blank, and a blank column only pushes others off screen).
        Index lookups, or scans that stop at the first value found."""
        reader = self._reader
        if reader is None:
            return
        combo = self.status_combo
        states = [combo.itemData(n) for n in range(1, combo.count())] if combo else []
        table, status = self.spec.name, self._status_column
        # Counts are always known (0 is a count), unless NULL may mean "unknown". Only
        # columns with an index are looked at (a column without one would be scanned whole
        # when it is empty: seconds at All codes' millions of rows); the others stay shown.
        columns = [
            c
            for c in self.model.columns[1:]
            if (c.kind != "count" or c.nullable)
            and (c.sortable or c.name in self.spec.filter_columns)
        ]

        def read(conn: sqlite3.Connection) -> tuple[set[str], bool, set[str], set[str]]:
            def exists(where: str, *args: Any) -> bool:
                sql = f"SELECT 1 FROM {table} WHERE {where} LIMIT 1"
                return conn.execute(sql, args).fetchone() is not None

            found = {value for value in states if exists(f"{status} = ?", value)}
            unknown = bool(states) and exists(f"{status} = ''")
            # Ranges of each column's sort index (SQLite orders NULL < numbers < text): any
            # text but '', any number, a flag that is set.
            filled = {
                column.name
                for column in columns
                if (
                    exists(f"{column.name} = 1")
                    if column.kind == "flag"
                    else exists(f"{column.name} > ''") or exists(f"{column.name} < ''")
                )
            }
            return found, unknown, filled, {column.name for column in columns}

        try:
            future = reader.submit(read)
        except RuntimeError:  # the workspace is closing
            return
        future.add_done_callback(lambda done: self._deliver_contents(reader, done))

    def _deliver_contents(self, reader: StoreReader, future: Future[Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the browser was deleted meanwhile
            self._contents_read.emit((reader, future))

    def _contents_arrived(self, payload: tuple[StoreReader, Future[Any]]) -> None:
        reader, future = payload
        if reader is not self._reader or future.cancelled() or future.exception() is not None:
            return  # (a failed read leaves every state and column offered)
        found, unknown, filled, checked = future.result()
        header = self.view.horizontalHeader()
        for section, column in enumerate(self.model.columns):
            if section and column.name in checked:
                header.setSectionHidden(section, column.name not in filled)
        combo = self.status_combo
        if combo is not None:
            view = combo.view()
            for number in range(1, combo.count()):
                view.setRowHidden(number, combo.itemData(number) not in found)
            if combo.currentIndex() > 0 and combo.currentData() not in found:
                combo.setCurrentIndex(0)
            known = bool(found)
            combo.setEnabled(known)
            combo.setItemText(0, self._every_status if known or not unknown else "State unknown")
            combo.setToolTip("Show only rows in this state" if known else self._status_unknown)
        self.contents_known.emit()

    def set_scope(self, filters: dict[str, Any], description: str) -> None:
        """Narrow to rows matching `filters` (a selection next door); {} shows everything."""
        query = self.model.query
        for column in list(dict(query.equals)):
            if column != self._status_column and column not in self._base_filters:
                query = query.filtered(column, None)
        for column, value in {**filters, **self._base_filters}.items():
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
        reselect, self._reselect = self._reselect, None
        if reselect is not None:
            self._select_again(*reselect)
            return
        self.current_row_changed.emit(self.current_row())

    def _select_again(self, current: int, remembered: list[tuple[int, int]]) -> None:
        """After a refresh: select the remembered rows (position, id) that are still at
        their position, once their rows are loaded."""

        def arrived(rows: list[Row] | None) -> None:
            if rows is None:
                return  # the query changed meanwhile
            ids = {self.model.value(row, "id") for row in rows}
            kept = [position for position, row_id in remembered if row_id in ids]
            selection = self.view.selectionModel()
            flags = QItemSelectionModel.SelectionFlag
            for position in kept:
                selection.select(self.model.index(position, 0), flags.Select | flags.Rows)
            if current in kept:
                selection.setCurrentIndex(self.model.index(current, 0), flags.NoUpdate)
            self.current_row_changed.emit(self.current_row())

        self.model.fetch_rows([position for position, _row_id in remembered], arrived)

    def _size_columns(self) -> None:
        """Widths from the first rows a table ever shows, once (the user's own widths, saved
        with the layout, win): never narrower than the header's own text and sort arrow,
        dates and counts at their known widths, text sampled (up to a limit: longer text is
        cut at the end, with a tooltip)."""
        self._sized_columns = True
        metrics = self.view.fontMetrics()
        header = self.view.horizontalHeader()
        fixed = {
            # (room for the zone of View ▸ Dates: "UTC", "MSK", "+04")
            "datetime": metrics.horizontalAdvance("00 Www 0000 00:00 UTC+") + 16,
            "count": metrics.horizontalAdvance("0,000,000") + 16,
            "flag": metrics.horizontalAdvance("Yes") + 16,
        }
        rows = list(self.model.loaded_rows(list(range(SAMPLED_ROWS))).values())
        for section, column in enumerate(self.model.columns):
            widest = 0
            if column.kind in fixed:
                widest = fixed[column.kind]
                if column.expiry:  # and for the mark of an expiry given without a time
                    widest += metrics.horizontalAdvance(f" {DATE_ONLY_MARK}")
            else:
                # Measured: the few longest texts only (measuring is what costs; the window is
                # opening, and this runs in the same turn as the first rows' paint).
                texts = sorted({self.model.shown_text(row, column) for row in rows}, key=len)
                for text in texts[-3:]:
                    widest = max(widest, metrics.horizontalAdvance(text) + 16)
                widest = min(widest, MAX_SAMPLED_WIDTH)
            self._natural_widths[section] = max(widest, header.sectionSizeHint(section))
            self.view.setColumnWidth(section, self._natural_widths[section])

    def natural_width(self) -> int:
        """How wide the table wants to be to show its shown columns whole (the last column
        stretches to fill, so the header's own length says nothing)."""
        header = self.view.horizontalHeader()
        columns = sum(
            self._natural_widths.get(section, header.sectionSize(section))
            for section in range(header.count())
            if not header.isSectionHidden(section)
        )
        return (
            columns + self.view.verticalScrollBar().sizeHint().width() + 2 * self.view.frameWidth()
        )

    def _update_count(self) -> None:
        count = self.model.rowCount()
        searching = bool(self.model.query.search)
        if self.model.busy:
            text = "searching…" if searching else "loading…"
        elif searching:
            verb = "matches" if count == 1 else "match"
            text = f"{plural(count, self.noun)} {verb} “{self.model.query.search}”"
        else:
            text = plural(count, self.noun)
        self.count_label.setText(text)
        self._update_empty_state()

    def _update_empty_state(self) -> None:
        empty = self.model.rowCount() == 0 and not self.model.busy
        if empty:
            filtered = self.model.query.search or any(
                column not in self._base_filters for column, _ in self.model.query.equals
            )
            self.empty_label.setText(
                f"Nothing matches “{self.model.query.search}”."
                if self.model.query.search
                else (f"No {self.noun}s here." if filtered else self.empty_hint)
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
        menu.setToolTipsVisible(True)  # a disabled action says why in its tooltip
        if self.extend_menu is not None:
            self.extend_menu(menu)
            if not menu.isEmpty():
                menu.addSeparator()
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
        if self._keep_selection:
            self._keep_selection = False
            self._reselect = self._remember_selection()
        self.view.selectionModel().clearSelection()
