"""impact.com promo codes (Advertiser API): list with filters, create, get, expire.

HTTP Basic with AccountSID:AuthToken, sent only to the account's own host. The API version is
pinned per account (IR-Version). Answers in JSON (asked for with Accept) or the default XML,
with values as strings (the prose examples) or typed (the OpenAPI): both are read. Lists are
paged with an envelope whose next-page URI is a path on the host; it is followed only when it
is exactly that (one leading slash, the account's host), otherwise the next Page is asked for,
and paging follows @page/@numpages, not only the URI.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from typing import Any, TypeVar
from xml.etree.ElementTree import Element

import httpx

from promodesk.domain.records import ImpactPromoCodeRecord
from promodesk.vendors.errors import (
    AnswerRefusedError,
    ForbiddenError,
    MalformedResponseError,
    VendorError,
    VendorValidationError,
    outcome_unknown,
)
from promodesk.vendors.http import (
    PROBE_TIMEOUT,
    OriginAuth,
    RateLimit,
    VendorHttp,
    same_origin,
    validate,
)
from promodesk.vendors.impact.endpoints import (
    COLLECTION,
    CREDIT_POLICIES,
    DEFAULT_API_VERSION,
    DEFAULT_PAGE_SIZE,
    ITEM,
    MATCH_TYPES,
    MAX_ID,
    MAX_STRING,
    SCOPES,
)
from promodesk.vendors.impact.models import ListEnvelope, WriteResult
from promodesk.vendors.redaction import register_credentials

T = TypeVar("T")

VENDOR = "impact.com"
RATE_LIMIT = RateLimit(1000, 3600.0)  # the default per app (vendor-apis.md 3.3)

# Codes validated between two turns of the event loop (about 3 ms of work).
YIELD_EVERY = 200


class ImpactClient:
    vendor = VENDOR

    def __init__(
        self,
        http: VendorHttp,
        account_sid: str,
        *,
        response_format: str = "json",
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        if response_format not in ("json", "xml"):
            raise ValueError("response_format must be 'json' or 'xml'")
        self.http = http
        self.account_sid = account_sid
        self.response_format = response_format
        self.page_size = page_size
        self.collection = COLLECTION.format(sid=account_sid)

    @classmethod
    def connect(
        cls,
        base_url: str,
        account_sid: str,
        auth_token: str,
        *,
        response_format: str = "json",
        api_version: int = DEFAULT_API_VERSION,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: RateLimit | None = RATE_LIMIT,
        page_size: int = DEFAULT_PAGE_SIZE,
        **options: Any,
    ) -> ImpactClient:
        accept = "application/json" if response_format == "json" else "application/xml"
        register_credentials(account_sid, auth_token)
        basic = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        http = VendorHttp(
            VENDOR,
            base_url,
            auth=OriginAuth(base_url, {"Authorization": f"Basic {basic}"}),
            headers={"Accept": accept, "IR-Version": str(int(api_version))},
            secrets=(auth_token,),
            transport=transport,
            rate_limit=rate_limit,
            **options,
        )
        return cls(http, account_sid, response_format=response_format, page_size=page_size)

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- parsing ----------------------------------------------------------------------------------

    def _parse(self, response: httpx.Response, operation: str) -> Any:
        if self.response_format == "json":
            return self.http.json(response, operation)
        return self.http.xml(response.content, operation)

    def _envelope(self, body: Any, operation: str) -> ListEnvelope:
        if isinstance(body, Element):
            codes = body.find("PromoCodes")
            if codes is None:
                raise MalformedResponseError(
                    VENDOR, "the list answer has no PromoCodes", operation=operation
                )
            data: dict[str, Any] = {f"@{key}": value for key, value in codes.attrib.items()}
            data["PromoCodes"] = [_fields(item) for item in codes.findall("PromoCode")]
            body = data
        return validate(ListEnvelope, body, vendor=VENDOR, operation=operation)

    def _record(self, data: Any, operation: str) -> ImpactPromoCodeRecord:
        if isinstance(data, Element):
            inner = data.find("PromoCode")
            data = _fields(inner if inner is not None else data)
        record = validate(ImpactPromoCodeRecord, data, vendor=VENDOR, operation=operation)
        ids = (record.id, record.campaign_id, record.partner_id, record.deal_id)
        if any(value is not None and len(value) > _SAFE_DIGITS for value in ids):  # rare
            for label, value in zip(_ID_FIELDS, ids, strict=True):
                _check_fits(label, value, operation)
        return record

    def _write(self, data: Any, operation: str) -> WriteResult:
        if isinstance(data, Element):
            data = _fields(data)
        return validate(WriteResult, data, vendor=VENDOR, operation=operation)

    async def _fetch(
        self,
        method: str,
        url: str,
        parse: Callable[[httpx.Response], T],
        *,
        operation: str,
        idempotent: bool,
        **kwargs: Any,
    ) -> T:
        """One call; a 403 says which permission the token lacks for it."""
        try:
            return await self.http.fetch(
                method, url, parse, operation=operation, idempotent=idempotent, **kwargs
            )
        except ForbiddenError as forbidden:
            raise _missing_scope(forbidden, operation) from None

    # -- operations -------------------------------------------------------------------------------

    async def ping(self, *, within: float = PROBE_TIMEOUT) -> None:
        """Test connection, one try within `within` seconds: the first page of codes must come
        back as impact.com's list answer (not a web page, not another site)."""
        operation = "list promo codes"
        response = await self.http.probe(
            "GET", self.collection, operation=operation, within=within, params={"PageSize": 1}
        )
        if response.status_code == 200:
            try:
                self._envelope(self._parse(response, operation), operation)
                return
            except MalformedResponseError:
                pass
        error = self.http.not_the_api(response, operation)
        raise _missing_scope(error, operation) if isinstance(error, ForbiddenError) else error

    async def iter_codes(
        self,
        *,
        campaign_id: str | int | None = None,
        code: str | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
        state: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ImpactPromoCodeRecord]:
        """Every matching code, page after page (an empty list when nothing matches)."""
        items = self.iter_items(
            campaign_id=campaign_id,
            code=code,
            start_date=start_date,
            end_date=end_date,
            state=state,
            page_size=page_size,
        )
        # Closed with this one: the pages it asked for ahead are dropped when the caller
        # stops, not whenever the garbage collector gets to it.
        async with aclosing(items):
            async for item in items:
                yield self._record(item, "list promo codes")

    def record(self, item: dict[str, Any]) -> ImpactPromoCodeRecord:
        """One item of `iter_items`, validated (what `iter_codes` yields)."""
        return self._record(item, "list promo codes")

    async def iter_items(
        self,
        *,
        campaign_id: str | int | None = None,
        code: str | None = None,
        start_date: str | None = None,
        end_date: str | None = None,
        state: str | None = None,
        page_size: int | None = None,
        on_total: Callable[[int], None] | None = None,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Every matching code as impact.com sent it, not validated yet: a sync validates
        (with `record`) only the codes that changed since it last saw them. `on_total` hears
        how many codes impact.com says match, from the first page (for a progress bar)."""
        query: dict[str, Any] = {"PageSize": page_size or self.page_size, "Page": 1}
        for key, value in (
            ("CampaignId", campaign_id),
            ("Code", code),
            ("StartDate", start_date),
            ("EndDate", end_date),
            ("State", state),
        ):
            if value is not None:
                query[key] = value

        def numbered(page: int) -> str:
            # (built as the client sends it: the base URL may carry a path)
            params = {**query, "Page": page}
            return str(self.http.client.build_request("GET", self.collection, params=params).url)

        # The next page is requested before this page's codes are validated and handed out,
        # so the vendor's time and ours overlap (a 100k-code sync is about a third faster).
        # While the vendor's next-page links are its pages by number, the page after that is
        # asked for too: its time then overlaps our reading of the next one (a re-sync, which
        # validates little, was waiting on the vendor for three quarters of its time). A link
        # that turns out to go elsewhere is followed, and the page asked for ahead dropped.
        next_page: asyncio.Task[ListEnvelope] | None = asyncio.ensure_future(
            self._page(numbered(1))
        )
        ahead: tuple[str, asyncio.Task[ListEnvelope]] | None = None
        try:
            while next_page is not None:
                envelope = await next_page
                next_page = None
                page, pages = envelope.page or 1, envelope.numpages or 1
                if on_total is not None and envelope.total is not None:
                    on_total(int(envelope.total))
                    on_total = None
                if page < pages:
                    url = self._next_page_url(envelope.nextpageuri) or numbered(page + 1)
                    if ahead is not None and _same_page(ahead[0], url):
                        next_page, ahead = ahead[1], None
                    else:
                        if ahead is not None:
                            await _drop(ahead[1])
                            ahead = None
                        next_page = asyncio.ensure_future(self._page(url))
                    if page + 2 <= pages and _same_page(url, numbered(page + 1)):
                        after = numbered(page + 2)
                        ahead = (after, asyncio.ensure_future(self._page(after)))
                for number, item in enumerate(envelope.promo_codes, start=1):
                    yield item
                    if number % YIELD_EVERY == 0:
                        # Lets the prefetch go out and the window repaint mid-page.
                        await asyncio.sleep(0)
        finally:
            # The caller stopped early or failed: drop what was asked for ahead (both told
            # at once, so that a cancel of our caller while waiting for one stops the other).
            asked = [task for task in (next_page, ahead[1] if ahead else None) if task]
            for task in asked:
                task.cancel()
            for task in asked:
                await _drop(task)

    def _next_page_url(self, uri: str | None) -> str | None:
        """@nextpageuri, when it is a path on the account's own host (one leading slash, not
        "//host/...", which a URL join turns into another host that would get the
        credentials); None means: ask for the next Page instead."""
        if not uri or not uri.startswith("/") or uri.startswith("//") or "\\" in uri:
            return None
        base = self.http.client.base_url
        url = base.join(uri)
        return str(url) if same_origin(url, base) else None

    async def _page(self, url: str) -> ListEnvelope:
        """One page, by its whole URL (its query included: params would replace it)."""
        return await self._fetch(
            "GET",
            url,
            lambda response: self._envelope(
                self._parse(response, "list promo codes"), "list promo codes"
            ),
            operation="list promo codes",
            idempotent=True,
        )

    async def list_all(self, **filters: Any) -> list[ImpactPromoCodeRecord]:
        return [record async for record in self.iter_codes(**filters)]

    async def get(self, promo_code_id: str | int) -> ImpactPromoCodeRecord:
        return await self._fetch(
            "GET",
            ITEM.format(sid=self.account_sid, id=_id_argument(promo_code_id)),
            lambda response: self._record(
                self._parse(response, "get promo code"), "get promo code"
            ),
            operation="get promo code",
            idempotent=True,
        )

    async def create(
        self,
        *,
        partner_id: str | int,
        campaign_id: str | int,
        code: str,
        credit_policy: str = "ALWAYS",
        match_type: str = "LI",
        start_date: str | None = None,
        end_date: str | None = None,
        deal_id: str | int | None = None,
        deal_name: str | None = None,
    ) -> ImpactPromoCodeRecord:
        """Create a code for a partner in a program. If the answer is lost, the code is looked
        up before anything is sent again, so a lost answer never makes a second code."""
        problems = []
        if credit_policy not in CREDIT_POLICIES:
            problems.append(f"CreditPolicy must be one of {', '.join(CREDIT_POLICIES)}")
        if match_type not in MATCH_TYPES:
            problems.append("Type must be LI (exact) or RE (regex)")
        if not code or len(code.encode()) > MAX_STRING:
            problems.append(f"Code must be 1 to {MAX_STRING} bytes")
        if problems:
            raise VendorValidationError(VENDOR, "; ".join(problems), operation="create promo code")
        form = {
            "AssignedPartnerId": str(partner_id),
            "CampaignId": str(campaign_id),
            "Code": code,
            "CreditPolicy": credit_policy,
            "Type": match_type,
        }
        for key, value in (
            ("StartDate", start_date),
            ("EndDate", end_date),
            ("DealId", deal_id),
            ("DealName", deal_name),
        ):
            if value is not None:
                form[key] = str(value)

        async def send() -> WriteResult:
            return await self._fetch(
                "POST",
                self.collection,
                lambda response: self._write(
                    self._parse(response, "create promo code"), "create promo code"
                ),
                operation="create promo code",
                idempotent=False,
                data=form,
            )

        attempts = self.http.retry.attempts
        for attempt in range(attempts):
            try:
                result = await send()
                break
            except VendorValidationError as error:
                # "Already exists" for this partner is what an earlier, unanswered try made.
                if not any(field.field == "Code" for field in error.field_errors):
                    raise
                existing = await self._find(code, campaign_id, partner_id)
                if existing is None or existing.state != "ACTIVE":
                    raise
                return existing
            except VendorError as error:
                if not outcome_unknown(error) or attempt + 1 >= attempts:
                    raise
                # The code may have been made before the answer went wrong: look before resending.
                existing = await self._find(code, campaign_id, partner_id)
                if existing is not None:
                    return existing
        if result.id is None:
            found = await self._find(code, campaign_id, partner_id)
            if found is None:
                raise MalformedResponseError(
                    VENDOR,
                    f"created, but no id came back ({result.status})",
                    operation="create promo code",
                )
            return found
        _check_fits("Id", result.id, "create promo code")
        return await self.get(result.id)

    async def _find(
        self, code: str, campaign_id: str | int, partner_id: str | int
    ) -> ImpactPromoCodeRecord | None:
        async for record in self.iter_codes(code=code, campaign_id=campaign_id):
            if record.code == code and str(record.partner_id) == str(partner_id):
                return record
        return None

    async def expire(self, promo_code_id: str | int) -> None:
        """Deactivates the code at impact.com (kept as INACTIVE; not expired in the brand's
        own discount system)."""
        await self._fetch(
            "DELETE",
            ITEM.format(sid=self.account_sid, id=_id_argument(promo_code_id)),
            lambda response: self._write(
                self._parse(response, "expire promo code"), "expire promo code"
            ),
            operation="expire promo code",
            idempotent=True,
        )


def _fields(element: Element) -> dict[str, Any]:
    return {child.tag: (child.text or "") for child in element}


def _missing_scope(forbidden: ForbiddenError, operation: str) -> ForbiddenError:
    scope = SCOPES.get(operation, operation)
    return ForbiddenError(
        VENDOR,
        f"this token lacks the '{scope}' permission (give it to the token in impact.com, or "
        "use a read/write token)",
        operation=operation,
        status=forbidden.status,
        vendor_message=forbidden.vendor_message,
    )


_ID_FIELDS = ("Id", "CampaignId", "AssignedPartnerId", "DealId")
_SAFE_DIGITS = len(str(MAX_ID)) - 1  # any whole number this long fits


def _check_fits(label: str, value: str | None, operation: str) -> None:
    """An id promodesk can keep (SQLite INTEGER): a bigger one is a message, not a crash."""
    if value and value.isdigit() and (len(value) > 19 or int(value) > MAX_ID):
        raise AnswerRefusedError(
            VENDOR,
            f"the answer to {operation} has {label} {value[:24]}{'…' if len(value) > 24 else ''}"
            f", larger than promodesk can keep (at most {MAX_ID})",
            operation=operation,
        )


def _id_argument(promo_code_id: str | int) -> str:
    text = str(promo_code_id).strip()
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_ID:
        raise ValueError(f"a promo code id is a whole number, not {text[:40]!r}")
    return text


def _same_page(one: str, other: str) -> bool:
    """Two page URLs that ask for the same thing (their query in any order)."""
    a, b = httpx.URL(one), httpx.URL(other)
    return (a.scheme, a.host, a.port, a.path) == (b.scheme, b.host, b.port, b.path) and sorted(
        a.params.multi_items()
    ) == sorted(b.params.multi_items())


async def _drop(page: asyncio.Future[Any]) -> None:
    """A page asked for that nobody wants any more: cancelled, and its end awaited."""
    page.cancel()
    try:
        await page
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # our own caller is being cancelled, not just the page
    except VendorError:
        pass  # the page failed, but nobody wants it
