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


_DISPLAY_NAMES = {
    Vendor.OPTIMOVE: "Optimove",
    Vendor.ALTCRAFT: "Altcraft",
    Vendor.IMPACT: "impact.com",
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
