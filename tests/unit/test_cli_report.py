"""`promodesk report ...` and `promodesk import-redemptions` as real processes, on the demo
workspace (made by `promodesk import`) whose answers are counted here independently."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from promodesk.store.db import connect
from tests.conftest import DEMO_DIR
from tests.unit.test_cli import promodesk


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("report") / "demo.promodesk"
    done = promodesk("import", *map(str, sorted(DEMO_DIR.iterdir())), "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    return workspace


@pytest.fixture
def workspace(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo.promodesk"
    shutil.copyfile(built, copy)
    return copy


def query(workspace: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = connect(workspace, readonly=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def report(workspace: Path, *args: str) -> dict[str, Any]:
    done = promodesk("report", *args, "--workspace", str(workspace), "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_inventory(workspace: Path, tmp_path: Path) -> None:
    data = report(workspace, "inventory")
    codes = sum(
        query(workspace, f"SELECT count(*) FROM {table}")[0][0]
        for table in (
            "optimove_allocations",
            "optimove_pool_codes",
            "altcraft_codes",
            "impact_codes",
        )
    )
    assert data["total"] == codes == 25_800 and data["pending"] == 0
    altcraft = dict(query(workspace, "SELECT status, count(*) FROM altcraft_codes GROUP BY 1"))
    assert data["by_status"]["used"] == altcraft["activated"]
    assert data["by_vendor"] == {"altcraft": 500, "impact": 300, "optimove": 25_000}
    out = tmp_path / "all codes.csv"
    done = promodesk("report", "inventory", "--workspace", str(workspace), "--csv", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:3] == ["code", "status", "vendor"]
    assert len(rows) == 1 + codes
    assert [row[0] for row in rows[1:]] == sorted(row[0] for row in rows[1:])


def test_text_output_and_usage_errors(workspace: Path, tmp_path: Path) -> None:
    done = promodesk("report", "inventory", "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("25,800 codes\n")
    assert "Allocated / attached" in done.stdout
    missing = promodesk("report", "changes", "--workspace", str(workspace), "--csv")
    assert missing.returncode == 2 and "--csv needs -o OUT" in missing.stderr
    since = promodesk("report", "changes", "--workspace", str(workspace), "--since", "Monday")
    assert since.returncode == 2 and "--since: not an ISO 8601 date" in since.stderr
    nowhere = promodesk("report", "runway", "--workspace", str(tmp_path / "none.promodesk"))
    assert nowhere.returncode == 1 and "no workspace at" in nowhere.stderr


def test_changes(workspace: Path) -> None:
    latest = report(workspace, "changes")
    # Each source's last import against the one before it: Optimove's unique-code file
    # after its allocation export (5,000 codes), Altcraft's second program after the first
    # (200), impact.com's only export against nothing (300).
    assert latest["codes"] == {"added": 5_000 + 200 + 300}
    runs = {r["source"]: (r["after_run"], r["upto_run"]) for r in latest["ranges"]}
    assert runs["Imported files (impact.com)"][0] == 0
    assert runs["Imported files (Optimove)"][0] > 0
    assert len(latest["changes"]) == sum(c["count"] for c in latest["counts"])
    before = report(workspace, "changes", "--since", "2000-01-01")
    assert before["codes"] == {"added": 25_800}
    assert before["ranges"] == [
        {
            "source": "every source",
            "after_run": 0,
            "upto_run": len(query(workspace, "SELECT id FROM runs")),
        }
    ]
    assert report(workspace, "changes", "--since", "1h")["codes"] == {"added": 25_800}
    # A time after the last run: nothing changed since.
    assert report(workspace, "changes", "--since", "2999-01-01T00:00:00+00:00")["codes"] == {}


def test_runway(workspace: Path, tmp_path: Path) -> None:
    data = report(workspace, "runway", "--threshold", "400")
    pools = {pool["pool"]: pool for pool in data["pools"]}
    assert set(pools) == {"5", "8", "pc-spring-welcome", "pc-summer-sale", "pc-vip-winback"}
    available = dict(query(workspace, "SELECT loyalty_id, available_count FROM altcraft_programs"))
    assert pools["5"]["codes left"] == available["5"]
    assert pools["5"]["under threshold"] is True and data["warnings"]
    assert pools["pc-summer-sale"]["codes left"] is None
    attached = query(
        workspace,
        "SELECT count(*) FROM altcraft_codes WHERE loyalty_id = '5' AND attached <> ''",
    )[0][0]
    assert sum(count for _, count in pools["5"]["per_day"]) == attached
    out = tmp_path / "runway.csv"
    done = promodesk("report", "runway", "--workspace", str(workspace), "--csv", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1 + 5


def test_collisions(workspace: Path) -> None:
    data = report(workspace, "collisions")
    # The demo's impact.com codes that are active in two programs (counted directly).
    twice = query(
        workspace,
        "SELECT lower(code) FROM impact_codes WHERE status = 'active' GROUP BY lower(code) "
        "HAVING count(DISTINCT campaign_id) > 1",
    )
    assert data["counts"] == {"two pools": len(twice)} and twice
    assert {row["code"].lower() for row in data["collisions"]} == {code for (code,) in twice}


def test_redemptions_and_reconcile(workspace: Path, tmp_path: Path) -> None:
    allocated = query(
        workspace,
        "SELECT unique_code, customer_id, allocated_at FROM optimove_allocations ORDER BY id "
        "LIMIT 3",
    )
    export = tmp_path / "shop-2026-11.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["order", "Coupon", "Customer", "Paid at"])
        writer.writerow(["1", allocated[0][0].lower(), allocated[0][1], "2026-11-20 10:00"])
        writer.writerow(["2", f" {allocated[1][0]} ", "someone-else", "2026-11-20 11:00"])
        writer.writerow(["3", "NOT-A-CODE", "c9", "2026-11-20 12:00"])
    unmapped = promodesk("import-redemptions", str(export), "--workspace", str(workspace))
    assert unmapped.returncode == 1
    assert "promodesk does not know this export yet" in unmapped.stderr
    assert "perhaps the code is in 'Coupon', the customer in 'Customer'" in unmapped.stderr
    done = promodesk(
        "import-redemptions",
        str(export),
        "--workspace",
        str(workspace),
        "--source",
        "Shop",
        "--code-column",
        "Coupon",
        "--customer-column",
        "Customer",
        "--time-column",
        "Paid at",
        "--time-zone",
        "Europe/Berlin",
    )
    assert done.returncode == 0, done.stderr
    assert "imported shop-2026-11.csv: 3 new redemptions" in done.stderr
    again = tmp_path / "shop-2026-12.csv"
    again.write_text(
        f"order;Coupon;Customer;Paid at\n4;{allocated[2][0]};{allocated[2][1]};2026-12-01 09:00\n",
        encoding="utf-8",
    )
    second = promodesk("import-redemptions", str(again), "--workspace", str(workspace))
    assert second.returncode == 0, second.stderr
    assert "source Shop: code in 'Coupon'" in second.stderr
    data = report(workspace, "reconcile", "--days", "30")
    assert (data["redemptions"], data["matched"], data["other_customer"]) == (4, 2, 1)
    assert data["never_allocated"] == 1
    assert data["as_of"] == "2026-12-01T08:00:00Z"  # 09:00 in Berlin
    assert [row["code"] for row in data["lists"]["never allocated"]] == ["NOT-A-CODE"]
    assert [row["redeemed by"] for row in data["lists"]["other customer"]] == ["someone-else"]
    assert data["redeemed_allocations"] == 3
    assert data["not_redeemed"] == data["allocations"] - 3 - sum(
        1
        for (at,) in query(workspace, "SELECT allocated_at FROM optimove_allocations")
        if at >= data["cutoff"]
    )
    out = tmp_path / "mismatches.csv"
    listed = promodesk(
        "report",
        "reconcile",
        "--workspace",
        str(workspace),
        "--csv",
        "-o",
        str(out),
        "--list",
        "other-customer",
    )
    assert listed.returncode == 0, listed.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and lines[1].startswith("other customer,")
    unknown = promodesk("report", "reconcile", "--workspace", str(workspace), "--source", "Nope")
    assert unknown.returncode == 1 and "no redemptions from 'Nope'" in unknown.stderr


def test_a_bad_time_zone_for_an_account_is_refused(tmp_path: Path) -> None:
    done = promodesk(
        "accounts",
        "add",
        "impact",
        "Shop",
        "--base-url",
        "https://api.impact.com",
        "--account-sid",
        "IRx",
        "--time-zone",
        "Mars/Base",
    )
    assert done.returncode == 2
    assert "Time zone: 'Mars/Base' is not a time zone name" in done.stderr
    ok = promodesk(
        "accounts",
        "add",
        "impact",
        "Shop",
        "--base-url",
        "https://api.impact.com",
        "--account-sid",
        "IRx",
        "--time-zone",
        "America/Chicago",
    )
    assert ok.returncode == 0, ok.stderr
    listed = promodesk("accounts", "list", "--json")
    assert '"time_zone": "America/Chicago"' in listed.stdout
