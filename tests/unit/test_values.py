"""The one date parser, numbers that fit the workspace, control characters, and text shown
safely: the domain rules every importer and client goes through."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
from promodesk.domain.text import control_character_at, file_label, printable
from promodesk.domain.values import (
    INT64_MAX,
    canonical_utc,
    fits_int64,
    is_canonical_utc,
    lenient_int,
    parse_instant,
    to_utc_text,
)
from tests.helpers import impact_code

NOT_INSTANTS = {
    "now": "not an ISO 8601 date and time",
    "2459000.5": "not an ISO 8601 date and time",  # a Julian day: SQLite's strftime takes it
    "2026-02-30T10:00:00Z": "day is out of range for month",
    "2026-13-01T10:00:00Z": "month must be in 1..12",
    "0000-06-01T10:00:00Z": "year 0 is out of range",
    "0001-01-01T00:00:00+01:00": "before the year 1",  # year 0 once in UTC
    "9999-12-31T23:00:00-05:00": "after the year 9999",
    "2026-09-01T24:00:00Z": "hour must be in 0..23",
    "2026-09-01T10:00:60Z": "second must be in 0..59",
    "2026-09-01T10:00:00+24:00": "impossible offset",
    "2026-09-01X10:00:00": "not an ISO 8601",  # Python's fromisoformat takes any separator
    "2026-W36-1": "not an ISO 8601",
    "２０２６-09-01": "not an ISO 8601",  # full-width digits
    "": "empty date",
}


@pytest.mark.parametrize("text", sorted(NOT_INSTANTS))
def test_only_real_iso_instants_are_dates(text: str) -> None:
    with pytest.raises(ValueError, match=NOT_INSTANTS[text]):
        parse_instant(text)
    with pytest.raises(ValueError, match=NOT_INSTANTS[text] if text else "empty"):
        canonical_utc(text)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2026-09-01T10:00:00Z", "2026-09-01T10:00:00Z"),
        ("2026-09-01T12:00:00+02:00", "2026-09-01T10:00:00Z"),
        ("2026-09-01T05:30:00+0530", "2026-09-01T00:00:00Z"),
        ("2026-09-01T10:00:00-05", "2026-09-01T15:00:00Z"),
        ("2026-09-01 08:30", "2026-09-01T08:30:00Z"),
        ("2026-09-01t10:00:00z", "2026-09-01T10:00:00Z"),
        ("2026-09-01T10:00:00.123456789Z", "2026-09-01T10:00:00Z"),
        ("2026-09-01T10:00:00,5+01:00", "2026-09-01T09:00:00Z"),
        ("2026-09-01", "2026-09-01T00:00:00Z"),
        ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
        ("0001-01-01T00:30:00Z", "0001-01-01T00:30:00Z"),
        ("9999-12-31T23:00:00+05:00", "9999-12-31T18:00:00Z"),
    ],
)
def test_iso_instants_become_canonical_utc(text: str, canonical: str) -> None:
    assert canonical_utc(text) == canonical
    assert to_utc_text(text) == canonical


def test_text_that_merely_looks_canonical_is_checked() -> None:
    assert is_canonical_utc("2026-09-01T10:00:00Z")
    for fake in ("2026-13-01T10:00:00Z", "2026-02-30T10:00:00Z", "0000-01-01T00:00:00Z"):
        assert not is_canonical_utc(fake)
        with pytest.raises(ValueError, match="not a real date"):
            to_utc_text(fake)


def test_an_aware_datetime_past_the_years_is_a_value_error() -> None:
    from datetime import timedelta, timezone

    edge = datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(ValueError, match="outside the years"):
        to_utc_text(edge)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_every_canonical_text_reads_back_as_itself(moment: datetime) -> None:
    text = moment.replace(microsecond=0).isoformat() + "Z"
    assert is_canonical_utc(text)
    assert parse_instant(text) == moment.replace(microsecond=0, tzinfo=UTC)
    assert canonical_utc(moment.isoformat() + "+00:00") == text


def test_whole_numbers_fit_a_64_bit_integer() -> None:
    assert lenient_int(str(INT64_MAX)) == INT64_MAX
    assert lenient_int("0000000000000000000000042") == 42
    assert lenient_int(-(2**63)) == -(2**63)
    for too_large in (str(INT64_MAX + 1), 2**64, 1e300, "9" * 5000):
        with pytest.raises(ValueError, match="too large"):
            lenient_int(too_large)
    with pytest.raises(ValueError, match="not a whole number"):
        lenient_int("١٢٣")  # Arabic-Indic digits: int() would take them


def test_impact_ids_are_ascii_digits_and_their_size_is_checked_where_kept() -> None:
    huge = str(INT64_MAX + 1)
    # The record takes any whole number; the importer and the client refuse what SQLite
    # cannot keep, each in its own words.
    assert ImpactPromoCodeRecord.model_validate(impact_code(1, Id=huge)).id == huge
    assert fits_int64(str(INT64_MAX)) and fits_int64("0000000000000000000000001")
    assert not fits_int64(huge) and not fits_int64("9" * 400)
    with pytest.raises(ValidationError, match="Id must be a number"):
        ImpactPromoCodeRecord.model_validate(impact_code(1, Id="١٢٣"))


def test_codes_ids_and_names_refuse_control_characters_and_absurd_lengths() -> None:
    for record in (
        impact_code(1, Code="AB\x1b[2JCD"),
        impact_code(1, CampaignId="10\x0000"),
        impact_code(1, AssignedPartnerName="Partner\r\nInjected: line"),
        impact_code(1, Code="X" * 256),
        impact_code(1, CampaignName="N" * 1001),
    ):
        with pytest.raises(ValidationError):
            ImpactPromoCodeRecord.model_validate(record)
    # A tab in a name is tolerated; in an id or a code it is not.
    ImpactPromoCodeRecord.model_validate(impact_code(1, CampaignName="Spring\tSale"))
    with pytest.raises(ValidationError, match="U\\+0009"):
        ImpactPromoCodeRecord.model_validate(impact_code(1, Code="AB\tCD"))
    with pytest.raises(ValidationError, match="U\\+0085"):
        AltcraftCodeRecord.model_validate({"code": "AB\x85CD"})
    with pytest.raises(ValidationError, match="Altcraft codes have at most 255"):
        AltcraftCodeRecord.model_validate({"code": "Y" * 100_000})
    with pytest.raises(ValidationError, match=r"month must be in 1\.\.12"):
        AltcraftCodeRecord.model_validate({"code": "A", "attached": "2026-13-01T10:00:00Z"})


def test_control_characters_are_found_and_shown_escaped() -> None:
    assert control_character_at("SPRING-10") == -1
    assert control_character_at("caf\u00e9 \u4e2d") == -1
    assert control_character_at("AB\x1bCD") == 2
    assert control_character_at("A\tB", allow_tab=True) == -1
    assert control_character_at("A\tB") == 1
    assert printable("plain name.csv") == "plain name.csv"
    shown = printable("evil\x1b[2J\rname\n.csv\u202egnp.exe\x85")
    assert shown == "evil\\x1b[2J\\rname\\n.csv\\u202egnp.exe\\x85"
    assert all(character.isprintable() for character in shown)


def test_file_names_that_are_not_utf8_become_storable_text() -> None:
    import os

    name = os.fsdecode(b"caf\xe9 \x1b.csv")  # as Python hands it over on Linux
    with pytest.raises(UnicodeEncodeError):
        name.encode("utf-8")
    assert file_label(f"/tmp/{name}") == "caf\\xe9 \x1b.csv"
    assert printable(file_label(name)) == "caf\\xe9 \\x1b.csv"
    assert printable(name) == "caf\\xe9 \\x1b.csv"
