"""What every vendor client shares: one httpx client per account, timeouts, retries with
backoff, rate limiting, error mapping, and safe parsing of what comes back.

Retries follow one rule: a request is repeated only when repeating it cannot do anything twice.
That is always true when the vendor did not process it (429, a connection that never opened);
for the rest (5xx, timeouts, dropped connections, garbage) only when the caller marks the
request `idempotent`, which reads do and writes do when they carry a client-chosen id.
Otherwise the caller gets a NetworkError/ServerError saying whether the change may have
happened, and looks before trying again.

Answers are untrusted input and every one is read within caps: its size (as sent and once
decompressed: gzip and deflate are decoded here, a piece at a time, never unbounded), its JSON
or XML nesting, the time it may take, and for streamed downloads an overall deadline and size.
A web page where data was expected (a firewall, a login page, a wrong address) is said to be
one and never retried.
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import io
import json
import logging
import random
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from xml.etree.ElementTree import Element

import defusedxml
import defusedxml.ElementTree
import httpx
from pydantic import BaseModel, ValidationError

from promodesk.vendors.errors import (
    AnswerRefusedError,
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
    WebPageError,
)
from promodesk.vendors.redaction import redact, register_secret

log = logging.getLogger("promodesk.vendors")

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

# Caps on what an answer may be (each configurable per client, see VendorHttp).
MAX_ANSWER_BYTES = 32 * 1024 * 1024  # an answer read whole, once decompressed
MAX_DEPTH = 64  # JSON or XML nesting; the vendors' answers are 3 to 10 deep
MAX_XML_ELEMENTS = 2_000_000  # an element costs ~300 bytes in memory, whatever its size on the wire
MAX_DOWNLOAD_BYTES = 4 * 1024 * 1024 * 1024  # a streamed download (written to disk as it comes)
DOWNLOAD_TIMEOUT = 3600.0  # a streamed download, in all
PROBE_TIMEOUT = 8.0  # Test connection: a verdict well within ten seconds
READ_CHUNK = 64 * 1024
# Only what the caps below can decode a piece at a time (httpx would add br and zstd).
ACCEPT_ENCODING = "gzip, deflate"


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


WEB_PAGE = "answered with a web page, not data (a firewall or login page?)"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def same_origin(first: httpx.URL | str, second: httpx.URL | str) -> bool:
    """Same scheme, host and port: where an account's credentials may go."""
    return _origin(httpx.URL(first)) == _origin(httpx.URL(second))


class OriginAuth(httpx.Auth):
    """Credential headers added only to requests for the account's own origin: a signed
    upload URL, or a next-page link pointing at another host, never sees them."""

    def __init__(self, base_url: str, headers: Mapping[str, str]) -> None:
        self._origin = _origin(httpx.URL(base_url))
        self._headers = dict(headers)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) == self._origin:
            request.headers.update(self._headers)
        yield request


class VendorHttp:
    """The transport of one account: created once, reused for every call, closed on shutdown.

    Every cap is per client: `max_answer_bytes` (an answer read whole, once decompressed),
    `max_depth` (JSON and XML nesting), `max_xml_elements`, and for streamed downloads
    `max_download_bytes` and `download_timeout` (the whole download). Two transports of one
    account (e.g. two hosts under one API key) share the vendor's limit through `limiter`.
    """

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
        limiter: SlidingWindowLimiter | None = None,
        max_concurrency: int = 4,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        max_depth: int = MAX_DEPTH,
        max_xml_elements: int = MAX_XML_ELEMENTS,
        max_download_bytes: int = MAX_DOWNLOAD_BYTES,
        download_timeout: float = DOWNLOAD_TIMEOUT,
    ) -> None:
        self.vendor = vendor
        for secret in secrets:
            register_secret(secret)
        self.client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Accept-Encoding": ACCEPT_ENCODING, **dict(headers or {})},
            auth=auth,
            transport=transport,
            timeout=timeout or httpx.Timeout(connect=10.0, read=30.0, write=30.0, pool=30.0),
            follow_redirects=False,
        )
        self.total_timeout = total_timeout
        self.limiter = limiter if limiter is not None else SlidingWindowLimiter(rate_limit)
        self._slots = asyncio.Semaphore(max_concurrency)
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.max_answer_bytes = max_answer_bytes
        self.max_depth = max_depth
        self.max_xml_elements = max_xml_elements
        self.max_download_bytes = max_download_bytes
        self.download_timeout = download_timeout
        self.calls = 0  # requests actually sent, retries included (for tests and benchmarks)

    async def aclose(self) -> None:
        await self.client.aclose()

    def json(self, response: httpx.Response, operation: str) -> Any:
        """The answer as JSON, within this client's caps."""
        return parse_json(
            response, vendor=self.vendor, operation=operation, max_depth=self.max_depth
        )

    def xml(self, content: bytes, operation: str) -> Element:
        """The answer as (safe) XML, within this client's caps."""
        return parse_xml(
            content,
            vendor=self.vendor,
            operation=operation,
            max_depth=self.max_depth,
            max_elements=self.max_xml_elements,
        )

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
        (it raises MalformedResponseError) is asked for again like any other failure, unless
        asking again cannot help (AnswerRefusedError: too big, too deep, a web page)."""
        attempt = 0
        while True:
            try:
                response = await self._send_once(method, url, operation, kwargs)
            except httpx.LocalProtocolError as error:
                raise self._unsendable(error, operation) from None
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
            except MalformedResponseError as unreadable:  # damaged, or refused by a cap
                failure = unreadable
            else:
                if response.status_code in expect:
                    try:
                        _refuse_web_page(response, self.vendor, operation)
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
            log.info("%s; trying again (%d/%d)", failure, attempt + 2, self.retry.attempts)
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
                return await self._exchange(method, url, operation, kwargs)

    async def _exchange(
        self, method: str, url: str, operation: str, kwargs: dict[str, Any]
    ) -> httpx.Response:
        """One request; its answer read (and decompressed) within `max_answer_bytes`."""
        request = self.client.build_request(method, url, **kwargs)
        response = await self.client.send(request, stream=True)
        try:
            content = await self._read_capped(response, operation)
        finally:
            await response.aclose()
        return _with_content(response, content)

    async def _read_capped(self, response: httpx.Response, operation: str) -> bytes:
        limit = self.max_answer_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_big(operation, limit, "is")
        ready = _already_read(response)
        if ready is not None:  # a transport that hands over a body it read itself (tests)
            if len(ready) > limit:
                raise self._too_big(operation, limit, "is")
            return ready
        decoder = _Decoder(response, limit, lambda: self._too_big(operation, limit, "unpacks to"))
        parts: list[bytes] = []
        received = 0
        async for chunk in response.aiter_raw(READ_CHUNK):
            received += len(chunk)
            if received > limit:
                raise self._too_big(operation, limit, "is")
            parts.extend(self._decoded(decoder, chunk, operation))
        parts.extend(self._decoded(decoder, b"", operation, final=True))
        return b"".join(parts)

    def _decoded(
        self, decoder: _Decoder, chunk: bytes, operation: str, *, final: bool = False
    ) -> Generator[bytes, None, None]:
        try:
            yield from decoder.flush() if final else decoder.feed(chunk)
        except zlib.error:
            raise MalformedResponseError(
                self.vendor,
                f"the answer to {operation} is damaged (its compression is broken)",
                operation=operation,
            ) from None
        except _UnknownEncoding as unknown:
            raise AnswerRefusedError(
                self.vendor,
                f"the answer to {operation} is compressed as '{unknown}', which promodesk "
                "does not read",
                operation=operation,
            ) from None

    def _unsendable(self, error: httpx.LocalProtocolError, operation: str) -> VendorError:
        # httpx refused to send it (a header value with a line break, say): nothing went out,
        # and trying again would fail the same way.
        return VendorError(
            self.vendor,
            f"the request could not be sent ({_short(error)}); check the account's key or "
            "token for stray characters",
            operation=operation,
        )

    def _too_big(self, operation: str, limit: int, verb: str) -> AnswerRefusedError:
        return AnswerRefusedError(
            self.vendor,
            f"the answer to {operation} {verb} more than {_size(limit)}, more than promodesk "
            "reads at once; it was not read",
            operation=operation,
        )

    async def probe(
        self, method: str, url: str, *, operation: str, within: float = PROBE_TIMEOUT, **kwargs: Any
    ) -> httpx.Response:
        """Test connection: one try, no retries, a verdict within `within` seconds in all.
        Returns the answer whatever its status: the caller decides whether it proves the
        vendor is there (see `not_the_api`)."""
        try:
            async with asyncio.timeout(within):
                await self.limiter.acquire(self.sleep)
                async with self._slots:
                    self.calls += 1
                    return await self._exchange(method, url, operation, kwargs)
        except TimeoutError:
            raise NetworkError(
                self.vendor,
                f"no answer within {within:g} s (is the address right, or is a firewall "
                "in the way?)",
                maybe_applied=False,
                operation=operation,
            ) from None
        except httpx.LocalProtocolError as error:
            raise self._unsendable(error, operation) from None
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise NetworkError(
                self.vendor,
                f"could not connect ({_short(error)})",
                maybe_applied=False,
                operation=operation,
            ) from None
        except httpx.TransportError as error:
            raise NetworkError(
                self.vendor,
                f"the connection failed ({_short(error)})",
                maybe_applied=False,
                operation=operation,
            ) from None

    def not_the_api(self, response: httpx.Response, operation: str) -> VendorError:
        """Why an answer does not prove that the vendor's API is at this address: a web page,
        refused credentials, a failing service, or something else answering."""
        status = response.status_code
        if _looks_like_web_page(response.content, response.headers.get("content-type", "")):
            return WebPageError(
                self.vendor,
                f"answered with a web page, not {self.vendor}'s API (a wrong address, or a "
                "firewall or login page?)",
                operation=operation,
                status=status,
            )
        if status in (401, 402, 403, 429) or status >= 500:
            return self._error_for(response, operation)
        return MalformedResponseError(
            self.vendor,
            f"something answered (HTTP {status}), but not {self.vendor}'s API: check the address",
            operation=operation,
            status=status,
        )

    @asynccontextmanager
    async def stream(
        self, method: str, url: str, *, operation: str, **kwargs: Any
    ) -> AsyncIterator[Download]:
        """A streamed download (big exports), read through `Download.chunks()`. Retried only
        before the body starts; the whole download must end within `download_timeout`."""
        attempt = 0
        started = False
        while True:
            await self.limiter.acquire(self.sleep)
            try:
                async with self._slots, asyncio.timeout(self.download_timeout):
                    self.calls += 1
                    request = self.client.build_request(method, url, **kwargs)
                    response = await self.client.send(request, stream=True)
                    try:
                        if response.status_code == 200:
                            started = True
                            yield Download(response, self, operation)
                            return
                        answer = _with_content(
                            response, await self._read_capped(response, operation)
                        )
                    finally:
                        await response.aclose()
                    failure = self._error_for(answer, operation)
            except TimeoutError:
                if started:
                    raise NetworkError(
                        self.vendor,
                        f"the download took longer than {_duration(self.download_timeout)} "
                        "and was stopped",
                        maybe_applied=False,
                        operation=operation,
                    ) from None
                failure = NetworkError(
                    self.vendor,
                    "the download did not start in time",
                    maybe_applied=False,
                    operation=operation,
                )
            except httpx.LocalProtocolError as error:
                raise self._unsendable(error, operation) from None
            except httpx.TransportError as error:
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
            return idempotent and failure.retryable
        return False

    async def pause(self, attempt: int) -> None:
        """The backoff before a caller's own next try (e.g. after looking whether a change
        whose outcome was unknown landed): gives a late request time to arrive first."""
        await self._pause(attempt, None)

    async def _pause(self, attempt: int, asked: float | None) -> None:
        delay = self.retry.backoff(attempt)
        if asked is not None:
            delay = max(delay, asked)
        await self.sleep(delay)

    def error_for(self, response: httpx.Response, operation: str) -> VendorError:
        """The error an answer with an unexpected status stands for."""
        return self._error_for(response, operation)

    def _error_for(self, response: httpx.Response, operation: str) -> VendorError:
        status = response.status_code
        if (
            status < 500
            and status != 429
            and _looks_like_web_page(response.content, response.headers.get("content-type", ""))
        ):
            # A firewall or login page in the way: its 401/403/404 says nothing about the API.
            return WebPageError(self.vendor, WEB_PAGE, operation=operation, status=status)
        message, field_errors = _vendor_message(response, self.max_depth)
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
            said = f" ({message})" if message else ""
            return NotFoundError(self.vendor, f"not found: {operation}{said}", **common)
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


class Download:
    """A streamed answer being read: `headers`, and `chunks()` decoded a piece at a time
    within the client's `max_download_bytes`."""

    def __init__(self, response: httpx.Response, http: VendorHttp, operation: str) -> None:
        self._response = response
        self._http = http
        self._operation = operation
        self.headers = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        http, operation = self._http, self._operation
        limit = http.max_download_bytes

        def too_big() -> AnswerRefusedError:
            return AnswerRefusedError(
                http.vendor,
                f"the download of {operation} is bigger than {_size(limit)}; it was stopped",
                operation=operation,
            )

        ready = _already_read(self._response)
        if ready is not None:  # a transport that hands over a body it read itself (tests)
            if len(ready) > limit:
                raise too_big()
            yield ready
            return
        decoder = _Decoder(self._response, limit, too_big)
        received = 0
        async for chunk in self._response.aiter_raw(READ_CHUNK):
            received += len(chunk)
            if received > limit:
                raise too_big()
            for piece in http._decoded(decoder, chunk, operation):
                yield piece
        for piece in http._decoded(decoder, b"", operation, final=True):
            yield piece


class _UnknownEncoding(Exception):
    pass


_PIECE = 1024 * 1024  # the most a compressed chunk is unpacked into at once


class _Decoder:
    """Content-Encoding gzip/deflate undone a bounded piece at a time: a small compressed
    answer that unpacks to gigabytes is stopped at the cap, never held in memory."""

    def __init__(
        self,
        response: httpx.Response,
        limit: int,
        too_big: Callable[[], Exception],
    ) -> None:
        encoding = response.headers.get("content-encoding", "").strip().lower()
        # Said when the first bytes are fed, where errors are turned into messages.
        self._unknown = encoding not in ("", "identity", "gzip", "x-gzip", "deflate")
        self._encoding = encoding
        self._limit = limit
        self._too_big = too_big
        self._produced = 0
        self._zlib: Any = self._new()
        self._started = False  # deflate: zlib-wrapped or raw is told by the first bytes

    def _new(self) -> Any:
        if self._unknown:
            return None
        if self._encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        if self._encoding == "deflate":
            return zlib.decompressobj()
        return None

    def _count(self, piece: bytes) -> bytes:
        self._produced += len(piece)
        if self._produced > self._limit:
            raise self._too_big()
        return piece

    def feed(self, data: bytes) -> Generator[bytes, None, None]:
        if self._unknown:
            raise _UnknownEncoding(self._encoding[:40])
        if self._zlib is None:
            if data:
                yield self._count(data)
            return
        while data:
            try:
                piece = self._zlib.decompress(data, _PIECE)
            except zlib.error:
                if self._encoding != "deflate" or self._started:
                    raise
                # Some servers send raw deflate under "deflate": read it as such.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                continue
            self._started = True
            if piece:
                yield self._count(piece)
            data = self._zlib.unconsumed_tail
            if self._zlib.eof and self._zlib.unused_data:
                data = self._zlib.unused_data  # the next gzip member
                self._zlib = self._new()

    def flush(self) -> Generator[bytes, None, None]:
        if self._unknown:
            raise _UnknownEncoding(self._encoding[:40])
        if self._zlib is not None:
            tail = self._zlib.flush()
            if tail:
                yield self._count(tail)


_FRAMING = ("content-encoding", "content-length", "transfer-encoding")


def _with_content(response: httpx.Response, content: bytes) -> httpx.Response:
    """The answer with its body as read (already decompressed)."""
    headers = response.headers
    if "content-encoding" in headers or "transfer-encoding" in headers:
        headers = headers.copy()  # they described the body as sent, not as read
        for name in _FRAMING:
            headers.pop(name, None)
    return httpx.Response(
        response.status_code, headers=headers, content=content, request=response.request
    )


def _already_read(response: httpx.Response) -> bytes | None:
    try:
        return response.content
    except httpx.ResponseNotRead:
        return None


def _as_is(response: httpx.Response) -> httpx.Response:
    return response


def _short(error: BaseException) -> str:
    # Redacted before it is cut short, so that no part of a secret is left behind.
    text = redact(str(error)) or type(error).__name__
    return text.splitlines()[0][:160] if text.strip() else type(error).__name__


def _size(count: int) -> str:
    if count >= 1024**3:
        return f"{count / 1024**3:g} GB"
    if count >= 1024**2:
        return f"{count / 1024**2:g} MB"
    return f"{count / 1024:g} KB"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 120 else f"{seconds:g} s"


_WEB_PAGE_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body")


def _looks_like_web_page(content: bytes, content_type: str) -> bool:
    """An HTML page (a firewall, a login portal, a website) rather than an API answer."""
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(_WEB_PAGE_STARTS):
        return True
    if head.startswith(b"<!--") and b"<html" in head:
        return True
    kind = content_type.lower()
    return ("text/html" in kind or "xhtml" in kind) and head.startswith(b"<")


def _refuse_web_page(response: httpx.Response, vendor: str, operation: str) -> None:
    if _looks_like_web_page(response.content, response.headers.get("content-type", "")):
        raise WebPageError(vendor, WEB_PAGE, operation=operation, status=response.status_code)


def _vendor_message(response: httpx.Response, max_depth: int) -> tuple[str, tuple[FieldError, ...]]:
    """Best effort at the message in an error body (JSON or XML), never raising."""
    content = response.content[:16000]
    body: Any = None
    if content.lstrip()[:1] in (b"{", b"["):
        try:
            body = parse_json(response, vendor="", operation="", max_depth=max_depth)
        except MalformedResponseError:
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
                return redact(value[:2000]), fields
        return "", fields
    if content.lstrip().startswith(b"<"):
        try:
            root = parse_xml(response.content, vendor="", operation="", max_depth=max_depth)
        except MalformedResponseError:
            return "", ()
        message = root.findtext("Message") or root.findtext("error_text") or ""
        fields = tuple(
            FieldError(item.findtext("Field") or "", item.findtext("Message") or "")
            for item in root.iter("Error")
        )
        return redact(message[:2000]), fields
    return "", ()


_JSON_KEEP = b'"[]{}'
_JSON_DELETE = bytes(byte for byte in range(256) if byte not in _JSON_KEEP)
_TO_SQUARE = bytes.maketrans(b"{}", b"[]")


def _json_within_depth(content: bytes, max_depth: int) -> bool:
    """Whether no array or object in a JSON text nests deeper than `max_depth`, found without
    parsing it (the parser itself recurses): quoted strings are dropped, then matched pairs
    are peeled off level by level, all in C."""
    if content.count(b"[") + content.count(b"{") <= max_depth:
        return True
    text = content
    if b"\\" in text:  # escaped backslashes, then escaped quotes, so that quotes pair up
        text = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Only quotes and brackets are left, quotes in open/close pairs. Two adjacent quotes are
    # an empty string or the seam of two strings: either way dropping them keeps every
    # bracket inside a string inside one (and most strings hold no bracket at all).
    text = text.translate(None, _JSON_DELETE).replace(b'""', b"")
    if b'"' in text:
        text = b"".join(text.split(b'"')[::2])
    text = text.translate(_TO_SQUARE)
    if b"[" * (max_depth + 1) in text:
        return False
    for _ in range(max_depth):
        if not text:
            return True
        text = text.replace(b"[]", b"")
    return not text


def parse_json(
    response: httpx.Response, *, vendor: str, operation: str, max_depth: int = MAX_DEPTH
) -> Any:
    content = response.content
    if not _json_within_depth(content, max_depth):
        raise AnswerRefusedError(
            vendor,
            f"the answer to {operation} is nested more than {max_depth} levels deep; "
            "promodesk does not read it",
            operation=operation,
            status=response.status_code,
        )
    try:
        return json.loads(content)
    except RecursionError:  # an encoding the depth check could not see through
        raise AnswerRefusedError(
            vendor,
            f"the answer to {operation} is nested too deeply; promodesk does not read it",
            operation=operation,
            status=response.status_code,
        ) from None
    except ValueError as error:
        if _looks_like_web_page(content, response.headers.get("content-type", "")):
            raise WebPageError(
                vendor, WEB_PAGE, operation=operation, status=response.status_code
            ) from None
        raise MalformedResponseError(
            vendor,
            f"the answer to {operation} is not valid JSON ({error.__class__.__name__})",
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
            vendor,
            f"unexpected data in the answer to {operation} ({where}: {first['msg']})",
            operation=operation,
        ) from None
    except RecursionError:
        raise AnswerRefusedError(
            vendor, f"the answer to {operation} is nested too deeply", operation=operation
        ) from None


def parse_xml(
    content: bytes,
    *,
    vendor: str,
    operation: str,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_XML_ELEMENTS,
) -> Element:
    """XML from a vendor, with entity expansion, DTDs and external references refused, and
    its nesting and element count capped while it is read (a deep or huge answer is stopped
    early, before it is built in memory)."""
    if _looks_like_web_page(content, ""):
        raise WebPageError(vendor, WEB_PAGE, operation=operation)
    try:
        if content.count(b"<") <= max_depth:
            root: Element = defusedxml.ElementTree.fromstring(content, forbid_dtd=True)
        else:
            root = _parse_xml_bounded(content, vendor, operation, max_depth, max_elements)
    except (defusedxml.DefusedXmlException, defusedxml.ElementTree.ParseError) as error:
        raise MalformedResponseError(
            vendor,
            f"the answer to {operation} is not safe, valid XML ({error.__class__.__name__})",
            operation=operation,
        ) from None
    if root.tag.rpartition("}")[2].lower() == "html":
        raise WebPageError(vendor, WEB_PAGE, operation=operation)
    return root


def _parse_xml_bounded(
    content: bytes, vendor: str, operation: str, max_depth: int, max_elements: int
) -> Element:
    depth = elements = 0
    events = defusedxml.ElementTree.iterparse(
        io.BytesIO(content), events=("start", "end"), forbid_dtd=True
    )
    for event, _element in events:
        if event == "end":
            depth -= 1
            continue
        depth += 1
        elements += 1
        if depth > max_depth:
            raise AnswerRefusedError(
                vendor,
                f"the answer to {operation} is nested more than {max_depth} levels deep; "
                "promodesk does not read it",
                operation=operation,
            )
        if elements > max_elements:
            raise AnswerRefusedError(
                vendor,
                f"the answer to {operation} has more than {max_elements:,} elements, more "
                "than promodesk reads at once",
                operation=operation,
            )
    root: Element = events.root
    return root


def xml_to_dict(element: Element) -> Any:
    """Element -> plain data: children become keys (repeated ones a list), leaves text.
    The element comes from `parse_xml`, so its depth is capped."""
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
