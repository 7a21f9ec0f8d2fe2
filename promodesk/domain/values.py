"""Lenient parsing of the values vendors send: strings for numbers, "" for null, any ISO offset.

Stored and compared dates use one canonical form, UTC to the second (``2026-09-01T10:00:00Z``),
so that they sort correctly as text in SQLite whatever offset the vendor used.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

CANONICAL_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def blank_to_none(value: object) -> object:
    """Vendors send "" (or whitespace) where they mean "not set"."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


_CANONICAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
# The ISO 8601 forms vendors and spreadsheets write: a date, optionally a time (T or a space
# between them; seconds and a fraction optional) and an offset. Nothing else: SQLite and
# Python's fromisoformat also take "now", Julian day numbers, week dates and the like.
_ISO_INSTANT = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:[Tt ](?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?"
    r"(?P<offset>[Zz]|(?P<sign>[+-])(?P<offset_hours>[0-9]{2})(?::?(?P<offset_minutes>[0-9]{2}))?)?)?"
)


# The same, without the groups: cheaper, for the common case of a date that parses.
_ISO_SHAPE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
    r"(?:[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)


def is_canonical_utc(text: str) -> bool:
    """True for canonical UTC text of a real moment (not 2026-02-30 nor month 13)."""
    if not _CANONICAL.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text[:19])  # C speed; checks the ranges
    except ValueError:
        return False
    return True


def parse_instant(text: str, *, assume: tzinfo | None = UTC) -> datetime:
    """The one date parser of promodesk: an ISO 8601 date and time as an aware UTC datetime.

    Without an offset the time is taken as being in `assume`: UTC unless the caller knows
    better (a file's time zone; None: the computer's own, for what a user types); a date
    alone is midnight there. " UTC" or " GMT" at the end, as shops and CRMs write it, is Z.
    Refuses, with a short reason a user can act on, anything else: words ("now"), numbers
    (Julian days), impossible dates (February 30, month 13, year 0) and offsets that move the
    moment out of the years 1 to 9999.
    """
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    if value[-4:].upper() in (" UTC", " GMT"):
        value = value[:-4] + "Z"
    if _ISO_SHAPE.fullmatch(value) is None:
        raise ValueError(f"not an ISO 8601 date and time: {value[:40]!r}")
    try:
        moment = datetime.fromisoformat(value)  # C speed, for the forms it knows
    except ValueError:
        moment = _from_parts(value)  # the rest of the grammar, or the precise reason
    try:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=assume) if assume is not None else moment.astimezone()
        return moment.astimezone(UTC)
    except OverflowError:
        behind_utc = (moment.utcoffset() or timedelta(0)) < timedelta(0)
        direction = "after the year 9999" if behind_utc else "before the year 1"
        raise ValueError(f"{value[:40]!r} falls {direction} once converted to UTC") from None


def _from_parts(value: str) -> datetime:
    found = _ISO_INSTANT.fullmatch(value)
    assert found is not None
    part = found.group
    try:
        moment = datetime(
            int(part("year")),
            int(part("month")),
            int(part("day")),
            int(part("hour") or 0),
            int(part("minute") or 0),
            int(part("second") or 0),
            int((part("fraction") or "0")[:6].ljust(6, "0")),
        )
    except ValueError as error:  # "day is out of range for month", "year 0 is out of range"
        raise ValueError(f"{value[:40]!r} is not a real date and time ({error})") from None
    if not part("sign"):
        return moment if part("offset") is None else moment.replace(tzinfo=UTC)
    hours, minutes = int(part("offset_hours")), int(part("offset_minutes") or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"{value[:40]!r} has an impossible offset from UTC")
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if part("sign") == "-" else 1)
    return moment.replace(tzinfo=timezone(offset))


def canonical_utc(text: str) -> str:
    """Canonical UTC text for an ISO 8601 date and time; ValueError for anything else."""
    if is_canonical_utc(text):
        return text
    return _canonical(parse_instant(text))


def _canonical(moment: datetime) -> str:
    # isoformat of a UTC time is "YYYY-MM-DDTHH:MM:SS" then ".ffffff" and/or "+00:00", always
    # with four year digits (strftime's %Y drops leading zeros on some platforms).
    return moment.isoformat()[:19] + "Z"


def to_utc_text(value: object) -> str:
    """Canonical UTC text for a vendor date, or "" when the vendor left it unset."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        try:
            return _canonical(moment.astimezone(UTC))
        except (OverflowError, ValueError):
            raise ValueError(f"{value.isoformat()} is outside the years 1 to 9999 in UTC") from None
    text = str(value).strip()
    if not text:
        return ""
    return canonical_utc(text)


def now_utc_text() -> str:
    return datetime.now(UTC).strftime(CANONICAL_FORMAT)


# What SQLite stores as an integer; anything larger would not fit the workspace.
INT64_MAX = 2**63 - 1


def lenient_int(value: object) -> int | None:
    """ "7777777", 7777777 and 7777777.0 are the same id; "" is none. Whole numbers only, and
    only as large as a 64-bit integer."""
    value = blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if -INT64_MAX - 1 <= value <= INT64_MAX:
            return value
        raise _too_large(str(value) if value.bit_length() < 512 else "")
    text = str(value).strip()
    digits = text.removeprefix("-")
    if digits.isascii() and digits.isdigit():
        if len(digits.lstrip("0")) <= 19 and -INT64_MAX - 1 <= int(text) <= INT64_MAX:
            return int(text)
        raise _too_large(text)
    raise ValueError(f"not a whole number: {text[:40]!r}")


def fits_int64(digits: str) -> bool:
    """Whether a string of digits is a number SQLite can keep as an INTEGER."""
    return len(digits.lstrip("0")) <= 19 and int(digits) <= INT64_MAX


def _too_large(text: str) -> ValueError:
    shown = f" {text[:30]}…" if len(text) > 30 else (f" {text}" if text else "")
    return ValueError(f"the number{shown} is too large (the most is {INT64_MAX:,})")


def lenient_text(value: object) -> str | None:
    """Numbers and strings as text; "" is none."""
    if isinstance(value, str):  # the common case first: this runs for every field of a sync
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
