"""The details pane: every stored field of the selected row, each date on all three clocks."""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from promodesk.qt import Qt, QTextBrowser, QTextOption, QWidget, Signal
from promodesk.store.query import fetch_row
from promodesk.store.tables import Column, TableSpec
from promodesk.ui.models.formatting import DATE_ONLY_MARK, all_clocks, date_only_note, display

if TYPE_CHECKING:
    import sqlite3

    from promodesk.store.reader import StoreReader

# Bookkeeping, not data: which import added a row is in File ▸ Import history.
_HIDDEN = {"id", "account_id", "details", "added_run", "gone_run", "fingerprint", "run_id"}
# Columns that hold JSON (the audit log's inputs): shown in words, a field a line.
_JSON_COLUMNS = {"inputs", "result"}
# Stored columns a table does not show, as the details pane reads them.
_EXTRA_COLUMNS = {
    "created_at": Column("created_at", "Created", "datetime"),
    "ever_active": Column("ever_active", "Ever active", "flag"),
}


class DetailsView(QTextBrowser):
    shown = Signal()  # a row's details are on screen (for tests)
    _arrived = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("detailsView")
        self.setOpenLinks(False)
        self.setMinimumWidth(160)
        # Wrap between words only ("DiscountPercen t" was a word cut in two).
        self.setWordWrapMode(QTextOption.WrapMode.WordWrap)
        self._reader: StoreReader | None = None
        self._wanted: tuple[str, int] | None = None
        self._accounts: dict[int, str] = {}
        self._value_names: dict[str, dict[Any, str]] = {}
        self._arrived.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.show_placeholder()

    def set_reader(self, reader: StoreReader | None) -> None:
        self._reader = reader
        self._wanted = None
        self.show_placeholder()

    def set_account_names(self, names: dict[int, str]) -> None:
        self._accounts = names

    def set_value_names(self, column: str, names: dict[Any, str]) -> None:
        """A column's stored values in words, as the table beside shows them (History:
        "archive" -> "Archive promotion", "ok" -> "Done")."""
        self._value_names[column] = names

    def show_placeholder(self) -> None:
        self.setHtml("<p style='color:gray'>Select a row to see all of its fields.</p>")

    def show_row(self, spec: TableSpec, row_id: int | None, title: str = "") -> None:
        if row_id is None or self._reader is None:
            self._wanted = None
            self.show_placeholder()
            return
        self._wanted = (spec.name, row_id)
        wanted = self._wanted

        def load(conn: sqlite3.Connection) -> dict[str, Any] | None:
            return fetch_row(conn, spec, row_id)

        future = self._reader.submit(load)

        def deliver(done: Future[Any]) -> None:
            with contextlib.suppress(RuntimeError):
                self._arrived.emit((wanted, spec, title, done))

        future.add_done_callback(deliver)

    def _show(self, payload: tuple[tuple[str, int], TableSpec, str, Future[Any]]) -> None:
        wanted, spec, title, future = payload
        if wanted != self._wanted or future.cancelled():
            return
        if future.exception() is not None:
            self.setHtml(f"<p>Could not read this row: {html.escape(str(future.exception()))}</p>")
            return
        record = future.result()
        if record is None:
            self.setHtml("<p>This row is no longer in the workspace.</p>")
            return
        self.setHtml(render(spec, record, title, self._accounts, self._value_names))
        self.shown.emit()


_ACRONYMS = {"id": "ID", "uri": "URI", "url": "URL", "utc": "UTC", "api": "API"}
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


# Vendor field names that read wrongly word by word.
_LABELS = {"SynchAdsPromoCodes": "Synced with ads"}


def field_label(name: str) -> str:
    """A vendor's field name in words: "DiscountPercent" -> "Discount percent",
    "deal_id" -> "Deal ID", "Uri" -> "URI"."""
    if name in _LABELS:
        return _LABELS[name]
    words = [_ACRONYMS.get(word.lower(), word.lower()) for word in _WORD.findall(name)]
    if not words:
        return name
    first = words[0]
    return " ".join([first if first.isupper() else first.capitalize(), *words[1:]])


_CONSTANT = re.compile(r"[A-Z][A-Z_]*[A-Z]")


def vendor_word(value: Any) -> str:
    """A vendor's constant in words ("FIXED" -> "Fixed", "FREE_SHIPPING" -> "Free
    shipping"); anything else as it is."""
    text = "" if value is None else str(value)
    if _CONSTANT.fullmatch(text):
        return text.replace("_", " ").capitalize()
    return text


def in_words(value: Any) -> str:
    """A vendor's nested field as lines of words, never a Python repr: a list of named
    things one per line ("1. Gold customers (gold)"), other objects as "Field: value"."""
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return "\n".join(f"{n}. {in_words(item)}" for n, item in enumerate(value, 1))
        return ", ".join(in_words(item) for item in value)
    if isinstance(value, dict):
        name, key = value.get("name"), value.get("id")
        if name:
            return f"{name} ({key})" if key not in (None, "", name) else str(name)
        return "; ".join(f"{field_label(k)}: {in_words(v)}" for k, v in value.items())
    if isinstance(value, bool) or value in ("true", "false"):  # impact.com sends text flags
        return "Yes" if value in (True, "true") else "No"
    return vendor_word(value)


def _json_in_words(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        return "\n".join(
            f"{field_label(key)}: {in_words(item)}"
            for key, item in value.items()
            if item not in (None, "", [], {})
        )
    return in_words(value)


def _unbroken_date(shown: str) -> str:
    """A date as HTML that wraps only between its day and its time ("01 Dec 2026" / "06:20
    UTC"): kept on one line whole, it was cut at the edge of a narrow details pane, which
    then scrolled sideways."""
    words = html.escape(shown).split(" ")
    text = words[0]
    for word in words[1:]:
        text += (" " if ":" in word else "&nbsp;") + word
    return text


def date_html(value: Any, account_id: int | None, *, expiry: bool = False) -> str:
    """A date on all three clocks (this computer, UTC, the account's vendor zone), and for
    an expiry given without a time, when it really ends."""
    lines = [
        _unbroken_date(shown)
        + ("" if clock == "UTC" else f" <span style='color:gray'>· {html.escape(clock)}</span>")
        for clock, shown in all_clocks(value, account_id)
    ]
    note = date_only_note(value, account_id) if expiry else ""
    if note:
        sentence = html.escape(note[:1].upper() + note[1:])
        lines.append(f"<span style='color:#9a5b00'>{DATE_ONLY_MARK} {sentence}.</span>")
    return "<br>".join(lines)


def _row(label: str, value_html: str) -> str:
    return (
        f"<tr><td style='color:gray; padding-right:10px'>{html.escape(label)}</td>"
        f"<td>{value_html}</td></tr>"
    )


def render(
    spec: TableSpec,
    record: dict[str, Any],
    title: str,
    accounts: dict[int, str],
    value_names: Mapping[str, Mapping[Any, str]] | None = None,
) -> str:
    """HTML for one stored row: its columns, its source, then the vendor's extra fields.
    `value_names`: columns whose values have words (DetailsView.set_value_names)."""
    rows = []
    names_of = value_names or {}
    labels = {column.name: column for column in spec.columns}
    account_id = record.get("account_id")
    for name, value in record.items():
        if name in _HIDDEN:
            continue
        column = labels.get(name) or _EXTRA_COLUMNS.get(name)
        label = column.label if column else field_label(name)
        if name in names_of and value in names_of[name]:
            text = names_of[name][value]
        elif name in _JSON_COLUMNS and isinstance(value, str):
            text = _json_in_words(value)
        elif column is not None:
            text = display(column, value, account_id)
        else:
            text = "" if value is None else str(value)
        if not text:
            rows.append(_row(label, "<span style='color:gray'>—</span>"))
            continue
        if column is not None and column.kind == "datetime":
            rows.append(_row(label, date_html(value, account_id, expiry=column.expiry)))
            continue
        rows.append(_row(label, html.escape(text).replace("\n", "<br>")))
    source = accounts.get(int(record.get("account_id") or 0))
    if source:
        rows.append(_row("Source", html.escape(source)))
    try:
        extra = json.loads(record.get("details") or "{}")
    except ValueError:
        extra = {}
    for key, value in sorted(extra.items()):
        rows.append(_row(field_label(key), html.escape(in_words(value)).replace("\n", "<br>")))
    heading = f"<h3 style='margin:0 0 6px 0'>{html.escape(title)}</h3>" if title else ""
    return heading + "<table cellspacing='0' cellpadding='2'>" + "".join(rows) + "</table>"
