"""Test connection (`ping` and `Connections.check`) against things that are not the vendor,
over real loopback sockets: a server that accepts and never answers, a login page, another
website or API. Each gets an honest verdict from one quick try."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio

from promodesk.domain.vendors import Vendor
from promodesk.services import accounts
from promodesk.services.accounts import Account, AccountsService, AccountStore, sandbox_account
from promodesk.services.secrets import SecretStore

pytestmark = pytest.mark.loopback

WITHIN = 0.5  # the tests' budget; the app's is CHECK_WITHIN_S


def account(vendor: Vendor, base_url: str, response_format: str = "json") -> Account:
    settings = {
        Vendor.OPTIMOVE: {"base_url": base_url},
        Vendor.ALTCRAFT: {"base_url": base_url, "loyalty_id": "5", "db_id": "1"},
        Vendor.IMPACT: {"base_url": base_url, "account_sid": "IRcheck0000000000000000000000000"},
    }[vendor]
    if vendor is not Vendor.OPTIMOVE:
        settings["response_format"] = response_format
    return Account(vendor=vendor, name=f"{vendor.value} check", settings=settings)


@pytest.fixture
def service(tmp_path: Any) -> AccountsService:
    return AccountsService(
        AccountStore(tmp_path / "accounts.json"), SecretStore(), check_within=WITHIN
    )


class SilentServer:
    """A listening socket that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.accepted: list[socket.socket] = []
        self.arrived = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(connection)
            self.arrived.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for connection in self.accepted:
            connection.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.parametrize("vendor", list(Vendor), ids=lambda v: v.value)
async def test_a_server_that_never_answers_gets_a_verdict_from_one_try(
    service: AccountsService, silent: SilentServer, vendor: Vendor
) -> None:
    result = await service.check(account(vendor, silent.url), "sk-check-0000")
    assert not result.ok
    assert result.message == (
        f"{vendor.display_name}: no answer within {WITHIN:g} s (is the address right, or is a "
        "firewall in the way?)"
    )
    assert silent.arrived.wait(5)
    assert len(silent.accepted) == 1  # one try: no retry loop behind the button
    await service.aclose()


def test_the_app_gives_a_verdict_within_about_ten_seconds() -> None:
    assert accounts.CHECK_WITHIN_S + accounts._CHECK_SLACK_S <= 10
    assert AccountsService().connections.check_within == accounts.CHECK_WITHIN_S


class AnsweringServer:
    """Answers every request with one status, content type and body (after reading it)."""

    def __init__(self, status: int, content_type: str, body: bytes) -> None:
        self.status, self.content_type, self.body = status, content_type, body
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        if length:
            await reader.readexactly(length)
        self.requests += 1
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n".encode()
            + self.body
        )
        await writer.drain()
        writer.close()

    async def aclose(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest_asyncio.fixture
async def answering(request: pytest.FixtureRequest) -> AsyncIterator[tuple[AnsweringServer, str]]:
    server = AnsweringServer(*request.param)
    url = await server.start()
    yield server, url
    await server.aclose()


LOGIN_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Hotel Wi-Fi</title></head><body>"
    b"<form action=/login>Room number <input name=room></form></body></html>"
)
WEB_PAGES = [
    (200, "text/html; charset=utf-8", LOGIN_PAGE),
    (404, "text/html", b"<html><body><h1>Not Found</h1></body></html>"),
    (403, "text/html", b"<html><body>Request blocked by the firewall</body></html>"),
]
OTHER_SITES = [
    (200, "application/json", json.dumps({"hello": "world"}).encode()),
    (404, "text/plain", b"404 page not found"),
    (200, "application/xml", b"<?xml version='1.0'?><rss><channel/></rss>"),
]


@pytest.mark.parametrize("answering", WEB_PAGES, indirect=True, ids=["login-200", "404", "403"])
@pytest.mark.parametrize(
    ("vendor", "response_format"),
    [
        (Vendor.OPTIMOVE, "json"),
        (Vendor.ALTCRAFT, "json"),
        (Vendor.ALTCRAFT, "xml"),
        (Vendor.IMPACT, "json"),
        (Vendor.IMPACT, "xml"),
    ],
)
async def test_a_web_page_is_reported_as_a_web_page(
    service: AccountsService,
    answering: tuple[AnsweringServer, str],
    vendor: Vendor,
    response_format: str,
) -> None:
    server, url = answering
    result = await service.check(account(vendor, url, response_format), "sk-check-0000")
    name = vendor.display_name
    assert not result.ok
    assert result.message == (
        f"{name} answered with a web page, not {name}'s API (a wrong address, or a firewall or "
        "login page?)"
    )
    assert server.requests == 1
    await service.aclose()


@pytest.mark.parametrize("answering", OTHER_SITES, indirect=True, ids=["json", "text-404", "xml"])
@pytest.mark.parametrize("vendor", list(Vendor), ids=lambda v: v.value)
async def test_another_site_answering_is_not_taken_for_the_vendor(
    service: AccountsService, answering: tuple[AnsweringServer, str], vendor: Vendor
) -> None:
    server, url = answering
    response_format = "xml" if b"<?xml" in server.body else "json"
    result = await service.check(account(vendor, url, response_format), "sk-check-0000")
    assert not result.ok
    assert result.message.startswith(f"{vendor.display_name}: something answered (HTTP ")
    assert result.message.endswith(f"but not {vendor.display_name}'s API: check the address")
    assert server.requests == 1
    await service.aclose()


@pytest.mark.parametrize("vendor", list(Vendor), ids=lambda v: v.value)
async def test_the_sandbox_and_a_served_sandbox_connect(
    service: AccountsService, loopback: tuple[dict[str, dict[str, str]], Any], vendor: Vendor
) -> None:
    assert (await service.check(sandbox_account(vendor))).ok
    urls, _sandbox = loopback
    served = urls[vendor.value]
    settings = {
        key: value for key, value in served.items() if key not in ("api_key", "token", "auth_token")
    }
    if vendor is not Vendor.OPTIMOVE:
        settings["response_format"] = "json"
    secret = served.get("api_key") or served.get("token") or served["auth_token"]
    result = await service.check(Account(vendor=vendor, name="served", settings=settings), secret)
    assert result.ok, result.message
    assert result.message.startswith(f"Connected to {vendor.display_name} in ")
    await service.aclose()
