"""What the three sandbox fakes share: faults on demand, the vendor's rate limit, and the
in-process transport.

A fake is a Starlette app. `FaultInjector` wraps it as ASGI middleware and, per request,
either lets it through or misbehaves the way networks and vendors do: 429, 500/503, a slow
answer, an answer lost after the change was made, a dropped connection, a truncated or
malformed body. Faults come from a scripted sequence (tests that need an exact failure) or a
probability with a seed (soak tests). Paths under /_sandbox/ are never faulted.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# When the sandboxes' own codes were made: the same in every process, so that a refresh of a
# fresh sandbox (each `promodesk` command starts one) finds them unchanged.
SANDBOX_SEEDED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

# Before the app runs: it never sees the request.
BEFORE = ("429", "500", "503", "slow", "drop-before")
# After the app ran: the change happened, the answer does not arrive intact.
AFTER = ("lost", "drop-after", "truncate", "malformed")
KINDS = BEFORE + AFTER


class DroppedConnection(Exception):
    """Raised inside the fake to cut the connection (in-process: becomes an httpx error)."""


class _HideDroppedConnections(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def quiet_dropped_connections() -> None:
    """A served sandbox cuts connections on purpose: no uvicorn traceback for each one."""
    logging.getLogger("uvicorn.error").addFilter(_HideDroppedConnections())


@dataclass
class FaultPlan:
    script: collections.deque[str | None] = field(default_factory=collections.deque)
    probability: float = 0.0
    kinds: tuple[str, ...] = KINDS
    slow_seconds: float = 0.0  # how long "slow" and "lost" stall (the client's timeout decides)
    seed: int = 0
    _random: random.Random = field(default_factory=random.Random)
    injected: collections.Counter[str] = field(default_factory=collections.Counter)

    def __post_init__(self) -> None:
        self._random.seed(self.seed)

    def next(self) -> str | None:
        if self.script:
            return self.script.popleft()
        if self.probability and self._random.random() < self.probability:
            return self._random.choice(self.kinds)
        return None

    def configure(self, settings: dict[str, Any]) -> None:
        self.script = collections.deque(settings.get("script") or [])
        self.probability = float(settings.get("probability", 0.0))
        self.kinds = tuple(settings.get("kinds") or KINDS)
        self.slow_seconds = float(settings.get("slow_seconds", self.slow_seconds))
        self.seed = int(settings.get("seed", self.seed))
        self._random.seed(self.seed)


class SlidingWindow:
    """The vendor's own rate limit, per key (API key, token, account)."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.requests = requests
        self.seconds = seconds
        self.refused = 0  # requests answered 429 (tests check the client kept under the limit)
        self._hits: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)

    def hit(self, key: str) -> float | None:
        """Record a request; None if allowed, else seconds until the oldest one expires."""
        now = time.monotonic()
        hits = self._hits[key]
        while hits and now - hits[0] >= self.seconds:
            hits.popleft()
        if len(hits) >= self.requests:
            self.refused += 1
            return self.seconds - (now - hits[0])
        hits.append(now)
        return None


class FaultInjector:
    """ASGI middleware: misbehave per the plan, then (maybe) let the app answer."""

    def __init__(
        self, app: ASGIApp, plan: FaultPlan, *, error_body: Callable[[int], bytes]
    ) -> None:
        self.app = app
        self.plan = plan
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"].startswith("/_sandbox")
            or "/_sandbox/" in scope["path"]
        ):
            await self.app(scope, receive, send)
            return
        fault = self.plan.next()
        if fault is None:
            await self.app(scope, receive, send)
            return
        self.plan.injected[fault] += 1
        if fault in ("429", "500", "503"):
            status = int(fault)
            headers = [(b"content-type", b"application/json")]
            if status == 429:
                headers.append((b"retry-after", b"1"))
            await _respond(send, status, self.error_body(status), headers)
            return
        if fault == "slow":
            await asyncio.sleep(self.plan.slow_seconds)
            await self.app(scope, receive, send)
            return
        if fault == "drop-before":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"100")],
                }
            )
            raise DroppedConnection("connection dropped before the request was handled")
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        start = next(m for m in captured if m["type"] == "http.response.start")
        if fault == "lost":
            # The change is made; the answer takes too long. The client times out not knowing.
            await asyncio.sleep(self.plan.slow_seconds)
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        if fault == "drop-after":
            await send({**start, "headers": _with_length(start, len(body) + 50)})
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise DroppedConnection("connection dropped after the request was handled")
        if fault == "truncate":
            await send({**start, "headers": _with_length(start, len(body))})
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            raise DroppedConnection("body cut short")
        # malformed: a 200 with something that is not what the API sends
        await _respond(
            send, 200, b'{"not": "what you asked for", ' + body[:20], start.get("headers", [])
        )


def _with_length(start: Message, length: int) -> list[tuple[bytes, bytes]]:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    return [*headers, (b"content-length", str(length).encode())]


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SandboxTransport(httpx.AsyncBaseTransport):
    """In-process transport to a fake (no sockets). A dropped connection becomes the httpx
    error a real socket gives; the client cannot tell the difference."""

    def __init__(self, app: ASGIApp) -> None:
        self._inner = httpx.ASGITransport(app=app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except DroppedConnection as error:
            raise httpx.RemoteProtocolError(
                f"peer closed connection ({error})", request=request
            ) from None
        # ASGITransport does not check Content-Length; a real socket would notice a short body.
        declared = response.headers.get("content-length")
        # The body as sent (still compressed if the fake compressed it): the client decodes.
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        if declared is not None and declared.isdigit() and int(declared) != len(body):
            raise httpx.RemoteProtocolError("incomplete message body", request=request)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(body),
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def json_bytes(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class FakeVendor:
    """What the three fakes share: each is an ASGI app (its Starlette routes behind a
    FaultInjector) with the sandbox-only routes for state, faults and reset."""

    app: Any
    faults: FaultPlan

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def sandbox_routes(self) -> list[Any]:
        from starlette.routing import Route

        return [
            Route("/_sandbox/state", self.sandbox_state, methods=["GET"]),
            Route("/_sandbox/faults", self.sandbox_faults, methods=["POST"]),
            Route("/_sandbox/reset", self.sandbox_reset, methods=["POST"]),
        ]

    async def sandbox_faults(self, request: Any) -> Any:
        from starlette.responses import Response

        body = await request.body()
        self.faults.configure(json.loads(body) if body.strip() else {})
        return Response(status_code=204)

    async def sandbox_state(self, request: Any) -> Any:
        raise NotImplementedError

    async def sandbox_reset(self, request: Any) -> Any:
        raise NotImplementedError
