"""A sandbox Optimove (OptiPromo + the legacy functions) that behaves like the real one.

Serves the contract in endpoints.py from in-memory state, with the documented rules: X-API-KEY
auth, 50 requests per 10 s per key, promotion states draft -> active <-> deactivated ->
archived (final), tiers locked once ever active, client-chosen ids (409 when taken), global
and unique promocodes with a code pool and a default code used when the pool runs dry,
Consistent vs Varying allocation, code files uploaded through an upload URL, and the
allocation export. A promocode is created blank (`POST /v1/promocodes?promocodeId=` with the
promotion id as a JSON string body) and set up by transaction commands. Every PATCH and its
transaction command go through the same rule; a transaction is tried on a copy and kept only
if every command passes. Sandbox-only routes under /_sandbox/ set faults and simulate
campaigns.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import dataclasses
import io
import json
import random
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.domain.vendors import Vendor
from promodesk.vendors.fake_support import (
    FakeVendor,
    FaultInjector,
    FaultPlan,
    SlidingWindow,
    json_bytes,
)
from promodesk.vendors.optimove.endpoints import (
    ENDPOINTS,
    LEGACY_BATCH,
    MAX_CODE_FILE_BYTES,
    PROMOCODE_COMMANDS,
    PROMOCODE_TYPES,
    PROMOTION_COMMANDS,
    Command,
    allocation_method,
)
from promodesk.vendors.registry import SANDBOX_CREDENTIALS

SANDBOX_API_KEY = SANDBOX_CREDENTIALS[Vendor.OPTIMOVE]["api_key"]
STATES = ("draft", "active", "deactivated", "archived")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_STATUS_NAMES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "status": status,
        "error": _STATUS_NAMES.get(status, "Error"),
        "message": message,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


def error_body(status: int) -> bytes:
    message = (
        "You have exceeded the rate limit for this API group. Please retry later."
        if status == 429
        else "The service is temporarily unavailable."
    )
    return json_bytes(
        {
            "status": status,
            "error": "Too Many Requests" if status == 429 else "Server Error",
            "message": message,
        }
    )


class Refused(Exception):
    """A rule says no: the status, the message and any field errors of the answer."""

    def __init__(
        self, status: int, message: str, errors: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    @classmethod
    def field(cls, name: str, message: str) -> Refused:
        return cls(400, "Validation failed", [{"field": name, "message": message}])

    def response(self, prefix: str = "") -> JSONResponse:
        return error(self.status, prefix + self.message, self.errors)


@dataclass
class CodeFileState:
    file_id: str
    file_name: str
    codes: list[str] = field(default_factory=list)
    allocated: int = 0
    uploaded_at: str = ""


@dataclass
class PromocodeState:
    promocode_id: str
    type: str | None = None  # set by the setType command; None while the promocode is blank
    promotion_id: str | None = None
    code: str | None = None  # the global code customers type (never the promocode id)
    default_code: str | None = None
    allocation_method: str | None = None  # "Consistent" | "Varying"; unique codes default to C.
    hidden: bool = False
    campaigns: list[str] = field(default_factory=list)
    files: dict[str, CodeFileState] = field(default_factory=dict)
    pool: list[tuple[str, str]] = field(default_factory=list)  # (code, file id), in upload order
    by_customer: dict[str, str] = field(default_factory=dict)  # Consistent: the customer's code
    allocations: list[dict[str, str]] = field(default_factory=list)

    @property
    def method(self) -> str:
        return self.allocation_method or "Consistent"

    def as_json(self) -> dict[str, Any]:
        allocated = sum(f.allocated for f in self.files.values())
        return {
            "promocodeId": self.promocode_id,
            "promotionId": self.promotion_id,
            "type": self.type,
            "code": self.code,
            "defaultCode": self.default_code,
            "allocationMethod": self.method if self.type == "unique" else self.allocation_method,
            "hidden": self.hidden,
            "campaigns": self.campaigns,
            "files": [file_json(f) for f in self.files.values()],
            "poolSize": sum(len(f.codes) for f in self.files.values()),
            "available": len(self.pool),
            "allocated": allocated,
        }


def file_json(item: CodeFileState) -> dict[str, Any]:
    return {
        "fileId": item.file_id,
        "fileName": item.file_name,
        "codes": len(item.codes),
        "allocated": item.allocated,
        "uploadedAt": item.uploaded_at,
    }


class OptimoveState:
    def __init__(self, *, seed: int = 7, demo: bool = True) -> None:
        self.promotions: dict[str, dict[str, Any]] = {}
        self.promocodes: dict[str, PromocodeState] = {}
        self.uploads: dict[str, tuple[str, str, str]] = {}  # token -> (promocode, file id, name)
        self.legacy_promotions: dict[str, str] = {}
        self.legacy_action_codes: list[dict[str, Any]] = []
        self.random = random.Random(seed)
        if demo:
            self._seed_demo()

    def _seed_demo(self) -> None:
        self.promotions["spring-welcome-2026"] = self.new_promotion(
            "spring-welcome-2026", "Spring welcome 2026", "SPRING26", "10% off the first order"
        )
        self.promotions["spring-welcome-2026"].update(state="active", everActive=True)
        code = PromocodeState(
            "pc-spring-welcome",
            "unique",
            "spring-welcome-2026",
            default_code="SPRING-FALLBACK",
            allocation_method="Consistent",
        )
        self.promocodes[code.promocode_id] = code
        self.add_file(code, "spring_batch1.csv", [f"SPRW-{n:06d}" for n in range(500)])
        self.promotions["welcome-global"] = self.new_promotion(
            "welcome-global", "Welcome (shared code)", "WELCOME"
        )
        self.promocodes["pc-welcome-2025"] = PromocodeState(
            "pc-welcome-2025", "global", "welcome-global", code="WELCOME2025"
        )
        self.legacy_promotions = {"SUMMER10": "Summer sale", "VIP20": "VIP weekend"}
        self.legacy_action_codes = [
            {
                "TargetGroupID": 11,
                "RecipientGroupID": 1,
                "ActionID": 42,
                "PromoCode": "SUMMER10",
                "Date": "2026-11-20",
                "CampaignID": 901,
            },
            {
                "TargetGroupID": 12,
                "RecipientGroupID": 2,
                "ActionID": 57,
                "PromoCode": "VIP20",
                "Date": "2026-11-20",
                "CampaignID": 902,
            },
        ]

    def new_promotion(
        self, promotion_id: str, name: str, code: str, description: str = ""
    ) -> dict[str, Any]:
        now = _now()
        return {
            "promotionId": promotion_id,
            "name": name,
            "code": code,
            "description": description,
            "state": "draft",
            "everActive": False,
            "promotionTiers": [],
            "properties": {},
            "publishingBudgets": {},
            "rewardConstraints": [],
            "createdAt": now,
            "updatedAt": now,
        }

    def add_file(self, promocode: PromocodeState, name: str, codes: list[str]) -> CodeFileState:
        item = CodeFileState(f"file-{uuid.uuid4().hex[:10]}", name, codes, 0, _now())
        promocode.files[item.file_id] = item
        promocode.pool.extend((code, item.file_id) for code in codes)
        return item

    def allocate(self, promocode: PromocodeState, customer: str, action_id: int) -> str:
        """Give a customer a code: a global code, a pooled unique one, or the default when
        the pool is dry (Consistent keeps the customer's first code)."""
        if promocode.type == "global":
            return promocode.code or ""
        if promocode.method == "Consistent" and customer in promocode.by_customer:
            return promocode.by_customer[customer]
        if promocode.pool:
            code, file_id = promocode.pool.pop(0)
            promocode.files[file_id].allocated += 1
            promocode.allocations.append(
                {
                    "customerId": customer,
                    "promocodeId": promocode.promocode_id,
                    "promotionId": promocode.promotion_id or "",
                    "fileId": file_id,
                    "uniqueCode": code,
                    "timestamp": _now(),
                    "occurenceId": str(self.random.randrange(10**5, 10**6)),
                    "seriesId": str(self.random.randrange(1000, 9999)),
                    "actionId": str(action_id),
                }
            )
        else:
            code = promocode.default_code or ""
        promocode.by_customer[customer] = code
        return code

    def promotion_for_code(self, promo_code: str) -> dict[str, Any] | None:
        """The promotion a promo code identifies: the promotion whose code it is, else the
        promotion of the global promocode customers type it for."""
        for promotion in self.promotions.values():
            if promotion["code"] == promo_code and promotion["state"] != "archived":
                return promotion
        for promocode in self.promocodes.values():
            if promocode.type == "global" and promocode.code == promo_code:
                return self.promotions.get(promocode.promotion_id or "")
        return None


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Refused.field(name, "must be a non-empty text")
    return value


class FakeOptimove(FakeVendor):
    def __init__(
        self,
        *,
        api_key: str = SANDBOX_API_KEY,
        rate_limit: tuple[int, float] | None = (50, 10.0),
        faults: FaultPlan | None = None,
        demo: bool = True,
    ) -> None:
        self.api_key = api_key
        self.state = OptimoveState(demo=demo)
        self.limit = SlidingWindow(*rate_limit) if rate_limit else None
        self.faults = faults or FaultPlan()
        self.lock = asyncio.Lock()
        routes = [
            # A promo code in a path may hold "/" (sent as %2F, decoded before routing).
            Route(
                endpoint.path.replace("{promoCode}", "{promoCode:path}"),
                self._handler(endpoint.name),
                methods=[endpoint.method],
            )
            for endpoint in ENDPOINTS.values()
        ]
        routes += [
            Route("/_upload/{token}", self.upload, methods=["PUT"]),
            *self.sandbox_routes(),
            Route(
                "/_sandbox/promocodes/{promocodeId}/allocate",
                self.sandbox_allocate,
                methods=["POST"],
            ),
        ]
        self.app = FaultInjector(Starlette(routes=routes), self.faults, error_body=error_body)

    def _handler(self, name: str) -> Any:
        method = getattr(self, f"op_{name}")

        async def handle(request: Request) -> Response:
            refused = self._check(request)
            if refused is not None:
                return refused
            async with self.lock:
                try:
                    answer: Response = await method(request)
                except Refused as refusal:
                    return refusal.response()
                return answer

        return handle

    def _check(self, request: Request) -> Response | None:
        key = request.headers.get("x-api-key", "")
        if key != self.api_key:
            return error(401, "Missing or invalid API key")
        if self.limit is not None and self.limit.hit(key) is not None:
            return error(
                429, "You have exceeded the rate limit for this API group. Please retry later."
            )
        return None

    async def _body(self, request: Request) -> Any:
        try:
            return await request.json()
        except ValueError:
            return None

    async def _object(self, request: Request) -> dict[str, Any]:
        body = await self._body(request)
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise Refused.field("body", "must be a JSON object")
        return body

    def _promotion(self, request: Request) -> dict[str, Any]:
        promotion = self.state.promotions.get(request.path_params["promotionId"])
        if promotion is None:
            raise Refused(404, "Promotion not found")
        return promotion

    def _promocode(self, request: Request) -> PromocodeState:
        promocode = self.state.promocodes.get(request.path_params["promocodeId"])
        if promocode is None:
            raise Refused(404, "Promocode not found")
        return promocode

    # -- promotion rules (one per command; the PATCHes use them too) --------------------------

    def _apply_to_promotion(
        self, promotion: dict[str, Any], name: str, fields: Mapping[str, Any]
    ) -> None:
        """Check one change against the rules, then make it (nothing changes if refused)."""
        if promotion["state"] == "archived":
            if name == "activate":
                raise Refused(409, "An archived promotion cannot be activated; duplicate it")
            raise Refused(409, "An archived promotion cannot be changed")
        changes: dict[str, Any]
        if name == "setMetadata":
            changes = {k: _text(fields, k) for k in ("name", "description") if k in fields}
            if "description" in fields and fields["description"] == "":
                changes["description"] = ""
        elif name == "setProperties":
            if promotion["state"] not in ("draft", "deactivated"):
                raise Refused(
                    409,
                    "Properties can be set in draft or deactivated state, "
                    f"not {promotion['state']}",
                )
            if not isinstance(fields.get("properties"), dict):
                raise Refused.field("properties", "must be an object")
            changes = {"properties": dict(fields["properties"])}
        elif name == "setPromotionTiers":
            if promotion["everActive"]:
                raise Refused(409, "Tiers cannot be changed once the promotion has been active")
            changes = {"promotionTiers": _checked_tiers(fields.get("promotionTiers"))}
        elif name == "setPublishingBudgets":
            changes = {
                "publishingBudgets": {
                    key: fields[key] for key in ("audienceCap", "rewardBudget") if key in fields
                }
            }
        elif name == "setRewardConstraints":
            if not isinstance(fields.get("constraints"), list):
                raise Refused.field("constraints", "must be a list")
            changes = {"rewardConstraints": list(fields["constraints"])}
        elif name == "activate":
            changes = {"state": "active", "everActive": True}
        elif name == "deactivate":
            if promotion["state"] != "active":
                raise Refused(
                    409, f"Only an active promotion can be deactivated (it is {promotion['state']})"
                )
            changes = {"state": "deactivated"}
        else:  # pragma: no cover - commands are checked against the table first
            raise Refused(400, f"Unknown command {name}")
        promotion.update(changes, updatedAt=_now())

    async def _patch_promotion(self, request: Request, name: str, fields: Any) -> Response:
        self._apply_to_promotion(self._promotion(request), name, fields)
        return Response(status_code=204)

    # -- promotions -------------------------------------------------------------------------

    async def op_create_promotion(self, request: Request) -> Response:
        body = await self._object(request)
        name, code = _text(body, "name"), _text(body, "code")
        promotion_id = str(body.get("promotionId") or f"promotion-{uuid.uuid4().hex[:12]}")
        if promotion_id in self.state.promotions:
            return error(409, f"A promotion with id {promotion_id} already exists")
        self.state.promotions[promotion_id] = self.state.new_promotion(
            promotion_id, name, code, str(body.get("description") or "")
        )
        return JSONResponse({"promotionId": promotion_id}, status_code=201)

    async def op_get_promotion(self, request: Request) -> Response:
        return JSONResponse(self._promotion(request))

    async def op_set_metadata(self, request: Request) -> Response:
        return await self._patch_promotion(request, "setMetadata", await self._object(request))

    async def op_set_properties(self, request: Request) -> Response:
        return await self._patch_promotion(request, "setProperties", await self._object(request))

    async def op_set_tiers(self, request: Request) -> Response:
        body = await self._body(request)
        # The tiers array itself (the guide), or wrapped as {promotionTiers: [...]}.
        tiers = body.get("promotionTiers") if isinstance(body, dict) else body
        return await self._patch_promotion(request, "setPromotionTiers", {"promotionTiers": tiers})

    async def op_set_budgets(self, request: Request) -> Response:
        return await self._patch_promotion(
            request, "setPublishingBudgets", await self._object(request)
        )

    async def op_set_constraints(self, request: Request) -> Response:
        return await self._patch_promotion(
            request, "setRewardConstraints", await self._object(request)
        )

    async def op_activate(self, request: Request) -> Response:
        return await self._patch_promotion(request, "activate", {})

    async def op_deactivate(self, request: Request) -> Response:
        return await self._patch_promotion(request, "deactivate", {})

    async def op_archive(self, request: Request) -> Response:
        found = self._promotion(request)
        found.update(state="archived", updatedAt=_now())
        return Response(status_code=204)

    async def op_duplicate(self, request: Request) -> Response:
        found = self._promotion(request)
        body = await self._object(request)
        code = _text(body, "code")
        if code == found["code"]:
            raise Refused.field("code", "the copy needs a new code")
        new_id = str(body.get("promotionId") or f"promotion-{uuid.uuid4().hex[:12]}")
        if new_id in self.state.promotions:
            return error(409, f"A promotion with id {new_id} already exists")
        duplicate = self.state.new_promotion(new_id, found["name"], code, found["description"])
        duplicate.update(
            promotionTiers=copy.deepcopy(found["promotionTiers"]),
            rewardConstraints=copy.deepcopy(found["rewardConstraints"]),
            properties=copy.deepcopy(found["properties"]),
        )
        self.state.promotions[new_id] = duplicate
        return JSONResponse({"promotionId": new_id}, status_code=201)

    def _effects(self, promotion: dict[str, Any] | None) -> list[dict[str, Any]]:
        tiers = promotion["promotionTiers"] if promotion else []
        if not tiers:
            return [{"tierId": None, "tier": None, "reward": "default"}]
        first = tiers[0]
        return [
            {
                "tierId": first.get("id"),
                "tier": {"id": first.get("id"), "name": first.get("name")},
                "reward": first.get("benefits") or first.get("reward"),
            }
        ]

    async def _eligibility(
        self,
        request: Request,
        subject: dict[str, Any],
        promotion: dict[str, Any] | None,
        eligible: bool,
        key: str,
    ) -> Response:
        """The answer of both validate calls: each customer, eligible or not, with what it
        gets, under `key` ("contexts", or "customers" in the reference's newer wording)."""
        body = await self._object(request)
        contexts = body.get("contexts")
        if not isinstance(contexts, list) or not all(isinstance(c, dict) for c in contexts):
            raise Refused.field("contexts", "must be a list of objects")
        effects = self._effects(promotion) if eligible else []
        return JSONResponse(
            {
                **subject,
                key: [
                    {
                        "customerId": str(item.get("customerId")),
                        "eligible": eligible,
                        "effects": effects,
                    }
                    for item in contexts
                ],
            }
        )

    async def op_validate_promotion(self, request: Request) -> Response:
        found = self.state.promotion_for_code(request.path_params["promoCode"])
        if found is None:
            raise Refused(404, "No promotion has this promo code")
        eligible = found["state"] == "active"
        return await self._eligibility(
            request, {"promotionId": found["promotionId"]}, found, eligible, "contexts"
        )

    async def _commands(
        self, request: Request, table: Mapping[str, Command]
    ) -> list[tuple[str, dict[str, Any]]]:
        """A transaction's commands, each checked against its shape."""
        commands = (await self._object(request)).get("commands")
        if not isinstance(commands, list) or not commands:
            raise Refused.field("commands", "must be a non-empty list")
        checked = []
        for number, command in enumerate(commands):
            kind = table.get(str(command.get("command"))) if isinstance(command, dict) else None
            if kind is None:
                raise Refused.field(f"commands[{number}]", f"must be one of {', '.join(table)}")
            assert isinstance(command, dict)  # a known command is an object
            problems = kind.problems(command)
            if problems:
                raise Refused.field(f"commands[{number}]", "; ".join(problems))
            checked.append((kind.name, {k: v for k, v in command.items() if k != "command"}))
        return checked

    async def op_promotion_transaction(self, request: Request) -> Response:
        found = self._promotion(request)
        commands = await self._commands(request, PROMOTION_COMMANDS)
        trial = copy.deepcopy(found)  # all or nothing: tried on a copy, kept if all pass
        for number, (name, fields) in enumerate(commands):
            try:
                self._apply_to_promotion(trial, name, fields)
            except Refused as refusal:
                return refusal.response(f"command {number} ({name}), nothing was applied: ")
        self.state.promotions[found["promotionId"]] = trial
        return JSONResponse({"applied": len(commands)})

    # -- promocode rules ------------------------------------------------------------------------

    def _apply_to_promocode(
        self, promocode: PromocodeState, name: str, fields: Mapping[str, Any]
    ) -> None:
        if name == "setType":
            kind = fields.get("type")
            if kind not in PROMOCODE_TYPES:
                raise Refused.field("type", "must be global or unique")
            if kind != promocode.type and (promocode.files or promocode.allocations):
                raise Refused(409, "The type cannot change once codes are uploaded or given out")
            if kind != promocode.type:
                promocode.code = None if kind == "unique" else promocode.code
                promocode.default_code = None if kind == "global" else promocode.default_code
            promocode.type = kind
        elif name == "setGlobalCode":
            code = _text(fields, "code")
            if promocode.type != "global":
                raise Refused(409, "Only a global promocode has a global code")
            if any(
                other.code == code and other.type == "global"
                for other in self.state.promocodes.values()
                if other.promocode_id != promocode.promocode_id
            ):
                raise Refused(409, f"The code {code} is already used")
            promocode.code = code
        elif name == "setDefaultCode":
            code = _text(fields, "defaultCode")
            if promocode.type != "unique":
                raise Refused(409, "Only a unique promocode has a default code")
            promocode.default_code = code
        elif name == "setAllocationMethod":
            try:
                promocode.allocation_method = allocation_method(str(fields["allocationMethod"]))
            except ValueError as problem:
                raise Refused.field("allocationMethod", str(problem)) from None
        elif name == "assign":
            promotion = self.state.promotions.get(str(fields.get("promotionId") or ""))
            if promotion is None:
                raise Refused(404, "Promotion not found")
            if promotion["state"] == "archived":
                raise Refused(409, "An archived promotion cannot get promocodes")
            promocode.promotion_id = promotion["promotionId"]
        elif name == "unassign":
            promocode.promotion_id = None
        elif name in ("hide", "show"):
            promocode.hidden = name == "hide"
        elif name in ("linkCampaign", "unlinkCampaign"):
            campaign = str(fields.get("campaignId") or "")
            if not campaign:
                raise Refused.field("campaignId", "is required")
            if name == "linkCampaign" and campaign not in promocode.campaigns:
                promocode.campaigns.append(campaign)
            if name == "unlinkCampaign" and campaign in promocode.campaigns:
                promocode.campaigns.remove(campaign)
        else:  # pragma: no cover - commands are checked against the table first
            raise Refused(400, f"Unknown command {name}")

    def _complete(self, promocode: PromocodeState) -> None:
        """What must hold once a change is done: a global promocode has its code; a unique
        one gets a default code generated when none was given."""
        if promocode.type == "global" and not promocode.code:
            raise Refused(400, "A global promocode needs its code (setGlobalCode)")
        if promocode.type == "unique" and not promocode.default_code:
            promocode.default_code = f"DEFAULT-{uuid.uuid4().hex[:8].upper()}"

    async def _patch_promocode(self, request: Request, name: str, fields: Any) -> Response:
        self._apply_to_promocode(self._promocode(request), name, fields)
        return Response(status_code=204)

    # -- promocodes -----------------------------------------------------------------------------

    async def op_create_promocode(self, request: Request) -> Response:
        raw = await request.body()
        promotion_id: str | None = None
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body = ...
            if body is not None and (not isinstance(body, str) or not body):
                raise Refused.field("body", "must be the promotion id as a JSON string")
            promotion_id = body
        promocode_id = request.query_params.get("promocodeId") or (
            f"promocode-{uuid.uuid4().hex[:12]}"
        )
        if promocode_id in self.state.promocodes:
            return error(409, f"A promocode with id {promocode_id} already exists")
        if promotion_id is not None:
            promotion = self.state.promotions.get(promotion_id)
            if promotion is None:
                return error(404, "Promotion not found")
            if promotion["state"] == "archived":
                return error(409, "An archived promotion cannot get promocodes")
        self.state.promocodes[promocode_id] = PromocodeState(promocode_id, None, promotion_id)
        return JSONResponse({"promocodeId": promocode_id}, status_code=201)

    async def op_get_promocode(self, request: Request) -> Response:
        return JSONResponse(self._promocode(request).as_json())

    async def op_assign(self, request: Request) -> Response:
        return await self._patch_promocode(request, "assign", await self._object(request))

    async def op_unassign(self, request: Request) -> Response:
        return await self._patch_promocode(request, "unassign", {})

    async def op_hide(self, request: Request) -> Response:
        return await self._patch_promocode(request, "hide", {})

    async def op_show(self, request: Request) -> Response:
        return await self._patch_promocode(request, "show", {})

    async def op_link_campaign(self, request: Request) -> Response:
        return await self._patch_promocode(request, "linkCampaign", await self._object(request))

    async def op_unlink_campaign(self, request: Request) -> Response:
        return await self._patch_promocode(request, "unlinkCampaign", await self._object(request))

    async def op_validate_customers(self, request: Request) -> Response:
        found = self._promocode(request)
        promotion = self.state.promotions.get(found.promotion_id or "")
        eligible = (
            promotion is not None
            and promotion["state"] == "active"
            and not found.hidden
            and found.type is not None
        )
        return await self._eligibility(
            request, {"promocodeId": found.promocode_id}, promotion, eligible, "customers"
        )

    async def op_promocode_transaction(self, request: Request) -> Response:
        found = self._promocode(request)
        commands = await self._commands(request, PROMOCODE_COMMANDS)
        # All or nothing: tried on a copy (commands never touch the files or the pool).
        trial = dataclasses.replace(found, campaigns=list(found.campaigns))
        for number, (name, fields) in enumerate(commands):
            try:
                self._apply_to_promocode(trial, name, fields)
            except Refused as refusal:
                return refusal.response(f"command {number} ({name}), nothing was applied: ")
        try:
            self._complete(trial)
        except Refused as refusal:
            return refusal.response("nothing was applied: ")
        self.state.promocodes[found.promocode_id] = trial
        return JSONResponse({"applied": len(commands)})

    async def op_upload_url(self, request: Request) -> Response:
        found = self._promocode(request)
        if found.type != "unique":
            return error(409, "Only unique promocodes take code files")
        name = request.query_params.get("fileName") or "codes.csv"
        token = uuid.uuid4().hex
        file_id = f"file-{uuid.uuid4().hex[:10]}"
        self.state.uploads[token] = (found.promocode_id, file_id, name)
        # Absolute, like a signed storage URL; under the sandbox's mount prefix when mounted.
        base = f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"
        return JSONResponse({"fileId": file_id, "uploadUrl": f"{base}/_upload/{token}"})

    async def upload(self, request: Request) -> Response:
        # The "signed URL": no API key, the token is the permission.
        token = request.path_params["token"]
        async with self.lock:
            slot = self.state.uploads.get(token)
            if slot is None:
                return error(404, "Unknown or expired upload URL")
            promocode_id, file_id, name = slot
            promocode = self.state.promocodes[promocode_id]
            if file_id in promocode.files:
                return error(409, "This upload URL was already used")
            content = await request.body()
            if len(content) > MAX_CODE_FILE_BYTES:
                return error(400, "A unique-code file can be at most 10 MB")
            try:
                text = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                return error(400, "The file is not UTF-8 text")
            codes = [line.strip() for line in text.splitlines() if line.strip()]
            if any("," in code for code in codes):
                return error(400, "A unique-code file has one column")
            known = {
                code
                for p in self.state.promocodes.values()
                for f in p.files.values()
                for code in f.codes
            }
            if len(set(codes)) != len(codes) or known & set(codes):
                return error(400, "The file repeats codes (within itself or already uploaded)")
            item = CodeFileState(file_id, name, codes, 0, _now())
            promocode.files[file_id] = item
            promocode.pool.extend((code, file_id) for code in codes)
            return Response(status_code=200)

    async def op_list_files(self, request: Request) -> Response:
        found = self._promocode(request)
        return JSONResponse([file_json(item) for item in found.files.values()])

    async def op_export_allocations(self, request: Request) -> Response:
        found = self._promocode(request)
        file_id = request.query_params.get("fileId")
        rows = [row for row in found.allocations if not file_id or row["fileId"] == file_id]

        async def lines() -> AsyncIterator[bytes]:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(ALLOCATION_COLUMNS)
            for number, row in enumerate(rows):
                writer.writerow([row[name] for name in ALLOCATION_COLUMNS])
                if number % 1000 == 999:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode()

        return StreamingResponse(lines(), media_type="text/csv")

    # -- legacy ---------------------------------------------------------------------------------

    async def op_get_promo_codes(self, request: Request) -> Response:
        date = request.query_params.get("Date")
        if not date:
            return error(400, "Date is required")
        return JSONResponse(
            [
                {k: row[k] for k in ("TargetGroupID", "RecipientGroupID", "ActionID", "PromoCode")}
                for row in self.state.legacy_action_codes
                if row["Date"] == date
            ]
        )

    async def op_get_promo_codes_by_campaign(self, request: Request) -> Response:
        campaign = request.query_params.get("CampaignID", "")
        return JSONResponse(
            [
                {k: row[k] for k in ("RecipientGroupID", "ActionID", "PromoCode")}
                for row in self.state.legacy_action_codes
                if str(row["CampaignID"]) == campaign
            ]
        )

    async def op_get_promo_codes_by_target_group(self, request: Request) -> Response:
        group = request.query_params.get("TargetGroupID", "")
        date = request.query_params.get("Date", "")
        return JSONResponse(
            [
                {k: row[k] for k in ("RecipientGroupID", "ActionID", "PromoCode")}
                for row in self.state.legacy_action_codes
                if str(row["TargetGroupID"]) == group and row["Date"] == date
            ]
        )

    async def op_get_promotions(self, request: Request) -> Response:
        return JSONResponse(
            [
                {"PromoCode": code, "PromotionName": name}
                for code, name in self.state.legacy_promotions.items()
            ]
        )

    async def op_add_promotions(self, request: Request) -> Response:
        items = await self._body(request)
        if not isinstance(items, list) or len(items) > LEGACY_BATCH:
            return error(400, f"Send a list of at most {LEGACY_BATCH} promotions")
        for item in items:
            self.state.legacy_promotions[str(item["PromoCode"])] = str(
                item.get("PromotionName") or ""
            )
        return Response(status_code=200)

    async def op_delete_promotions(self, request: Request) -> Response:
        items = await self._body(request)
        if not isinstance(items, list) or len(items) > LEGACY_BATCH:
            return error(400, f"Send a list of at most {LEGACY_BATCH} promo codes")
        for item in items:
            self.state.legacy_promotions.pop(str(item.get("PromoCode")), None)
        return Response(status_code=200)

    # -- sandbox-only ---------------------------------------------------------------------------

    async def sandbox_state(self, request: Request) -> Response:
        return JSONResponse(
            {
                "promotions": self.state.promotions,
                "promocodes": {
                    key: value.as_json() for key, value in self.state.promocodes.items()
                },
                "faults_injected": dict(self.faults.injected),
            }
        )

    async def sandbox_reset(self, request: Request) -> Response:
        body = await self._body(request) or {}
        async with self.lock:
            self.state = OptimoveState(demo=bool(body.get("demo", True)))
        return Response(status_code=204)

    async def sandbox_allocate(self, request: Request) -> Response:
        """Simulate campaigns handing out codes: `{"customers": [...]}` or `{"count": n}`."""
        async with self.lock:
            try:
                found = self._promocode(request)
            except Refused as refusal:
                return refusal.response()
            if found.type is None:
                return error(409, "The promocode has no type yet")
            body = await self._body(request) or {}
            customers = [str(c) for c in body.get("customers") or []]
            if not customers:
                customers = [
                    f"{self.state.random.randrange(10**7, 10**8)}"
                    for _ in range(int(body.get("count", 10)))
                ]
            action = int(body.get("actionId", 42))
            codes = [self.state.allocate(found, customer, action) for customer in customers]
            return JSONResponse({"allocated": dict(zip(customers, codes, strict=True))})


def _checked_tiers(tiers: Any) -> list[Any]:
    """Tiers in priority order; each tier's condition tree is a list of branches whose
    `parent` must be a lower index."""
    if not isinstance(tiers, list) or not all(isinstance(tier, dict) for tier in tiers):
        raise Refused.field("promotionTiers", "must be a list of tiers")
    for position, tier in enumerate(tiers):
        conditions = tier.get("conditions") or []
        if not isinstance(conditions, list):
            raise Refused.field(f"promotionTiers[{position}].conditions", "must be a list")
        for branch, node in enumerate(conditions):
            parent = node.get("parent") if isinstance(node, dict) else None
            if parent is not None and not (
                isinstance(parent, int) and not isinstance(parent, bool) and 0 <= parent < branch
            ):
                raise Refused.field(
                    f"promotionTiers[{position}].conditions[{branch}].parent",
                    "must point to a lower index",
                )
    return tiers
