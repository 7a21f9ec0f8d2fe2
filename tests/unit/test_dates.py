"""Dates on three clocks (domain/dates.py, services/dates.py): the vendor account's time zone
setting, local time and UTC, date-only expiries, and the one date parser's zones."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from promodesk.domain.dates import (
    DateView,
    date_only_expiry,
    shown_date,
    zone_named,
    zone_problem,
)
from promodesk.domain.values import parse_instant
from promodesk.domain.vendors import Vendor
from promodesk.services.accounts import Account, AccountStore, check_settings
from promodesk.services.dates import DateRenderer, account_zones, renderer_for
from promodesk.store.importers.base import ensure_account
from promodesk.vendors.registry import VENDORS
from tests.helpers import new_workspace


@pytest.fixture
def in_new_york() -> Iterator[None]:
    """The computer's clock on New York time, for the local view."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    os.environ["TZ"] = before or "UTC"
    time.tzset()


def test_zone_names_are_checked_against_the_zone_database() -> None:
    assert zone_named("Europe/Moscow").key == "Europe/Moscow"
    assert zone_named("").key == "UTC"
    assert zone_problem("Asia/Kolkata") == ""
    assert "is not a time zone name" in zone_problem("Moscow")
    assert "is not a time zone name" in zone_problem("../../etc/passwd")


def test_the_one_parser_takes_a_zone_for_times_without_an_offset() -> None:
    moscow = ZoneInfo("Europe/Moscow")
    assert parse_instant("2026-11-20 12:00:00", assume=moscow) == datetime(
        2026, 11, 20, 9, tzinfo=UTC
    )
    # An offset written in the text wins over the assumed zone.
    assert parse_instant("2026-11-20T12:00:00+01:00", assume=moscow).hour == 11
    assert parse_instant("2026-11-20 12:00:00 UTC", assume=moscow).hour == 12
    assert parse_instant("2026-11-20").hour == 0


def test_a_date_on_three_clocks(in_new_york: None) -> None:
    shown = shown_date("2026-07-01T12:00:00Z", "Asia/Tokyo")
    assert shown.utc == "2026-07-01 12:00 UTC"
    assert shown.local == "2026-07-01 08:00 EDT"
    assert shown.vendor == "2026-07-01 21:00 JST"
    assert shown.on(DateView.VENDOR) == shown.vendor
    assert shown_date("", "Asia/Tokyo").utc == ""


@pytest.mark.parametrize(
    ("expiry", "zone", "expected"),
    [
        (
            "2026-12-31T00:00:00Z",
            "UTC",
            "expires at 00:00 on 31 Dec 2026 UTC: a date without a time takes effect at the "
            "start of that day, so the last day customers can use the code is 30 Dec 2026",
        ),
        # The vendor took the date in its own zone: midnight in Berlin is 23:00 UTC before.
        ("2026-12-30T23:00:00Z", "Europe/Berlin", "00:00 on 31 Dec 2026 Europe/Berlin"),
        # Stored as midnight UTC for a Berlin account: says when that is in Berlin.
        ("2026-12-31T00:00:00Z", "Europe/Berlin", "(2026-12-31 01:00 CET in Europe/Berlin)"),
        ("2026-12-31T17:30:00Z", "Europe/Berlin", ""),
        ("", "UTC", ""),
    ],
)
def test_date_only_expiries_say_when_they_take_effect(
    expiry: str, zone: str, expected: str
) -> None:
    note = date_only_expiry(expiry, zone)
    assert (expected in note) if expected else note == ""


def test_every_vendor_account_has_a_checked_time_zone_setting() -> None:
    for vendor, info in VENDORS.items():
        field = next(field for field in info.fields if field.key == "time_zone")
        assert (field.kind, field.required, field.default) == ("zone", False, "UTC")
        settings = {**info.sandbox_settings, "time_zone": "Europe/Nowhere"}
        problems = check_settings(vendor, settings)
        assert any("Time zone: 'Europe/Nowhere' is not a time zone name" in p for p in problems)
        assert check_settings(vendor, {**info.sandbox_settings, "time_zone": "Asia/Tokyo"}) == []
        assert check_settings(vendor, dict(info.sandbox_settings)) == []


def test_a_workspaces_sources_take_their_accounts_zones(tmp_path: Path, in_new_york: None) -> None:
    path, conn = new_workspace(tmp_path)
    moscow = Account(
        id="acc-1",
        vendor=Vendor.ALTCRAFT,
        name="Shop RU",
        settings={"base_url": "https://x", "loyalty_id": "5", "time_zone": "Europe/Moscow"},
    )
    broken = Account(id="acc-2", vendor=Vendor.IMPACT, name="Old", settings={"time_zone": "nope"})
    store = AccountStore(tmp_path / "accounts.json")
    store.put(moscow)
    store.put(broken)
    ru = ensure_account(conn, Vendor.ALTCRAFT, key="acc-1", name="Shop RU", kind="live")
    old = ensure_account(conn, Vendor.IMPACT, key="acc-2", name="Old", kind="live")
    files = ensure_account(conn, Vendor.OPTIMOVE, key="imported", name="Imported", kind="imported")
    conn.close()
    zones = renderer_for(path, store.all()).zones
    assert zones == {ru: "Europe/Moscow", old: "UTC", files: "UTC"}
    assert account_zones([(7, "acc-1")], [moscow]) == {7: "Europe/Moscow"}
    renderer = DateRenderer(zones)
    stamp = "2026-11-20T09:30:00Z"
    assert renderer.render(stamp, ru, DateView.VENDOR) == "2026-11-20 12:30 MSK"
    assert renderer.render(stamp, ru, DateView.LOCAL) == "2026-11-20 04:30 EST"
    assert renderer.render(stamp, ru, DateView.UTC) == "2026-11-20 09:30 UTC"
    assert renderer.render(stamp, files, DateView.VENDOR) == "2026-11-20 09:30 UTC"
    assert renderer.all_three(stamp, ru).vendor_zone == "Europe/Moscow"
    assert "Europe/Moscow" in renderer.expiry_note("2026-12-30T21:00:00Z", ru)
    assert renderer.expiry_note("2026-12-30T21:00:00Z", files) == ""
