"""The sandbox served by uvicorn on real loopback sockets: each client through the same paths
an account would use, faults that cut real connections, and `promodesk sandbox serve`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from promodesk.domain.vendors import Vendor
from promodesk.services.sandbox import bind
from promodesk.vendors import errors
from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.http import RetryPolicy
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.optimove.client import OptimoveClient

pytestmark = pytest.mark.loopback

QUICK = {
    "retry": RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05, jitter=0.0),
    "total_timeout": 5.0,
}


def optimove_client(urls: dict[str, Any]) -> OptimoveClient:
    return OptimoveClient.connect(
        urls["optimove"]["base_url"], urls["optimove"]["api_key"], **QUICK
    )


async def test_optimove_over_sockets(loopback: tuple[dict[str, Any], Any], tmp_path: Path) -> None:
    urls, sandbox = loopback
    client = optimove_client(urls)
    await client.ping()
    promotion = await client.create_promotion("Loopback promotion", "LOOP-1")
    await client.activate(promotion.promotion_id)
    code = await client.create_promocode(
        promocode_type="unique", promotion_id=promotion.promotion_id, default_code="LB-DRY"
    )
    codes = b"".join(b"LB-%05d\n" % n for n in range(3000))
    uploaded = await client.upload_code_file(code.promocode_id, codes, "loopback.csv")
    assert uploaded.codes == 3000
    # The signed upload URL is on the sandbox's own path, and never gets the API key.
    allocate = await client.http.client.post(
        f"/_sandbox/promocodes/{code.promocode_id}/allocate", json={"count": 2500}
    )
    assert allocate.status_code == 200
    target = tmp_path / "allocations.csv"
    seen: list[int] = []
    rows = await client.export_allocations(
        code.promocode_id, target, progress=lambda p: seen.append(p.done)
    )
    assert rows == 2500 and len(target.read_text().splitlines()) == 2501
    assert len(seen) > 1 and seen == sorted(seen)  # streamed, progress as it came
    assert (
        sandbox.fakes[Vendor.OPTIMOVE].state.promotions[promotion.promotion_id]["state"] == "active"
    )
    await client.aclose()


async def test_a_download_cut_off_mid_body_keeps_the_old_file(
    loopback: tuple[dict[str, Any], Any], tmp_path: Path
) -> None:
    urls, sandbox = loopback
    client = optimove_client(urls)
    target = tmp_path / "allocations.csv"
    target.write_text("last week's export\n")
    sandbox.fakes[Vendor.OPTIMOVE].faults.script.append("truncate")
    with pytest.raises(errors.NetworkError, match="cut off"):
        await client.export_allocations("pc-spring-welcome", target)
    assert target.read_text() == "last week's export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["allocations.csv"]
    await client.aclose()


async def test_dropped_connections_over_sockets_make_nothing_twice(
    loopback: tuple[dict[str, Any], Any],
) -> None:
    urls, sandbox = loopback
    client = optimove_client(urls)
    sandbox.fakes[Vendor.OPTIMOVE].faults.script.extend(["drop-after"])
    promotion = await client.create_promotion("Dropped once", "DROP-1")
    state = sandbox.fakes[Vendor.OPTIMOVE].state
    assert [p["promotionId"] for p in state.promotions.values() if p["name"] == "Dropped once"] == [
        promotion.promotion_id
    ]
    impact = ImpactClient.connect(
        urls["impact"]["base_url"],
        urls["impact"]["account_sid"],
        urls["impact"]["auth_token"],
        **QUICK,
    )
    sandbox.fakes[Vendor.IMPACT].faults.script.extend(["drop-after"])
    record = await impact.create(partner_id=2552842, campaign_id=1000, code="LOOPDROP")
    assert [
        str(r["Id"])
        for r in sandbox.fakes[Vendor.IMPACT].state.codes.values()
        if r["Code"] == "LOOPDROP"
    ] == [record.id]
    await client.aclose()
    await impact.aclose()


@pytest.mark.parametrize("response_format", ["json", "xml"])
async def test_altcraft_over_sockets(
    loopback: tuple[dict[str, Any], Any], response_format: str
) -> None:
    urls, _sandbox = loopback
    settings = urls["altcraft"]
    client = AltcraftClient.connect(
        settings["base_url"],
        settings["token"],
        int(settings["loyalty_id"]),
        db_id=int(settings["db_id"]),
        response_format=response_format,
        **QUICK,
    )
    await client.ping()
    summary = await client.import_codes([f"LB-{response_format}-{n}" for n in range(5)])
    assert summary.inserted == 5
    await client.attach(code=f"LB-{response_format}-0", email="loop@example.com")
    await client.activate(f"LB-{response_format}-0")
    assert (await client.get(f"LB-{response_format}-0")).is_activated
    assert {f"LB-{response_format}-{n}" for n in range(5)} <= {
        r.code for r in await client.export_all()
    }
    await client.aclose()


@pytest.mark.parametrize("response_format", ["json", "xml"])
async def test_impact_pages_over_sockets(
    loopback: tuple[dict[str, Any], Any], response_format: str
) -> None:
    urls, _sandbox = loopback
    settings = urls["impact"]
    client = ImpactClient.connect(
        settings["base_url"],
        settings["account_sid"],
        settings["auth_token"],
        response_format=response_format,
        page_size=4,
        **QUICK,
    )
    # @nextpageuri is relative to the host and includes the sandbox's /impact prefix.
    records = await client.list_all(campaign_id=1000)
    assert len(records) >= 13 and len({r.id for r in records}) == len(records)
    await client.expire(records[0].id)
    assert (await client.get(records[0].id)).state == "INACTIVE"
    wrong = ImpactClient.connect(settings["base_url"], settings["account_sid"], "nope", **QUICK)
    with pytest.raises(errors.AuthError):
        await wrong.ping()
    await client.aclose()
    await wrong.aclose()


async def test_sandbox_serve_prints_one_json_line_and_serves() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "promodesk",
        "sandbox",
        "serve",
        "--json",
        "--port",
        "0",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        described = json.loads(line)
        assert set(described) == {"optimove", "altcraft", "impact"}
        assert set(described["optimove"]) == {"base_url", "api_key"}
        assert set(described["altcraft"]) == {"base_url", "token", "loyalty_id", "db_id"}
        assert set(described["impact"]) == {"base_url", "account_sid", "auth_token"}
        optimove = described["optimove"]
        async with httpx.AsyncClient() as raw:
            for _ in range(100):  # the line comes just before uvicorn starts accepting
                try:
                    answer = await raw.get(
                        optimove["base_url"] + "/v1/promocodes/pc-welcome-2025",
                        headers={"X-API-KEY": optimove["api_key"]},
                    )
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert answer.json()["code"] == "WELCOME2025"
            impact = described["impact"]
            listed = await raw.get(
                f"{impact['base_url']}/Advertisers/{impact['account_sid']}/PromoCodes",
                auth=(impact["account_sid"], impact["auth_token"]),
                headers={"Accept": "application/json"},
            )
            assert listed.json()["@numpages"] == "1"
    finally:
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 30)
        _stderr = await process.stderr.read() if process.stderr else b""
    assert code == 0, _stderr.decode()[-2000:]


def test_the_sandbox_socket_says_tcp_so_answers_are_not_held_back() -> None:
    """asyncio sets TCP_NODELAY only on sockets whose proto is TCP; a socket made without it
    held every kept-alive answer back ~40 ms (Nagle + delayed ACK)."""
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
