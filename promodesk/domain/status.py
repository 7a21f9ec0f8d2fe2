"""One status model for the codes of every vendor, and the one table that maps to it.

Each vendor has its own words for where a code is in its life. promodesk shows them side by
side on one scale:

    available -> allocated (attached, assigned) -> used (activated) -> expired (hidden,
    inactive), plus gone (the vendor no longer has it)

`STATUS_RULES` says, for every state a workspace table can hold, which of these it is and why,
in words a details pane can show. The inventory (store/inventory.py) builds its SQL from this
table, so the mapping lives here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from promodesk.domain.vendors import CodeStatus, Vendor


class Status(StrEnum):
    """Where a code is in its life, whichever vendor holds it."""

    AVAILABLE = "available"
    ALLOCATED = "allocated"
    USED = "used"
    EXPIRED = "expired"
    GONE = "gone"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def live(self) -> bool:
        """Still a code a customer can type and get something for (or soon will)."""
        return self in (Status.AVAILABLE, Status.ALLOCATED, Status.USED)


_LABELS = {
    Status.AVAILABLE: "Available",
    Status.ALLOCATED: "Allocated / attached",
    Status.USED: "Activated / used",
    Status.EXPIRED: "Expired / hidden / inactive",
    Status.GONE: "Gone",
}

# The lifecycle order (for showing counts and charts in a sensible order).
LIFECYCLE: tuple[Status, ...] = tuple(Status)


@dataclass(frozen=True)
class StatusRule:
    vendor: Vendor
    table: str  # the workspace table holding the code
    state: str  # the state stored there (the vendor's word, or promodesk's for Optimove)
    status: Status
    reason: str  # why, in a marketer's words

    @property
    def text(self) -> str:
        return f"{self.vendor.display_name} '{self.state}' -> {self.status.label}: {self.reason}"


# Stored states that promodesk derives rather than reads from a state column: every
# allocation row is a code given to a customer; every code of a local file is waiting to be
# uploaded.
ALLOCATED_STATE = "allocated"
NOT_UPLOADED_STATE = "not uploaded"
# An Optimove promocode or legacy promotion imported from a file, whose state nobody told us.
UNKNOWN_STATE = ""

_GONE_REASON = "a refresh found that the vendor no longer has it"


def _rules() -> dict[tuple[Vendor, str, str], StatusRule]:
    rules: list[StatusRule] = []

    def add(vendor: Vendor, table: str, state: str, status: Status, reason: str) -> None:
        rules.append(StatusRule(vendor, table, state, status, reason))

    optimove, altcraft, impact = Vendor.OPTIMOVE, Vendor.ALTCRAFT, Vendor.IMPACT
    add(
        optimove,
        "optimove_allocations",
        ALLOCATED_STATE,
        Status.ALLOCATED,
        "Optimove gave this unique code to the customer (an allocation)",
    )
    add(
        optimove,
        "optimove_pool_codes",
        NOT_UPLOADED_STATE,
        Status.AVAILABLE,
        "in a local code file that is not uploaded to Optimove yet: nobody has it",
    )
    for state, status, reason in (
        ("shown", Status.AVAILABLE, "the promocode is shown: Optimove hands the code out"),
        ("hidden", Status.EXPIRED, "the promocode is hidden: Optimove no longer hands it out"),
        (
            UNKNOWN_STATE,
            Status.AVAILABLE,
            "known from an export only (not refreshed from Optimove): taken as still handed out",
        ),
        (CodeStatus.GONE.value, Status.GONE, _GONE_REASON),
    ):
        add(optimove, "optimove_promocodes", state, status, reason)
    add(
        optimove,
        "optimove_legacy_promotions",
        "listed",
        Status.AVAILABLE,
        "listed by Optimove's legacy promotions API: customers can use it",
    )
    add(optimove, "optimove_legacy_promotions", CodeStatus.GONE.value, Status.GONE, _GONE_REASON)
    for state, status, reason in (
        (CodeStatus.AVAILABLE, Status.AVAILABLE, "in the loyalty program, attached to nobody"),
        (CodeStatus.ATTACHED, Status.ALLOCATED, "attached to a customer profile, not used yet"),
        (CodeStatus.ACTIVATED, Status.USED, "activated: the customer used it"),
        (CodeStatus.EXPIRED, Status.EXPIRED, "expired: customers can no longer use it"),
        (CodeStatus.GONE, Status.GONE, _GONE_REASON),
    ):
        add(altcraft, "altcraft_codes", state.value, status, reason)
    for state, status, reason in (
        (
            CodeStatus.ACTIVE,
            Status.ALLOCATED,
            "ACTIVE: assigned to a partner, whose customers can use it",
        ),
        (
            CodeStatus.INACTIVE,
            Status.EXPIRED,
            "INACTIVE: expired at impact.com, customers can no longer use it",
        ),
        (CodeStatus.GONE, Status.GONE, _GONE_REASON),
    ):
        add(impact, "impact_codes", state.value, status, reason)
    return {(rule.vendor, rule.table, rule.state): rule for rule in rules}


STATUS_RULES: dict[tuple[Vendor, str, str], StatusRule] = _rules()

# A state the table above does not name (a vendor added one): shown as the vendor said it,
# counted as available until the mapping learns it.
FALLBACK_STATUS = Status.AVAILABLE


def status_rule(vendor: Vendor, table: str, state: str) -> StatusRule:
    """Which status a stored state is, and why (for a state nobody mapped: say so)."""
    rule = STATUS_RULES.get((vendor, table, state))
    if rule is not None:
        return rule
    return StatusRule(
        vendor,
        table,
        state,
        FALLBACK_STATUS,
        f"promodesk does not know the {vendor.display_name} state '{state}': taken as available",
    )


def rules_for(vendor: Vendor, table: str) -> list[StatusRule]:
    return [rule for (v, t, _), rule in STATUS_RULES.items() if (v, t) == (vendor, table)]
