"""How stored values read in tables and the details pane.

Dates are shown on one clock for every table and pane (View ▸ Dates): the computer's own
(the default), UTC, or each account's vendor time zone (an account setting). `CLOCK` holds
the choice and the zones; the table models and the details panes read every date through
`date_text`, so the switch changes them all at once (ui/models/date_clock.py tells the
models to repaint).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from promodesk.domain.dates import DEFAULT_ZONE, DateView, date_only_expiry, zone_named
from promodesk.domain.values import CANONICAL_FORMAT
from promodesk.store.tables import Column
from promodesk.ui.widgets.plain import plain_tooltip

if TYPE_CHECKING:
    from promodesk.services.dates import DateRenderer

DISPLAY_DATETIME = "%d %b %Y %H:%M"
# After an expiry given as a date without a time (its tooltip says when it really ends).
DATE_ONLY_MARK = "⚑"
VIEW_WORDS = {
    DateView.VENDOR: "each account's time zone",
    DateView.LOCAL: "this computer's time",
    DateView.UTC: "UTC",
}
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


@dataclass
class DateClock:
    """Which clock dates are shown on, and the zone of each account (source id -> IANA
    name, from the account settings through services.dates.DateRenderer). One per app."""

    view: DateView = DateView.LOCAL
    renderer: DateRenderer | None = None

    def zone_of(self, account_id: int | None) -> str:
        if self.renderer is None:
            return DEFAULT_ZONE
        return self.renderer.zone_of(account_id)


CLOCK = DateClock()


@lru_cache(maxsize=4096)
def _utc(text: str) -> datetime | None:
    """A stored date as an aware UTC moment (canonical text, or ISO 8601 as a vendor sent it)."""
    try:
        return datetime.strptime(text, CANONICAL_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


@lru_cache(maxsize=16384)
def on_clock(text: str, view: DateView, zone: str = DEFAULT_ZONE) -> str:
    """A stored date as the table shows it on `view`'s clock ('zone': the vendor's):
    '20 Nov 2026 12:30' (local), '20 Nov 2026 09:30 UTC', '20 Nov 2026 12:30 MSK'."""
    moment = _utc(text)
    if moment is None:
        return text
    if view is DateView.LOCAL:
        return moment.astimezone().strftime(DISPLAY_DATETIME)
    if view is DateView.UTC:
        return f"{moment.strftime(DISPLAY_DATETIME)} UTC"
    try:
        there = zone_named(zone)
    except ValueError:
        there = zone_named(DEFAULT_ZONE)
    shown = moment.astimezone(there)
    label = "UTC" if there.key == "UTC" else (shown.tzname() or there.key)
    return f"{shown.strftime(DISPLAY_DATETIME)} {label}"


@lru_cache(maxsize=16384)
def _date_only(text: str, zone: str) -> str:
    try:
        return date_only_expiry(text, zone)
    except ValueError:
        return ""


def date_only_note(value: Any, account_id: int | None = None) -> str:
    """'' unless an expiry looks given as a date without a time: then when it really ends."""
    return _date_only(str(value), CLOCK.zone_of(account_id)) if value else ""


def date_text(value: Any, account_id: int | None = None, *, expiry: bool = False) -> str:
    """A stored date on the clock View ▸ Dates picked; an expiry given without a time is
    marked (DATE_ONLY_MARK)."""
    if value is None or value == "":
        return ""
    text = on_clock(str(value), CLOCK.view, CLOCK.zone_of(account_id))
    if expiry and date_only_note(value, account_id):
        return f"{text} {DATE_ONLY_MARK}"
    return text


def all_clocks(value: Any, account_id: int | None = None) -> list[tuple[str, str]]:
    """A stored date on every clock, for a details pane: (which clock, the date)."""
    if value is None or value == "":
        return []
    text = str(value)
    zone = CLOCK.zone_of(account_id)
    clocks = [
        (zone if zone != "UTC" else "account's zone", on_clock(text, DateView.VENDOR, zone)),
        ("UTC", on_clock(text, DateView.UTC)),
        ("this computer", on_clock(text, DateView.LOCAL)),
    ]
    # Clocks that read the same day and time are said once ("… UTC · account's zone and this
    # computer"): three equal lines in a narrow pane read as three different dates.
    merged: dict[str, tuple[list[str], str]] = {}
    for clock, shown in clocks:
        merged.setdefault(shown[:_WALL_TIME_CHARS], ([], shown))[0].append(clock)
    return [(" and ".join(_merged_names(names)), shown) for names, shown in merged.values()]


_WALL_TIME_CHARS = len("30 Nov 2026 14:39")  # what on_clock writes before the zone's name


def _merged_names(names: list[str]) -> list[str]:
    """UTC is said by the date itself when others share it ("14:39 UTC · this computer")."""
    return [name for name in names if name != "UTC"] if len(names) > 1 else names


def date_tooltip(value: Any, account_id: int | None = None, *, expiry: bool = False) -> str:
    lines = [f"{shown}  · {clock}" for clock, shown in all_clocks(value, account_id)]
    note = date_only_note(value, account_id) if expiry else ""
    if note:
        lines += ["", f"{DATE_ONLY_MARK} {note[:1].upper()}{note[1:]}."]
    return plain_tooltip("\n".join(lines))


def display(column: Column, value: Any, account_id: int | None = None) -> str:
    """A stored value in words; dates on the chosen clock (`account_id`: whose vendor zone)."""
    if value is None or value == "":
        return ""
    words = WORDS.get(column.name)
    if words is not None and value in words:
        return words[value][0]
    if column.name in _CAPITALISED and isinstance(value, str):
        return value[:1].upper() + value[1:]
    if column.kind == "datetime":
        return date_text(value, account_id, expiry=column.expiry)
    if column.kind == "count" and isinstance(value, int):
        return f"{value:,}"
    if column.kind == "flag":
        return "Yes" if value else ""
    return str(value)


def tooltip(column: Column, value: Any, account_id: int | None = None) -> str | None:
    words = WORDS.get(column.name)
    if words is not None and value in words:
        return plain_tooltip(words[value][1])
    if column.kind == "datetime" and value:
        return date_tooltip(value, account_id, expiry=column.expiry)
    if column.kind == "text" and isinstance(value, str) and value:
        return plain_tooltip(display(column, value))  # shown only when the cell cuts it
    return None


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
