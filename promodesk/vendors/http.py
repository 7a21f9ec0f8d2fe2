"""What every vendor client shares: one httpx client per account, timeouts, retries with
backoff, rate limiting, error mapping, and safe parsing of what comes back.

Retries follow one rule: a request is repeated only when repeating it cannot do anything twice.
That is always true when the vendor did not process it (429, a connection that never opened);
for the rest (5xx, timeouts, dropped connections, garbage) only when the caller marks the
request `idempotent`, which reads do and writes do when they carry a client-chosen id.
Otherwise the caller gets a NetworkError/ServerError saying whether the change may have
happened, and looks before trying again.
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree
import httpx
from pydantic import BaseModel, ValidationError

from promodesk.vendors.errors import (
    AuthError,
    ConflictError,
    FieldError,
    ForbiddenError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    QuotaError,
    RateLimitedError,
    ServerError,
    VendorError,
    VendorValidationError,
)
from promodesk.vendors.redaction import redact, register_secret

log = logging.getLogger("promodesk.vendors")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # in all, the first try included
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 0.25  # +- this fraction of each delay, so clients do not retry in step
    # A 429 asking to wait longer than this is not waited out: the user is told when to retry.
    max_rate_limit_wait: float = 60.0

    def backoff(self, attempt: int) -> float:
        delay = min(self.max_delay, self.base_delay * 2.0**attempt)
        spread: float = random.uniform(-self.jitter, self.jitter)
        return delay * (1 + spread)


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` per sliding window of `seconds`."""

    requests: int
    seconds: float


class SlidingWindowLimiter:
    """Client-side pacing so the vendor's own limit is rarely hit."""

    def __init__(
        self, limit: RateLimit | None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._lock = asyncio.Lock()

    async def acquire(self, sleep: Sleep = asyncio.sleep) -> float:
        """Wait for a free slot; returns how long it waited."""
        if self.limit is None:
            return 0.0
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.limit.seconds:
                    self._sent.popleft()
                if len(self._sent) < self.limit.requests:
                    self._sent.append(now)
                    return waited
                pause = self.limit.seconds - (now - self._sent[0])
                waited += pause
                await sleep(pause)


def retry_after_seconds(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """How long the vendor asks us to wait: Retry-After (seconds or an HTTP date) or
    X-RateLimit-Reset / RateLimit-Reset (seconds, or an epoch timestamp when > 10^9)."""
    current = time.time() if now is None else now
    value = headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max(0.0, moment.timestamp() - current)
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        value = headers.get(name)
        if value:
            try:
                number = float(value.strip())
            except ValueError:
                return None
            return max(0.0, number - current) if number > 1e9 else max(0.0, number)
    return None


class VendorHttp:
    """The transport of one account: created once, reused for every call, closed on shutdown."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        secrets: tuple[str, ...] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        total_timeout: float = 60.0,
        rate_limit: RateLimit | None = None,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.vendor = vendor
        for secret in secrets:
            register_secret(secret)
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=dict(headers or {}),
            auth=auth,
            transport=transport,
            timeout=timeout or httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0),
            follow_redirects=False,
        )
        self.total_timeout = total_timeout
        self.limiter = SlidingWindowLimiter(rate_limit)
        self._slots = asyncio.Semaphore(max_concurrency)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.calls = 0  # requests actually sent, retries included (for tests and benchmarks)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        operation: str,
        idempotent: bool,
        expect: tuple[int, ...] = (200, 201, 204),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send with retries; returns a response whose status is in `expect` (its body read)."""
        return await self.fetch(
            method, url, _as_is, operation=operation, idempotent=idempotent, expect=expect, **kwargs
        )

    async def fetch(
        self,
        method: str,
        url: str,
        parse: Callable[[httpx.Response], T],
        *,
        operation: str,
        idempotent: bool,
        expect: tuple[int, ...] = (200, 201, 204),
        **kwargs: Any,
    ) -> T:
        """Send with retries and return `parse(response)`. An answer `parse` finds malformed
        (it raises MalformedResponseError) is asked for again like any other failure."""
        attempt = 0
        while True:
            try:
                response = await self._send_once(method, url, operation, kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
                # Never reached the vendor: always safe to repeat.
                failure: VendorError = NetworkError(
                    self.vendor,
                    f"could not connect ({_short(error)})",
                    maybe_applied=False,
                    operation=operation,
                )
            except (httpx.TransportError, TimeoutError) as error:
                failure = NetworkError(
                    self.vendor,
                    "the connection failed before the answer came back "
                    f"({_short(error)}); the change may or may not have been made",
                    maybe_applied=True,
                    operation=operation,
                )
            else:
                if response.status_code in expect:
                    try:
                        return parse(response)
                    except MalformedResponseError as malformed:
                        failure = malformed
                else:
                    failure = self._error_for(response, operation)
                if isinstance(failure, RateLimitedError):
                    wait = failure.retry_after
                    if wait is not None and wait > self.retry.max_rate_limit_wait:
                        raise failure
                    if attempt + 1 < self.retry.attempts:
                        await self._pause(attempt, wait)
                        attempt += 1
                        continue
                    raise failure
            if not self._repeatable(failure, idempotent) or attempt + 1 >= self.retry.attempts:
                raise failure
            log.info(
                "%s: %s; trying again (%d/%d)",
                self.vendor,
                failure,
                attempt + 2,
                self.retry.attempts,
            )
            await self._pause(attempt, None)
            attempt += 1

    async def _send_once(
        self, method: str, url: str, operation: str, kwargs: dict[str, Any]
    ) -> httpx.Response:
        await self.limiter.acquire(self.sleep)
        async with self._slots:
            self.calls += 1
            # A deadline for the whole exchange: transports without their own timeouts
            # (in-process sandbox) must not hang a job either.
            async with asyncio.timeout(self.total_timeout):
                response = await self.client.request(method, url, **kwargs)
                await response.aread()
                return response

    @asynccontextmanager
    async def stream(
        self, method: str, url: str, *, operation: str, **kwargs: Any
    ) -> AsyncIterator[httpx.Response]:
        """A streamed response (big downloads). Retried only before the body starts."""
        attempt = 0
        started = False
        while True:
            await self.limiter.acquire(self.sleep)
            try:
                async with self._slots:
                    self.calls += 1
                    async with self.client.stream(method, url, **kwargs) as response:
                        if response.status_code == 200:
                            started = True
                            yield response
                            return
                        await response.aread()
                        failure = self._error_for(response, operation)
            except (httpx.TransportError, TimeoutError) as error:
                if started:  # cut off mid-body: the caller has part of it and must start over
                    raise NetworkError(
                        self.vendor,
                        f"the download was cut off ({_short(error)})",
                        maybe_applied=False,
                        operation=operation,
                    ) from None
                failure = NetworkError(
                    self.vendor,
                    f"the download failed ({_short(error)})",
                    maybe_applied=False,
                    operation=operation,
                )
            if not failure.retryable or attempt + 1 >= self.retry.attempts:
                raise failure
            await self._pause(attempt, getattr(failure, "retry_after", None))
            attempt += 1

    @staticmethod
    def _repeatable(failure: VendorError, idempotent: bool) -> bool:
        if isinstance(failure, NetworkError):
            return idempotent or not failure.maybe_applied
        if isinstance(failure, ServerError | MalformedResponseError):
            return idempotent
        return False

    async def _pause(self, attempt: int, asked: float | None) -> None:
        delay = self.retry.backoff(attempt)
        if asked is not None:
            delay = max(delay, asked)
        await self.sleep(delay)

    def _error_for(self, response: httpx.Response, operation: str) -> VendorError:
        status = response.status_code
        message, field_errors = _vendor_message(response)
        common: dict[str, Any] = {
            "operation": operation,
            "status": status,
            "vendor_message": message,
        }
        if status == 401:
            return AuthError(
                self.vendor,
                "the credentials were refused; check the account's key or token",
                **common,
            )
        if status == 403:
            return ForbiddenError(
                self.vendor,
                "these credentials may not do this (a read-only or scoped token?)",
                **common,
            )
        if status == 404:
            return NotFoundError(self.vendor, f"not found: {operation}", **common)
        if status == 409:
            return ConflictError(
                self.vendor, message or "conflict with the current state", **common
            )
        if status == 402:
            return QuotaError(self.vendor, message or "refused by a plan limit", **common)
        if status == 429:
            wait = retry_after_seconds(response.headers)
            text = "too many requests"
            if wait is not None:
                text += f"; try again in {wait:.0f} s"
            return RateLimitedError(self.vendor, text, retry_after=wait, operation=operation)
        if status in (400, 422):
            summary = message or "the request was refused as invalid"
            if field_errors:  # the sentence names what to fix, not only "Validation Failed"
                summary += " (" + "; ".join(str(error) for error in field_errors[:5]) + ")"
            return VendorValidationError(self.vendor, summary, field_errors=field_errors, **common)
        if status >= 500:
            return ServerError(self.vendor, f"the service failed (HTTP {status})", **common)
        return VendorError(self.vendor, f"unexpected answer (HTTP {status})", **common)


def _as_is(response: httpx.Response) -> httpx.Response:
    return response


def _short(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return redact(text.splitlines()[0][:160])


def _vendor_message(response: httpx.Response) -> tuple[str, tuple[FieldError, ...]]:
    """Best effort at the message in an error body (JSON or XML), never raising."""
    text = response.text[:4000]
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        fields = tuple(
            FieldError(
                str(item.get("Field") or item.get("field") or ""),
                str(item.get("Message") or item.get("message") or ""),
            )
            for item in body.get("Errors") or body.get("errors") or []
            if isinstance(item, dict)
        )
        for key in ("message", "Message", "error_text", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return redact(value), fields
        return "", fields
    if text.lstrip().startswith("<"):
        try:
            root = parse_xml(text.encode(), vendor="", operation="")
        except MalformedResponseError:
            return "", ()
        message = root.findtext("Message") or root.findtext("error_text") or ""
        fields = tuple(
            FieldError(item.findtext("Field") or "", item.findtext("Message") or "")
            for item in root.iter("Error")
        )
        return redact(message), fields
    return "", ()


def parse_json(response: httpx.Response, *, vendor: str, operation: str) -> Any:
    try:
        return json.loads(response.content)
    except ValueError as error:
        raise MalformedResponseError(
            vendor,
            f"the answer is not valid JSON ({error.__class__.__name__})",
            operation=operation,
            status=response.status_code,
        ) from None


def validate(model: type[M], data: Any, *, vendor: str, operation: str) -> M:
    """Vendor data through its pydantic model: anything off becomes MalformedResponseError."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedResponseError(
            vendor, f"unexpected data in the answer ({where}: {first['msg']})", operation=operation
        ) from None


def parse_xml(content: bytes, *, vendor: str, operation: str) -> Element:
    """XML from a vendor, with entity expansion, DTDs and external references refused."""
    try:
        root: Element = defusedxml.ElementTree.fromstring(content, forbid_dtd=True)
        return root
    except (defusedxml.DefusedXmlException, defusedxml.ElementTree.ParseError) as error:
        raise MalformedResponseError(
            vendor,
            f"the answer is not safe, valid XML ({error.__class__.__name__})",
            operation=operation,
        ) from None


def xml_to_dict(element: Element) -> Any:
    """Element -> plain data: children become keys (repeated ones a list), leaves text."""
    children = list(element)
    if not children:
        return element.text or ""
    result: dict[str, Any] = {}
    for child in children:
        value = xml_to_dict(child)
        if child.tag in result:
            existing = result[child.tag]
            result[child.tag] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            result[child.tag] = value
    return result
