"""The shared transport: retries and backoff, Retry-After, rate limiting, error mapping,
safe parsing, and secrets kept out of what is written."""

from __future__ import annotations

import email.utils
import logging
import time
from typing import Any

import httpx
import pytest

from promodesk.vendors import errors
from promodesk.vendors.http import (
    RateLimit,
    RetryPolicy,
    SlidingWindowLimiter,
    VendorHttp,
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
