"""Secrets: refused when they carry control characters, and never written in any form the app
itself gives them (as typed, quoted as bytes, base64 of SID:token and of the token, URL- and
JSON-encoded), in errors, their details or the DEBUG log, through real requests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from promodesk.domain.vendors import Vendor
from promodesk.services.accounts import Account, AccountSettingsError, AccountsService, AccountStore
from promodesk.services.sandbox import bind
from promodesk.services.secrets import SecretStore, secret_problem
from promodesk.vendors import errors
from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.redaction import RedactingFilter
from tests.integration.conftest import SleepRecorder, fast

SID = "IRcanary000000000000000000000000"

# -- refused when stored ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "what"),
    [
        ("sk-live-0123456789\n", "a line break"),
        ("sk-live-0123456789\r\n", "a line break"),
        ("sk-live-\r0123456789", "a line break"),
        ("sk-live-0123456789\x00", "a NUL character"),
        ("\tsk-live-0123456789", "a tab"),
        ("sk-live-01234\x1b56789", "an invisible control character (U+001B)"),
    ],
)
async def test_a_secret_with_a_control_character_is_refused_when_saved(
    tmp_path: Any, pasted: str, what: str
) -> None:
    secrets = SecretStore()
    service = AccountsService(AccountStore(tmp_path / "accounts.json"), secrets)
    account = Account(vendor=Vendor.OPTIMOVE, name="Shop", settings={"base_url": "https://o.test"})
    with pytest.raises(AccountSettingsError) as caught:
        await service.save(account, pasted)
    assert caught.value.problems == [
        f"The API key contains {what}, which no key or token has (it usually comes with "
        "copying): paste it again without it"
    ]
    assert await secrets.get(account.id) is None and service.store.load() == []
    checked = await service.check(account, pasted)  # Test connection with what was typed
    assert not checked.ok and checked.message == caught.value.problems[0]
    with pytest.raises(ValueError, match=what.split(" (")[0]):
        await secrets.set(account.id, pasted)
    cleaned = pasted.strip()
    if secret_problem("API key", cleaned) is None:  # around it: gone once pasted again
        await service.save(account, cleaned)
        assert await secrets.get(account.id) == cleaned
    else:  # inside it: still refused
        with pytest.raises(AccountSettingsError):
            await service.save(account, cleaned)


@pytest.mark.parametrize(
    ("pasted", "what"),
    [
        ("sk live 0123", "a space"),
        ("sk-live-0123\xa0", "a non-breaking space"),
        ("sk-live-0123\u2003", "a space character (U+2003)"),
        ("sk-“live”-0123", "the character '“'"),
        ("sk-livé-0123", "the character 'é'"),
    ],
)
def test_a_secret_with_spaces_or_characters_keys_never_have_is_refused(
    pasted: str, what: str
) -> None:
    assert secret_problem("Auth token", pasted) == (
        f"The Auth token contains {what}, which no key or token has (it usually comes with "
        "copying): paste it again without it"
    )
    assert secret_problem("Auth token", "sk-live_0123.ABC/+=~") is None


# -- never written, in any encoding --------------------------------------------------------------


def canary(special: str = "") -> str:
    """A unique secret, with characters that each encoding writes differently."""
    return f'sk-c4n4ry-{uuid.uuid4().hex[:12]}/+=&<"{special}'


def forms(secret: str, user: str = SID) -> dict[str, str]:
    """Every form in which the app itself sends or quotes the secret."""
    raw = secret.encode()
    return {
        "as typed": secret,
        "stripped": secret.strip(),
        "bytes repr": repr(raw)[2:-1],
        "bytes repr in a repr": repr(raw)[2:-1].replace("\\", "\\\\"),
        "base64": base64.b64encode(raw).decode(),
        "base64 of SID:token": base64.b64encode(f"{user}:{secret}".encode()).decode(),
        "URL-encoded": urllib.parse.quote(secret, safe=""),
        "form-encoded": urllib.parse.quote_plus(secret),
        "JSON": json.dumps(secret)[1:-1],
        "JSON in a repr": json.dumps(secret)[1:-1].replace("\\", "\\\\"),
    }


def leaks(secret: str, texts: list[str]) -> list[str]:
    return [
        f"{name} in {text[:200]!r}"
        for name, form in forms(secret).items()
        for text in texts
        if len(form) >= 4 and form in text
    ]


async def echo(request: Request) -> Response:
    """A hostile or careless server: it answers with the credentials it received, in every
    encoding it can make of them, in its error message."""
    body = (await request.body()).decode("utf-8", "replace")
    pieces = [request.headers.get("x-api-key", ""), request.headers.get("authorization", "")]
    for header in (request.headers.get("authorization", ""),):
        if header.startswith("Basic "):
            user_secret = base64.b64decode(header[6:]).decode("utf-8", "replace")
            pieces += [
                user_secret,
                base64.b64encode(user_secret.split(":", 1)[1].encode()).decode(),
            ]
    try:
        token = str(json.loads(body).get("token", ""))
    except ValueError:
        token = body
    pieces += [token, urllib.parse.quote(token, safe=""), json.dumps(token), repr(token.encode())]
    message = "rejected: " + " | ".join(piece for piece in pieces if piece) + f" | body {body}"
    return JSONResponse(
        {
            "message": message,
            "Message": message,
            "error": 401,
            "error_text": message,
            "Errors": [{"Field": "token", "Message": message}],
        },
        status_code=401,
    )


ECHO = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "PATCH", "DELETE"])])


@pytest.fixture
def redacted_log(caplog: pytest.LogCaptureFixture) -> Callable[[], list[str]]:
    """Everything logged at DEBUG, through the filter the app puts on its log handlers."""
    caplog.set_level(logging.DEBUG)
    caplog.handler.addFilter(RedactingFilter())

    def written() -> list[str]:
        formatter = logging.Formatter("%(name)s %(message)s")
        return [formatter.format(record) for record in caplog.records] + [caplog.text]

    return written


def every_text(error: BaseException) -> list[str]:
    assert isinstance(error, errors.VendorError)
    return [
        str(error),
        error.details,
        error.vendor_message,
        repr(error.args),
        *map(str, error.field_errors),
    ]


def clients(secret: str, transport: httpx.AsyncBaseTransport | None, base: str) -> dict[str, Any]:
    options = fast(SleepRecorder())
    return {
        "optimove": OptimoveClient.connect(base, secret, transport=transport, **options),
        "altcraft-json": AltcraftClient.connect(
            base, secret, 5, db_id=1, transport=transport, **options
        ),
        "altcraft-xml": AltcraftClient.connect(
            base, secret, 5, db_id=1, response_format="xml", transport=transport, **options
        ),
        "impact": ImpactClient.connect(base, SID, secret, transport=transport, **options),
    }


async def calls(name: str, client: Any) -> list[Callable[[], Any]]:
    if name == "optimove":
        return [client.ping, lambda: client.get_promotion("x"), lambda: client.hide("pc-1")]
    if name.startswith("altcraft"):
        return [client.ping, lambda: client.get("CODE"), lambda: client.import_codes(["A"])]
    return [client.ping, lambda: client.get(7_000_001), lambda: client.list_all()]


async def test_an_echoed_secret_is_masked_in_errors_and_the_debug_log(
    redacted_log: Callable[[], list[str]],
) -> None:
    secret = canary()
    texts: list[str] = []
    for name, client in clients(secret, SandboxTransport(ECHO), "http://echo.test").items():
        for call in await calls(name, client):
            with pytest.raises(errors.AuthError) as caught:
                await call()
            texts += every_text(caught.value)
            assert "rejected: " in caught.value.details  # the server's words are kept...
        await client.aclose()
    logging.getLogger("promodesk.vendors").debug("sending %s", secret)  # ...and our own log
    texts += redacted_log()
    assert leaks(secret, texts) == []
    assert "•••" in "".join(texts)


@pytest.fixture(scope="module")
def echo_socket() -> Iterator[str]:
    """The echo server over a real loopback socket (where httpx checks header values)."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(ECHO, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the echo server did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.mark.parametrize("stray", ["\n", "\r\n", "\x00", "\r"])
async def test_a_secret_with_a_stray_character_never_shows_through_a_real_socket(
    redacted_log: Callable[[], list[str]], echo_socket: str, stray: str
) -> None:
    """httpx refuses such a header and quotes it as bytes in its error and its DEBUG log;
    in a Basic header it goes out (base64) and comes back echoed."""
    secret = canary(stray)
    texts: list[str] = []
    for name, client in clients(secret, None, echo_socket).items():
        for call in await calls(name, client):
            with pytest.raises(errors.VendorError) as caught:
                await call()
            texts += every_text(caught.value)
        await client.aclose()
    texts += redacted_log()
    assert leaks(secret, texts) == []
    assert any("Illegal header value" in text for text in texts)  # httpx did quote it
    assert any(
        "the request could not be sent (Illegal header value b'•••'); check the account's key"
        in text
        for text in texts
    )


async def test_a_keychain_that_does_not_answer_is_not_asked_again_until_it_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A locked keychain: each read waited 5 s and left a worker thread blocked. Loading six
    accounts then held every worker the syncs and imports share. One unanswered call is
    enough: later ones fail at once, and the keychain is asked again once it has answered."""
    import keyring
    import keyring.backend

    answer = threading.Event()
    asked: list[str] = []

    class LockedKeyring(keyring.backend.KeyringBackend):
        priority = 1  # type: ignore[assignment]
        viable = False  # keyring's discovery must not pick it up; set_keyring() only

        def get_password(self, service: str, username: str) -> str | None:
            asked.append(username)
            answer.wait(30)
            return None

        def set_password(self, service: str, username: str, password: str) -> None:
            raise AssertionError("not used")

        def delete_password(self, service: str, username: str) -> None:
            raise AssertionError("not used")

    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    monkeypatch.delenv("PROMODESK_KEYRING")
    try:
        store = SecretStore(timeout=0.3)
        with pytest.raises(TimeoutError, match="did not answer"):
            await store.get("account-1")
        for account in ("account-2", "account-3", "account-4"):
            with pytest.raises(TimeoutError, match="has not answered yet"):
                await store.get(account)
        assert asked == ["account-1"]  # one thread waits, not four
        answer.set()
        while len(asked) == 1:
            with contextlib.suppress(TimeoutError):
                await store.get("account-5")
            await asyncio.sleep(0.05)
        assert asked == ["account-1", "account-5"]
    finally:
        answer.set()
        keyring.set_keyring(previous)
