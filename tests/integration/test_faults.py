"""Each fault a fake can inject, against each vendor's client: reads come back right after
retrying, and creates whose outcome was unknown leave exactly one entity."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.altcraft.fake import SANDBOX_TOKEN as ALTCRAFT_TOKEN
from promodesk.vendors.altcraft.fake import FakeAltcraft
from promodesk.vendors.fake_support import KINDS, SandboxTransport
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, FakeImpact
from promodesk.vendors.impact.fake import SANDBOX_TOKEN as IMPACT_TOKEN
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.optimove.fake import SANDBOX_API_KEY as OPTIMOVE_KEY
from promodesk.vendors.optimove.fake import FakeOptimove
from tests.integration.conftest import SleepRecorder, fast


@dataclass
class Case:
    read: Callable[[Any], Awaitable[str]]  # returns something to compare
    expected_read: str
    create: Callable[[Any, str], Awaitable[object]]
    count: Callable[[Any, str], int]  # how many entities the fake holds under that name


async def _optimove_read(client: OptimoveClient) -> str:
    return (await client.get_promocode("pc-welcome-2025")).code or ""


async def _optimove_create(client: OptimoveClient, name: str) -> object:
    return await client.create_promotion(name, f"CODE-{name}")


def _optimove_count(fake: FakeOptimove, name: str) -> int:
    return sum(1 for p in fake.state.promotions.values() if p["name"] == name)


async def _altcraft_read(client: AltcraftClient) -> str:
    return (await client.get("LOY5-0001")).code


async def _altcraft_create(client: AltcraftClient, name: str) -> object:
    return await client.import_codes([name])


def _altcraft_count(fake: FakeAltcraft, name: str) -> int:
    return sum(1 for code in fake.state.programs[5].codes if code == name)


async def _impact_read(client: ImpactClient) -> str:
    return (await client.get(7_000_001)).code


async def _impact_create(client: ImpactClient, name: str) -> object:
    return await client.create(partner_id=2552842, campaign_id=1000, code=name)


def _impact_count(fake: FakeImpact, name: str) -> int:
    return sum(1 for record in fake.state.codes.values() if record["Code"] == name)


CASES = {
    "optimove": Case(_optimove_read, "WELCOME2025", _optimove_create, _optimove_count),
    "altcraft": Case(_altcraft_read, "LOY5-0001", _altcraft_create, _altcraft_count),
    "impact": Case(_impact_read, "SANDBOX00", _impact_create, _impact_count),
}


def _connect(name: str, fake: Any, sleeps: SleepRecorder) -> Any:
    transport = SandboxTransport(fake)
    if name == "optimove":
        return OptimoveClient.connect(
            "http://o.test", OPTIMOVE_KEY, transport=transport, **fast(sleeps)
        )
    if name == "altcraft":
        return AltcraftClient.connect(
            "http://a.test", ALTCRAFT_TOKEN, 5, db_id=1, transport=transport, **fast(sleeps)
        )
    return ImpactClient.connect(
        "http://i.test", SANDBOX_SID, IMPACT_TOKEN, transport=transport, **fast(sleeps)
    )


@pytest_asyncio.fixture(params=sorted(CASES))
async def vendor(
    request: pytest.FixtureRequest, sleeps: SleepRecorder
) -> AsyncIterator[tuple[Case, Any, Any]]:
    name = request.param
    fake = {"optimove": FakeOptimove, "altcraft": FakeAltcraft, "impact": FakeImpact}[name](
        rate_limit=None
    )
    fake.faults.slow_seconds = 0.5
    client = _connect(name, fake, sleeps)
    client.http.total_timeout = 0.1  # "slow" and "lost" outlast it
    yield CASES[name], client, fake
    await client.aclose()


@pytest.mark.parametrize("fault", KINDS)
async def test_a_read_survives_the_fault(vendor: tuple[Case, Any, Any], fault: str) -> None:
    case, client, fake = vendor
    fake.faults.script.append(fault)
    assert await case.read(client) == case.expected_read
    assert fake.faults.injected == {fault: 1}
    assert client.http.calls == 2  # the faulted try and one more


@pytest.mark.parametrize("fault", KINDS)
async def test_a_create_lands_exactly_once_through_the_fault(
    vendor: tuple[Case, Any, Any], fault: str
) -> None:
    case, client, fake = vendor
    name = f"FAULT-{fault.upper()}-1"
    fake.faults.script.append(fault)
    await case.create(client, name)
    assert fake.faults.injected == {fault: 1}
    assert case.count(fake, name) == 1


async def test_faults_twice_in_a_row_and_then_a_clean_answer(vendor: tuple[Case, Any, Any]) -> None:
    case, client, fake = vendor
    fake.faults.script.extend(["drop-after", "503", "lost"])
    await case.create(client, "FAULT-CHAIN-1")
    assert case.count(fake, "FAULT-CHAIN-1") == 1
    assert sum(fake.faults.injected.values()) == 3
