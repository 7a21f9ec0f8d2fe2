"""Pool runway (store/runway.py) on workspaces whose answers are known: allocations and
attachments per day (in the vendor's time zone), codes left, the pace, the trend, the day the
pool runs dry, and the pools under the threshold."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.store.db import transaction
from promodesk.store.importers.base import ImportHints
from promodesk.store.importers.dispatch import import_file
from promodesk.store.records import optimove_promocode_row
from promodesk.store.runs import start_run
from promodesk.store.runway import pool_runways, under_threshold
from promodesk.store.writes import OPTIMOVE_PROMOCODES, upsert
from tests.helpers import new_workspace, write_allocations

AS_OF = "2026-11-21T09:00:00Z"


def allocations(promocode: str, per_day: dict[str, int], *, hour: str = "10:00") -> list[list[str]]:
    rows = []
    for day, count in per_day.items():
        for n in range(count):
            rows.append(
                [
                    f"C-{promocode}-{day}-{n}",
                    promocode,
                    "promo-1",
                    f"f-{promocode}",
                    f"{promocode.upper()}-{day}-{n:04d}",
                    f"{day}T{hour}:{n % 60:02d}Z",
                    "1",
                    "1",
                    "1",
                ]
            )
    return rows


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    _path, conn = new_workspace(tmp_path)
    # pc-fast: 10 a day for the 14 days before Nov 21 (and 5 a day the week before that);
    # pc-slow: 1 a day; pc-unknown: no count of what is left.
    fast = {f"2026-11-{d:02d}": 10 for d in range(7, 21)}
    fast.update({f"2026-10-{d:02d}": 5 for d in range(24, 31)})
    slow = {f"2026-11-{d:02d}": 1 for d in range(7, 21)}
    rows = allocations("pc-fast", fast) + allocations("pc-slow", slow)
    rows += allocations("pc-unknown", {"2026-11-20": 3})
    import_file(conn, write_allocations(tmp_path / "a.csv", rows), hints=ImportHints(as_of=AS_OF))
    account = conn.execute("SELECT id FROM accounts WHERE vendor = 'optimove'").fetchone()[0]
    with transaction(conn):
        run = start_run(conn, "sync", account_id=account)
        upsert(
            conn,
            OPTIMOVE_PROMOCODES,
            account,
            [
                optimove_promocode_row(
                    promocode_id="pc-fast",
                    promotion_id="promo-1",
                    code_type="unique",
                    default_code="FALLBACK10",
                    pool_size=1_000,
                    available=105,
                ),
                optimove_promocode_row(
                    promocode_id="pc-slow",
                    promotion_id="promo-1",
                    code_type="unique",
                    pool_size=500,
                ),
                # A global promocode has no pool.
                optimove_promocode_row(promocode_id="pc-global", global_code="WELCOME"),
            ],
            run_id=run,
            as_of="2026-11-20T12:00:00Z",
        )
    yield conn
    conn.close()


def by_pool(conn: sqlite3.Connection, **options: object) -> dict[str, object]:
    return {runway.pool: runway for runway in pool_runways(conn, **options)}  # type: ignore[arg-type]


def test_optimove_promocodes(workspace: sqlite3.Connection) -> None:
    pools = by_pool(workspace, today=date(2026, 11, 22))
    assert set(pools) == {"pc-fast", "pc-slow", "pc-unknown"}
    fast = pools["pc-fast"]
    # 105 left when Optimove said so (Nov 20 12:00); 10 allocated after that (Nov 20 at 10:xx
    # were before it; none after): left stays 105.
    assert fast.left == 105 and fast.size == 1_000
    assert fast.as_of == "2026-11-20T12:00:00Z"
    # The window is the 14 whole days before Nov 20 (the "as of" day): Nov 6..19, with 13
    # days of 10 (Nov 7-19) and one without.
    assert fast.average == pytest.approx(130 / 14, abs=0.01)
    assert fast.days_left == pytest.approx(105 / (130 / 14), abs=0.1)
    assert fast.dry_on == "2026-12-01"
    assert fast.runway_days == 9
    assert fast.under_threshold
    assert "FALLBACK10" in fast.message
    assert fast.trend == round(70 / 60 - 1, 3)  # Nov 13-19 against Nov 6-12 (no Nov 6)
    assert dict(fast.per_day)["2026-11-07"] == 10
    assert dict(fast.per_day)["2026-11-01"] == 0  # no gaps in the series
    assert fast.per_day[0] == ("2026-10-24", 5)
    assert fast.projection[0] == ("2026-11-20", 105)
    assert fast.projection[-1][1] == 0
    slow = pools["pc-slow"]
    assert slow.left == 500 - 14  # the pool size less the allocations in the workspace
    assert slow.average == pytest.approx(13 / 14, abs=0.01)
    assert not slow.under_threshold
    unknown = pools["pc-unknown"]
    assert unknown.left is None and unknown.runway_days is None
    assert unknown.message == (
        "promocode pc-unknown: codes left unknown offline: refresh the account, Optimove says "
        "how many are left"
    )
    assert [r.pool for r in under_threshold(pool_runways(workspace, today=date(2026, 11, 22)))] == [
        "pc-fast"
    ]


def test_the_threshold_and_today(workspace: sqlite3.Connection) -> None:
    assert not by_pool(workspace, today=date(2026, 11, 22), threshold_days=5)[
        "pc-fast"
    ].under_threshold
    # After the day it ran dry: 0 days of runway.
    assert by_pool(workspace, today=date(2026, 12, 25))["pc-fast"].runway_days == 0


def test_days_are_the_vendors_days(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    # 22:30 UTC is already the next day in Moscow (UTC+3).
    rows = allocations("pc-z", {"2026-11-10": 4}, hour="22:30")
    import_file(conn, write_allocations(tmp_path / "z.csv", rows), hints=ImportHints(as_of=AS_OF))
    account = conn.execute("SELECT id FROM accounts").fetchone()[0]
    utc = dict(by_pool(conn)["pc-z"].per_day)
    moscow = dict(by_pool(conn, zones={account: "Europe/Moscow"})["pc-z"].per_day)
    assert (utc["2026-11-10"], utc["2026-11-11"]) == (4, 0)
    assert (moscow.get("2026-11-10", 0), moscow["2026-11-11"]) == (0, 4)
    assert by_pool(conn, zones={account: "Europe/Moscow"})["pc-z"].zone == "Europe/Moscow"
    conn.close()


def test_altcraft_programs(tmp_path: Path) -> None:
    _path, conn = new_workspace(tmp_path)
    items = [{"code": f"AV-{n}"} for n in range(30)]
    items += [
        {"code": f"AT-{day}-{n}", "attached": f"2026-11-{day:02d}T08:00:00Z"}
        for day in range(1, 21)
        for n in range(3)
    ]
    export = tmp_path / "loyalty-7.json"
    export.write_text(json.dumps({"error": 0, "data": items}), encoding="utf-8")
    import_file(conn, export, hints=ImportHints(as_of=AS_OF))
    (runway,) = pool_runways(conn, today=date(2026, 11, 21))
    assert (runway.vendor, runway.kind, runway.pool) == (Vendor.ALTCRAFT, "loyalty program", "7")
    assert runway.left == 30 and runway.size == 90
    assert runway.average == 3.0  # Nov 7..20, three a day
    assert runway.dry_on == "2026-12-01" and runway.runway_days == 10
    assert runway.under_threshold
    conn.close()
