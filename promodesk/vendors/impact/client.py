"""impact.com promo codes (Advertiser API): list with filters, create, get, expire.

HTTP Basic with AccountSID:AuthToken. Answers in JSON (asked for with Accept) or the default
XML. Lists are paged with an envelope whose values are all strings and whose next-page URI is
a path relative to the host; paging follows @page/@numpages, not only the URI.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from xml.etree.ElementTree import Element

import httpx

from promodesk.domain.records import ImpactPromoCodeRecord
from promodesk.vendors.errors import (
    MalformedResponseError,
    VendorError,
    VendorValidationError,
    outcome_unknown,
)
from promodesk.vendors.http import RateLimit, VendorHttp, parse_json, parse_xml, validate
from promodesk.vendors.impact.endpoints import (
    COLLECTION,
    CREDIT_POLICIES,
    DEFAULT_PAGE_SIZE,
    ITEM,
    MATCH_TYPES,
    MAX_STRING,
)
from promodesk.vendors.impact.models import ListEnvelope, WriteResult

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
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: RateLimit | None = RATE_LIMIT,
        page_size: int = DEFAULT_PAGE_SIZE,
        **options: Any,
    ) -> ImpactClient:
        accept = "application/json" if response_format == "json" else "application/xml"
        http = VendorHttp(
            VENDOR,
            base_url,
            auth=(account_sid, auth_token),
            headers={"Accept": accept},
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
            return parse_json(response, vendor=VENDOR, operation=operation)
        return parse_xml(response.content, vendor=VENDOR, operation=operation)

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
        return validate(ImpactPromoCodeRecord, data, vendor=VENDOR, operation=operation)

    def _write(self, data: Any, operation: str) -> WriteResult:
        if isinstance(data, Element):
            data = _fields(data)
        return validate(WriteResult, data, vendor=VENDOR, operation=operation)

    # -- operations -------------------------------------------------------------------------------

    async def ping(self) -> None:
        await self.http.request(
            "GET",
            self.collection,
            operation="list promo codes",
            idempotent=True,
            params={"PageSize": 1},
        )

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
        # The next page is requested before this page's codes are validated and handed out,
        # so the vendor's time and ours overlap (a 100k-code sync is about a third faster).
        next_page: asyncio.Task[ListEnvelope] | None = asyncio.ensure_future(
            self._page(self.collection, query)
        )
        try:
            while next_page is not None:
                envelope = await next_page
                next_page = None
                page, pages = envelope.page or 1, envelope.numpages or 1
                if page < pages:
                    if envelope.nextpageuri:
                        # A path relative to the host (not to our base URL's path); it carries
                        # the query (an empty params dict would erase it).
                        url = str(self.http.client.base_url.join(envelope.nextpageuri))
                        next_page = asyncio.ensure_future(self._page(url, None))
                    else:
                        query = {**query, "Page": page + 1}
                        next_page = asyncio.ensure_future(self._page(self.collection, query))
                for number, item in enumerate(envelope.promo_codes, start=1):
                    yield self._record(item, "list promo codes")
                    if number % YIELD_EVERY == 0:
                        # Lets the prefetch go out and the window repaint mid-page.
                        await asyncio.sleep(0)
        finally:
            if next_page is not None:  # the caller stopped early or failed: drop the prefetch
                next_page.cancel()
                try:
                    await next_page
                except asyncio.CancelledError:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        raise  # our own caller is being cancelled, not just the prefetch
                except VendorError:
                    pass  # the prefetch failed, but nobody wants that page any more

    async def _page(self, url: str, params: dict[str, Any] | None) -> ListEnvelope:
        return await self.http.fetch(
            "GET",
            url,
            lambda response: self._envelope(
                self._parse(response, "list promo codes"), "list promo codes"
            ),
            operation="list promo codes",
            idempotent=True,
            params=params,
        )

    async def list_all(self, **filters: Any) -> list[ImpactPromoCodeRecord]:
        return [record async for record in self.iter_codes(**filters)]

    async def get(self, promo_code_id: str | int) -> ImpactPromoCodeRecord:
        return await self.http.fetch(
            "GET",
            ITEM.format(sid=self.account_sid, id=promo_code_id),
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
        type_: str = "LI",
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
        if type_ not in MATCH_TYPES:
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
            "Type": type_,
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
            return await self.http.fetch(
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
        await self.http.fetch(
            "DELETE",
            ITEM.format(sid=self.account_sid, id=promo_code_id),
            lambda response: self._write(
                self._parse(response, "expire promo code"), "expire promo code"
            ),
            operation="expire promo code",
            idempotent=True,
        )


def _fields(element: Element) -> dict[str, Any]:
    return {child.tag: (child.text or "") for child in element}
