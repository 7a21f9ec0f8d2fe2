"""Optimove OptiPromo (and the legacy function-style API): one method per operation.

Creates carry an id chosen here (a slug and a random suffix), so that a create whose answer
was lost can be sent again safely: the second try gets 409, and the client fetches what the
first one made. A promocode is made in two steps (create, then a transaction that sets its
type and codes); `create_promocode` does both and, run again with the same id, finishes what
an interrupted run left.

The OptiPromo host and the legacy host share one rate limiter: Optimove counts 50 requests per
10 s per API key, whichever host they go to.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from promodesk.atomic import atomic_path
from promodesk.domain.jobs import CancelToken, JobCancelled, Progress, ProgressFn, ignore_progress
from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.vendors.errors import (
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    VendorError,
    VendorValidationError,
    outcome_unknown,
)
from promodesk.vendors.http import (
    PROBE_TIMEOUT,
    OriginAuth,
    RateLimit,
    SlidingWindowLimiter,
    VendorHttp,
    validate,
)
from promodesk.vendors.optimove.endpoints import (
    ENDPOINTS,
    LEGACY_BATCH,
    MAX_CODE_FILE_BYTES,
    PROMOCODE_COMMANDS,
    PROMOCODE_TYPES,
    PROMOTION_COMMANDS,
    Command,
)
from promodesk.vendors.optimove.endpoints import allocation_method as canonical_allocation_method
from promodesk.vendors.optimove.endpoints import legacy_base_url as normalised_legacy_url
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
# The export's header line is looked for in at most this many first bytes.
_HEADER_BYTES = 4096


def new_id(name: str, prefix: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:32] or prefix
    return f"{slug}-{uuid.uuid4().hex[:10]}"


def _as_response(response: httpx.Response) -> httpx.Response:
    return response


def _checked(table: Mapping[str, Command], commands: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Transaction commands checked against our contract before anything is sent."""
    if not commands:
        raise ValueError("a transaction needs at least one command")
    checked = []
    for number, command in enumerate(commands):
        kind = table.get(str(command.get("command")))
        if kind is None:
            raise ValueError(
                f"command {number}: {command.get('command')!r} is not one of {', '.join(table)}"
            )
        checked.append(kind.build(**{k: v for k, v in command.items() if k != "command"}))
    return checked


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
        """`legacy_base_url` may be typed with or without "/current" or "/v3.0" on it."""
        limiter = SlidingWindowLimiter(rate_limit)  # one per API key, for both hosts

        def make(url: str) -> VendorHttp:
            return VendorHttp(
                VENDOR,
                url,
                auth=OriginAuth(url, {"X-API-KEY": api_key}),
                headers={"Accept": "application/json"},
                secrets=(api_key,),
                transport=transport,
                limiter=limiter,
                **options,
            )

        http = make(base_url)
        legacy = None
        if legacy_base_url:
            legacy_url = normalised_legacy_url(legacy_base_url)
            if legacy_url != base_url.rstrip("/"):
                legacy = make(legacy_url)
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
        http = self.legacy_http if ENDPOINTS[name].legacy else self.http

        def parse(response: httpx.Response) -> M:
            return validate(
                model, http.json(response, operation), vendor=VENDOR, operation=operation
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
        http = self.legacy_http if ENDPOINTS[name].legacy else self.http

        def parse(response: httpx.Response) -> list[M]:
            data = http.json(response, operation) if response.content else []
            if isinstance(data, dict) and key:
                data = data.get(key, [])
            if not isinstance(data, list):
                raise MalformedResponseError(
                    VENDOR, f"expected a list in the answer to {operation}", operation=operation
                )
            return [validate(model, item, vendor=VENDOR, operation=operation) for item in data]

        result: list[M] = await self._call(name, values=values, parse=parse, **kwargs)
        return result

    async def _answer(self, name: str, values: dict[str, str], **kwargs: Any) -> Any:
        """A write whose answer, if any, is JSON."""
        operation = name.replace("_", " ")
        response = await self._call(name, values=values, **kwargs)
        return self.http.json(response, operation) if response.content.strip() else None

    async def ping(self, *, within: float = PROBE_TIMEOUT) -> None:
        """Test connection, one try within `within` seconds: a promotion id that cannot exist
        must come back as Optimove's 404 (JSON or empty), not a web page or another site."""
        operation = "test connection"
        response = await self.http.probe(
            "GET",
            ENDPOINTS["get_promotion"].url(promotionId=f"promodesk-ping-{uuid.uuid4().hex}"),
            operation=operation,
            within=within,
        )
        if response.status_code == 404:
            if not response.content.strip():
                return
            try:
                if isinstance(self.http.json(response, operation), dict):
                    return
            except MalformedResponseError:
                pass
        raise self.http.not_the_api(response, operation)

    # -- promotions -----------------------------------------------------------------------------

    async def create_promotion(
        self, name: str, code: str, *, description: str = "", promotion_id: str | None = None
    ) -> Promotion:
        """A draft promotion. `code` is the promotion's identifier in your own promotion
        system (Optimove's "Promotion Code")."""
        if not code.strip():
            raise ValueError("a promotion needs its code")
        chosen = promotion_id or new_id(name, "promotion")
        body = {"promotionId": chosen, "name": name, "code": code, "description": description}
        try:
            await self._call("create_promotion", json=body)
        except ConflictError as conflict:
            try:
                existing = await self.get_promotion(chosen)
            except NotFoundError:
                raise conflict from None  # refused for another reason
            if (existing.name, existing.code) != (name, code):  # someone else's promotion
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
        """Tiers in priority order, sent as the bare array the guide describes. Refused (409)
        once the promotion has ever been active."""
        await self._call("set_tiers", values={"promotionId": promotion_id}, json=list(tiers))

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

    async def duplicate(
        self, promotion_id: str, new_code: str, *, new_promotion_id: str | None = None
    ) -> Promotion:
        """A draft copy (metadata, tiers, constraints) under a new code ("same details and a
        new code"), with `new_promotion_id` or one chosen here."""
        if not new_code.strip():
            raise ValueError("the copy needs a new code")
        chosen = new_promotion_id or new_id(new_code, "promotion")
        try:
            await self._call(
                "duplicate",
                values={"promotionId": promotion_id},
                json={"promotionId": chosen, "code": new_code},
            )
        except ConflictError as conflict:
            try:
                existing = await self.get_promotion(chosen)  # an earlier try made it?
            except NotFoundError:
                raise conflict from None
            if existing.code != new_code:
                raise
            return existing
        return await self.get_promotion(chosen)

    async def validate_promotion(
        self,
        promo_code: str,
        contexts: Sequence[dict[str, Any]],
        campaign_data: dict[str, Any] | None = None,
    ) -> Validation:
        """Each customer against the promotion identified by its promo code: eligible or not,
        and the tier and reward it would get (`Validation.results`)."""
        body: dict[str, Any] = {"contexts": list(contexts), "campaignData": campaign_data or {}}
        return await self._get(
            "validate_promotion", Validation, values={"promoCode": promo_code}, json=body
        )

    async def promotion_transaction(
        self, promotion_id: str, commands: Sequence[Mapping[str, Any]]
    ) -> Any:
        """Several changes to one promotion, applied all or nothing. `commands` are
        `{"command": name, **fields}` per endpoints.PROMOTION_COMMANDS (checked before
        sending). Not repeated after an unknown outcome: look at the promotion first."""
        checked = _checked(PROMOTION_COMMANDS, commands)
        return await self._answer(
            "promotion_transaction", {"promotionId": promotion_id}, json={"commands": checked}
        )

    # -- promocodes -----------------------------------------------------------------------------

    async def create_promocode(
        self,
        *,
        promocode_type: str,
        promotion_id: str | None = None,
        code: str | None = None,
        default_code: str | None = None,
        allocation_method: str | None = None,
        promocode_id: str | None = None,
    ) -> Promocode:
        """A promocode, created (already assigned when `promotion_id` is given) and then set
        up by one transaction: `promocode_type` 'global' (one shared `code` customers type) or
        'unique' (codes from uploaded files, falling back to `default_code`, generated by
        Optimove when not given), `allocation_method` Consistent or Varying.

        Exactly once: the id is chosen here (or given), so a create whose answer was lost is
        found rather than made twice, and a run that stopped between the two steps is finished
        by running it again with the same `promocode_id`.
        """
        if promocode_type not in PROMOCODE_TYPES:
            raise ValueError("the promocode type must be 'global' or 'unique'")
        if promocode_type == "global" and not code:
            raise ValueError("a global promocode needs its code")
        if promocode_type == "unique" and code:
            raise ValueError("a unique promocode takes its codes from files, not a code")
        if promocode_type == "global" and default_code:
            raise ValueError("a default code is for unique promocodes")
        method = canonical_allocation_method(allocation_method) if allocation_method else None
        chosen = promocode_id or new_id("", "promocode")
        wanted = _Settings(promocode_type, code, default_code, method)
        body: dict[str, Any] = {} if promotion_id is None else {"json": promotion_id}  # the id
        try:
            await self._call("create_promocode", params={"promocodeId": chosen}, **body)
            current: Promocode | None = None  # just made: nothing set yet
        except ConflictError as conflict:
            try:
                current = await self.get_promocode(chosen)
            except NotFoundError:
                raise conflict from None
            if current.promotion_id != promotion_id:
                raise ConflictError(
                    VENDOR,
                    f"a promocode with id {chosen} already exists, for another promotion",
                    operation="create promocode",
                    status=409,
                ) from None
        return await self._set_up(chosen, wanted, current)

    async def _set_up(
        self, promocode_id: str, wanted: _Settings, current: Promocode | None
    ) -> Promocode:
        """Send the settings transaction until the promocode has them. The transaction is
        atomic, so a promocode either has no type yet (send it all) or all of one run's."""
        attempts = self.http.retry.attempts
        for attempt in range(attempts):
            if current is not None and current.type:
                if wanted.met_by(current):
                    return current
                raise ConflictError(
                    VENDOR,
                    f"a promocode with id {promocode_id} already exists with other settings",
                    operation="create promocode",
                    status=409,
                )
            try:
                await self.promocode_transaction(promocode_id, wanted.commands())
                return await self.get_promocode(promocode_id)
            except VendorError as error:
                if outcome_unknown(error) and attempt + 1 < attempts:
                    current = await self.get_promocode(promocode_id)  # did it land?
                    continue
                if isinstance(error, ConflictError | VendorValidationError):
                    raise type(error)(
                        VENDOR,
                        f"{error.vendor_message or 'its settings were refused'}; promocode "
                        f"{promocode_id} was created without them: create it again with this "
                        "promocode id to finish it",
                        operation="create promocode",
                        status=error.status,
                        vendor_message=error.vendor_message,
                        field_errors=error.field_errors,
                    ) from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

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

    async def promocode_transaction(
        self, promocode_id: str, commands: Sequence[Mapping[str, Any]]
    ) -> Any:
        """Several changes to one promocode, all or nothing; `commands` per
        endpoints.PROMOCODE_COMMANDS (checked before sending)."""
        checked = _checked(PROMOCODE_COMMANDS, commands)
        return await self._answer(
            "promocode_transaction", {"promocodeId": promocode_id}, json={"commands": checked}
        )

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

        Written through `atomic_path` (a temporary file beside the target, moved into place
        when complete): a failed or cancelled export leaves whatever was at `target` as it
        was. The download has the client's overall deadline and size cap.
        """
        token = cancel or CancelToken()
        operation = "export allocations"
        endpoint = ENDPOINTS["export_allocations"]
        rows = 0
        try:
            # Blocking writes of 64 KiB pieces to a local file: not worth a thread each.
            with atomic_path(Path(target)) as temp, open(temp, "wb") as out:  # noqa: ASYNC230
                async with self.http.stream(
                    "GET",
                    endpoint.url(promocodeId=promocode_id),
                    operation=operation,
                    params={"fileId": file_id} if file_id else None,
                ) as download:
                    compressed = bool(download.headers.get("content-encoding"))
                    total = 0 if compressed else int(download.headers.get("content-length") or 0)
                    received = 0
                    head = b""
                    async for chunk in download.chunks():
                        token.raise_if_cancelled()
                        if len(head) < _HEADER_BYTES and b"\n" not in head:
                            head += chunk[:_HEADER_BYTES]
                        out.write(chunk)
                        received += len(chunk)
                        rows += chunk.count(b"\n")
                        progress(Progress(received, total, "Downloading allocations"))
                _check_export_header(head)
        except BaseException:
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


def _check_export_header(head: bytes) -> None:
    first_line = head.split(b"\n", 1)[0]
    header = [cell.strip() for cell in first_line.decode("utf-8-sig", "replace").strip().split(",")]
    if header != list(ALLOCATION_COLUMNS):
        raise MalformedResponseError(
            VENDOR,
            f"the export's columns are not the nine expected ({', '.join(header[:12])[:300]})",
            operation="export allocations",
        )


class _Settings:
    """What `create_promocode` asks the promocode to be, as transaction commands."""

    def __init__(
        self,
        promocode_type: str,
        code: str | None,
        default_code: str | None,
        method: str | None,
    ) -> None:
        self.promocode_type = promocode_type
        self.code = code
        self.default_code = default_code
        self.method = method

    def commands(self) -> list[dict[str, Any]]:
        commands = [PROMOCODE_COMMANDS["setType"].build(type=self.promocode_type)]
        if self.code:
            commands.append(PROMOCODE_COMMANDS["setGlobalCode"].build(code=self.code))
        if self.default_code:
            commands.append(
                PROMOCODE_COMMANDS["setDefaultCode"].build(defaultCode=self.default_code)
            )
        if self.method:
            commands.append(
                PROMOCODE_COMMANDS["setAllocationMethod"].build(allocationMethod=self.method)
            )
        return commands

    def met_by(self, promocode: Promocode) -> bool:
        return (
            promocode.type == self.promocode_type
            and (self.code is None or promocode.code == self.code)
            and (self.default_code is None or promocode.default_code == self.default_code)
            and (
                self.method is None
                or (promocode.allocation_method or "").lower() == self.method.lower()
            )
        )
