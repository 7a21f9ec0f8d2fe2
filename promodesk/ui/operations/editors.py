"""One editor per kind of input: text, numbers, choices in words, yes/no, dates with their
time zone, files, lists of lines (typed, pasted or loaded from a file), JSON, key/value
properties, and lists of small records. `form.editor_for` picks one from the field's type
and the table's `editor` hint; the tiers and transaction editors are in `structured`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from promodesk.qt import (
    QCheckBox,
    QComboBox,
    QDate,
    QDateEdit,
    QDateTime,
    QDateTimeEdit,
    QDoubleValidator,
    QFileDialog,
    QFontDatabase,
    QGuiApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRegularExpression,
    QRegularExpressionValidator,
    QTableWidget,
    QTableWidgetItem,
    QTimeZone,
    QVBoxLayout,
    QWidget,
)
from promodesk.ui.operations.fields import (
    LONG_TEXT,
    UNSET,
    FieldSpec,
    Invalid,
    fields_of,
    words_for,
)
from promodesk.ui.widgets.style import secondary_text_style

NO_CHOICE = "—"  # an optional choice left open
MAX_LINES_FILE = 16 * 1024 * 1024  # a list loaded from a file: ids and codes, not a database


class Editor:
    """One input's widget(s): the value the model gets (UNSET when empty, Invalid when what
    is typed cannot be one), set from a value, and told when something changes."""

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec
        self._listeners: list[Callable[[], None]] = []
        self.widget: QWidget = QWidget()

    @property
    def focus_widget(self) -> QWidget:
        return self.widget

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def changed(self, *_args: Any) -> None:
        for listener in self._listeners:
            listener()

    def show_inner(self, where: tuple[str | int, ...], text: str) -> bool:
        """A problem inside this editor (a nested field, a list row); False: not placed."""
        return False

    def clear_inner(self) -> None:
        """Forget problems shown inside."""


# -- one value ---------------------------------------------------------------------------------


class TextEditor(Editor):
    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        long = (spec.max_length or 0) > LONG_TEXT
        self.box: QLineEdit | QPlainTextEdit
        if long:
            self.box = QPlainTextEdit()
            self.box.setTabChangesFocus(True)  # Tab moves on, as in every other field
            self.box.setFixedHeight(self.box.fontMetrics().height() * 4 + 12)
            self.box.textChanged.connect(self.changed)
        else:
            self.box = QLineEdit()
            self.box.setClearButtonEnabled(True)
            self.box.textEdited.connect(self.changed)
            if spec.max_length:
                self.box.setMaxLength(spec.max_length)
        if spec.optional or not spec.required:
            self.box.setPlaceholderText(spec.empty_text)
        self.widget = self.box

    def text(self) -> str:
        box = self.box
        return box.toPlainText() if isinstance(box, QPlainTextEdit) else box.text()

    def value(self) -> Any:
        text = self.text().strip()
        return text if text else UNSET

    def set_value(self, value: Any) -> None:
        text = "" if value is None or value is UNSET else str(value)
        if isinstance(self.box, QPlainTextEdit):
            self.box.setPlainText(text)
        else:
            self.box.setText(text)


class NumberEditor(Editor):
    """Ids and amounts: typed, not spun (an impact.com id has seven digits)."""

    def __init__(self, spec: FieldSpec, *, whole: bool) -> None:
        super().__init__(spec)
        self.whole = whole
        self.box = QLineEdit()
        self.box.setClearButtonEnabled(True)
        if whole:
            self.box.setValidator(QRegularExpressionValidator(QRegularExpression(r"-?\d{0,18}")))
        else:
            validator = QDoubleValidator()
            validator.setNotation(QDoubleValidator.Notation.StandardNotation)
            self.box.setValidator(validator)
        if spec.optional or not spec.required:
            self.box.setPlaceholderText(spec.empty_text)
        self.box.textEdited.connect(self.changed)
        self.widget = self.box

    def value(self) -> Any:
        text = self.box.text().strip().replace(",", "" if self.whole else ".")
        if not text:
            return UNSET
        try:
            return int(text) if self.whole else float(text)
        except ValueError:
            return text  # pydantic says what is wrong with it

    def set_value(self, value: Any) -> None:
        self.box.setText("" if value is None or value is UNSET else str(value))


class ChoiceEditor(Editor):
    """A Literal: the table's words for each value (the value itself never shows)."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        self.combo = QComboBox()
        words = spec.choices
        if spec.optional:
            self.combo.addItem(NO_CHOICE, None)
        for value in spec.literal_values:
            self.combo.addItem(words.get(value, words_for(value)), value)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.set_value(spec.default)
        self.combo.currentIndexChanged.connect(self.changed)
        self.widget = self.combo

    def value(self) -> Any:
        data = self.combo.currentData()
        return UNSET if data is None else data

    def set_value(self, value: Any) -> None:
        index = self.combo.findData(value) if value is not None and value is not UNSET else -1
        self.combo.setCurrentIndex(max(index, 0))


class CheckEditor(Editor):
    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        self.box = QCheckBox()
        self.box.setChecked(bool(spec.default))
        self.box.toggled.connect(self.changed)
        self.widget = self.box

    def value(self) -> Any:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self.box.setChecked(bool(value) if value is not UNSET else False)


class MaybeEditor(Editor):
    """A yes/no that may also be left as it is (`bool | None`)."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(spec)
        self.combo = QComboBox()
        for text, value in (("Leave as it is", None), ("Yes", True), ("No", False)):
            self.combo.addItem(text, value)
        self.combo.currentIndexChanged.connect(self.changed)
        self.widget = self.combo

    def value(self) -> Any:
        data = self.combo.currentData()
        return UNSET if data is None else bool(data)

    def set_value(self, value: Any) -> None:
        index = self.combo.findData(value) if isinstance(value, bool) else 0
        self.combo.setCurrentIndex(max(index, 0))


class _Optional(Editor):
    """An optional value behind a check box ("Set"), the value's own widget beside it."""

    def __init__(self, spec: FieldSpec, inner: QWidget) -> None:
        super().__init__(spec)
        self.inner = inner
        self.use = QCheckBox("Set")
        self.use.setToolTip(f"Give a value for {_in_a_sentence(spec.title)}; unticked: none")
        self.use.setVisible(spec.optional or not spec.required)
        self.use.setChecked(not (spec.optional or not spec.required))
        self.use.toggled.connect(self._toggled)
        self.use.toggled.connect(self.changed)
        self._toggled(self.use.isChecked())

    def _toggled(self, on: bool) -> None:
        self.inner.setEnabled(on)

    @property
    def focus_widget(self) -> QWidget:
        return self.use if self.use.isVisible() else self.inner

    def used(self) -> bool:
        return self.use.isChecked()

    def use_value(self, present: bool) -> None:
        if self.use.isVisible():
            self.use.setChecked(present)


class DateEditor(_Optional):
    """A calendar date sent as YYYY-MM-DD text."""

    def __init__(self, spec: FieldSpec) -> None:
        self.date = QDateEdit()
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("dd MMM yyyy")
        self.date.setDate(QDate.currentDate())
        super().__init__(spec, self.date)
        self.date.dateChanged.connect(self.changed)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.use)
        row.addWidget(self.date)
        row.addStretch(1)
        self.widget = QWidget()
        self.widget.setLayout(row)

    def value(self) -> Any:
        if not self.used():
            return UNSET
        return self.date.date().toString("yyyy-MM-dd")

    def set_value(self, value: Any) -> None:
        if isinstance(value, str) and value:
            self.date.setDate(QDate.fromString(value[:10], "yyyy-MM-dd"))
        self.use_value(bool(value) and value is not UNSET)


def local_zone_text() -> str:
    """The computer's time zone as the form shows it: 'Europe/Berlin (UTC+01:00)'."""
    zone = QTimeZone.systemTimeZone()
    name = bytes(zone.id().data()).decode("ascii", "replace") or "Local time"
    offset = datetime.now().astimezone().strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{name} ({offset})"


class DateTimeEditor(_Optional):
    """A moment in time, shown and typed in the computer's time zone (named beside it) and
    sent with its offset, so no one has to guess which zone a date was meant in."""

    def __init__(self, spec: FieldSpec) -> None:
        self.moment = QDateTimeEdit()
        self.moment.setCalendarPopup(True)
        self.moment.setDisplayFormat("dd MMM yyyy HH:mm")
        self.moment.setDateTime(QDateTime.currentDateTime())
        super().__init__(spec, self.moment)
        self.moment.dateTimeChanged.connect(self.changed)
        self.zone = QLabel(local_zone_text())
        self.zone.setObjectName("timeZone")
        self.zone.setStyleSheet(secondary_text_style(self.zone))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.use)
        row.addWidget(self.moment)
        row.addWidget(self.zone)
        row.addStretch(1)
        self.widget = QWidget()
        self.widget.setLayout(row)

    def value(self) -> Any:
        if not self.used():
            return UNSET
        seconds = self.moment.dateTime().toSecsSinceEpoch()
        return datetime.fromtimestamp(seconds, UTC).astimezone()

    def set_value(self, value: Any) -> None:
        moment: datetime | None = None
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, str) and value:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            self.moment.setDateTime(QDateTime.fromSecsSinceEpoch(int(moment.timestamp())))
        self.use_value(moment is not None)


class PathEditor(Editor):
    """A file to read ("file") or to write ("save_file"), typed or chosen."""

    def __init__(self, spec: FieldSpec, *, save: bool, parent: Callable[[], QWidget]) -> None:
        super().__init__(spec)
        self.save = save
        self._parent = parent
        self.box = QLineEdit()
        self.box.setClearButtonEnabled(True)
        self.box.setPlaceholderText("Where to save the file" if save else "The file to send")
        self.box.textEdited.connect(self.changed)
        self.browse = QPushButton("Choose…")
        self.browse.clicked.connect(self.choose)
        self.dialog: QFileDialog | None = None
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.box, 1)
        row.addWidget(self.browse)
        self.widget = QWidget()
        self.widget.setLayout(row)

    @property
    def focus_widget(self) -> QWidget:
        return self.box

    def choose(self) -> QFileDialog:
        start = self.box.text().strip() or str(Path.home())
        dialog = QFileDialog(self._parent(), self.spec.title, start)
        dialog.setObjectName("pathDialog")
        if self.save:
            dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
            dialog.setNameFilter("CSV files (*.csv);;All files (*)")
            dialog.setDefaultSuffix("csv")
        else:
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self._chosen)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _chosen(self, name: str) -> None:
        self.box.setText(name)
        self.changed()

    def value(self) -> Any:
        text = self.box.text().strip()
        return Path(text).expanduser() if text else UNSET

    def set_value(self, value: Any) -> None:
        self.box.setText("" if value is None or value is UNSET else str(value))


# -- many values -------------------------------------------------------------------------------


def read_lines_file(path: Path) -> list[str]:
    """Lines of a small text file (ids, codes), BOM and blank lines dropped."""
    size = path.stat().st_size
    if size > MAX_LINES_FILE:
        raise ValueError(f"{path.name} is {size:,} bytes; a list here is at most 16 MB")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ValueError(
            f"line {line:,} is not UTF-8 text (byte 0x{data[error.start]:02X}); save the file "
            "as UTF-8 and load it again"
        ) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


SHOWN_OF_A_LONG_LIST = 1_000  # lines a text box shows of a longer list (the rest is held)


class LinesEditor(Editor):
    """One value per line: typed, pasted (from a spreadsheet column too), or loaded from a
    text or CSV file."""

    def __init__(self, spec: FieldSpec, *, parent: Callable[[], QWidget]) -> None:
        super().__init__(spec)
        self._parent = parent
        self.box = QPlainTextEdit()
        self.box.setObjectName(f"lines_{spec.name}")
        self.box.setTabChangesFocus(True)
        self.box.setPlaceholderText(f"One {_singular(spec.title)} per line (paste a column)")
        self.box.setMinimumHeight(self.box.fontMetrics().height() * 6 + 12)
        self.box.textChanged.connect(self._count)
        self.box.textChanged.connect(self.changed)
        self.count = QLabel()
        self.count.setStyleSheet(secondary_text_style(self.count))
        self.load = QPushButton("Load from a file…")
        self.load.clicked.connect(self.choose_file)
        self.clear = QPushButton("Clear")
        self.clear.setObjectName(f"clear_{spec.name}")
        self.clear.setToolTip("Forget the loaded list and type or paste instead")
        self.clear.clicked.connect(lambda: self.set_value([]))
        self.clear.hide()
        self.dialog: QFileDialog | None = None
        self.loading: asyncio.Future[list[str]] | None = None  # a file being read
        self.problem = ""
        # A long list (a file of a million customer IDs) is kept here, not in the text box:
        # the box would take seconds to lay it out and split it again on every keystroke.
        self.held: list[str] | None = None
        self.held_from = ""
        below = QHBoxLayout()
        below.setContentsMargins(0, 0, 0, 0)
        below.addWidget(self.count, 1)
        below.addWidget(self.clear)
        below.addWidget(self.load)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.box, 1)
        column.addLayout(below)
        self.widget = QWidget()
        self.widget.setLayout(column)
        self._count()

    @property
    def focus_widget(self) -> QWidget:
        return self.box

    def lines(self) -> list[str]:
        if self.held is not None:
            return self.held
        return [line.strip() for line in self.box.toPlainText().splitlines() if line.strip()]

    def _count(self) -> None:
        count = len(self.lines())
        title = self.spec.title
        text = f"{count:,} {_singular(title) if count == 1 else _in_a_sentence(title)}"
        if self.held is not None:
            text += f" {self.held_from}, the first {SHOWN_OF_A_LONG_LIST:,} shown"
        self.count.setText(text)

    def _show(self, items: list[str], origin: str = "") -> None:
        """The box shows `items`; a long list is held apart, the box read-only with its start."""
        long = len(items) > SHOWN_OF_A_LONG_LIST
        self.held = items if long else None
        self.held_from = origin or "in the list"
        self.box.setReadOnly(long)
        self.clear.setVisible(long)
        self.box.setPlainText("\n".join(items[:SHOWN_OF_A_LONG_LIST] if long else items))

    def choose_file(self) -> QFileDialog:
        dialog = QFileDialog(
            self._parent(), f"Load {_in_a_sentence(self.spec.title)}", str(Path.home())
        )
        dialog.setObjectName("linesFileDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilter("Text and CSV files (*.txt *.csv);;All files (*)")
        dialog.fileSelected.connect(lambda name: self.load_file(Path(name)))
        self.dialog = dialog
        dialog.open()
        return dialog

    def load_file(self, path: Path) -> asyncio.Future[list[str]]:
        """Read the file off the GUI thread; its lines replace what the box holds."""
        self.count.setText(f"Reading {path.name}…")
        self.load.setEnabled(False)
        self.loading = asyncio.ensure_future(asyncio.to_thread(read_lines_file, path))

        def done(future: asyncio.Future[list[str]]) -> None:
            self.load.setEnabled(True)
            error = future.exception() if not future.cancelled() else None
            if future.cancelled() or error is not None:
                self.problem = f"Could not read {path.name}: {error or 'cancelled'}"
                self.count.setText(self.problem)
                return
            self.problem = ""
            self._show(future.result(), f"from {path.name}")

        self.loading.add_done_callback(done)
        return self.loading

    def value(self) -> Any:
        lines = self.lines()
        return lines if lines else UNSET

    def set_value(self, value: Any) -> None:
        items = value if isinstance(value, list | tuple) else []
        self._show([str(item) for item in items])


def _in_a_sentence(title: str) -> str:
    """A field's title inside a sentence: "Customer IDs" -> "customer IDs" (acronyms
    stay as they are)."""
    return " ".join(word if word[1:2].isupper() else word.lower() for word in title.split())


def _singular(title: str) -> str:
    words = _in_a_sentence(title)
    return words[:-1] if words.endswith("s") else words


def monospace(widget: QWidget) -> None:
    widget.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))


class JsonEditor(Editor):
    """Free-form data the vendor defines (campaign data, a tier's benefits), as JSON."""

    def __init__(self, spec: FieldSpec, *, example: str = "") -> None:
        super().__init__(spec)
        self.box = QPlainTextEdit()
        self.box.setTabChangesFocus(True)
        monospace(self.box)
        self.box.setPlaceholderText(example or ('{"key": "value"}' if spec.origin is dict else ""))
        self.box.setFixedHeight(self.box.fontMetrics().height() * 5 + 12)
        self.box.textChanged.connect(self.changed)
        self.widget = self.box

    def value(self) -> Any:
        text = self.box.toPlainText().strip()
        if not text:
            return UNSET
        try:
            return json.loads(text)
        except ValueError as error:
            return Invalid(f"Not valid JSON: {error}.")

    def set_value(self, value: Any) -> None:
        if value is None or value is UNSET or value in ({}, []):
            self.box.setPlainText("")
        else:
            self.box.setPlainText(json.dumps(value, indent=2, ensure_ascii=False))


def typed(text: str) -> Any:
    """A cell as the vendor should get it: 500 and true as a number and a yes, the rest as
    the text typed."""
    stripped = text.strip()
    if stripped in ("true", "false") or stripped.lstrip("-").replace(".", "", 1).isdigit():
        try:
            return json.loads(stripped)
        except ValueError:
            return stripped
    return stripped


# A table editor's column: key, title, choices (a drop-down) or None, and whether a cell's
# text is read as a number or yes/no where it looks like one (else it stays text).
TableColumn = tuple[str, str, dict[Any, str] | None, bool]


class TableEditor(Editor):
    """Rows of cells with Add row / Remove; Paste takes tab-separated lines (a spreadsheet
    range)."""

    def __init__(
        self, spec: FieldSpec, columns: list[TableColumn], *, add_text: str = "Add a row"
    ) -> None:
        super().__init__(spec)
        self.columns = columns
        self.table = QTableWidget(0, len(columns))
        self.table.setObjectName(f"table_{spec.name}")
        self.table.setHorizontalHeaderLabels([column[1] for column in columns])
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 12)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(self.table.fontMetrics().height() * 7)
        self.table.itemChanged.connect(self.changed)
        self.add_button = QPushButton(add_text)
        self.add_button.clicked.connect(lambda: self.add_row())
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.paste_button = QPushButton("Paste rows")
        self.paste_button.setToolTip("Add rows copied from a spreadsheet (one per line)")
        self.paste_button.clicked.connect(self.paste)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.paste_button)
        buttons.addStretch(1)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.table, 1)
        column.addLayout(buttons)
        self.widget = QWidget()
        self.widget.setLayout(column)

    @property
    def focus_widget(self) -> QWidget:
        return self.table

    def add_row(self, values: dict[str, Any] | None = None) -> int:
        values = values or {}
        row = self.table.rowCount()
        self.table.insertRow(row)
        for number, (key, _title, choices, _typed) in enumerate(self.columns):
            value = values.get(key)
            if choices is not None:
                combo = QComboBox()
                for choice, words in choices.items():
                    combo.addItem(words, choice)
                combo.setCurrentIndex(max(0, combo.findData(value)))
                combo.currentIndexChanged.connect(self.changed)
                self.table.setCellWidget(row, number, combo)
            else:
                text = (
                    ""
                    if value is None
                    else (json.dumps(value) if isinstance(value, dict | list) else str(value))
                )
                self.table.setItem(row, number, QTableWidgetItem(text))
        self.changed()
        return row

    def remove_selected(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        if not rows and self.table.currentRow() >= 0:
            rows = [self.table.currentRow()]
        for row in rows:
            self.table.removeRow(row)
        self.changed()

    def paste(self) -> None:
        self.paste_text(QGuiApplication.clipboard().text())

    def paste_text(self, text: str) -> None:
        for line in text.splitlines():
            if not line.strip():
                continue
            cells = line.split("\t")
            keys = [column[0] for column in self.columns]
            self.add_row(dict(zip(keys, cells, strict=False)))

    def cell(self, row: int, number: int) -> Any:
        widget = self.table.cellWidget(row, number)
        if isinstance(widget, QComboBox):
            return widget.currentData()
        item = self.table.item(row, number)
        if item is None:
            return ""
        return typed(item.text()) if self.columns[number][3] else item.text().strip()

    def rows(self) -> list[dict[str, Any]]:
        found = []
        for row in range(self.table.rowCount()):
            values = {
                column[0]: self.cell(row, number) for number, column in enumerate(self.columns)
            }
            kept = {key: value for key, value in values.items() if value not in ("", None)}
            if kept:
                found.append(kept)
        return found

    def value(self) -> Any:
        rows = self.rows()
        return rows if rows else UNSET

    def set_value(self, value: Any) -> None:
        self.table.setRowCount(0)
        for item in value if isinstance(value, list) else []:
            self.add_row(item if isinstance(item, dict) else {})

    def show_inner(self, where: tuple[str | int, ...], text: str) -> bool:
        if where and isinstance(where[0], int) and where[0] < self.table.rowCount():
            self.table.selectRow(where[0])
        return False  # the row's number is in the problem text the form shows


class RecordsEditor(TableEditor):
    """A list of small records (reward constraints; promo codes with their promotion's
    name): one row each, one column per field, choices as drop-downs."""

    def __init__(self, spec: FieldSpec) -> None:
        model = spec.item_model
        assert model is not None
        columns: list[TableColumn] = []
        for field in fields_of(model):
            choices = None
            if field.literal_values:
                words = field.choices
                choices = {
                    value: words.get(value, words_for(value)) for value in field.literal_values
                }
            alias = model.model_fields[field.name].alias
            numeric = field.annotation in (int, float)
            columns.append((alias or field.name, field.title, choices, numeric))
        super().__init__(spec, columns)


class PropertiesEditor(TableEditor):
    """Properties as name/value pairs (values that read as numbers or yes/no are sent as
    such)."""

    def __init__(self, spec: FieldSpec) -> None:
        super().__init__(
            spec,
            [("name", "Property", None, False), ("value", "Value", None, True)],
            add_text="Add a property",
        )
        self.paste_button.hide()

    def value(self) -> Any:
        return {
            str(row["name"]): row.get("value", "")
            for row in self.rows()
            if str(row.get("name", "")).strip()
        }

    def set_value(self, value: Any) -> None:
        self.table.setRowCount(0)
        for name, item in (value or {}).items() if isinstance(value, dict) else []:
            self.add_row({"name": name, "value": item})
