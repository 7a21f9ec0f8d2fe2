"""Optimove OptiPromo (and the legacy function-style API): one method per operation.

Creates carry an id chosen here (a slug of the name and a random suffix), so that a create
whose answer was lost can be sent again safely: the second try gets 409, and the client
fetches what the first one made.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from promodesk.domain.jobs import CancelToken, JobCancelled, Progress, ProgressFn, ignore_progress
from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.vendors.errors import (
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    VendorValidationError,
)
from promodesk.vendors.http import RateLimit, VendorHttp, parse_json, validate
from promodesk.vendors.optimove.endpoints import ENDPOINTS, LEGACY_BATCH, MAX_CODE_FILE_BYTES
from promodesk.vendors.optimove.models import (
    CodeFile,
    LegacyPromoCode,
    LegacyPromotion,
    Promocode,
    Promotion,
    UploadSlot,
    Validation,
)

VENDOR = "Optimove"
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
# "50 requests per 10 seconds per API key, sliding window" (vendor-apis.md 1.2).
RATE_LIMIT = RateLimit(50, 10.0)


def new_id(name: str, prefix: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32] or prefix
    return f"{slug}-{uuid.uuid4().hex[:10]}"


class ApiKeyAuth(httpx.Auth):
    """X-API-KEY on requests to the account's own host only: a signed upload URL on another
    host must never see the key."""

    def __init__(self, api_key: str, host: str) -> None:
        self._key = api_key
        self._host = host

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.host == self._host:
            request.headers["X-API-KEY"] = self._key
        yield request


def _as_response(response: httpx.Response) -> httpx.Response:
    return response


class OptimoveClient:
    vendor = VENDOR

    def __init__(self, http: VendorHttp, legacy_http: VendorHttp | None = None) -> None:
        self.http = http
        self.legacy_http = legacy_http or http

    @classmethod
    def connect(
        cls,
        base_url: str,
        api_key: str,
        *,
        legacy_base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit: RateLimit | None = RATE_LIMIT,
        **options: Any,
    ) -> OptimoveClient:
        def make(url: str) -> VendorHttp:
            return VendorHttp(
                VENDOR,
                url,
                auth=ApiKeyAuth(api_key, httpx.URL(url).host),
                headers={"Accept": "application/json"},
                secrets=(api_key,),
                transport=transport,
                rate_limit=rate_limit,
                **options,
            )

        http = make(base_url)
        legacy = make(legacy_base_url) if legacy_base_url and legacy_base_url != base_url else None
        return cls(http, legacy)

    async def aclose(self) -> None:
        await self.http.aclose()
        if self.legacy_http is not self.http:
            await self.legacy_http.aclose()

    async def _call(
        self,
        name: str,
        *,
        values: dict[str, str] | None = None,
        parse: Callable[[httpx.Response], T] | None = None,
        **kwargs: Any,
    ) -> Any:
        """One operation of the contract; with `parse`, its result (a malformed answer to a
        safe request is asked for again), else the response."""
        endpoint = ENDPOINTS[name]
        http = self.legacy_http if endpoint.legacy else self.http
        return await http.fetch(
            endpoint.method,
            endpoint.url(**(values or {})),
            parse or _as_response,
            operation=name.replace("_", " "),
            idempotent=endpoint.idempotent,
            **kwargs,
        )

    async def _get(
        self, name: str, model: type[M], *, values: dict[str, str] | None = None, **kwargs: Any
    ) -> M:
        operation = name.replace("_", " ")

        def parse(response: httpx.Response) -> M:
            return validate(
                model,
                parse_json(response, vendor=VENDOR, operation=operation),
                vendor=VENDOR,
                operation=operation,
            )

        result: M = await self._call(name, values=values, parse=parse, **kwargs)
        return result

    async def _get_list(
        self,
        name: str,
        model: type[M],
        *,
        values: dict[str, str] | None = None,
        key: str = "",
        **kwargs: Any,
    ) -> list[M]:
        """A JSON array of `model` (or an object holding it under `key`; nothing -> [])."""
        operation = name.replace("_", " ")

        def parse(response: httpx.Response) -> list[M]:
            data = (
                parse_json(response, vendor=VENDOR, operation=operation) if response.content else []
            )
            if isinstance(data, dict) and key:
                data = data.get(key, [])
            if not isinstance(data, list):
                raise MalformedResponseError(
                    VENDOR, "expected a list in the answer", operation=operation
                )
            return [validate(model, item, vendor=VENDOR, operation=operation) for item in data]

        result: list[M] = await self._call(name, values=values, parse=parse, **kwargs)
        return result

    def _json(self, response: httpx.Response, operation: str) -> Any:
        return parse_json(response, vendor=VENDOR, operation=operation)

    async def ping(self) -> None:
        """Prove the key works: an id that cannot exist must come back 404, not 401/403."""
        try:
            await self._call(
                "get_promotion", values={"promotionId": f"promodesk-ping-{uuid.uuid4().hex}"}
            )
        except NotFoundError:
            return

    # -- promotions -----------------------------------------------------------------------------

    async def create_promotion(
        self, name: str, *, description: str = "", promotion_id: str | None = None
    ) -> Promotion:
        chosen = promotion_id or new_id(name, "promotion")
        body = {"promotionId": chosen, "name": name, "description": description}
        try:
            await self._call("create_promotion", json=body)
        except ConflictError as conflict:
            try:
                existing = await self.get_promotion(chosen)
            except NotFoundError:
                raise conflict from None  # refused for another reason
            if existing.name != name:  # someone else's promotion under this id
                raise
            return existing  # our own earlier try landed; its answer was lost
        return await self.get_promotion(chosen)

    async def get_promotion(self, promotion_id: str) -> Promotion:
        return await self._get("get_promotion", Promotion, values={"promotionId": promotion_id})

    async def set_metadata(
        self, promotion_id: str, *, name: str | None = None, description: str | None = None
    ) -> None:
        body = {
            key: value
            for key, value in (("name", name), ("description", description))
            if value is not None
        }
        await self._call("set_metadata", values={"promotionId": promotion_id}, json=body)

    async def set_properties(self, promotion_id: str, properties: dict[str, Any]) -> None:
        await self._call(
            "set_properties", values={"promotionId": promotion_id}, json={"properties": properties}
        )

    async def set_tiers(self, promotion_id: str, tiers: Sequence[dict[str, Any]]) -> None:
        """Tiers in priority order. Refused (409) once the promotion has ever been active."""
        await self._call(
            "set_tiers", values={"promotionId": promotion_id}, json={"promotionTiers": list(tiers)}
        )

    async def set_budgets(
        self,
        promotion_id: str,
        *,
        audience_cap: dict[str, Any] | None = None,
        reward_budget: dict[str, Any] | None = None,
    ) -> None:
        body: dict[str, Any] = {}
        if audience_cap is not None:
            body["audienceCap"] = audience_cap
        if reward_budget is not None:
            body["rewardBudget"] = reward_budget
        await self._call("set_budgets", values={"promotionId": promotion_id}, json=body)

    async def set_constraints(
        self, promotion_id: str, constraints: Sequence[dict[str, Any]]
    ) -> None:
        await self._call(
            "set_constraints",
            values={"promotionId": promotion_id},
            json={"constraints": list(constraints)},
        )

    async def activate(self, promotion_id: str) -> None:
        await self._call("activate", values={"promotionId": promotion_id})

    async def deactivate(self, promotion_id: str) -> None:
        await self._call("deactivate", values={"promotionId": promotion_id})

    async def archive(self, promotion_id: str) -> None:
        """Final: an archived promotion can only be duplicated."""
        await self._call("archive", values={"promotionId": promotion_id})

    async def duplicate(self, promotion_id: str, *, new_id_: str | None = None) -> Promotion:
        original = await self.get_promotion(promotion_id)
        chosen = new_id_ or new_id(original.name or promotion_id, "promotion")
        try:
            await self._call(
                "duplicate", values={"promotionId": promotion_id}, json={"promotionId": chosen}
            )
        except ConflictError as conflict:
            try:
                return await self.get_promotion(chosen)  # an earlier try made it
            except NotFoundError:
                raise conflict from None
        return await self.get_promotion(chosen)

    async def validate_promotion(
        self,
        promotion_id: str,
        contexts: Sequence[dict[str, Any]],
        campaign_data: dict[str, Any] | None = None,
    ) -> Validation:
        body: dict[str, Any] = {"contexts": list(contexts), "campaignData": campaign_data or {}}
        return await self._get(
            "validate_promotion", Validation, values={"promotionId": promotion_id}, json=body
        )

    async def promotion_transaction(self, commands: Sequence[dict[str, Any]]) -> Any:
        """Several commands applied all or nothing. Not retried: it carries no id."""
        response = await self._call("promotion_transaction", json={"commands": list(commands)})
        return self._json(response, "promotion transaction") if response.content else None

    # -- promocodes -----------------------------------------------------------------------------

    async def create_promocode(
        self,
        *,
        type_: str,
        promotion_id: str | None = None,
        code: str | None = None,
        default_code: str | None = None,
        allocation_method: str | None = None,
        promocode_id: str | None = None,
    ) -> Promocode:
        """`type_` 'global' (one shared `code`) or 'unique' (codes from uploaded files, falling
        back to `default_code`); with `promotion_id` it is created already assigned."""
        if type_ not in ("global", "unique"):
            raise ValueError("type_ must be 'global' or 'unique'")
        if type_ == "global" and not code:
            raise ValueError("a global promocode needs its code")
        chosen = promocode_id or new_id(code or promotion_id or "promocode", "promocode")
        body: dict[str, Any] = {"promocodeId": chosen, "type": type_}
        for key, value in (
            ("promotionId", promotion_id),
            ("code", code),
            ("defaultCode", default_code),
            ("allocationMethod", allocation_method),
        ):
            if value is not None:
                body[key] = value
        try:
            await self._call("create_promocode", json=body)
        except ConflictError as conflict:
            try:
                existing = await self.get_promocode(chosen)
            except NotFoundError:
                raise conflict from None  # e.g. the global code is taken by another promocode
            if existing.type != type_ or (code and existing.code != code):
                raise
            return existing
        return await self.get_promocode(chosen)

    async def get_promocode(self, promocode_id: str) -> Promocode:
        return await self._get("get_promocode", Promocode, values={"promocodeId": promocode_id})

    async def assign(self, promocode_id: str, promotion_id: str) -> None:
        await self._call(
            "assign", values={"promocodeId": promocode_id}, json={"promotionId": promotion_id}
        )

    async def unassign(self, promocode_id: str) -> None:
        await self._call("unassign", values={"promocodeId": promocode_id})

    async def hide(self, promocode_id: str) -> None:
        await self._call("hide", values={"promocodeId": promocode_id})

    async def show(self, promocode_id: str) -> None:
        await self._call("show", values={"promocodeId": promocode_id})

    async def link_campaign(self, promocode_id: str, campaign_id: str) -> None:
        await self._call(
            "link_campaign", values={"promocodeId": promocode_id}, json={"campaignId": campaign_id}
        )

    async def unlink_campaign(self, promocode_id: str, campaign_id: str) -> None:
        await self._call(
            "unlink_campaign",
            values={"promocodeId": promocode_id},
            json={"campaignId": campaign_id},
        )

    async def validate_customers(
        self,
        promocode_id: str,
        contexts: Sequence[dict[str, Any]],
        campaign_data: dict[str, Any] | None = None,
    ) -> Validation:
        body: dict[str, Any] = {"contexts": list(contexts), "campaignData": campaign_data or {}}
        return await self._get(
            "validate_customers", Validation, values={"promocodeId": promocode_id}, json=body
        )

    async def promocode_transaction(self, commands: Sequence[dict[str, Any]]) -> Any:
        response = await self._call("promocode_transaction", json={"commands": list(commands)})
        return self._json(response, "promocode transaction") if response.content else None

    async def list_files(self, promocode_id: str) -> list[CodeFile]:
        return await self._get_list(
            "list_files", CodeFile, values={"promocodeId": promocode_id}, key="files"
        )

    async def upload_code_file(
        self,
        promocode_id: str,
        content: bytes,
        file_name: str,
        *,
        progress: ProgressFn = ignore_progress,
    ) -> CodeFile:
        """Add a unique-code file (one code per line, no header, at most 10 MB) to the pool."""
        if len(content) > MAX_CODE_FILE_BYTES:
            raise VendorValidationError(
                VENDOR,
                f"{file_name} is {len(content) / 1e6:.1f} MB; Optimove takes unique-code files "
                "of at most 10 MB: split it",
                operation="upload code file",
            )
        progress(Progress(0, len(content), f"Uploading {file_name}"))
        slot = await self._get(
            "upload_url",
            UploadSlot,
            values={"promocodeId": promocode_id},
            params={"fileName": file_name},
        )
        # 409: this slot was filled by an earlier try whose answer was lost.
        with contextlib.suppress(ConflictError):
            await self.http.request(
                "PUT",
                slot.upload_url,
                operation="upload code file",
                idempotent=True,
                content=content,
                headers={"Content-Type": "text/csv"},
            )
        progress(Progress(len(content), len(content), f"Uploaded {file_name}"))
        for item in await self.list_files(promocode_id):
            if item.file_id == slot.file_id:
                return item
        raise ConflictError(
            VENDOR, f"{file_name} was sent but is not listed", operation="upload code file"
        )

    async def export_allocations(
        self,
        promocode_id: str,
        target: Path,
        *,
        file_id: str | None = None,
        progress: ProgressFn = ignore_progress,
        cancel: CancelToken | None = None,
    ) -> int:
        """Stream the allocation export (the nine columns) to `target`; returns its rows.

        Written under a temporary name beside the target and moved into place when complete:
        a failed or cancelled export leaves whatever was at `target` as it was.
        """
        token = cancel or CancelToken()
        target = Path(target)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
        rows = 0
        try:
            with os.fdopen(handle, "wb") as out:
                endpoint = ENDPOINTS["export_allocations"]
                async with self.http.stream(
                    "GET",
                    endpoint.url(promocodeId=promocode_id),
                    operation="export allocations",
                    params={"fileId": file_id} if file_id else None,
                ) as response:
                    total = int(response.headers.get("content-length") or 0)
                    received = 0
                    first_line = b""
                    async for chunk in response.aiter_bytes(1 << 16):
                        token.raise_if_cancelled()
                        if not first_line:
                            first_line = chunk.split(b"\n", 1)[0]
                        out.write(chunk)
                        received += len(chunk)
                        rows += chunk.count(b"\n")
                        progress(Progress(received, total, "Downloading allocations"))
            header = [
                cell.strip()
                for cell in first_line.decode("utf-8-sig", "replace").strip().split(",")
            ]
            if header != list(ALLOCATION_COLUMNS):
                raise MalformedResponseError(
                    VENDOR,
                    f"the export's columns are not the nine expected ({', '.join(header[:12])})",
                    operation="export allocations",
                )
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)  # noqa: ASYNC240 - one local temp file
            if token.cancelled:
                raise JobCancelled() from None
            raise
        return max(0, rows - 1)

    # -- legacy function-style API ----------------------------------------------------------------

    async def _legacy_list(self, name: str, model: type[M], params: dict[str, str]) -> list[M]:
        return await self._get_list(name, model, params=params)

    async def get_promo_codes(self, date: str) -> list[LegacyPromoCode]:
        return await self._legacy_list("get_promo_codes", LegacyPromoCode, {"Date": date})

    async def get_promo_codes_by_campaign(self, campaign_id: int) -> list[LegacyPromoCode]:
        return await self._legacy_list(
            "get_promo_codes_by_campaign", LegacyPromoCode, {"CampaignID": str(campaign_id)}
        )

    async def get_promo_codes_by_target_group(
        self, target_group_id: int, date: str
    ) -> list[LegacyPromoCode]:
        return await self._legacy_list(
            "get_promo_codes_by_target_group",
            LegacyPromoCode,
            {"TargetGroupID": str(target_group_id), "Date": date},
        )

    async def get_promotions(self) -> list[LegacyPromotion]:
        return await self._legacy_list("get_promotions", LegacyPromotion, {})

    async def add_promotions(self, promotions: Sequence[tuple[str, str]]) -> int:
        """(promo code, promotion name) pairs, sent 100 at a time; returns the calls made."""
        calls = 0
        for start in range(0, len(promotions), LEGACY_BATCH):
            batch = [
                {"PromoCode": code, "PromotionName": name}
                for code, name in promotions[start : start + LEGACY_BATCH]
            ]
            await self._call("add_promotions", json=batch)
            calls += 1
        return calls

    async def delete_promotions(self, promo_codes: Sequence[str]) -> int:
        calls = 0
        for start in range(0, len(promo_codes), LEGACY_BATCH):
            await self._call(
                "delete_promotions",
                json=[{"PromoCode": code} for code in promo_codes[start : start + LEGACY_BATCH]],
            )
            calls += 1
        return calls
