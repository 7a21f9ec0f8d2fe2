"""Optimove's operations: OptiPromo promotions and promocodes (vendor-apis.md 1.9, 1.10) and
the legacy function-style API (1.8).

OptiPromo has no list endpoint, so the workspace is the list: what is created here, found in
imports, or tracked by hand (the `get_*` operations fetch an id the workspace does not know
yet). Every change is read back with a GET, except hide/show, whose result is known (the
rate limit of 50 requests per 10 s makes a second call per code in bulk expensive).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from promodesk.domain.vendors import Vendor
from promodesk.services.operations.base import (
    CodeField,
    CommandKind,
    Field,
    Inputs,
    Operation,
    Row,
    Target,
    WriteContext,
    first_of,
    not_in,
    only_in,
)
from promodesk.store.records import (
    optimove_code_file_row,
    optimove_promocode_row,
    optimove_promotion_row,
)
from promodesk.store.writes import (
    OPTIMOVE_CODE_FILES,
    OPTIMOVE_LEGACY_CODES,
    OPTIMOVE_LEGACY_PROMOTIONS,
    OPTIMOVE_PROMOCODES,
    OPTIMOVE_PROMOTIONS,
    Staging,
    WriteOutcome,
    mark_gone,
    update_fields,
    upsert,
)
from promodesk.vendors.errors import ConflictError

PROMOTION = Target(
    "optimove_promotions", {"promotion_id": "promotion_id"}, noun="promotion", label_column="name"
)
PROMOCODE = Target(
    "optimove_promocodes",
    {"promocode_id": "promocode_id"},
    noun="promocode",
    label_column="promocode_id",
)
ALLOCATION_METHODS = {
    "Consistent": "Consistent: a customer keeps the same code in every campaign",
    "Varying": "Varying: a new code each time, even if the last one was not used",
}
PROMOCODE_TYPES = {
    "global": "Global: one code everyone types",
    "unique": "Unique: one code per customer, from uploaded files",
}
TIMEFRAMES = {
    "Daily": "Per day",
    "Weekly": "Per week",
    "Monthly": "Per month",
    "Lifetime": "In all",
}

# -- states -----------------------------------------------------------------------------------

ARCHIVED = {"archived": "This promotion is archived: it can only be duplicated"}


def _editable_properties(row: Row) -> str | None:
    state = str(row.get("state", ""))
    if state in ("", "draft", "deactivated"):
        return None
    if state == "archived":
        return ARCHIVED["archived"]
    return "Properties can be changed while the promotion is a draft or deactivated"


def _tiers_editable(row: Row) -> str | None:
    if str(row.get("state", "")) == "archived":
        return ARCHIVED["archived"]
    if row.get("ever_active"):
        return (
            "Tiers cannot change once the promotion has ever been active (even if deactivated); "
            "duplicate it to change them"
        )
    return None


def _assigned(row: Row) -> str | None:
    return None if row.get("promotion_id") else "This promocode is not assigned to a promotion"


# -- inputs -----------------------------------------------------------------------------------


class PromotionId(Inputs):
    promotion_id: str = Field(title="Promotion ID", min_length=1)


class CreatePromotion(Inputs):
    name: str = Field(title="Name", min_length=1, max_length=200)
    code: str = Field(
        title="Promotion code",
        description="The promotion's identifier in your own promotion system (not a code "
        "customers type).",
        min_length=1,
        max_length=100,
    )
    description: str = Field("", title="Description", max_length=2000)
    promotion_id: str | None = Field(
        None,
        title="Promotion ID",
        description="Empty: promodesk chooses one (so a retried create never makes two).",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    )


class SetMetadata(PromotionId):
    name: str | None = Field(None, title="Name", min_length=1, max_length=200)
    description: str | None = Field(None, title="Description", max_length=2000)

    @model_validator(mode="after")
    def _something(self) -> SetMetadata:
        if self.name is None and self.description is None:
            raise ValueError("change the name, the description, or both")
        return self


class SetProperties(PromotionId):
    properties: dict[str, Any] = Field(
        title="Properties",
        description="Values for the properties your tenant defines for promotions.",
        json_schema_extra={"editor": "properties"},
    )


class Branch(BaseModel):
    """One branch of a tier's condition tree: its id is its position; `parent` names a branch
    earlier in the list (a tree, checked before anything is sent)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    parent: int | None = None


class Tier(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    id: str = Field(title="Tier ID", min_length=1)
    name: str = Field("", title="Name")
    benefits: Any = Field(None, title="Benefits")
    conditions: list[Branch] = Field(default_factory=list, title="Conditions")

    @model_validator(mode="after")
    def _tree(self) -> Tier:
        for position, branch in enumerate(self.conditions):
            if branch.parent is not None and not 0 <= branch.parent < position:
                raise ValueError(
                    f"tier {self.id}: condition {position + 1} names condition "
                    f"{branch.parent + 1} as its parent; a parent must come before it"
                )
        return self


class SetTiers(PromotionId):
    tiers: list[Tier] = Field(
        title="Tiers",
        description="In priority order: the first tier a customer qualifies for applies.",
        json_schema_extra={"editor": "tiers"},
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> SetTiers:
        ids = [tier.id for tier in self.tiers]
        if len(ids) != len(set(ids)):
            raise ValueError("each tier needs its own ID")
        return self


class AudienceCap(BaseModel):
    model_config = ConfigDict(frozen=True)
    limit: int = Field(title="Customers at most", gt=0)
    timeframe: Literal["Daily", "Weekly", "Monthly", "Lifetime"] = Field(
        "Lifetime", title="Per", json_schema_extra={"choices": TIMEFRAMES}
    )


class RewardBudget(BaseModel):
    model_config = ConfigDict(frozen=True)
    amount: float | None = Field(None, title="Total amount", gt=0)
    count: int | None = Field(None, title="Reward items", gt=0)


class SetBudgets(PromotionId):
    audience_cap: AudienceCap | None = Field(None, title="Audience cap")
    reward_budget: RewardBudget | None = Field(None, title="Reward budget")

    @model_validator(mode="after")
    def _something(self) -> SetBudgets:
        if self.audience_cap is None and self.reward_budget is None:
            raise ValueError("set an audience cap, a reward budget, or both")
        return self


class Constraint(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)
    reward_type: str = Field(alias="rewardType", title="Reward type", min_length=1)
    period: Literal["daily", "weekly", "monthly"] = Field(title="Per")
    limit: int = Field(title="At most", gt=0)


class SetConstraints(PromotionId):
    constraints: list[Constraint] = Field(title="Reward constraints")


class Duplicate(PromotionId):
    new_code: str = Field(
        title="New promotion code", description="The copy's own code.", min_length=1
    )
    new_promotion_id: str | None = Field(None, title="New promotion ID")


class ValidatePromotion(Inputs):
    promo_code: str = CodeField(title="Promo code", description="The code customers type.")
    customer_ids: list[str] = Field(
        title="Customer IDs",
        description="One per line: each is checked against the promotion.",
        min_length=1,
        max_length=10_000,
        json_schema_extra={"editor": "lines"},
    )
    campaign_data: dict[str, Any] | None = Field(None, title="Campaign data")


class Commands(Inputs):
    commands: list[dict[str, Any]] = Field(
        title="Changes",
        description="Applied all together or not at all.",
        min_length=1,
        json_schema_extra={"editor": "commands"},
    )


class PromotionCommands(Commands, PromotionId):
    pass


class PromocodeId(Inputs):
    promocode_id: str = Field(title="Promocode ID", min_length=1)


class CreatePromocode(Inputs):
    promocode_type: Literal["global", "unique"] = Field(
        title="Kind", json_schema_extra={"choices": PROMOCODE_TYPES}
    )
    promotion_id: str | None = Field(
        None, title="Promotion ID", description="The promotion it belongs to (empty: none yet)."
    )
    code: str | None = CodeField(
        None, title="Code", description="Global only: the code every customer types."
    )
    default_code: str | None = CodeField(
        None,
        title="Fallback code",
        description="Unique only: given once the pool of codes runs dry (Optimove makes one "
        "when empty).",
    )
    allocation_method: Literal["Consistent", "Varying"] | None = Field(
        None, title="Allocation", json_schema_extra={"choices": ALLOCATION_METHODS}
    )
    promocode_id: str | None = Field(
        None,
        title="Promocode ID",
        description="Empty: promodesk chooses one. Give the ID of a create that stopped half "
        "way to finish it.",
    )

    @model_validator(mode="after")
    def _kind(self) -> CreatePromocode:
        if self.promocode_type == "global":
            if not self.code:
                raise ValueError("a global promocode needs the code customers type")
            if self.default_code:
                raise ValueError("a fallback code is for unique promocodes")
        elif self.code:
            raise ValueError("a unique promocode takes its codes from uploaded files")
        return self


class Assign(PromocodeId):
    promotion_id: str = Field(title="Promotion ID", min_length=1)


class Campaign(PromocodeId):
    campaign_id: str = Field(title="Campaign ID", min_length=1)


class ValidateCustomers(PromocodeId):
    customer_ids: list[str] = Field(
        title="Customer IDs", min_length=1, max_length=10_000, json_schema_extra={"editor": "lines"}
    )
    campaign_data: dict[str, Any] | None = Field(None, title="Campaign data")


class PromocodeCommands(Commands, PromocodeId):
    pass


class PromocodeType(Inputs):
    type: Literal["global", "unique"] = Field(
        title="Kind", json_schema_extra={"choices": PROMOCODE_TYPES}
    )


class GlobalCode(Inputs):
    code: str = CodeField(title="Code", description="The code every customer types.", min_length=1)


class FallbackCode(Inputs):
    default_code: str = CodeField(title="Fallback code", min_length=1)


class AllocationMethod(Inputs):
    allocation_method: Literal["Consistent", "Varying"] = Field(
        title="Allocation", json_schema_extra={"choices": ALLOCATION_METHODS}
    )


class UploadFile(PromocodeId):
    path: Path = Field(
        title="Code file",
        description="One code per line, no header, at most 10 MB (check it first with the "
        "code file wizard).",
        json_schema_extra={"editor": "file"},
    )


class ExportAllocations(PromocodeId):
    target: Path = Field(title="Save as", json_schema_extra={"editor": "save_file"})
    file_id: str | None = Field(None, title="Only the codes of file")


class LegacyDate(Inputs):
    date: str = Field(title="Date", pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")


class LegacyCampaign(Inputs):
    campaign_id: int = Field(title="Campaign ID", gt=0)


class LegacyTargetGroup(Inputs):
    target_group_id: int = Field(title="Target group ID", gt=0)
    date: str = Field(title="Date", pattern=r"^\d{4}-\d{2}-\d{2}$", description="YYYY-MM-DD")


class LegacyPromotionItem(BaseModel):
    model_config = ConfigDict(frozen=True)
    promo_code: str = CodeField(title="Promo code", min_length=1)
    promotion_name: str = Field(title="Promotion name", min_length=1)


class AddPromotions(Inputs):
    promotions: list[LegacyPromotionItem] = Field(
        title="Promotions",
        description="A promo code and its promotion's name per line.",
        min_length=1,
    )


class DeletePromotions(Inputs):
    promo_codes: list[str] = CodeField(
        title="Promo codes", min_length=1, json_schema_extra={"editor": "lines"}
    )


class NoInputs(Inputs):
    pass


# What the two transactions can carry (vendors/optimove/endpoints.py, PROMOTION_COMMANDS and
# PROMOCODE_COMMANDS): the fields of the operation each command stands for, by wire name.
PROMOTION_CHANGES = (
    CommandKind(
        "setMetadata",
        "Rename or describe",
        SetMetadata,
        {"name": "name", "description": "description"},
    ),
    CommandKind("setProperties", "Properties", SetProperties, {"properties": "properties"}),
    CommandKind("setPromotionTiers", "Tiers", SetTiers, {"tiers": "promotionTiers"}),
    CommandKind(
        "setPublishingBudgets",
        "Publishing budgets",
        SetBudgets,
        {"audience_cap": "audienceCap", "reward_budget": "rewardBudget"},
    ),
    CommandKind(
        "setRewardConstraints", "Reward constraints", SetConstraints, {"constraints": "constraints"}
    ),
    CommandKind("activate", "Activate"),
    CommandKind("deactivate", "Deactivate"),
)
PROMOCODE_CHANGES = (
    CommandKind("setType", "Kind of promocode", PromocodeType, {"type": "type"}),
    CommandKind("setGlobalCode", "Global code", GlobalCode, {"code": "code"}),
    CommandKind("setDefaultCode", "Fallback code", FallbackCode, {"default_code": "defaultCode"}),
    CommandKind(
        "setAllocationMethod",
        "Allocation",
        AllocationMethod,
        {"allocation_method": "allocationMethod"},
    ),
    CommandKind("assign", "Assign to a promotion", Assign, {"promotion_id": "promotionId"}),
    CommandKind("unassign", "Unassign from its promotion"),
    CommandKind("hide", "Hide from lists"),
    CommandKind("show", "Show in lists"),
    CommandKind("linkCampaign", "Link to a campaign", Campaign, {"campaign_id": "campaignId"}),
    CommandKind(
        "unlinkCampaign", "Unlink from a campaign", Campaign, {"campaign_id": "campaignId"}
    ),
)


# -- calls and writes --------------------------------------------------------------------------


def _stable_id(prefix: str, *parts: Any) -> str:
    """An id decided by the create's own inputs: the same create asked for again (after an
    answer that never came, even from another run of promodesk) names the same promotion or
    promocode, which Optimove then refuses as existing instead of making a second one."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()
    slug = re.sub(r"[^a-z0-9]+", "-", str(parts[0]).lower()).strip("-")[:32] if parts else ""
    return f"{slug or prefix}-{digest[:10]}"


def _promotion_id_for(_client: Any, inputs: CreatePromotion) -> CreatePromotion:
    if inputs.promotion_id is not None:
        return inputs
    chosen = _stable_id("promotion", inputs.code, inputs.name)
    return inputs.model_copy(update={"promotion_id": chosen})


def _promocode_id_for(_client: Any, inputs: CreatePromocode) -> CreatePromocode:
    if inputs.promocode_id is not None:
        return inputs
    chosen = _stable_id(
        "promocode",
        inputs.promotion_id or "promocode",
        inputs.promocode_type,
        inputs.code,
        inputs.default_code,
        inputs.allocation_method,
    )
    return inputs.model_copy(update={"promocode_id": chosen})


async def _create_promotion(client: Any, inputs: CreatePromotion) -> Any:
    promotion = await client.create_promotion(
        inputs.name, inputs.code, description=inputs.description, promotion_id=inputs.promotion_id
    )
    if promotion.state == "archived":
        # The same create was made before and that promotion has since been archived.
        raise ConflictError(
            "Optimove",
            f"a promotion with code {inputs.code} and this name was created before and is "
            f"archived ({promotion.promotion_id}): duplicate it to use its details again, or "
            "give another promotion ID",
            operation="create promotion",
        )
    return promotion


def _promotion_row(promotion: Any) -> tuple[Any, ...]:
    extra = dict(promotion.model_extra or {})
    details = {"promotionTiers": promotion.tiers, "properties": promotion.properties, **extra}
    return optimove_promotion_row(
        promotion_id=promotion.promotion_id,
        name=promotion.name,
        code=promotion.code,
        description=promotion.description,
        state=promotion.state,
        ever_active=promotion.ever_active,
        created_at=promotion.created_at,
        updated_at=promotion.updated_at,
        details={key: value for key, value in details.items() if value not in (None, [], {})},
    )


def write_promotion(ctx: WriteContext, promotion: Any) -> WriteOutcome:
    return upsert(
        ctx.conn,
        OPTIMOVE_PROMOTIONS,
        ctx.account_id,
        [_promotion_row(promotion)],
        run_id=ctx.run_id,
        as_of=ctx.as_of,
    )


def write_promocode(ctx: WriteContext, promocode: Any) -> WriteOutcome:
    """The promocode and its code files (the files listed are all it has)."""
    outcome = upsert(
        ctx.conn,
        OPTIMOVE_PROMOCODES,
        ctx.account_id,
        [
            optimove_promocode_row(
                promocode_id=promocode.promocode_id,
                promotion_id=promocode.promotion_id or "",
                code_type=promocode.type or "",
                global_code=promocode.code or "",
                default_code=promocode.default_code or "",
                allocation_method=promocode.allocation_method or "",
                hidden=promocode.hidden,
                campaigns=promocode.campaigns,
                pool_size=promocode.pool_size,
                available=promocode.available,
                details={"allocated": promocode.allocated, **(promocode.model_extra or {})},
            )
        ],
        run_id=ctx.run_id,
        as_of=ctx.as_of,
    )
    outcome.add(write_files(ctx, promocode.promocode_id, promocode.files))
    return outcome


def write_files(ctx: WriteContext, promocode_id: str, files: list[Any]) -> WriteOutcome:
    staging = Staging(ctx.conn, OPTIMOVE_CODE_FILES, ctx.account_id)
    staging.add(
        optimove_code_file_row(
            file_id=item.file_id,
            file_name=item.file_name,
            promocode_id=promocode_id,
            code_count=item.codes,
            uploaded_at=item.uploaded_at,
        )
        for item in files
    )
    return staging.write(
        run_id=ctx.run_id, as_of=ctx.as_of, gone_scope={"promocode_id": promocode_id}
    )


def _promotion_result(ctx: WriteContext, _inputs: Any, promotion: Any) -> WriteOutcome:
    return write_promotion(ctx, promotion)


def _promocode_result(ctx: WriteContext, _inputs: Any, promocode: Any) -> WriteOutcome:
    return write_promocode(ctx, promocode)


async def _get_promotion(client: Any, inputs: Any, _result: Any) -> Any:
    return await client.get_promotion(inputs.promotion_id)


async def _get_promocode(client: Any, inputs: Any, _result: Any) -> Any:
    return await client.get_promocode(inputs.promocode_id)


def _hidden(hidden: bool) -> Any:
    def write(ctx: WriteContext, inputs: PromocodeId, _result: Any) -> WriteOutcome:
        return update_fields(
            ctx.conn,
            OPTIMOVE_PROMOCODES,
            ctx.account_id,
            {"promocode_id": inputs.promocode_id},
            {"hidden": int(hidden), "state": "hidden" if hidden else "shown"},
            run_id=ctx.run_id,
            as_of=ctx.as_of,
        )

    return write


def _contexts(customer_ids: list[str]) -> list[dict[str, Any]]:
    return [{"customerId": customer_id} for customer_id in dict.fromkeys(customer_ids)]


async def _validate_promotion(client: Any, inputs: ValidatePromotion) -> Any:
    return await client.validate_promotion(
        inputs.promo_code, _contexts(inputs.customer_ids), inputs.campaign_data
    )


async def _validate_customers(client: Any, inputs: ValidateCustomers) -> Any:
    return await client.validate_customers(
        inputs.promocode_id, _contexts(inputs.customer_ids), inputs.campaign_data
    )


def validation_rows(validation: Any) -> list[dict[str, Any]]:
    """One row per customer: eligible, the tier and the reward (the window's results table)."""
    rows = []
    for result in validation.results:
        effect = result.effects[0] if result.effects else None
        rows.append(
            {
                "customer_id": result.customer_id,
                "eligible": result.eligible,
                "tier": (effect.tier_id or effect.tier) if effect else None,
                "reward": effect.reward if effect else None,
            }
        )
    return rows


def _validation_summary(_inputs: Any, validation: Any) -> str:
    rows = validation_rows(validation)
    eligible = sum(1 for row in rows if row["eligible"])
    if len(rows) == 1:
        return "The customer qualifies" if eligible else "The customer does not qualify"
    return f"{eligible:,} of {len(rows):,} customers qualify"


async def _set_tiers(client: Any, inputs: SetTiers) -> None:
    await client.set_tiers(
        inputs.promotion_id,
        [tier.model_dump(mode="json", exclude_none=True) for tier in inputs.tiers],
    )


async def _set_budgets(client: Any, inputs: SetBudgets) -> None:
    await client.set_budgets(
        inputs.promotion_id,
        audience_cap=inputs.audience_cap.model_dump() if inputs.audience_cap else None,
        reward_budget=(
            inputs.reward_budget.model_dump(exclude_none=True) if inputs.reward_budget else None
        ),
    )


async def _set_constraints(client: Any, inputs: SetConstraints) -> None:
    await client.set_constraints(
        inputs.promotion_id, [item.model_dump(by_alias=True) for item in inputs.constraints]
    )


async def _duplicate(client: Any, inputs: Duplicate) -> Any:
    return await client.duplicate(
        inputs.promotion_id, inputs.new_code, new_promotion_id=inputs.new_promotion_id
    )


async def _upload(client: Any, inputs: UploadFile) -> Any:
    import asyncio

    content = await asyncio.to_thread(inputs.path.read_bytes)
    await client.upload_code_file(inputs.promocode_id, content, inputs.path.name)
    return await client.get_promocode(inputs.promocode_id)


async def _export(client: Any, inputs: ExportAllocations) -> int:
    rows: int = await client.export_allocations(
        inputs.promocode_id, inputs.target, file_id=inputs.file_id
    )
    return rows


async def _list_files(client: Any, inputs: PromocodeId) -> Any:
    return (inputs.promocode_id, await client.list_files(inputs.promocode_id))


def _write_files(ctx: WriteContext, _inputs: Any, listed: Any) -> WriteOutcome:
    promocode_id, files = listed
    return write_files(ctx, promocode_id, files)


def _legacy_codes(for_date: str = "", campaign_id: Any = "") -> Any:
    def write(ctx: WriteContext, inputs: Any, codes: list[Any]) -> WriteOutcome:
        day = getattr(inputs, "date", for_date)
        campaign = getattr(inputs, "campaign_id", campaign_id)
        return upsert(
            ctx.conn,
            OPTIMOVE_LEGACY_CODES,
            ctx.account_id,
            [
                (
                    item.promo_code,
                    item.action_id if item.action_id is not None else "",
                    item.recipient_group_id if item.recipient_group_id is not None else "",
                    day,
                    item.target_group_id
                    if item.target_group_id is not None
                    else getattr(inputs, "target_group_id", ""),
                    campaign,
                )
                for item in codes
            ],
            run_id=ctx.run_id,
            as_of=ctx.as_of,
        )

    return write


def write_legacy_promotions(
    ctx: WriteContext, promotions: list[Any], *, complete: bool
) -> WriteOutcome:
    """GetPromotions lists every one (`complete`): the others are gone."""
    staging = Staging(ctx.conn, OPTIMOVE_LEGACY_PROMOTIONS, ctx.account_id)
    staging.add((item.promo_code, item.promotion_name, "listed") for item in promotions)
    return staging.write(run_id=ctx.run_id, as_of=ctx.as_of, gone_scope={} if complete else None)


async def _add_promotions(client: Any, inputs: AddPromotions) -> list[Any]:
    from promodesk.vendors.optimove.models import LegacyPromotion

    pairs = [(item.promo_code, item.promotion_name) for item in inputs.promotions]
    await client.add_promotions(pairs)
    return [
        LegacyPromotion.model_validate({"PromoCode": code, "PromotionName": name})
        for code, name in pairs
    ]


def _write_deleted(ctx: WriteContext, inputs: DeletePromotions, _result: Any) -> WriteOutcome:
    return mark_gone(
        ctx.conn,
        OPTIMOVE_LEGACY_PROMOTIONS,
        ctx.account_id,
        [{"promo_code": code} for code in inputs.promo_codes],
        run_id=ctx.run_id,
        as_of=ctx.as_of,
    )


def _json(value: Any) -> Any:
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return value


def _promotion_op(name: str, label: str, inputs: type[Inputs], **options: Any) -> Operation:
    """A change to one promotion, read back afterwards."""
    options.setdefault("refresh", _get_promotion)
    options.setdefault("write", _promotion_result)
    options.setdefault("allowed", not_in("state", ARCHIVED))
    options.setdefault("result_json", _json)
    return Operation(
        Vendor.OPTIMOVE,
        name,
        label,
        inputs,
        kind=options.pop("kind", "change"),
        group="Promotions",
        target=PROMOTION,
        repeat_safe=options.pop("repeat_safe", True),
        **options,
    )


def _promocode_op(name: str, label: str, inputs: type[Inputs], **options: Any) -> Operation:
    """A change to one promocode, read back afterwards."""
    options.setdefault("refresh", _get_promocode)
    options.setdefault("write", _promocode_result)
    options.setdefault("result_json", _json)
    return Operation(
        Vendor.OPTIMOVE,
        name,
        label,
        inputs,
        kind=options.pop("kind", "change"),
        group="Promocodes",
        target=PROMOCODE,
        repeat_safe=options.pop("repeat_safe", True),
        **options,
    )


def _legacy_op(name: str, label: str, inputs: type[Inputs], **options: Any) -> Operation:
    return Operation(
        Vendor.OPTIMOVE,
        name,
        label,
        inputs,
        kind=options.pop("kind", "read"),
        group="Legacy API",
        repeat_safe=True,
        result_json=_json,
        **options,
    )


OPERATIONS: tuple[Operation, ...] = (
    # Promotions
    Operation(
        Vendor.OPTIMOVE,
        "create_promotion",
        "New promotion…",
        CreatePromotion,
        kind="create",
        group="Promotions",
        description="A draft promotion; add tiers, then activate it.",
        repeat_safe=True,  # the id comes from the inputs: a repeat finds the first one
        complete=_promotion_id_for,
        call=_create_promotion,
        write=_promotion_result,
        summary=lambda _inputs, promotion: (
            f"Created promotion {promotion.name} ({promotion.promotion_id})"
        ),
        result_json=_json,
    ),
    _promotion_op(
        "get_promotion",
        "Reload from Optimove",
        PromotionId,
        kind="read",
        refresh=None,
        allowed=None,
        description="Fetches the promotion (also one the workspace does not know yet: track it "
        "by its ID).",
        summary=lambda _inputs, promotion: (
            f"{promotion.name or promotion.promotion_id} is {promotion.state or 'unknown'}"
        ),
    ),
    _promotion_op(
        "set_metadata",
        "Rename or describe…",
        SetMetadata,
        summary=lambda inputs, _p: f"Updated promotion {inputs.promotion_id}",
    ),
    _promotion_op(
        "set_properties",
        "Properties…",
        SetProperties,
        allowed=_editable_properties,
        summary=lambda inputs, _p: f"Set the properties of {inputs.promotion_id}",
    ),
    _promotion_op(
        "set_tiers",
        "Tiers…",
        SetTiers,
        editor="tiers",
        allowed=_tiers_editable,
        call=_set_tiers,
        summary=lambda inputs, _p: (
            f"Set {len(inputs.tiers)} {'tier' if len(inputs.tiers) == 1 else 'tiers'} "
            f"on {inputs.promotion_id}"
        ),
    ),
    _promotion_op(
        "set_budgets",
        "Publishing budgets…",
        SetBudgets,
        call=_set_budgets,
        summary=lambda inputs, _p: f"Set the budgets of {inputs.promotion_id}",
    ),
    _promotion_op(
        "set_constraints",
        "Reward constraints…",
        SetConstraints,
        call=_set_constraints,
        summary=lambda inputs, _p: f"Set the reward constraints of {inputs.promotion_id}",
    ),
    _promotion_op(
        "activate",
        "Activate",
        PromotionId,
        allowed=first_of(
            not_in("state", ARCHIVED),
            only_in(
                "state",
                ("draft", "deactivated", ""),
                "Only a draft or deactivated promotion can be activated (this one is {state})",
            ),
        ),
        summary=lambda inputs, _p: f"Activated {inputs.promotion_id}",
    ),
    _promotion_op(
        "deactivate",
        "Deactivate",
        PromotionId,
        allowed=only_in(
            "state",
            ("active", ""),
            "Only an active promotion can be deactivated (this one is {state})",
        ),
        confirm="Campaigns using this promotion stop validating its codes until it is "
        "activated again.",
        summary=lambda inputs, _p: f"Deactivated {inputs.promotion_id}",
    ),
    _promotion_op(
        "archive",
        "Archive…",
        PromotionId,
        confirm="Archiving is final: an archived promotion can never be activated or changed "
        "again, only duplicated.",
        summary=lambda inputs, _p: f"Archived {inputs.promotion_id}",
    ),
    _promotion_op(
        "duplicate",
        "Duplicate…",
        Duplicate,
        kind="create",
        allowed=None,
        call=_duplicate,
        refresh=None,
        description="A draft copy (details, tiers, constraints) under a new promotion code.",
        summary=lambda _inputs, copy: f"Created {copy.promotion_id}, a copy with code {copy.code}",
    ),
    Operation(
        Vendor.OPTIMOVE,
        "validate_promotion",
        "Check customers…",
        ValidatePromotion,
        kind="read",
        group="Promotions",
        description="Which tier and reward each customer would get, keyed by the promo code.",
        repeat_safe=True,
        call=_validate_promotion,
        summary=_validation_summary,
        result_json=validation_rows,
        editor="validate",
    ),
    _promotion_op(
        "promotion_transaction",
        "Several changes at once…",
        PromotionCommands,
        repeat_safe=False,  # carries no id: after an unknown outcome, look first
        editor="commands",
        commands=PROMOTION_CHANGES,
        summary=lambda inputs, _p: (
            f"Applied {len(inputs.commands)} change(s) to {inputs.promotion_id}"
        ),
    ),
    # Promocodes
    Operation(
        Vendor.OPTIMOVE,
        "create_promocode",
        "New promocode…",
        CreatePromocode,
        kind="create",
        group="Promocodes",
        description="A global code everyone types, or a pool of unique codes from files.",
        repeat_safe=True,
        complete=_promocode_id_for,
        write=_promocode_result,
        summary=lambda _inputs, promocode: f"Created promocode {promocode.promocode_id}",
        result_json=_json,
    ),
    _promocode_op(
        "get_promocode",
        "Reload from Optimove",
        PromocodeId,
        kind="read",
        refresh=None,
        description="Fetches the promocode with its files and pool (also one the workspace "
        "does not know yet: track it by its ID).",
        summary=lambda _inputs, promocode: (
            f"{promocode.promocode_id}: "
            f"{promocode.available if promocode.available is not None else '?'} code(s) left"
        ),
    ),
    _promocode_op(
        "assign",
        "Assign to a promotion…",
        Assign,
        summary=lambda inputs, _p: f"Assigned {inputs.promocode_id} to {inputs.promotion_id}",
    ),
    _promocode_op(
        "unassign",
        "Unassign from its promotion",
        PromocodeId,
        allowed=_assigned,
        confirm="Campaigns stop giving this promocode's codes for the promotion.",
        summary=lambda inputs, _p: f"Unassigned {inputs.promocode_id}",
    ),
    _promocode_op(
        "hide",
        "Hide from lists",
        PromocodeId,
        allowed=not_in("hidden", {"1": "This promocode is hidden already"}),
        bulk=True,
        refresh=None,
        write=_hidden(True),
        summary=lambda inputs, _p: f"Hid {inputs.promocode_id}",
    ),
    _promocode_op(
        "show",
        "Show in lists",
        PromocodeId,
        allowed=not_in("hidden", {"0": "This promocode is shown already"}),
        bulk=True,
        refresh=None,
        write=_hidden(False),
        summary=lambda inputs, _p: f"Showed {inputs.promocode_id}",
    ),
    _promocode_op(
        "link_campaign",
        "Link to a campaign…",
        Campaign,
        summary=lambda inputs, _p: f"Linked {inputs.promocode_id} to campaign {inputs.campaign_id}",
    ),
    _promocode_op(
        "unlink_campaign",
        "Unlink from a campaign…",
        Campaign,
        summary=lambda inputs, _p: (
            f"Unlinked {inputs.promocode_id} from campaign {inputs.campaign_id}"
        ),
    ),
    Operation(
        Vendor.OPTIMOVE,
        "validate_customers",
        "Check customers…",
        ValidateCustomers,
        kind="read",
        group="Promocodes",
        target=PROMOCODE,
        repeat_safe=True,
        call=_validate_customers,
        summary=_validation_summary,
        result_json=validation_rows,
        editor="validate",
    ),
    _promocode_op(
        "promocode_transaction",
        "Several changes at once…",
        PromocodeCommands,
        repeat_safe=False,
        editor="commands",
        commands=PROMOCODE_CHANGES,
        summary=lambda inputs, _p: (
            f"Applied {len(inputs.commands)} change(s) to {inputs.promocode_id}"
        ),
    ),
    _promocode_op(
        "list_files",
        "Reload its code files",
        PromocodeId,
        kind="read",
        call=_list_files,
        refresh=None,
        write=_write_files,
        summary=lambda _inputs, listed: f"{len(listed[1]):,} code file(s)",
        result_json=lambda listed: _json(listed[1]),
    ),
    _promocode_op(
        "upload_code_file",
        "Upload a code file…",
        UploadFile,
        kind="create",
        call=_upload,
        refresh=None,
        editor="code_files",
        description="Adds codes to the promocode's pool. The code file wizard checks and "
        "splits files first, and resumes an interrupted upload.",
        summary=lambda inputs, _p: f"Uploaded {inputs.path.name} to {inputs.promocode_id}",
    ),
    _promocode_op(
        "export_allocations",
        "Export allocations…",
        ExportAllocations,
        kind="read",
        call=_export,
        refresh=None,
        write=None,
        editor="allocation_export",
        summary=lambda inputs, rows: f"Saved {rows:,} allocation(s) to {inputs.target.name}",
    ),
    # The legacy function API (its own base URL)
    _legacy_op(
        "get_promo_codes",
        "Promo codes of a day…",
        LegacyDate,
        write=_legacy_codes(),
        summary=lambda inputs, codes: f"{len(codes):,} promo code(s) on {inputs.date}",
    ),
    _legacy_op(
        "get_promo_codes_by_campaign",
        "Promo codes of a campaign…",
        LegacyCampaign,
        write=_legacy_codes(),
        summary=lambda inputs, codes: (
            f"{len(codes):,} promo code(s) in campaign {inputs.campaign_id}"
        ),
    ),
    _legacy_op(
        "get_promo_codes_by_target_group",
        "Promo codes of a target group…",
        LegacyTargetGroup,
        write=_legacy_codes(),
        summary=lambda inputs, codes: (
            f"{len(codes):,} promo code(s) for target group {inputs.target_group_id}"
        ),
    ),
    _legacy_op(
        "get_promotions",
        "Reload the promotions list",
        NoInputs,
        write=lambda ctx, _inputs, promotions: write_legacy_promotions(
            ctx, promotions, complete=True
        ),
        summary=lambda _inputs, promotions: f"{len(promotions):,} legacy promotion(s)",
    ),
    _legacy_op(
        "add_promotions",
        "Add promotions…",
        AddPromotions,
        kind="create",
        call=_add_promotions,
        write=lambda ctx, _inputs, promotions: write_legacy_promotions(
            ctx, promotions, complete=False
        ),
        description="An existing promo code gets the new promotion name.",
        summary=lambda inputs, _r: f"Added {len(inputs.promotions):,} promotion(s)",
    ),
    _legacy_op(
        "delete_promotions",
        "Delete promotions…",
        DeletePromotions,
        kind="change",
        call=lambda client, inputs: client.delete_promotions(inputs.promo_codes),
        write=_write_deleted,
        confirm="Deleting removes these promo codes from Optimove's promotions list.",
        summary=lambda inputs, _r: f"Deleted {len(inputs.promo_codes):,} promotion(s)",
    ),
)
