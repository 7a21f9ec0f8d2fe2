"""Shapes of the records the vendors hand out, validated as untrusted input.

The API clients (vendors/) and the importers of saved exports (store/) read the same records,
so their shapes live here, below both. Every model tolerates the vendors' documented quirks:
numbers sent as strings, "" for null, XML booleans as text, dates in any ISO offset.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from promodesk.domain.text import refuse_control_characters
from promodesk.domain.values import (
    blank_to_none,
    lenient_int,
    lenient_text,
    to_utc_text,
)
from promodesk.domain.vendors import CodeStatus, Vendor, altcraft_status, impact_status

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

# Ids, states and the like, and names: no vendor sends these longer (impact.com's limit for
# every string is 255 characters).
MAX_TEXT_LENGTH = 1_000


def _id_text(value: Any) -> str | None:
    return _checked_text(value, allow_tab=False)


def _name_text(value: Any) -> str | None:
    return _checked_text(value, allow_tab=True)


def _checked_text(value: Any, *, allow_tab: bool) -> str | None:
    text = value.strip() or None if type(value) is str else lenient_text(value)
    if text is None or (len(text) <= MAX_TEXT_LENGTH and text.isprintable()):
        return text  # almost always: this runs for a dozen fields of every record
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(
            f"{len(text):,} characters long; the most promodesk accepts is {MAX_TEXT_LENGTH:,}"
        )
    return refuse_control_characters(text, allow_tab=allow_tab)


# Ids and other values that are matched exactly: no control character at all.
IdText = Annotated[str | None, BeforeValidator(_id_text)]
# Names and descriptions people type: a tab is tolerated, other control characters are not.
NameText = Annotated[str | None, BeforeValidator(_name_text)]


def _code(value: Any, *, vendor: Vendor) -> str:
    text = lenient_text(value)
    if not text:
        raise ValueError("the code is empty")
    if len(text) > vendor.max_code_length:
        raise ValueError(
            f"the code is {len(text):,} characters long; {vendor.display_name} codes have at "
            f"most {vendor.max_code_length}"
        )
    return refuse_control_characters(text)


AltcraftCode = Annotated[str, BeforeValidator(partial(_code, vendor=Vendor.ALTCRAFT))]
ImpactCode = Annotated[str, BeforeValidator(partial(_code, vendor=Vendor.IMPACT))]


def _impact_id(value: Any) -> str:
    # Its size is checked where it is kept (an SQLite INTEGER): the importer and the client
    # each refuse an id too large in their own words.
    text = lenient_text(value)
    if not text:
        raise ValueError("the id is empty")
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"Id must be a number, got {text[:40]!r}")
    return text


class AltcraftCodeRecord(BaseModel):
    """One Altcraft promo code: an `export_all` item or the `data` of `get`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    code: AltcraftCode
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
    profile_id: IdText = None

    @property
    def status(self) -> CodeStatus:
        # export_all sends only the dates (and omits them when unset); get sends flags too.
        return altcraft_status(
            attached=bool(self.is_attached or self.attached),
            activated=bool(self.is_activated or self.activated),
            expired=bool(self.is_expired or self.expired),
        )


# A vendor's field sent with one of these is unset (built once: a list or dict written in the
# test would be built again for every field of every code).
_UNSET_VALUES: tuple[Any, ...] = ("", None, [], {})


class ImpactPromoCodeRecord(BaseModel):
    """One impact.com promo-code object (brand API). Every value may arrive as a string."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    id: Annotated[str, BeforeValidator(_impact_id)] = Field(alias="Id")
    code: ImpactCode = Field(alias="Code")
    type: IdText = Field(default=None, alias="Type")
    credit_policy: IdText = Field(default=None, alias="CreditPolicy")
    campaign_id: IdText = Field(default=None, alias="CampaignId")
    campaign_name: NameText = Field(default=None, alias="CampaignName")
    partner_id: IdText = Field(default=None, alias="AssignedPartnerId")
    partner_name: NameText = Field(default=None, alias="AssignedPartnerName")
    created_date: UtcText = Field(default="", alias="CreatedDate")
    start_date: UtcText = Field(default="", alias="StartDate")
    end_date: UtcText = Field(default="", alias="EndDate")
    state: IdText = Field(default=None, alias="State")
    deal_id: IdText = Field(default=None, alias="DealId")
    deal_name: NameText = Field(default=None, alias="DealName")
    uri: IdText = Field(default=None, alias="Uri")

    @property
    def status(self) -> CodeStatus:
        return impact_status(self.state)

    def extra_fields(self) -> dict[str, Any]:
        """The vendor's fields promodesk has no column for (deal, discount, BOGO, ...), under
        the vendor's names, unset ones left out: kept for the details pane."""
        extra = self.__pydantic_extra__
        found = (
            {key: value for key, value in extra.items() if value not in _UNSET_VALUES}
            if extra
            else {}
        )
        if self.uri:
            found["Uri"] = self.uri
        return found
