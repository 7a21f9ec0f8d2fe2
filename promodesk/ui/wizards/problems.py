"""The problems a code-file check found, shown without ever holding them all.

A check of a million bad lines has a million problems; they stay in the report's temporary
SQLite file (codefiles/report.py). `ProblemsModel` asks it for the page of rows on screen, on
a worker thread of its own, and keeps a few dozen pages; a row not loaded yet shows blank
until its page arrives. `CheckView` is the whole check result: a line per file, what was
found in words, how to read a file that is not UTF-8, and the problems table.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from promodesk.codefiles.problems import Effect, Problem, ProblemKind
from promodesk.codefiles.reading import CP1251, CP1252, LATIN1, UTF8
from promodesk.qt import (
    QAbstractTableModel,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.ui.widgets.plain import plain_tooltip
from promodesk.ui.wizards.common import count_words, plain_label, table_view

if TYPE_CHECKING:
    from promodesk.codefiles.report import CheckReport, FileVerdict

AnyIndex = QModelIndex | QPersistentModelIndex
PAGE_SIZE = 500
MAX_PAGES = 40

# Problems with the file as a whole: said without a count ("not UTF-8").
FILE_KINDS = {
    ProblemKind.UNREADABLE: "cannot be read",
    ProblemKind.BINARY: "not a text file",
    ProblemKind.NO_CODES: "no codes",
    ProblemKind.ENCODING: "not UTF-8",
    ProblemKind.BOM: "a byte order mark",
    ProblemKind.CRLF: "Windows line breaks",
    ProblemKind.OVER_CAP: "over the size limit",
}
# Problems of lines, with a count: (one, many).
LINE_KINDS: dict[str, tuple[str, str]] = {
    ProblemKind.HEADER: ("header row", "header rows"),
    ProblemKind.EMPTY_LINE: ("empty line", "empty lines"),
    ProblemKind.WHITESPACE: ("code with spaces around it", "codes with spaces around them"),
    ProblemKind.INVISIBLE: ("code with invisible characters", "codes with invisible characters"),
    ProblemKind.QUOTED: ("code in quotes", "codes in quotes"),
    ProblemKind.EXTRA_COLUMNS: ("line with extra columns", "lines with extra columns"),
    ProblemKind.TOO_LONG: ("code too long", "codes too long"),
    ProblemKind.SCIENTIFIC_NOTATION: (
        "number a spreadsheet turned into 1.23E+05",
        "numbers a spreadsheet turned into 1.23E+05",
    ),
    ProblemKind.LEADING_ZEROS_LOST: (
        "code that lost its leading zeros",
        "codes that lost their leading zeros",
    ),
    ProblemKind.URL_UNSAFE: ("code unsafe in a link", "codes unsafe in links"),
    ProblemKind.LOOKALIKE: ("code with look-alike characters", "codes with look-alike characters"),
    ProblemKind.DUPLICATE: ("duplicate", "duplicates"),
    ProblemKind.CASE_DUPLICATE: ("duplicate apart from case", "duplicates apart from case"),
    ProblemKind.IN_WORKSPACE: ("code already in the workspace", "codes already in the workspace"),
}
# The table's "Problem" column: a few words.
SHORT: dict[str, str] = {
    ProblemKind.UNREADABLE: "Cannot be read",
    ProblemKind.BINARY: "Not a text file",
    ProblemKind.NO_CODES: "No codes",
    ProblemKind.ENCODING: "Not UTF-8",
    ProblemKind.BOM: "Byte order mark",
    ProblemKind.CRLF: "Windows line breaks",
    ProblemKind.OVER_CAP: "Over the size limit",
    ProblemKind.HEADER: "Header row",
    ProblemKind.EMPTY_LINE: "Empty line",
    ProblemKind.WHITESPACE: "Spaces around",
    ProblemKind.INVISIBLE: "Invisible characters",
    ProblemKind.QUOTED: "In quotes",
    ProblemKind.EXTRA_COLUMNS: "Extra columns",
    ProblemKind.TOO_LONG: "Too long",
    ProblemKind.SCIENTIFIC_NOTATION: "Spreadsheet damage",
    ProblemKind.LEADING_ZEROS_LOST: "Lost leading zeros",
    ProblemKind.URL_UNSAFE: "Unsafe in links",
    ProblemKind.LOOKALIKE: "Look-alike characters",
    ProblemKind.DUPLICATE: "Duplicate",
    ProblemKind.CASE_DUPLICATE: "Duplicate (case)",
    ProblemKind.IN_WORKSPACE: "In the workspace",
}
EFFECT_WORDS = {
    Effect.REPAIRED: "Kept, cleaned",
    Effect.DROPPED: "Left out",
    Effect.REFUSED: "Left out (rejects file)",
}
HEADERS = ("Line", "Problem", "Details", "As read", "In the fixed file")
# "Read as": what a marketer may pick when accents look wrong (None: as detected).
ENCODINGS = (
    ("As detected", None),
    (UTF8.label, "utf-8"),
    (CP1252.label, "cp1252"),
    (CP1251.label, "cp1251"),
    (LATIN1.label, "latin-1"),
)


def kind_words(kind: str, count: int) -> str:
    """'not UTF-8', '1 duplicate', '3 codes with spaces around them'."""
    if kind in FILE_KINDS:
        return FILE_KINDS[kind]
    one, many = LINE_KINDS.get(kind, (kind, kind))
    return f"{count:,} {one if count == 1 else many}"


def summary_text(verdict: FileVerdict, name: str = "") -> str:
    """'spring.csv: 9,950 of 10,000 codes ready; found 40 duplicates, Windows line breaks.'"""
    name = name or verdict.path.name
    if not verdict.usable:
        reasons = "; ".join(problem.detail for problem in verdict.sniffed.problems)
        return f"{name} cannot be used: {reasons}"
    found = ", ".join(kind_words(kind, count) for kind, count in verdict.summary.items())
    ready = f"{verdict.valid:,} of {count_words(verdict.codes, 'code')} ready"
    encoding = "" if verdict.sniffed.encoding is None else f" Read as {verdict.encoding}."
    if not found:
        return f"{name}: {ready}; nothing to fix.{encoding}"
    return f"{name}: {ready}; found {found}.{encoding}"


class ProblemsModel(QAbstractTableModel):
    """One file's problems, by line, paged in from the report on a worker thread."""

    page_loaded = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        import asyncio

        super().__init__(parent)
        # Pages come back through the event loop, never as a Qt signal from the worker: a
        # model deleted with its window meanwhile is then noticed on the GUI thread, not
        # raced from another one.
        self._loop = asyncio.get_event_loop()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="problems")
        self._executor = executor
        self.destroyed.connect(lambda *_: executor.shutdown(wait=False, cancel_futures=True))
        self._report: CheckReport | None = None
        self._file = 0
        self._count = 0
        self._generation = 0
        self._pages: OrderedDict[int, list[Problem]] = OrderedDict()
        self._in_flight: set[int] = set()

    def show_file(self, report: CheckReport | None, file: int = 0) -> None:
        self.beginResetModel()
        self._generation += 1
        self._report = report
        self._file = file
        self._count = report.files[file].problems if report is not None else 0
        self._pages.clear()
        self._in_flight.clear()
        self.endResetModel()

    def close(self) -> None:
        """Stop the worker (the report is closed by its owner afterwards)."""
        self._generation += 1
        self._executor.shutdown(wait=True, cancel_futures=True)

    # -- paging ------------------------------------------------------------------------------

    def problem(self, row: int) -> Problem | None:
        page = self._pages.get(row // PAGE_SIZE)
        if page is None:
            self._request(row // PAGE_SIZE)
            return None
        self._pages.move_to_end(row // PAGE_SIZE)
        offset = row % PAGE_SIZE
        return page[offset] if offset < len(page) else None

    def _request(self, page: int) -> None:
        report = self._report
        if report is None or page in self._in_flight:
            return
        self._in_flight.add(page)
        generation, file = self._generation, self._file

        def read() -> list[Problem] | None:
            try:
                return report.page(file, page * PAGE_SIZE, PAGE_SIZE)
            except Exception:  # the report was closed with the wizard: nothing to show
                return None

        def delivered(future: Future[list[Problem] | None]) -> None:
            if future.cancelled():
                return
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is looking
                self._loop.call_soon_threadsafe(
                    self._on_delivered, (generation, page, future.result())
                )

        try:
            self._executor.submit(read).add_done_callback(delivered)
        except RuntimeError:  # shut down
            self._in_flight.discard(page)

    def _on_delivered(self, delivery: tuple[int, int, list[Problem] | None]) -> None:
        with contextlib.suppress(RuntimeError):  # deleted with its wizard meanwhile
            self._deliver(delivery)

    def _deliver(self, delivery: tuple[int, int, list[Problem] | None]) -> None:
        generation, page, rows = delivery
        if generation != self._generation:
            return
        self._in_flight.discard(page)
        if rows is None:
            return
        self._pages[page] = rows
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        first = page * PAGE_SIZE
        last = min(self._count, first + len(rows)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(HEADERS) - 1))
        self.page_loaded.emit(page)

    @property
    def loaded_pages(self) -> int:
        return len(self._pages)

    # -- the model ---------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self._count:
            return None
        if role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
            Qt.ItemDataRole.TextAlignmentRole,
        ):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if index.column() == 0:
                return int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
            return None
        problem = self.problem(index.row())
        if problem is None:
            return None
        text = self._text(problem, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_tooltip(text) if index.column() in (2, 3) and text else None
        return text

    @staticmethod
    def _text(problem: Problem, column: int) -> str:
        if column == 0:
            return f"{problem.line:,}"
        if column == 1:
            return SHORT.get(problem.kind, str(problem.kind))
        if column == 2:
            return problem.detail
        if column == 3:
            return _visible(problem.code)
        return EFFECT_WORDS.get(problem.effect, "")

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


def _visible(text: str) -> str:
    """A line as read, with what cannot be seen made visible (a tab, a zero-width space)."""
    out = []
    for character in text[:300]:
        if character == "\t":
            out.append("⇥")
        elif character in "\u200b\u200c\u200d\u2060\ufeff":
            out.append("⟨invisible⟩")
        elif character == "\u00a0":
            out.append("⍽")
        elif ord(character) < 32:
            out.append("�")
        else:
            out.append(character)
    return "".join(out) + ("…" if len(text) > 300 else "")


class CheckView(QWidget):
    """A finished check: a line per file, the chosen file's summary and problems, and "Read
    as" for a file that is not UTF-8."""

    encoding_chosen = Signal(object)  # codec name, or None for "as detected"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report: CheckReport | None = None
        self.files = QListWidget()
        self.files.setObjectName("fileVerdicts")
        self.names: list[str] = []
        self.files.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.files.currentRowChanged.connect(self._file_chosen)
        self.summary = plain_label(name="checkSummary")
        self.encoding_note = plain_label(secondary=True, name="encodingNote")
        self.encoding = QComboBox()
        self.encoding.setObjectName("readAs")
        for label, codec in ENCODINGS:
            self.encoding.addItem(label, codec)
        self.encoding.activated.connect(
            lambda _row: self.encoding_chosen.emit(self.encoding.currentData())
        )
        self.encoding_row = QWidget()
        row = QHBoxLayout(self.encoding_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Read the files as:"))
        row.addWidget(self.encoding, 1)
        self.encoding_row.hide()
        self.encoding_note.hide()
        self.model = ProblemsModel(self)
        self.table = table_view(self.model, "problems", stretch=2)
        header = self.table.horizontalHeader()
        for column, width in ((0, 70), (1, 170), (3, 150), (4, 170)):
            header.resizeSection(column, width)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.files)
        layout.addWidget(self.summary)
        layout.addWidget(self.encoding_note)
        layout.addWidget(self.encoding_row)
        layout.addWidget(self.table, 1)

    def show_report(self, report: CheckReport | None, *, names: list[str] | None = None) -> None:
        """`names`: what to call the files (a pasted list has no file name of its own)."""
        self.report = report
        self.names = list(names or [])
        self.files.clear()
        self.model.show_file(None)
        if report is None:
            self.summary.setText("")
            return
        for verdict in report.files:
            mark = "✓" if verdict.clean else ("✗" if not verdict.usable else "!")
            text = (
                f"{mark}  {verdict.path.name}: {count_words(verdict.rows, 'line')}, "
                f"{verdict.valid:,} codes ready, {count_words(verdict.problems, 'problem')}"
            )
            self.files.addItem(text)
            self.files.item(self.files.count() - 1).setToolTip(plain_tooltip(str(verdict.path)))
        rows = min(max(len(report.files), 1), 3)
        self.files.setFixedHeight(
            self.files.sizeHintForRow(0) * rows + 2 * self.files.frameWidth() + 4
        )
        converted = [
            verdict
            for verdict in report.files
            if verdict.sniffed.encoding is not None and not verdict.sniffed.encoding.is_utf8
        ]
        explicit = self.encoding.currentData() is not None
        self.encoding_row.setVisible(bool(converted) or explicit)
        self.encoding_note.setVisible(bool(converted))
        if converted:
            which = "; ".join(
                f"{verdict.path.name} reads as {verdict.encoding}" for verdict in converted[:3]
            )
            self.encoding_note.setText(
                f"Not UTF-8: {which}. The fixed file is converted to UTF-8, which vendors "
                "expect. If letters below look wrong, choose how to read the files: they are "
                "checked again."
            )
        self.files.setCurrentRow(0)

    def _file_chosen(self, row: int) -> None:
        report = self.report
        if report is None or not 0 <= row < len(report.files):
            return
        name = self.names[row] if row < len(self.names) else ""
        self.summary.setText(summary_text(report.files[row], name))
        self.model.show_file(report, row)

    def close_model(self) -> None:
        self.model.close()
