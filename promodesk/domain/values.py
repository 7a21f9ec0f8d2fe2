"""Lenient parsing of the values vendors send: strings for numbers, "" for null, any ISO offset.

Stored and compared dates use one canonical form, UTC to the second (``2026-09-01T10:00:00Z``),
so that they sort correctly as text in SQLite whatever offset the vendor used.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

CANONICAL_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def blank_to_none(value: object) -> object:
    """Vendors send "" (or whitespace) where they mean "not set"."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


def is_canonical_utc(text: str) -> bool:
    """Cheap test used on hot paths before paying for a full parse."""
    return (
        len(text) == 20
        and text[4] == "-"
        and text[7] == "-"
        and text[10] == "T"
        and text[13] == ":"
        and text[16] == ":"
        and text[19] == "Z"
    )


def parse_datetime(text: str, *, assume: tzinfo | None = UTC) -> datetime:
    """Parse an ISO 8601 date or datetime; one without an offset is taken as being in
    `assume` (UTC unless the caller knows better, e.g. a file's time zone; None: the
    computer's own time zone, for what a user types).

    Raises ValueError with a short reason that can be shown to a user.
    """
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    if value[-4:].upper() in (" UTC", " GMT"):  # as shops and CRMs write it
        value = value[:-4] + "Z"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=assume) if assume is not None else parsed.astimezone()
    return parsed.astimezone(UTC)


def to_utc_text(value: object) -> str:
    """Canonical UTC text for a vendor date, or "" when the vendor left it unset."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime(CANONICAL_FORMAT)
    text = str(value).strip()
    if not text:
        return ""
    if is_canonical_utc(text):
        return text
    # isoformat of an aware UTC time is "YYYY-MM-DDTHH:MM:SS+00:00" (or with .ffffff before
    # the offset): its first 19 characters plus "Z" are the canonical form, at a fifth of the
    # cost of strftime.
    return parse_datetime(text).isoformat()[:19] + "Z"


def now_utc_text() -> str:
    return datetime.now(UTC).strftime(CANONICAL_FORMAT)


def lenient_int(value: object) -> int | None:
    """ "7777777", 7777777 and 7777777.0 are the same id; "" is none."""
    value = blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    raise ValueError(f"not a whole number: {text[:40]!r}")


def lenient_text(value: object) -> str | None:
    """Numbers and strings as text; "" is none."""
    if isinstance(value, str):  # the common case first: this runs for every field of a sync
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
