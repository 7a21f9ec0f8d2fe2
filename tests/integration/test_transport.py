"""The shared transport: retries and backoff, Retry-After, rate limiting, error mapping,
safe parsing, and secrets kept out of what is written."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import json
import logging
import time
import tracemalloc
import zlib
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promodesk.vendors import errors
from promodesk.vendors.http import (
    OriginAuth,
    RateLimit,
    RetryPolicy,
    SlidingWindowLimiter,
    VendorHttp,
    _json_within_depth,
    parse_json,
    parse_xml,
    retry_after_seconds,
)
from promodesk.vendors.redaction import RedactingFilter, redact, register_secret
from tests.integration.conftest import SleepRecorder


class Scripted(httpx.AsyncBaseTransport):
    """Answers from a list: an httpx.Response to return, or an exception to raise."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def http(transport: httpx.AsyncBaseTransport, sleeps: SleepRecorder, **options: Any) -> VendorHttp:
    retry = options.pop("retry", RetryPolicy(attempts=4, base_delay=0.5, max_delay=4.0, jitter=0.0))
    return VendorHttp(
        "Vendor", "http://vendor.test", transport=transport, retry=retry, sleep=sleeps, **options
    )


def json_response(status: int, body: Any = None, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body if body is not None else {}, headers=headers)


# -- retry-after, backoff, limiter -----------------------------------------------------------------


def test_retry_after_in_every_form() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds(httpx.Headers({"Retry-After": "7"}), now=now) == 7
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(httpx.Headers({"Retry-After": date}), now=now) == pytest.approx(
        30, abs=1
    )
    assert retry_after_seconds(httpx.Headers({"X-RateLimit-Reset": "12"}), now=now) == 12
    # impact.com's example value is an epoch: taken as a moment, not 1.7 billion seconds.
    assert (
        retry_after_seconds(httpx.Headers({"X-RateLimit-Reset": str(int(now) + 45)}), now=now) == 45
    )
    assert retry_after_seconds(httpx.Headers({"RateLimit-Reset": "3"}), now=now) == 3
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"}), now=now) is None
    assert retry_after_seconds(httpx.Headers({}), now=now) is None


def test_backoff_grows_caps_and_jitters() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, jitter=0.25)
    for attempt, expected in enumerate([0.5, 1.0, 2.0, 4.0, 4.0]):
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert min(delays) >= expected * 0.75 and max(delays) <= expected * 1.25
        assert max(delays) > min(delays)  # jittered, so clients do not retry in step


async def test_sliding_window_limiter_waits_for_the_oldest_request() -> None:
    clock = [100.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    limiter = SlidingWindowLimiter(RateLimit(3, 10.0), clock=lambda: clock[0])
    for _ in range(3):
        assert await limiter.acquire(sleep) == 0
    clock[0] += 4
    waited = await limiter.acquire(sleep)
    assert waited == pytest.approx(6)  # until the first of the three is 10 s old
    assert await SlidingWindowLimiter(None).acquire(sleep) == 0


# -- retries ----------------------------------------------------------------------------------------


async def test_429_is_retried_after_the_asked_delay(sleeps: SleepRecorder) -> None:
    transport = Scripted(
        json_response(429, **{"Retry-After": "3"}), json_response(200, {"ok": True})
    )
    client = http(transport, sleeps)
    response = await client.request("POST", "/things", operation="create", idempotent=False)
    assert response.json() == {"ok": True}
    assert sleeps.delays == [3.0]  # honoured even for a non-idempotent call: 429 was not processed
    await client.aclose()


async def test_a_long_rate_limit_wait_is_handed_to_the_user(sleeps: SleepRecorder) -> None:
    reset = str(int(time.time()) + 600)
    client = http(Scripted(json_response(429, **{"X-RateLimit-Reset": reset})), sleeps)
    with pytest.raises(errors.RateLimitedError) as caught:
        await client.request("GET", "/things", operation="list", idempotent=True)
    assert caught.value.retry_after == pytest.approx(600, abs=2)
    assert "try again in" in str(caught.value)
    assert sleeps.delays == []
    await client.aclose()


async def test_server_errors_are_retried_only_when_safe(sleeps: SleepRecorder) -> None:
    answers = [json_response(503), json_response(500), json_response(200, {"n": 1})]
    client = http(Scripted(*answers), sleeps)
    assert (await client.request("GET", "/x", operation="get", idempotent=True)).json() == {"n": 1}
    assert sleeps.delays == [0.5, 1.0]  # exponential backoff
    once = http(Scripted(json_response(500), json_response(200)), SleepRecorder())
    with pytest.raises(errors.ServerError):
        await once.request("POST", "/x", operation="create", idempotent=False)
    await client.aclose()
    await once.aclose()


async def test_connection_failures(sleeps: SleepRecorder) -> None:
    request = httpx.Request("POST", "http://vendor.test/x")
    # Never connected: safe to repeat whatever it was.
    client = http(
        Scripted(httpx.ConnectError("refused", request=request), json_response(201)), sleeps
    )
    assert (
        await client.request("POST", "/x", operation="create", idempotent=False)
    ).status_code == 201
    # Dropped after sending: the change may have happened; not repeated unless idempotent.
    dropped = http(
        Scripted(httpx.RemoteProtocolError("peer closed", request=request)), SleepRecorder()
    )
    with pytest.raises(errors.NetworkError) as caught:
        await dropped.request("POST", "/x", operation="create", idempotent=False)
    assert caught.value.maybe_applied
    assert "may or may not have been made" in str(caught.value)
    again = http(
        Scripted(httpx.ReadTimeout("slow", request=request), json_response(200)), SleepRecorder()
    )
    assert (await again.request("PUT", "/x", operation="set", idempotent=True)).status_code == 200
    for item in (client, dropped, again):
        await item.aclose()


async def test_gives_up_after_the_attempts(sleeps: SleepRecorder) -> None:
    client = http(Scripted(*[json_response(503)] * 4), sleeps)
    with pytest.raises(errors.ServerError):
        await client.request("GET", "/x", operation="get", idempotent=True)
    assert client.calls == 4 and len(sleeps.delays) == 3
    await client.aclose()


# -- errors a marketer can read -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (401, errors.AuthError, "credentials were refused"),
        (403, errors.ForbiddenError, "may not do this"),
        (404, errors.NotFoundError, "not found"),
        (409, errors.ConflictError, "already exists"),
        (402, errors.QuotaError, "plan"),
        (418, errors.VendorError, "unexpected answer"),
    ],
)
async def test_status_codes_map_to_errors(
    sleeps: SleepRecorder, status: int, kind: type, words: str
) -> None:
    body = (
        {"message": "already exists"}
        if status == 409
        else {"message": "refused by a plan limit"}
        if status == 402
        else {}
    )
    client = http(Scripted(json_response(status, body)), sleeps)
    with pytest.raises(kind) as caught:
        await client.request("GET", "/x", operation="get thing", idempotent=True)
    assert str(caught.value).startswith("Vendor: ")
    assert words in str(caught.value)
    await client.aclose()


async def test_validation_errors_keep_their_fields(sleeps: SleepRecorder) -> None:
    body = {
        "Status": "ERROR",
        "Message": "Validation Failed",
        "Errors": [{"Field": "AccountId", "Message": "Not a numeric value"}],
    }
    client = http(Scripted(json_response(400, body)), sleeps)
    with pytest.raises(errors.VendorValidationError) as caught:
        await client.request("POST", "/x", operation="create", idempotent=False)
    assert caught.value.field_errors == (errors.FieldError("AccountId", "Not a numeric value"),)
    assert "AccountId: Not a numeric value" in caught.value.details
    await client.aclose()


# -- untrusted answers -----------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<xml><data>&lol3;</data></xml>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<xml><data>&x;</data></xml>"""
EXTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://evil.test/x.dtd"><xml/>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL, EXTERNAL_DTD, b"<xml><data>cut"])
def test_dangerous_or_broken_xml_is_refused(payload: bytes) -> None:
    with pytest.raises(errors.MalformedResponseError):
        parse_xml(payload, vendor="Altcraft", operation="get")


# -- secrets -----------------------------------------------------------------------------------------------


async def test_secrets_never_reach_errors_or_logs(
    sleeps: SleepRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-live-0123456789abcdef"
    register_secret(secret)
    body = {"message": f"key {secret} is revoked"}
    client = http(Scripted(json_response(401, body)), sleeps, headers={"X-API-KEY": secret})
    with pytest.raises(errors.AuthError) as caught:
        await client.request("GET", "/x", operation="get", idempotent=True)
    assert secret not in str(caught.value) and secret not in caught.value.details
    assert "•••" in caught.value.details
    logger = logging.getLogger("promodesk.test")
    handler = logging.Handler()
    handler.addFilter(RedactingFilter())
    written: list[str] = []
    handler.emit = lambda record: written.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    logger.warning("sending with key %s and Authorization: Bearer abc.def", secret)
    logger.removeHandler(handler)
    assert written and secret not in written[0] and "abc.def" not in written[0]
    assert redact("https://x.test/?token=t0ps3cret&x=1") == "https://x.test/?token=•••&x=1"
    await client.aclose()


# -- bounded reading of hostile answers ----------------------------------------------------------


class Endless(httpx.AsyncByteStream):
    """A body that sends `first` and then never another byte (nor the end)."""

    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> Any:
        yield self.first
        await asyncio.Event().wait()


class Pieces(httpx.AsyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.sent = 0

    async def __aiter__(self) -> Any:
        for piece in self.pieces:
            self.sent += 1
            yield piece


def streamed(status: int, body: bytes, **headers: str) -> httpx.Response:
    """An answer as a socket delivers it: a stream not yet read (compressed if so encoded)."""
    return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))


def gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join([*parts, packer.flush()])


def capped(transport: httpx.AsyncBaseTransport, sleeps: SleepRecorder, **caps: Any) -> VendorHttp:
    return http(transport, sleeps, **caps)


async def test_an_answer_bigger_than_the_cap_is_refused_and_not_retried(
    sleeps: SleepRecorder,
) -> None:
    declared = Scripted(streamed(200, b"[" + b"1," * 600_000 + b"1]"))
    client = capped(declared, sleeps, max_answer_bytes=1 << 20)
    with pytest.raises(errors.AnswerRefusedError) as caught:
        await client.request("GET", "/x", operation="list codes", idempotent=True)
    assert str(caught.value) == (
        "Vendor: the answer to list codes is more than 1 MB, more than promodesk reads at "
        "once; it was not read"
    )
    assert client.calls == 1 and sleeps.delays == []
    # Without a Content-Length, reading stops at the cap.
    pieces = Pieces([b"x" * 65536] * 100)
    undeclared = capped(
        Scripted(httpx.Response(200, stream=pieces)), sleeps, max_answer_bytes=1 << 18
    )
    with pytest.raises(errors.AnswerRefusedError, match="more than 256 KB"):
        await undeclared.request("GET", "/x", operation="get", idempotent=True)
    assert pieces.sent <= 5
    for item in (client, undeclared):
        await item.aclose()


async def test_a_gzip_bomb_is_stopped_at_the_cap_in_bounded_memory(sleeps: SleepRecorder) -> None:
    bomb = gzip_of_zeros(512 << 20)  # half a gigabyte of zeros in about half a megabyte
    assert len(bomb) < 1 << 20
    client = capped(
        Scripted(streamed(200, bomb, **{"content-encoding": "gzip"})),
        sleeps,
        max_answer_bytes=8 << 20,
    )
    tracemalloc.start()
    try:
        with pytest.raises(errors.AnswerRefusedError, match="unpacks to more than 8 MB"):
            await client.request("GET", "/x", operation="export all", idempotent=True)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 48 << 20  # the cap and a few pieces, never the half gigabyte
    assert client.calls == 1
    await client.aclose()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "deflate-raw", "identity"])
async def test_compressed_answers_are_read(sleeps: SleepRecorder, encoding: str) -> None:
    body = json.dumps({"codes": [f"CODE-{n}" for n in range(5000)]}).encode()
    if encoding == "gzip":
        packed, header = gzip.compress(body), "gzip"
    elif encoding == "deflate":
        packed, header = zlib.compress(body), "deflate"
    elif encoding == "deflate-raw":  # what some servers send under "deflate"
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        packed, header = packer.compress(body) + packer.flush(), "deflate"
    else:
        packed, header = body, "identity"
    transport = Scripted(streamed(200, packed, **{"content-encoding": header}))
    client = capped(transport, sleeps)
    response = await client.request("GET", "/x", operation="get", idempotent=True)
    assert response.json()["codes"][-1] == "CODE-4999"
    assert transport.seen[0].headers["accept-encoding"] == "gzip, deflate"
    await client.aclose()


async def test_an_encoding_promodesk_does_not_read_is_refused(sleeps: SleepRecorder) -> None:
    client = capped(Scripted(streamed(200, b"\x1b\x00", **{"content-encoding": "br"})), sleeps)
    with pytest.raises(errors.AnswerRefusedError, match="compressed as 'br'"):
        await client.request("GET", "/x", operation="get", idempotent=True)
    broken = capped(
        Scripted(
            *[streamed(200, b"\x1f\x8b\x08garbage", **{"content-encoding": "gzip"}) for _ in "1234"]
        ),
        sleeps,
    )
    with pytest.raises(errors.MalformedResponseError, match="damaged"):
        await broken.request("GET", "/x", operation="get", idempotent=True)
    assert broken.calls == 4  # damaged in transit: worth asking again
    for item in (client, broken):
        await item.aclose()


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n'),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet='[]{}"\\xy', max_size=4), children, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES, limit=st.integers(min_value=0, max_value=8))
def test_the_depth_check_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    """Strings full of brackets, quotes and backslashes do not fool the check."""
    text = json.dumps(value).encode()
    assert _json_within_depth(text, limit) == (_depth(value) <= limit)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000,
        b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        b"[" * 70 + b"]" * 70,
        b'{"data": [' + b"[{}," * 2_000 + b"]}",
    ],
    ids=["brackets", "objects", "just-over", "climbing"],
)
async def test_deeply_nested_json_is_a_clear_refusal(sleeps: SleepRecorder, body: bytes) -> None:
    client = capped(Scripted(json_like(200, body)), sleeps)
    with pytest.raises(errors.AnswerRefusedError, match="the answer to get codes is nested"):
        await client.fetch(
            "GET",
            "/x",
            lambda response: parse_json(response, vendor="Vendor", operation="get codes"),
            operation="get codes",
            idempotent=True,
        )
    assert client.calls == 1
    # The same nesting in an error body: the error is still the vendor's, with no message.
    failing = capped(Scripted(json_like(400, body)), sleeps)
    with pytest.raises(errors.VendorValidationError):
        await failing.request("POST", "/x", operation="create", idempotent=False)
    for item in (client, failing):
        await item.aclose()


def json_like(status: int, body: bytes) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "application/json"}, content=body)


def test_deep_or_huge_xml_is_a_clear_refusal() -> None:
    deep = b"<xml>" + b"<a>" * 200_000 + b"</a>" * 200_000 + b"</xml>"
    with pytest.raises(errors.AnswerRefusedError, match="nested more than 64 levels"):
        parse_xml(deep, vendor="Altcraft", operation="get")
    wide = b"<xml>" + b"<data/>" * 5_000 + b"</xml>"
    with pytest.raises(errors.AnswerRefusedError, match="more than 1,000 elements"):
        parse_xml(wide, vendor="Altcraft", operation="export all", max_elements=1_000)
    fine = parse_xml(b"<xml>" + b"<data>x</data>" * 500 + b"</xml>", vendor="A", operation="g")
    assert len(fine) == 500


# -- web pages where data was expected ---------------------------------------------------------

LOGIN_PAGE = (
    b"<!DOCTYPE html><html><head><title>Guest Wi-Fi</title></head>"
    b"<body><form>Accept the terms to continue</form></body></html>"
)


@pytest.mark.parametrize("status", [200, 401, 403, 404])
async def test_a_web_page_is_reported_as_one_and_not_retried(
    sleeps: SleepRecorder, status: int
) -> None:
    page = httpx.Response(status, headers={"content-type": "text/html"}, content=LOGIN_PAGE)
    client = VendorHttp(
        "Optimove",
        "http://vendor.test",
        transport=Scripted(page, page, page),
        retry=RetryPolicy(attempts=3, base_delay=0.01, jitter=0.0),
        sleep=sleeps,
    )
    with pytest.raises(errors.WebPageError) as caught:
        await client.fetch(
            "GET",
            "/v1/promotions/x",
            lambda response: parse_json(response, vendor="Optimove", operation="get promotion"),
            operation="get promotion",
            idempotent=True,
        )
    assert str(caught.value) == (
        "Optimove answered with a web page, not data (a firewall or login page?)"
    )
    assert caught.value.status == status and not caught.value.retryable
    assert client.calls == 1 and sleeps.delays == []
    await client.aclose()


async def test_a_web_page_without_an_html_content_type_is_still_one(sleeps: SleepRecorder) -> None:
    page = httpx.Response(200, headers={"content-type": "application/json"}, content=LOGIN_PAGE)
    client = http(Scripted(page), sleeps)
    with pytest.raises(errors.WebPageError):
        await client.request("PATCH", "/x", operation="hide", idempotent=True)
    xhtml = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    with pytest.raises(errors.WebPageError):
        parse_xml(xhtml, vendor="impact.com", operation="list promo codes")
    await client.aclose()


async def test_a_gateway_error_page_is_a_server_error_and_retried(sleeps: SleepRecorder) -> None:
    gateway = httpx.Response(
        502,
        headers={"content-type": "text/html"},
        content=b"<html><body>502 Bad Gateway</body></html>",
    )
    client = http(Scripted(gateway, json_response(200, {"ok": 1})), sleeps)
    assert (await client.request("GET", "/x", operation="get", idempotent=True)).json() == {"ok": 1}
    assert client.calls == 2
    await client.aclose()


async def test_credentials_go_only_to_the_account_origin(sleeps: SleepRecorder) -> None:
    transport = Scripted(*[json_response(200, {})] * 4)
    client = http(
        transport, sleeps, auth=OriginAuth("http://vendor.test", {"X-API-KEY": "sk-origin-1"})
    )
    for url in (
        "/x",
        "http://elsewhere.test/x",
        "https://vendor.test/x",  # another scheme (and port)
        "http://vendor.test:8080/x",
    ):
        await client.request("GET", url, operation="get", idempotent=True)
    assert [r.headers.get("x-api-key") for r in transport.seen] == ["sk-origin-1", None, None, None]
    await client.aclose()


# -- streamed downloads ------------------------------------------------------------------------------


async def drain(client: VendorHttp, *, piece_cap: int = 0) -> int:
    """Read a download to its end (as the allocation export does); returns the bytes read."""
    received = 0
    async with client.stream("GET", "/export", operation="export allocations") as download:
        async for chunk in download.chunks():
            assert not piece_cap or len(chunk) <= piece_cap  # unpacked a piece at a time
            received += len(chunk)
    return received


async def test_a_download_has_an_overall_deadline(sleeps: SleepRecorder) -> None:
    stalled = httpx.Response(200, stream=Endless(b"customerId,promocodeId\n"))
    client = http(Scripted(stalled), sleeps, download_timeout=0.05)
    with pytest.raises(errors.NetworkError, match=r"took longer than 0\.05 s and was stopped"):
        await drain(client)
    assert client.calls == 1
    await client.aclose()


async def test_a_download_bigger_than_its_cap_is_stopped(sleeps: SleepRecorder) -> None:
    pieces = Pieces([b"c,p\n" * 16384] * 64)  # 4 MB
    client = http(Scripted(httpx.Response(200, stream=pieces)), sleeps, max_download_bytes=1 << 20)
    with pytest.raises(errors.AnswerRefusedError, match="bigger than 1 MB; it was stopped"):
        await drain(client)
    assert pieces.sent <= 17  # stopped once past the cap, not read to the end
    bomb = streamed(200, gzip_of_zeros(64 << 20), **{"content-encoding": "gzip"})
    zipped = http(Scripted(bomb), sleeps, max_download_bytes=4 << 20)
    with pytest.raises(errors.AnswerRefusedError, match="bigger than 4 MB"):
        await drain(zipped, piece_cap=1 << 20)
    for item in (client, zipped):
        await item.aclose()
