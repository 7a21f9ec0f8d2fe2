"""Shapes of the records the vendors hand out, validated as untrusted input.

The API clients (vendors/) and the importers of saved exports (store/) read the same records,
so their shapes live here, below both. Every model tolerates the vendors' documented quirks:
numbers sent as strings, "" for null, XML booleans as text, dates in any ISO offset.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from promodesk.domain.values import blank_to_none, lenient_int, lenient_text, to_utc_text
from promodesk.domain.vendors import CodeStatus, altcraft_status, impact_status

# The Optimove allocation export, in the vendor's order and spelling ("occurenceId").
ALLOCATION_COLUMNS: tuple[str, ...] = (
    "customerId",
    "promocodeId",
    "promotionId",
    "fileId",
    "uniqueCode",
    "timestamp",
    "occurenceId",
    "seriesId",
    "actionId",
)

LenientText = Annotated[str | None, BeforeValidator(lenient_text)]
LenientInt = Annotated[int | None, BeforeValidator(lenient_int)]
UtcText = Annotated[str, BeforeValidator(to_utc_text)]
OptionalBool = Annotated[bool | None, BeforeValidator(blank_to_none)]


def _required_code(value: Any) -> str:
    text = lenient_text(value)
    if not text:
        raise ValueError("the code is empty")
    return text


CodeText = Annotated[str, BeforeValidator(_required_code)]


class AltcraftCodeRecord(BaseModel):
    """One Altcraft promo code: an `export_all` item or the `data` of `get`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: CodeText
    loyalty_id: LenientInt = None
    created: UtcText = ""
    attached: UtcText = ""
    activated: UtcText = ""
    expired: UtcText = ""
    expire_date: UtcText = ""
    is_attached: OptionalBool = None
    is_activated: OptionalBool = None
    is_expired: OptionalBool = None
    database_id: LenientInt = None
    profile_id: LenientText = None

    @property
    def status(self) -> CodeStatus:
        # export_all sends only the dates (and omits them when unset); get sends flags too.
        return altcraft_status(
            attached=bool(self.is_attached) or bool(self.attached),
            activated=bool(self.is_activated) or bool(self.activated),
            expired=bool(self.is_expired) or bool(self.expired),
        )


class ImpactPromoCodeRecord(BaseModel):
    """One impact.com promo-code object (brand API). Every value may arrive as a string."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    id: Annotated[str, BeforeValidator(_required_code)] = Field(alias="Id")
    code: CodeText = Field(alias="Code")
    type: LenientText = Field(default=None, alias="Type")
    credit_policy: LenientText = Field(default=None, alias="CreditPolicy")
    campaign_id: LenientText = Field(default=None, alias="CampaignId")
    campaign_name: LenientText = Field(default=None, alias="CampaignName")
    partner_id: LenientText = Field(default=None, alias="AssignedPartnerId")
    partner_name: LenientText = Field(default=None, alias="AssignedPartnerName")
    created_date: UtcText = Field(default="", alias="CreatedDate")
    start_date: UtcText = Field(default="", alias="StartDate")
    end_date: UtcText = Field(default="", alias="EndDate")
    state: LenientText = Field(default=None, alias="State")
    deal_id: LenientText = Field(default=None, alias="DealId")
    deal_name: LenientText = Field(default=None, alias="DealName")
    uri: LenientText = Field(default=None, alias="Uri")

    @field_validator("id")
    @classmethod
    def _numeric_id(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError(f"Id must be a number, got {value[:40]!r}")
        return value

    @property
    def status(self) -> CodeStatus:
        return impact_status(self.state)

    def extra_fields(self) -> dict[str, Any]:
        """The vendor's fields promodesk has no column for (deal, discount, BOGO, ...), under
        the vendor's names, unset ones left out: kept for the details pane."""
        extra = dict(self.model_extra or {})
        if self.uri:
            extra["Uri"] = self.uri
        return {key: value for key, value in extra.items() if value not in ("", None, [], {})}
