"""Dates for people: a stored UTC moment in the vendor's time zone, local time or UTC, and
expiries that were given as a date without a time.

Every stored date is canonical UTC text (`values.CANONICAL_FORMAT`). Vendors run their own
clocks: an account names its vendor's time zone (an IANA name such as Europe/Moscow, checked
against the zone database), and any view can show a date in that zone, in the computer's
local time, or in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from promodesk.domain.values import parse_instant

DEFAULT_ZONE = "UTC"
_SHOWN = "%Y-%m-%d %H:%M"
_SHOWN_DAY = "%d %b %Y"


class DateView(StrEnum):
    """Which clock dates are shown on."""

    VENDOR = "vendor"
    LOCAL = "local"
    UTC = "utc"


def zone_named(name: str) -> ZoneInfo:
    """The IANA time zone called `name` ('' is UTC); ValueError says what is wrong."""
    text = (name or "").strip() or DEFAULT_ZONE
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{text!r} is not a time zone name; use an IANA name such as Europe/Berlin, "
            "America/New_York or UTC"
        ) from None


def zone_problem(name: str) -> str:
    """'' when `name` is a usable time zone, else the reason."""
    try:
        zone_named(name)
    except ValueError as error:
        return str(error)
    return ""


LOCAL: None = None  # the computer's own clock (summer time as it was on each date)


def _zone_label(moment: datetime, zone: tzinfo | None) -> str:
    if zone is UTC or getattr(zone, "key", "") == "UTC":
        return "UTC"
    return moment.tzname() or str(zone)


def show(utc_text: str, zone: tzinfo | None) -> str:
    """'2026-11-20 12:30 MSK' for a stored date ('' stays ''); zone LOCAL: the computer's."""
    if not utc_text:
        return ""
    moment = parse_instant(utc_text).astimezone(zone)
    return f"{moment.strftime(_SHOWN)} {_zone_label(moment, zone)}"


@dataclass(frozen=True)
class ShownDate:
    """One stored date on the three clocks (for a details pane)."""

    utc: str
    local: str
    vendor: str
    vendor_zone: str

    def on(self, view: DateView) -> str:
        return {DateView.UTC: self.utc, DateView.LOCAL: self.local, DateView.VENDOR: self.vendor}[
            view
        ]


def shown_date(utc_text: str, vendor_zone: str = DEFAULT_ZONE) -> ShownDate:
    zone = zone_named(vendor_zone)
    return ShownDate(
        utc=show(utc_text, UTC),
        local=show(utc_text, LOCAL),
        vendor=show(utc_text, zone),
        vendor_zone=zone.key,
    )


def date_only_expiry(utc_text: str, vendor_zone: str = DEFAULT_ZONE) -> str:
    """For an expiry that falls exactly on a midnight (in UTC or in the vendor's zone): it was
    most likely given as a date without a time, and it takes effect at the *start* of that
    day in that zone, not at its end. Says when, in words; '' for any other expiry."""
    if not utc_text:
        return ""
    moment = parse_instant(utc_text)
    zone = zone_named(vendor_zone)
    vendor_is_utc = zone.key == "UTC"
    for clock in (zone,) if vendor_is_utc else (zone, UTC):
        there = moment.astimezone(clock)
        if (there.hour, there.minute, there.second) != (0, 0, 0):
            continue
        if vendor_is_utc:
            name, other = "UTC", ""
        elif clock is zone:
            name, other = zone.key, f" ({show(utc_text, UTC)})"
        else:
            name, other = "UTC", f" ({show(utc_text, zone)} in {zone.key})"
        last_day = (there - timedelta(seconds=1)).strftime(_SHOWN_DAY)
        return (
            f"expires at 00:00 on {there.strftime(_SHOWN_DAY)} {name}{other}: a date without a "
            f"time takes effect at the start of that day, so the last day customers can use "
            f"the code is {last_day}"
        )
    return ""
