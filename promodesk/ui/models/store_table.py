"""A Qt table model over one workspace table, of any size, that never blocks the window.

Rows live in SQLite; the model holds a few hundred pages of them at most. Counting, sorting,
filtering and searching are SQL (store.query) run on the workspace's reader thread. `data()`
answers from the page cache; a row that is not loaded yet shows blank and its page is
requested, most recently wanted first, so fast scrolling through a million rows loads what is
on screen rather than everything scrolled past. A new query keeps the old rows on screen
until its first page has arrived, then swaps them in one reset.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from promodesk.qt import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from promodesk.store.query import Pager, Row, RowQuery, fetch_rows_by_id
from promodesk.store.tables import Column, TableSpec
from promodesk.ui.models.date_clock import date_clock_changed
from promodesk.ui.models.formatting import (
    CLOCK,
    VIEW_WORDS,
    display,
    is_numeric,
    plain_tooltip,
    tooltip,
)

if TYPE_CHECKING:
    import sqlite3

    from promodesk.store.reader import StoreReader

log = logging.getLogger("promodesk.models")

PAGE_SIZE = 200
MAX_CACHED_PAGES = 300
MAX_IN_FLIGHT = 2
MAX_WANTED = 6  # older page requests than this are dropped: they scrolled away

AnyIndex = QModelIndex | QPersistentModelIndex


class StoreTableModel(QAbstractTableModel):
    RowRole = Qt.ItemDataRole.UserRole + 1  # the whole stored row (a tuple)
    RowIdRole = Qt.ItemDataRole.UserRole + 2
    SortValueRole = Qt.ItemDataRole.UserRole + 3  # the raw stored value

    query_applied = Signal()  # the new query's count and first rows are showing
    # Emitted just before the rows on screen are replaced or reordered. Views drop their
    # selection here: Qt's selection model otherwise expands a selection of a million rows
    # into ten million persistent indexes (flags, rowCount, columnCount for each) on a
    # layout change, which froze the window for over a minute.
    rows_about_to_change = Signal()
    page_loaded = Signal(int)
    busy_changed = Signal(bool)
    failed = Signal(str)
    rows_refreshed = Signal(object)  # ids of rows read again in place (refresh_rows)
    _delivered = Signal(object)  # (generation, what, future) from the reader thread

    def __init__(self, spec: TableSpec, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.columns: list[Column] = [column for column in spec.columns if column.visible]
        self._names = spec.column_names
        self._id_at = self._names.index("id")
        self._value_at = [self._names.index(column.name) for column in self.columns]
        self._alignment = [_align(column) for column in self.columns]
        # Whose vendor time zone a row's dates are in (View ▸ Dates).
        self._account_at = self._names.index("account_id") if "account_id" in self._names else -1
        self._date_sections = [n for n, c in enumerate(self.columns) if c.kind == "datetime"]
        if self._date_sections:
            date_clock_changed().connect(self._dates_changed)
        self._reader: StoreReader | None = None
        self._query = RowQuery(spec, descending=spec.default_descending)
        self._pager: Pager | None = None
        self._generation = 0
        self._count = 0
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._wanted: list[int] = []
        self._in_flight: set[int] = set()
        self._busy = False
        self._callbacks: dict[int, Callable[[list[Row] | None], None]] = {}
        # Column -> stored value -> what to show instead (e.g. a local file's name for its
        # internal id); set by the panel from other tables.
        self._value_names: dict[str, dict[Any, str]] = {}
        self._delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)

    # -- what to show -----------------------------------------------------------------------

    @property
    def query(self) -> RowQuery:
        return self._query

    @property
    def shown_query(self) -> RowQuery:
        """The query whose rows are on screen (a newer one may still be loading)."""
        return self._pager.query if self._pager is not None else self._query

    @property
    def busy(self) -> bool:
        return self._busy

    def set_reader(self, reader: StoreReader | None) -> None:
        """Show another workspace (or none).

        The rows on screen stay until the new workspace's first page replaces them in one
        reset (resetting to empty first would repaint every table twice); no page of the old
        workspace is loaded meanwhile.
        """
        self._reader = reader
        self._generation += 1
        self._pager = None
        if reader is None:
            self.rows_about_to_change.emit()
            self.beginResetModel()
            self._count = 0
            self._pages.clear()
            self.endResetModel()
            return
        self.set_query(self._query)

    def set_query(self, query: RowQuery) -> None:
        self._query = query
        self._generation += 1
        generation = self._generation
        self._wanted.clear()
        self._in_flight.clear()
        if self._reader is None:
            return
        pager = Pager(query)
        previous = self._pager.query if self._pager is not None else None
        if previous is not None and previous != query and query.same_rows_as(previous):
            pager.known_count(self._count)  # a new order of the same rows: no need to count

        def first_page(conn: sqlite3.Connection) -> tuple[int, list[Row], Pager] | None:
            if generation != self._generation:
                return None  # replaced before it ran
            return pager.count(conn), pager.fetch(conn, 0, PAGE_SIZE), pager

        self._set_busy(True)
        self._submit(generation, "query", first_page)

    def use_query(self, query: RowQuery) -> None:
        """Show `query` from the next workspace on (set_reader), without reading now."""
        self._query = query

    def refresh(self) -> None:
        """Re-read the same query (the workspace changed underneath)."""
        self.set_query(self._query)

    def filter_on(self, column: str, value: Any) -> None:
        if dict(self._query.equals).get(column) != value or (
            value is None and column in dict(self._query.equals)
        ):
            self.set_query(self._query.filtered(column, value))

    def search(self, text: str) -> None:
        if text != self._query.search:
            self.set_query(self._query.where(search=text))

    # -- Qt model API -------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Views ask for seven roles per visible cell on every paint; most are not ours.
        if role not in _ANSWERED_ROLES or not index.isValid():
            return None
        at = index.column()
        if role == _ALIGNMENT:
            return self._alignment[at] if at < len(self._alignment) else None
        if index.row() >= self._count or at >= len(self.columns):
            return None
        column = self.columns[at]
        row = self.row_at(index.row())
        if row is None:
            return None
        value = row[self._value_at[index.column()]]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.shown_text(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            named = self._value_names.get(column.name, {}).get(value)
            if named:
                return plain_tooltip(f"{named}\n({value})")
            return tooltip(column, value, self._account_of(row))
        if role == self.SortValueRole:
            return value
        if role == self.RowRole:
            return row
        if role == self.RowIdRole:
            return row[self._id_at]
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.ToolTipRole and column.kind == "datetime":
            return f"{column.label}, shown in {VIEW_WORDS[CLOCK.view]} (View ▸ Dates)"
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.label
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment[section]
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns) or not self.columns[column].sortable:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        name = self.columns[column].name
        if (name, descending) != (self._query.sort_column, self._query.descending):
            self.set_query(self._query.where(sort=name, descending=descending))

    def sort_section(self) -> tuple[int, Qt.SortOrder]:
        names = [column.name for column in self.columns]
        section = names.index(self._query.sort_column) if self._query.sort_column in names else -1
        order = (
            Qt.SortOrder.DescendingOrder if self._query.descending else Qt.SortOrder.AscendingOrder
        )
        return section, order

    # -- rows ----------------------------------------------------------------------------------

    def row_at(self, row: int) -> Row | None:
        """The stored row at `row` if loaded; otherwise asks for its page and returns None."""
        page_number, offset = divmod(row, PAGE_SIZE)
        page = self._pages.get(page_number)
        if page is None:
            self._want(page_number)
            return None
        self._pages.move_to_end(page_number)
        return page[offset] if offset < len(page) else None

    def value(self, row: Row, column: str) -> Any:
        return row[self._names.index(column)]

    def shown_text(self, row: Row, column: Column) -> str:
        """What the cell shows: the value in words, or the name it is known by."""
        value = row[self._names.index(column.name)]
        named = self._value_names.get(column.name, {}).get(value)
        return named if named is not None else display(column, value, self._account_of(row))

    def _account_of(self, row: Row) -> int | None:
        return row[self._account_at] if self._account_at >= 0 else None

    def _dates_changed(self) -> None:
        """View ▸ Dates picked another clock: every date cell reads again (no re-query)."""
        if self._count:
            last = self._count - 1
            for section in self._date_sections:
                self.dataChanged.emit(self.index(0, section), self.index(last, section))
        for section in self._date_sections:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, section, section)

    def set_value_names(self, column: str, names: dict[Any, str]) -> None:
        if names != self._value_names.get(column, {}):
            self._value_names[column] = dict(names)
            if self._count:
                at = [c.name for c in self.columns].index(column)
                self.dataChanged.emit(self.index(0, at), self.index(self._count - 1, at))

    def refresh_rows(self, row_ids: Iterable[int]) -> None:
        """Read again the loaded rows with these ids (their values changed underneath, e.g.
        a vendor operation's result) and show the new values where the rows are: no reset,
        so the selection and the scroll position stay. Rows not loaded are read when they
        are next needed anyway."""
        wanted = set(row_ids)
        if not wanted or self._reader is None:
            return
        found = [
            row[self._id_at]
            for page in self._pages.values()
            for row in page
            if row[self._id_at] in wanted
        ]
        if not found:
            return
        generation = self._generation
        spec = self.spec

        def load(conn: sqlite3.Connection) -> list[Row] | None:
            if generation != self._generation:
                return None
            return fetch_rows_by_id(conn, spec, found)

        self._submit(generation, "changed", load)

    def _replace_changed(self, rows: list[Row]) -> None:
        fresh = {row[self._id_at]: row for row in rows}
        last = len(self.columns) - 1
        for number, page in self._pages.items():
            for offset, row in enumerate(page):
                new = fresh.get(row[self._id_at])
                if new is not None and new != row:
                    page[offset] = new
                    position = number * PAGE_SIZE + offset
                    self.dataChanged.emit(self.index(position, 0), self.index(position, last))
        self.rows_refreshed.emit(list(fresh))

    def loaded_rows(self, rows: list[int]) -> dict[int, Row]:
        found = {}
        for row in rows:
            page = self._pages.get(row // PAGE_SIZE)
            if page is not None and row % PAGE_SIZE < len(page):
                found[row] = page[row % PAGE_SIZE]
        return found

    def fetch_rows(self, rows: list[int], callback: Callable[[list[Row] | None], None]) -> None:
        """Rows by position, loading what is missing on the reader thread; `callback(None)`
        if the query changed meanwhile."""
        generation = self._generation
        pager = self._pager
        if self._reader is None or pager is None:
            callback([])
            return
        wanted = sorted(set(rows))

        def load(conn: sqlite3.Connection) -> list[Row] | None:
            if generation != self._generation:
                return None
            found: dict[int, Row] = {}
            start = 0
            while start < len(wanted):
                end = start
                while (
                    end + 1 < len(wanted)
                    and wanted[end + 1] == wanted[end] + 1
                    and end - start < 5000
                ):
                    end += 1
                for offset, row in enumerate(pager.fetch(conn, wanted[start], end - start + 1)):
                    found[wanted[start] + offset] = row
                start = end + 1
            return [found[row] for row in wanted if row in found]

        future = self._reader.submit(load)
        self._callbacks[id(future)] = callback
        self._watch(future, generation, "rows")

    # -- loading -------------------------------------------------------------------------------

    def _want(self, page_number: int) -> None:
        if page_number in self._in_flight or self._pager is None:
            return
        if page_number in self._wanted:
            self._wanted.remove(page_number)
        self._wanted.append(page_number)
        del self._wanted[:-MAX_WANTED]
        self._pump()

    def _pump(self) -> None:
        pager = self._pager
        if pager is None or self._reader is None:
            return
        generation = self._generation
        while self._wanted and len(self._in_flight) < MAX_IN_FLIGHT:
            page_number = self._wanted.pop()
            self._in_flight.add(page_number)

            def load(
                conn: sqlite3.Connection, page_number: int = page_number
            ) -> tuple[int, list[Row]] | None:
                if generation != self._generation:
                    return None
                return page_number, pager.fetch(conn, page_number * PAGE_SIZE, PAGE_SIZE)

            self._submit(generation, "page", load)

    def _submit(self, generation: int, what: str, job: Callable[[sqlite3.Connection], Any]) -> None:
        assert self._reader is not None
        try:
            future = self._reader.submit(job)
        except RuntimeError:  # the workspace is closing
            return
        self._watch(future, generation, what)

    def _watch(self, future: Future[Any], generation: int, what: str) -> None:
        def deliver(done: Future[Any]) -> None:
            # RuntimeError: the model was deleted while the job ran; nobody is waiting.
            with contextlib.suppress(RuntimeError):
                self._delivered.emit((generation, what, done))

        future.add_done_callback(deliver)

    def _on_delivered(self, payload: tuple[int, str, Future[Any]]) -> None:
        generation, what, future = payload
        if future.cancelled():  # the workspace closed before the read ran
            self._callbacks.pop(id(future), None)
            return
        if what == "rows":
            callback = self._callbacks.pop(id(future), None)
            if callback is not None:
                callback(None if future.exception() else future.result())
            return
        if generation != self._generation:
            return
        error = future.exception()
        if error is not None and "interrupted" in str(error):
            return  # the workspace is closing; nothing to tell anyone
        if error is not None:
            if what == "page":
                self._in_flight.clear()
            self._set_busy(False)
            log.error("reading %s failed: %s", self.spec.name, error)
            self.failed.emit(f"Could not read the workspace: {error}")
            return
        result = future.result()
        if result is None:
            return
        if what == "changed":
            self._replace_changed(result)
            return
        if what == "query":
            count, rows, pager = result
            self.rows_about_to_change.emit()
            if count == self._count and count > 0:
                # Same number of rows in another order (a sort, a refresh): a layout change
                # costs Qt half of what a reset does at a million rows. Selections would now
                # point at other rows, so they are dropped.
                self.layoutAboutToBeChanged.emit()
                self._replace_rows(count, rows, pager)
                stale = self.persistentIndexList()
                self.changePersistentIndexList(stale, [QModelIndex()] * len(stale))
                self.layoutChanged.emit()
            else:
                self.beginResetModel()
                self._replace_rows(count, rows, pager)
                self.endResetModel()
            self._set_busy(False)
            self.query_applied.emit()
        else:
            page_number, rows = result
            self._in_flight.discard(page_number)
            self._pages[page_number] = rows
            while len(self._pages) > MAX_CACHED_PAGES:
                self._pages.popitem(last=False)
            if rows:
                first = page_number * PAGE_SIZE
                last = min(self._count, first + len(rows)) - 1
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
            self.page_loaded.emit(page_number)
            self._pump()

    def _replace_rows(self, count: int, rows: list[Row], pager: Pager) -> None:
        self._count = count
        self._pager = pager
        self._pages.clear()
        self._pages[0] = rows

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


def _align(column: Column) -> int:
    horizontal = Qt.AlignmentFlag.AlignRight if is_numeric(column) else Qt.AlignmentFlag.AlignLeft
    return int((horizontal | Qt.AlignmentFlag.AlignVCenter).value)


_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
_ANSWERED_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.TextAlignmentRole,
        StoreTableModel.SortValueRole,
        StoreTableModel.RowRole,
        StoreTableModel.RowIdRole,
    }
)
