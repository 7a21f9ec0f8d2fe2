"""Vendor clients against their fakes: in-process (ASGI, no sockets) and over loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn

from promodesk.services.sandbox import bind, build_sandbox, describe
from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.altcraft.fake import SANDBOX_DB_ID, SANDBOX_TOKEN, FakeAltcraft
from promodesk.vendors.fake_support import SandboxTransport, quiet_dropped_connections
from promodesk.vendors.http import RetryPolicy
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, FakeImpact
from promodesk.vendors.impact.fake import SANDBOX_TOKEN as IMPACT_TOKEN
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.optimove.fake import SANDBOX_API_KEY, FakeOptimove


class SleepRecorder:
    """Stands in for asyncio.sleep in retries: records each delay, waits for nothing."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


class RecordingTransport(SandboxTransport):
    """The in-process transport to a fake, keeping every request sent (to check what went
    out: paths, bodies, headers)."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.requests: list[httpx.Request] = []

    @property
    def urls(self) -> list[str]:
        return [str(request.url) for request in self.requests]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await super().handle_async_request(request)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def fast(sleeps: SleepRecorder, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "retry": RetryPolicy(attempts=5, base_delay=0.01, max_delay=0.05, jitter=0.0),
        "sleep": sleeps,
        "total_timeout": 1.0,
        "rate_limit": None,
    }
    options.update(overrides)
    return options


@pytest.fixture
def optimove_fake() -> FakeOptimove:
    return FakeOptimove(rate_limit=None)


@pytest.fixture
def altcraft_fake() -> FakeAltcraft:
    return FakeAltcraft(rate_limit=None)


@pytest.fixture
def impact_fake() -> FakeImpact:
    return FakeImpact(rate_limit=None)


@pytest_asyncio.fixture
async def optimove(
    optimove_fake: FakeOptimove, sleeps: SleepRecorder
) -> AsyncIterator[OptimoveClient]:
    client = OptimoveClient.connect(
        "http://optimove.test",
        SANDBOX_API_KEY,
        transport=SandboxTransport(optimove_fake),
        **fast(sleeps),
    )
    yield client
    await client.aclose()


@pytest_asyncio.fixture(params=["json", "xml"])
async def altcraft(
    request: pytest.FixtureRequest, altcraft_fake: FakeAltcraft, sleeps: SleepRecorder
) -> AsyncIterator[AltcraftClient]:
    client = AltcraftClient.connect(
        "http://altcraft.test",
        SANDBOX_TOKEN,
        5,
        db_id=SANDBOX_DB_ID,
        response_format=request.param,
        import_batch=3,
        transport=SandboxTransport(altcraft_fake),
        **fast(sleeps),
    )
    yield client
    await client.aclose()


@pytest_asyncio.fixture(params=["json", "xml"])
async def impact(
    request: pytest.FixtureRequest, impact_fake: FakeImpact, sleeps: SleepRecorder
) -> AsyncIterator[ImpactClient]:
    client = ImpactClient.connect(
        "http://impact.test",
        SANDBOX_SID,
        IMPACT_TOKEN,
        page_size=7,
        response_format=request.param,
        transport=SandboxTransport(impact_fake),
        **fast(sleeps),
    )
    yield client
    await client.aclose()


@pytest.fixture(scope="module")
def loopback() -> Iterator[tuple[dict[str, dict[str, str]], Any]]:
    """The sandbox served by uvicorn on a real loopback socket, in a thread."""
    sandbox = build_sandbox()
    quiet_dropped_connections()
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(sandbox.app, log_level="warning", lifespan="off", access_log=False)
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the loopback sandbox did not start"
    yield describe(f"http://127.0.0.1:{port}"), sandbox
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()
