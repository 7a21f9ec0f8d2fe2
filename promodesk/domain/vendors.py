"""The three vendors promodesk speaks to, and the unified code status model."""

from __future__ import annotations

from enum import StrEnum


class Vendor(StrEnum):
    OPTIMOVE = "optimove"
    ALTCRAFT = "altcraft"
    IMPACT = "impact"

    @property
    def display_name(self) -> str:
        return _DISPLAY_NAMES[self]

    @property
    def max_code_length(self) -> int:
        """The longest promo code promodesk accepts from this vendor (files and answers)."""
        return _MAX_CODE_LENGTHS[self]


_DISPLAY_NAMES = {
    Vendor.OPTIMOVE: "Optimove",
    Vendor.ALTCRAFT: "Altcraft",
    Vendor.IMPACT: "impact.com",
}
# impact.com documents 255 characters for every string. Optimove and Altcraft document no
# limit for codes; theirs are a few dozen characters, so the same bound is generous and keeps
# a hostile file from putting a 100 MB "code" in a table cell.
_MAX_CODE_LENGTHS = {
    Vendor.OPTIMOVE: 255,
    Vendor.ALTCRAFT: 255,
    Vendor.IMPACT: 255,
}


class CodeStatus(StrEnum):
    """One lifecycle for codes from all three vendors.

    available -> allocated/attached -> activated -> expired/inactive
    """

    AVAILABLE = "available"
    ALLOCATED = "allocated"  # Optimove: given to a customer
    ATTACHED = "attached"  # Altcraft: attached to a profile
    ACTIVATED = "activated"  # Altcraft: activated (used)
    EXPIRED = "expired"  # Altcraft: past its expiry
    ACTIVE = "active"  # impact.com: ACTIVE
    INACTIVE = "inactive"  # impact.com: expired through the API (kept as INACTIVE)
    GONE = "gone"  # a sync found that the vendor no longer has it


def altcraft_status(*, attached: bool, activated: bool, expired: bool) -> CodeStatus:
    """Altcraft sends three flags; the most advanced one wins."""
    if expired:
        return CodeStatus.EXPIRED
    if activated:
        return CodeStatus.ACTIVATED
    if attached:
        return CodeStatus.ATTACHED
    return CodeStatus.AVAILABLE


def impact_status(state: str | None) -> CodeStatus:
    return CodeStatus.INACTIVE if (state or "").upper() == "INACTIVE" else CodeStatus.ACTIVE
