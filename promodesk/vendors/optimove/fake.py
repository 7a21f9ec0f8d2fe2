"""A sandbox Optimove (OptiPromo + the legacy functions) that behaves like the real one.

Serves the contract in endpoints.py from in-memory state, with the documented rules: X-API-KEY
auth, 50 requests per 10 s per key, promotion states draft -> active <-> deactivated ->
archived (final), tiers locked once ever active, client-chosen ids (409 when taken), global
and unique promocodes with a code pool and a default code used when the pool runs dry,
Consistent vs Varying allocation, code files uploaded through an upload URL, and the
allocation export. Sandbox-only routes under /_sandbox/ set faults and simulate campaigns.
"""

from __future__ import annotations

import asyncio
import copy
import csv
import io
import random
import uuid
from collections.abc import AsyncIterator
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
from promodesk.vendors.optimove.endpoints import ENDPOINTS, LEGACY_BATCH, MAX_CODE_FILE_BYTES
from promodesk.vendors.registry import SANDBOX_CREDENTIALS

SANDBOX_API_KEY = SANDBOX_CREDENTIALS[Vendor.OPTIMOVE]["api_key"]
STATES = ("draft", "active", "deactivated", "archived")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error(status: int, message: str, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    names = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        409: "Conflict",
        429: "Too Many Requests",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }
    body: dict[str, Any] = {
        "status": status,
        "error": names.get(status, "Error"),
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
    type: str
    promotion_id: str | None = None
    code: str | None = None
    default_code: str | None = None
    allocation_method: str = "consistent"
    hidden: bool = False
    campaigns: list[str] = field(default_factory=list)
    files: dict[str, CodeFileState] = field(default_factory=dict)
    pool: list[tuple[str, str]] = field(default_factory=list)  # (code, file id), in upload order
    by_customer: dict[str, str] = field(default_factory=dict)  # Consistent: the customer's code
    allocations: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        allocated = sum(f.allocated for f in self.files.values())
        return {
            "promocodeId": self.promocode_id,
            "promotionId": self.promotion_id,
            "type": self.type,
            "code": self.code,
            "defaultCode": self.default_code,
            "allocationMethod": self.allocation_method,
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
            "spring-welcome-2026", "Spring welcome 2026", "10% off the first order"
        )
        self.promotions["spring-welcome-2026"].update(state="active", everActive=True)
        code = PromocodeState(
            "pc-spring-welcome", "unique", "spring-welcome-2026", default_code="SPRING-FALLBACK"
        )
        self.promocodes[code.promocode_id] = code
        self.add_file(code, "spring_batch1.csv", [f"SPRW-{n:06d}" for n in range(500)])
        self.promotions["welcome-global"] = self.new_promotion(
            "welcome-global", "Welcome (shared code)"
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

    def new_promotion(self, promotion_id: str, name: str, description: str = "") -> dict[str, Any]:
        now = _now()
        return {
            "promotionId": promotion_id,
            "name": name,
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
        if promocode.allocation_method == "consistent" and customer in promocode.by_customer:
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
            Route(endpoint.path, self._handler(endpoint.name), methods=[endpoint.method])
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
                answer: Response = await method(request)
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

    def _promotion(self, request: Request) -> dict[str, Any] | Response:
        promotion = self.state.promotions.get(request.path_params["promotionId"])
        return promotion if promotion is not None else error(404, "Promotion not found")

    def _promocode(self, request: Request) -> PromocodeState | Response:
        promocode = self.state.promocodes.get(request.path_params["promocodeId"])
        return promocode if promocode is not None else error(404, "Promocode not found")

    # -- promotions -------------------------------------------------------------------------

    async def op_create_promotion(self, request: Request) -> Response:
        body = await self._body(request)
        if not isinstance(body, dict) or not str(body.get("name") or "").strip():
            return error(400, "Validation failed", [{"field": "name", "message": "is required"}])
        promotion_id = str(body.get("promotionId") or f"promotion-{uuid.uuid4().hex[:12]}")
        if promotion_id in self.state.promotions:
            return error(409, f"A promotion with id {promotion_id} already exists")
        self.state.promotions[promotion_id] = self.state.new_promotion(
            promotion_id, str(body["name"]), str(body.get("description") or "")
        )
        return JSONResponse({"promotionId": promotion_id}, status_code=201)

    async def op_get_promotion(self, request: Request) -> Response:
        found = self._promotion(request)
        return found if isinstance(found, Response) else JSONResponse(found)

    def _change(self, promotion: dict[str, Any], **values: Any) -> Response:
        promotion.update(values, updatedAt=_now())
        return Response(status_code=204)

    async def op_set_metadata(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        if found["state"] == "archived":
            return error(409, "An archived promotion cannot be changed")
        body = await self._body(request) or {}
        return self._change(
            found, **{k: str(v) for k, v in body.items() if k in ("name", "description")}
        )

    async def op_set_properties(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        if found["state"] not in ("draft", "deactivated"):
            return error(
                409, f"Properties can be set in draft or deactivated state, not {found['state']}"
            )
        body = await self._body(request) or {}
        return self._change(found, properties=dict(body.get("properties") or {}))

    async def op_set_tiers(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        if found["everActive"] or found["state"] == "archived":
            return error(409, "Tiers cannot be changed once the promotion has been active")
        tiers = (await self._body(request) or {}).get("promotionTiers")
        if not isinstance(tiers, list):
            return error(
                400, "Validation failed", [{"field": "promotionTiers", "message": "must be a list"}]
            )
        for position, tier in enumerate(tiers):
            for branch, node in enumerate(tier.get("conditions") or []):
                parent = node.get("parent")
                if parent is not None and not 0 <= int(parent) < branch:
                    return error(
                        400,
                        "Validation failed",
                        [
                            {
                                "field": f"promotionTiers[{position}].conditions[{branch}].parent",
                                "message": "must point to a lower index",
                            }
                        ],
                    )
        return self._change(found, promotionTiers=tiers)

    async def op_set_budgets(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        if found["state"] == "archived":
            return error(409, "An archived promotion cannot be changed")
        return self._change(found, publishingBudgets=await self._body(request) or {})

    async def op_set_constraints(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        if found["state"] == "archived":
            return error(409, "An archived promotion cannot be changed")
        return self._change(
            found, rewardConstraints=(await self._body(request) or {}).get("constraints") or []
        )

    async def op_activate(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        if found["state"] == "archived":
            return error(409, "An archived promotion cannot be activated; duplicate it instead")
        return self._change(found, state="active", everActive=True)

    async def op_deactivate(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        if found["state"] in ("draft", "archived"):
            return error(
                409, f"Only an active promotion can be deactivated (it is {found['state']})"
            )
        return self._change(found, state="deactivated")

    async def op_archive(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        return self._change(found, state="archived")

    async def op_duplicate(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        body = await self._body(request) or {}
        new_id = str(body.get("promotionId") or f"promotion-{uuid.uuid4().hex[:12]}")
        if new_id in self.state.promotions:
            return error(409, f"A promotion with id {new_id} already exists")
        copy = self.state.new_promotion(new_id, found["name"], found["description"])
        copy.update(
            promotionTiers=list(found["promotionTiers"]),
            rewardConstraints=list(found["rewardConstraints"]),
            properties=dict(found["properties"]),
        )
        self.state.promotions[new_id] = copy
        return JSONResponse({"promotionId": new_id}, status_code=201)

    def _effects(self, promotion: dict[str, Any] | None) -> list[dict[str, Any]]:
        tiers = promotion["promotionTiers"] if promotion else []
        if not tiers:
            return [{"tierId": None, "reward": "default"}]
        first = tiers[0]
        return [{"tierId": first.get("id"), "reward": first.get("benefits") or first.get("reward")}]

    async def _eligibility(
        self,
        request: Request,
        subject: dict[str, Any],
        promotion: dict[str, Any] | None,
        eligible: bool,
    ) -> Response:
        """The answer of both validate calls: each context's customer, eligible or not."""
        contexts = (await self._body(request) or {}).get("contexts") or []
        effects = self._effects(promotion) if eligible else []
        return JSONResponse(
            {
                **subject,
                "contexts": [
                    {
                        "customerId": str(item.get("customerId")),
                        "eligible": eligible,
                        "effects": effects,
                    }
                    for item in contexts
                ],
            }
        )

    async def _commands(self, request: Request) -> list[dict[str, Any]] | Response:
        """A transaction's commands, or the 400 when there are none."""
        commands = (await self._body(request) or {}).get("commands")
        if not isinstance(commands, list) or not commands:
            return error(
                400,
                "Validation failed",
                [{"field": "commands", "message": "must be a non-empty list"}],
            )
        return commands

    async def op_validate_promotion(self, request: Request) -> Response:
        found = self._promotion(request)
        if isinstance(found, Response):
            return found
        eligible = found["state"] == "active"
        return await self._eligibility(
            request, {"promotionId": found["promotionId"]}, found, eligible
        )

    async def op_promotion_transaction(self, request: Request) -> Response:
        commands = await self._commands(request)
        if isinstance(commands, Response):
            return commands
        # All or nothing: check every command against a copy, then apply.
        trial = copy.deepcopy(self.state.promotions)
        for number, command in enumerate(commands):
            promotion = trial.get(str(command.get("promotionId")))
            kind = command.get("command")
            if promotion is None:
                return error(404, f"command {number}: promotion not found")
            if kind == "setMetadata":
                promotion.update({k: command[k] for k in ("name", "description") if k in command})
            elif kind == "activate" and promotion["state"] != "archived":
                promotion.update(state="active", everActive=True)
            elif kind == "deactivate" and promotion["state"] == "active":
                promotion["state"] = "deactivated"
            else:
                return error(
                    409, f"command {number} ({kind}) is not allowed now; nothing was applied"
                )
        self.state.promotions = trial
        return JSONResponse({"applied": len(commands)})

    # -- promocodes -----------------------------------------------------------------------------

    async def op_create_promocode(self, request: Request) -> Response:
        body = await self._body(request)
        if not isinstance(body, dict):
            return error(
                400, "Validation failed", [{"field": "body", "message": "must be an object"}]
            )
        kind = body.get("type")
        if kind not in ("global", "unique"):
            return error(
                400, "Validation failed", [{"field": "type", "message": "must be global or unique"}]
            )
        if kind == "global" and not body.get("code"):
            return error(
                400,
                "Validation failed",
                [{"field": "code", "message": "is required for a global promocode"}],
            )
        promocode_id = str(body.get("promocodeId") or f"promocode-{uuid.uuid4().hex[:12]}")
        if promocode_id in self.state.promocodes:
            return error(409, f"A promocode with id {promocode_id} already exists")
        if kind == "global" and any(
            p.code == body["code"] for p in self.state.promocodes.values() if p.type == "global"
        ):
            return error(409, f"The code {body['code']} is already used")
        promotion_id = body.get("promotionId")
        if promotion_id is not None:
            promotion = self.state.promotions.get(str(promotion_id))
            if promotion is None:
                return error(404, "Promotion not found")
            if promotion["state"] == "archived":
                return error(409, "An archived promotion cannot get promocodes")
        method = str(body.get("allocationMethod") or "consistent").lower()
        if method not in ("consistent", "varying"):
            return error(
                400,
                "Validation failed",
                [{"field": "allocationMethod", "message": "consistent or varying"}],
            )
        default = body.get("defaultCode")
        if kind == "unique" and not default:
            default = f"DEFAULT-{uuid.uuid4().hex[:8].upper()}"  # generated when not given
        self.state.promocodes[promocode_id] = PromocodeState(
            promocode_id,
            kind,
            str(promotion_id) if promotion_id else None,
            code=body.get("code"),
            default_code=default,
            allocation_method=method,
        )
        return JSONResponse({"promocodeId": promocode_id}, status_code=201)

    async def op_get_promocode(self, request: Request) -> Response:
        found = self._promocode(request)
        return found if isinstance(found, Response) else JSONResponse(found.as_json())

    async def op_assign(self, request: Request) -> Response:
        found = self._promocode(request)
        if isinstance(found, Response):
            return found
        promotion_id = str((await self._body(request) or {}).get("promotionId") or "")
        if promotion_id not in self.state.promotions:
            return error(404, "Promotion not found")
        found.promotion_id = promotion_id
        return Response(status_code=204)

    async def op_unassign(self, request: Request) -> Response:
        found = self._promocode(request)
        if isinstance(found, Response):
            return found
        found.promotion_id = None
        return Response(status_code=204)

    async def _flag(self, request: Request, hidden: bool) -> Response:
        found = self._promocode(request)
        if isinstance(found, Response):
            return found
        found.hidden = hidden
        return Response(status_code=204)

    async def op_hide(self, request: Request) -> Response:
        return await self._flag(request, True)

    async def op_show(self, request: Request) -> Response:
        return await self._flag(request, False)

    async def _campaign(self, request: Request, linked: bool) -> Response:
        found = self._promocode(request)
        if isinstance(found, Response):
            return found
        campaign = str((await self._body(request) or {}).get("campaignId") or "")
        if not campaign:
            return error(
                400, "Validation failed", [{"field": "campaignId", "message": "is required"}]
            )
        if linked and campaign not in found.campaigns:
            found.campaigns.append(campaign)
        if not linked and campaign in found.campaigns:
            found.campaigns.remove(campaign)
        return Response(status_code=204)

    async def op_link_campaign(self, request: Request) -> Response:
        return await self._campaign(request, True)

    async def op_unlink_campaign(self, request: Request) -> Response:
        return await self._campaign(request, False)

    async def op_validate_customers(self, request: Request) -> Response:
        found = self._promocode(request)
        if isinstance(found, Response):
            return found
        promotion = self.state.promotions.get(found.promotion_id or "")
        eligible = promotion is not None and promotion["state"] == "active" and not found.hidden
        return await self._eligibility(
            request, {"promocodeId": found.promocode_id}, promotion, eligible
        )

    async def op_promocode_transaction(self, request: Request) -> Response:
        commands = await self._commands(request)
        if isinstance(commands, Response):
            return commands
        for number, command in enumerate(commands):
            if str(command.get("promocodeId")) not in self.state.promocodes:
                return error(404, f"command {number}: promocode not found; nothing was applied")
            if command.get("command") not in ("hide", "show"):
                return error(409, f"command {number} is not supported; nothing was applied")
        for command in commands:
            self.state.promocodes[str(command["promocodeId"])].hidden = command["command"] == "hide"
        return JSONResponse({"applied": len(commands)})

    async def op_upload_url(self, request: Request) -> Response:
        found = self._promocode(request)
        if isinstance(found, Response):
            return found
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
        if isinstance(found, Response):
            return found
        return JSONResponse([file_json(item) for item in found.files.values()])

    async def op_export_allocations(self, request: Request) -> Response:
        found = self._promocode(request)
        if isinstance(found, Response):
            return found
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
            found = self._promocode(request)
            if isinstance(found, Response):
                return found
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
