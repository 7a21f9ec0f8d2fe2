"""`promodesk sandbox serve`: the three fake vendors on one loopback port.

Each fake is mounted under its own prefix, and that prefix is part of the account's base URL,
so the vendors' documented paths (/v1/promotions…, /api/v1.1/promocodes/…,
/Advertisers/{AccountSID}/PromoCodes…) are simply appended to it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount

from promodesk.domain.vendors import Vendor
from promodesk.vendors.fake_support import quiet_dropped_connections
from promodesk.vendors.registry import SANDBOX_CREDENTIALS, VENDORS

PREFIXES = {Vendor.OPTIMOVE: "/optimove", Vendor.ALTCRAFT: "/altcraft", Vendor.IMPACT: "/impact"}


@dataclass
class Sandbox:
    app: Starlette
    fakes: dict[Vendor, Any]


def build_sandbox() -> Sandbox:
    fakes = {vendor: VENDORS[vendor].make_fake() for vendor in Vendor}
    app = Starlette(routes=[Mount(PREFIXES[vendor], app=fake) for vendor, fake in fakes.items()])
    return Sandbox(app, fakes)


def describe(base: str) -> dict[str, dict[str, str]]:
    """What an account needs to use the served sandbox (the JSON line of --json)."""
    altcraft = SANDBOX_CREDENTIALS[Vendor.ALTCRAFT]
    impact = SANDBOX_CREDENTIALS[Vendor.IMPACT]
    return {
        "optimove": {
            "base_url": base + PREFIXES[Vendor.OPTIMOVE],
            "api_key": SANDBOX_CREDENTIALS[Vendor.OPTIMOVE]["api_key"],
        },
        "altcraft": {
            "base_url": base + PREFIXES[Vendor.ALTCRAFT],
            "token": altcraft["token"],
            "loyalty_id": altcraft["loyalty_id"],
            "db_id": altcraft["db_id"],
        },
        "impact": {
            "base_url": base + PREFIXES[Vendor.IMPACT],
            "account_sid": impact["account_sid"],
            "auth_token": impact["auth_token"],
        },
    }


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: any free one), bound before serving so the URLs are known."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP spelled out: asyncio only sets TCP_NODELAY on sockets whose proto says TCP,
    # and without it every answer on a kept-alive connection waited ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


async def serve(
    sock: socket.socket,
    sandbox: Sandbox,
    *,
    announce: Callable[[dict[str, dict[str, str]]], None],
    log_level: str = "warning",
) -> None:
    import uvicorn

    quiet_dropped_connections()
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    announce(describe(f"http://{shown}:{port}"))
    config = uvicorn.Config(sandbox.app, log_level=log_level, lifespan="off", access_log=False)
    await uvicorn.Server(config).serve(sockets=[sock])


def json_line(description: dict[str, dict[str, str]]) -> str:
    return json.dumps(description, separators=(", ", ": "))
