"""How stored values read in tables and the details pane."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from promodesk.domain.values import CANONICAL_FORMAT
from promodesk.store.tables import Column
from promodesk.ui.widgets.plain import plain_tooltip

DISPLAY_DATETIME = "%d %b %Y %H:%M"

# Vendor vocabulary in a marketer's words: column name -> stored value -> (shown, explained).
# Filters and sorting keep the stored values; the explanation (and the vendor's own word) is
# the cell's tooltip.
WORDS: dict[str, dict[str, tuple[str, str]]] = {
    "code_type": {
        "LI": ("Exact match", "The code must be typed exactly as it is (impact.com: LI)."),
        "RE": (
            "Pattern",
            "The code is a pattern: small differences in case or spacing still match "
            "(impact.com: RE).",
        ),
        "unique": ("Unique", "One code per customer, from uploaded code files."),
        "global": ("Global", "One code shared by every customer."),
    },
    "credit_policy": {
        "ALWAYS": ("Always", "The partner is credited whenever the code is used (ALWAYS)."),
        "INVOLVED": (
            "If involved",
            "The partner is credited when they drove any click before the sale (INVOLVED).",
        ),
        "WINNER": (
            "If last click",
            "The partner is credited only when they drove the winning, last click (WINNER).",
        ),
    },
}
_CAPITALISED = frozenset({"status", "state"})  # stored lower-case: "active" reads "Active"


@lru_cache(maxsize=4096)
def _local(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, CANONICAL_FORMAT).replace(tzinfo=UTC).astimezone()
    except ValueError:
        pass
    try:  # ISO 8601 as a vendor sent it (fractions of a second, an offset)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone()


def display(column: Column, value: Any) -> str:
    if value is None or value == "":
        return ""
    words = WORDS.get(column.name)
    if words is not None and value in words:
        return words[value][0]
    if column.name in _CAPITALISED and isinstance(value, str):
        return value[:1].upper() + value[1:]
    if column.kind == "datetime":
        moment = _local(str(value))
        return moment.strftime(DISPLAY_DATETIME) if moment else str(value)
    if column.kind == "count" and isinstance(value, int):
        return f"{value:,}"
    if column.kind == "flag":
        return "Yes" if value else ""
    return str(value)


def tooltip(column: Column, value: Any) -> str | None:
    words = WORDS.get(column.name)
    if words is not None and value in words:
        return plain_tooltip(words[value][1])
    if column.kind == "datetime" and value:
        moment = _local(str(value))
        if moment:
            local = moment.strftime("%d %b %Y %H:%M:%S %Z")
            return plain_tooltip(f"{local} (local)\n{value} (UTC)")
    if column.kind == "text" and isinstance(value, str) and value:
        return plain_tooltip(display(column, value))  # shown only when the cell cuts it
    return None


def utc_text(column: Column, value: Any) -> str:
    """The UTC reading of a date, when the local one differs from it ('' otherwise)."""
    if column.kind != "datetime" or not value:
        return ""
    moment = _local(str(value))
    if moment is None or moment.utcoffset() == timedelta(0):
        return ""
    return moment.astimezone(UTC).strftime(DISPLAY_DATETIME) + " UTC"


def is_numeric(column: Column) -> bool:
    return column.kind in ("int", "count")


def copy_cell(column: Column, value: Any) -> Any:
    """A value as it is copied to the clipboard: what the table shows, except that numbers
    stay numbers (a pasted "1,234" is text, or 1.234, in some spreadsheets' locales)."""
    if is_numeric(column) and isinstance(value, int):
        return value
    return display(column, value)


def plural(count: int, singular: str, many: str = "") -> str:
    """'1 allocation', '2 allocations', '1,000,000 rows' ('many' for irregular plurals)."""
    return f"{count:,} {singular if count == 1 else (many or singular + 's')}"
