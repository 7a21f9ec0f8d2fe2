"""impact.com's operations (Brand API promo codes): find with filters, create, get, expire."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, model_validator

from promodesk.domain.records import ImpactPromoCodeRecord
from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.services.operations.base import (
    CodeField,
    Field,
    Inputs,
    Operation,
    Target,
    WriteContext,
    not_in,
)
from promodesk.store.records import impact_row
from promodesk.store.writes import IMPACT_CODES, WriteOutcome, update_fields, upsert

CREDIT_POLICIES = {
    "ALWAYS": "Always credit the partner",
    "INVOLVED": "Credit the partner when they drove any click",
    "WINNER": "Credit the partner when they drove the winning click",
}
MATCH_TYPES = {"LI": "Exact match", "RE": "Pattern (regular expression)"}
STATES = {"ACTIVE": "Active", "INACTIVE": "Expired"}

CODE = Target("impact_codes", {"promo_code_id": "promo_code_id"}, noun="code", label_column="code")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class FindCodes(Inputs):
    campaign_id: int | None = Field(
        None, title="Program ID", description="Only codes of this program (campaign)."
    )
    code: str | None = CodeField(None, title="Code", description="Only this exact code.")
    start_date: AwareDatetime | None = Field(
        None, title="Starting from", description="Only codes that start on or after this time."
    )
    end_date: AwareDatetime | None = Field(
        None, title="Ending by", description="Only codes that end on or before this time."
    )
    state: Literal["ACTIVE", "INACTIVE"] | None = Field(
        None, title="State", json_schema_extra={"choices": STATES}
    )


class CreateCode(Inputs):
    partner_id: int = Field(
        title="Partner ID",
        description="The partner (or media source) the code is for; impact.com shows it on "
        "the partner's page.",
        gt=0,
    )
    campaign_id: int = Field(title="Program ID", description="The program (campaign).", gt=0)
    code: str = CodeField(
        title="Code", description="What customers type at checkout.", min_length=1, max_length=255
    )
    credit_policy: Literal["ALWAYS", "INVOLVED", "WINNER"] = Field(
        "ALWAYS",
        title="Credit policy",
        description="When the partner gets the credit for an order that used the code.",
        json_schema_extra={"choices": CREDIT_POLICIES},
    )
    type_: Literal["LI", "RE"] = Field(
        "LI",
        title="Match",
        description="Exact: the code as typed. Pattern: a regular expression that also "
        "accepts variants (case, spacing).",
        json_schema_extra={"choices": MATCH_TYPES},
    )
    start_date: AwareDatetime | None = Field(
        None, title="Starts", description="Empty: now. Shown with its time zone."
    )
    end_date: AwareDatetime | None = Field(None, title="Ends", description="Empty: never.")
    deal_id: int | None = Field(None, title="Deal ID", description="A deal to link the code to.")
    deal_name: str | None = Field(None, title="Deal name", max_length=255)

    @model_validator(mode="after")
    def _check(self) -> CreateCode:
        if self.type_ == "RE":
            try:
                re.compile(self.code)
            except re.error as error:
                raise ValueError(f"the pattern does not compile: {error}") from None
        if self.start_date and self.end_date and self.end_date <= self.start_date:
            raise ValueError("the code must end after it starts")
        return self


class CodeById(Inputs):
    promo_code_id: int = Field(
        title="impact.com code ID", description="The number impact.com gave the code.", gt=0
    )


def _write_records(ctx: WriteContext, _inputs: Any, records: Any) -> WriteOutcome:
    if isinstance(records, ImpactPromoCodeRecord):
        records = [records]
    return upsert(
        ctx.conn,
        IMPACT_CODES,
        ctx.account_id,
        (impact_row(record) for record in records),
        run_id=ctx.run_id,
        as_of=ctx.as_of,
    )


def _record_json(record: ImpactPromoCodeRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=True)


async def _find(client: Any, inputs: FindCodes) -> list[ImpactPromoCodeRecord]:
    records: list[ImpactPromoCodeRecord] = await client.list_all(
        campaign_id=inputs.campaign_id,
        code=inputs.code,
        start_date=_iso(inputs.start_date),
        end_date=_iso(inputs.end_date),
        state=inputs.state,
    )
    return records


async def _create(client: Any, inputs: CreateCode) -> ImpactPromoCodeRecord:
    record: ImpactPromoCodeRecord = await client.create(
        partner_id=inputs.partner_id,
        campaign_id=inputs.campaign_id,
        code=inputs.code,
        credit_policy=inputs.credit_policy,
        match_type=inputs.type_,
        start_date=_iso(inputs.start_date),
        end_date=_iso(inputs.end_date),
        deal_id=inputs.deal_id,
        deal_name=inputs.deal_name,
    )
    return record


def _write_expired(ctx: WriteContext, inputs: CodeById, _result: Any) -> WriteOutcome:
    """impact.com answers an expire with its URI only: the code is INACTIVE now. Not read back
    (a bulk expire would otherwise take two of the hour's 1,000 requests per code)."""
    return update_fields(
        ctx.conn,
        IMPACT_CODES,
        ctx.account_id,
        {"promo_code_id": inputs.promo_code_id},
        {"status": CodeStatus.INACTIVE.value},
        run_id=ctx.run_id,
        as_of=ctx.as_of,
    )


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        Vendor.IMPACT,
        "list_all",
        "Find codes at impact.com…",
        FindCodes,
        kind="read",
        group="Codes",
        description="Asks impact.com for the codes matching these filters and keeps them in "
        "the workspace.",
        repeat_safe=True,
        call=_find,
        write=_write_records,
        summary=lambda _inputs, records: f"Found {len(records):,} code(s) at impact.com",
        result_json=lambda records: [_record_json(record) for record in records],
    ),
    Operation(
        Vendor.IMPACT,
        "create",
        "New code for a partner…",
        CreateCode,
        kind="create",
        group="Codes",
        description="Creates a promo code for one partner in one program.",
        repeat_safe=True,  # the client looks the code up before sending it again
        call=_create,
        write=_write_records,
        summary=lambda inputs, record: f"Created {record.code} for partner {inputs.partner_id}",
        result_json=_record_json,
    ),
    Operation(
        Vendor.IMPACT,
        "get",
        "Reload from impact.com",
        CodeById,
        kind="read",
        group="Codes",
        target=CODE,
        repeat_safe=True,
        write=_write_records,
        summary=lambda _inputs, record: (
            f"{record.code} is {STATES.get(record.state or '', 'active').lower()}"
        ),
        result_json=_record_json,
    ),
    Operation(
        Vendor.IMPACT,
        "expire",
        "Expire code",
        CodeById,
        kind="change",
        group="Codes",
        description="Deactivates the code at impact.com: partners stop being credited for it.",
        target=CODE,
        allowed=not_in(
            "status",
            {
                CodeStatus.INACTIVE.value: (
                    "This code is already expired: impact.com shows it as inactive"
                )
            },
        ),
        repeat_safe=True,
        bulk=True,
        confirm="Expiring cannot be undone through impact.com's API: the code stays listed, as "
        "inactive. It is not expired in your own shop's discount system; do that there.",
        write=_write_expired,
        summary=lambda inputs, _result: f"Expired (impact.com id {inputs.promo_code_id})",
    ),
)
