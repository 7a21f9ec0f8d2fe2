"""The OptiPromo contract promodesk uses, declared once (vendor-apis.md 1.9, revised by 1.10):
the client calls these paths and the sandbox fake serves them. The published reference names
most operations but hides their paths; rows marked "inferred" are our contract until a real
tenant shows otherwise, and then the fix is one row here.

The two transactions take `{"commands": [...]}`, applied all or nothing. Their command shapes
are ours too (the reference only says "an array of objects"): one command per change the
PATCH rows make, declared in PROMOTION_COMMANDS and PROMOCODE_COMMANDS below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    source: Literal["doc", "inferred"]
    # Safe to send again after an unknown outcome (a read, a state set to a value, or a
    # create carrying a client-chosen id that turns a repeat into a 409).
    idempotent: bool
    legacy: bool = False  # the older function-style API (its own base URL)
    body: str = ""  # what is sent and answered, in words (documentation only)

    def url(self, **values: str) -> str:
        # Path values are percent-encoded: a promo code may hold "/", "?", "#" or "%".
        return self.path.format(**{key: quote(value, safe="") for key, value in values.items()})


_ENDPOINTS = (
    # Promotions
    Endpoint(
        "create_promotion",
        "POST",
        "/v1/promotions",
        "doc",
        True,
        body="{promotionId?, name, code, description?} -> {promotionId}",
    ),
    Endpoint("get_promotion", "GET", "/v1/promotions/{promotionId}", "inferred", True),
    Endpoint(
        "set_metadata",
        "PATCH",
        "/v1/promotions/{promotionId}/metadata",
        "inferred",
        True,
        body="{name?, description?}",
    ),
    Endpoint(
        "set_properties",
        "PATCH",
        "/v1/promotions/{promotionId}/properties",
        "inferred",
        True,
        body="{properties: {..}}",
    ),
    Endpoint(
        "set_tiers",
        "PATCH",
        "/v1/promotions/{promotionId}/promotionTiers",
        "doc",
        True,
        body="[tier, ...] (the fake also takes {promotionTiers: [...]}); 409 once ever active",
    ),
    Endpoint(
        "set_budgets",
        "PATCH",
        "/v1/promotions/{promotionId}/publishingBudgets",
        "inferred",
        True,
        body="{audienceCap?: {limit, timeframe}, rewardBudget?: {amount?, count?}}",
    ),
    Endpoint(
        "set_constraints",
        "PATCH",
        "/v1/promotions/{promotionId}/rewardConstraints",
        "inferred",
        True,
        body="{constraints: [{rewardType, period, limit}]}",
    ),
    Endpoint("activate", "PATCH", "/v1/promotions/{promotionId}/activate", "doc", True),
    Endpoint("deactivate", "PATCH", "/v1/promotions/{promotionId}/deactivate", "doc", True),
    Endpoint("archive", "DELETE", "/v1/promotions/{promotionId}", "doc", True),
    Endpoint(
        "duplicate",
        "POST",
        "/v1/promotions/{promotionId}/duplicate",
        "inferred",
        True,
        body="{code, promotionId?} (the copy's new code; its id) -> {promotionId}",
    ),
    # "The promotion is identified by its PromoCode" (promotionquery_validatepromocode).
    Endpoint(
        "validate_promotion",
        "POST",
        "/v1/promotions/{promoCode}/validateCustomers",
        "inferred",
        True,
        body="{contexts: [{customerId, properties?}], campaignData?} -> "
        "{promotionId, contexts|customers: [{customerId, effects: [{tier, reward}]}]}",
    ),
    Endpoint(
        "promotion_transaction",
        "POST",
        "/v1/promotions/{promotionId}/transaction",
        "inferred",
        False,
        body="{commands: [PROMOTION_COMMANDS ...]}, all or nothing",
    ),
    # Promocodes
    Endpoint(
        "create_promocode",
        "POST",
        "/v1/promocodes",
        "doc",
        True,
        body='query promocodeId=<id>; JSON body "<promotionId>" (a plain string), or no body '
        "when unassigned -> {promocodeId}. Type and codes are then set by transaction commands",
    ),
    Endpoint("get_promocode", "GET", "/v1/promocodes/{promocodeId}", "doc", True),
    Endpoint(
        "assign",
        "PATCH",
        "/v1/promocodes/{promocodeId}/assign",
        "inferred",
        True,
        body="{promotionId}",
    ),
    Endpoint("unassign", "PATCH", "/v1/promocodes/{promocodeId}/unassign", "inferred", True),
    Endpoint("hide", "PATCH", "/v1/promocodes/{promocodeId}/hide", "inferred", True),
    Endpoint("show", "PATCH", "/v1/promocodes/{promocodeId}/show", "inferred", True),
    Endpoint(
        "link_campaign",
        "PATCH",
        "/v1/promocodes/{promocodeId}/linkCampaign",
        "inferred",
        True,
        body="{campaignId}",
    ),
    Endpoint(
        "unlink_campaign",
        "PATCH",
        "/v1/promocodes/{promocodeId}/unlinkCampaign",
        "inferred",
        True,
        body="{campaignId}",
    ),
    Endpoint(
        "validate_customers",
        "POST",
        "/v1/promocodes/{promocodeId}/validateCustomers",
        "doc",
        True,
        body="{contexts, campaignData} -> {promocodeId, contexts|customers: [...]}",
    ),
    Endpoint(
        "promocode_transaction",
        "POST",
        "/v1/promocodes/{promocodeId}/transaction",
        "inferred",
        False,
        body="{commands: [PROMOCODE_COMMANDS ...]}, all or nothing",
    ),
    Endpoint(
        "upload_url",
        "GET",
        "/v1/promocodes/{promocodeId}/files/uploadUrl",
        "inferred",
        True,
        body="?fileName= -> {fileId, uploadUrl}; then PUT the CSV to uploadUrl",
    ),
    Endpoint("list_files", "GET", "/v1/promocodes/{promocodeId}/files", "inferred", True),
    Endpoint(
        "export_allocations",
        "GET",
        "/v1/promocodes/{promocodeId}/allocations/export",
        "inferred",
        True,
        body="[?fileId=] -> text/csv, the nine columns, streamed",
    ),
    # Legacy function-style API (vendor-apis.md 1.8), under the account's legacy base URL.
    Endpoint("get_promo_codes", "GET", "/current/actions/GetPromoCodes", "doc", True, legacy=True),
    Endpoint(
        "get_promo_codes_by_campaign",
        "GET",
        "/current/actions/GetPromoCodesByCampaign",
        "doc",
        True,
        legacy=True,
    ),
    Endpoint(
        "get_promo_codes_by_target_group",
        "GET",
        "/current/actions/GetPromoCodesByTargetGroup",
        "doc",
        True,
        legacy=True,
    ),
    Endpoint(
        "get_promotions", "GET", "/current/integrations/GetPromotions", "doc", True, legacy=True
    ),
    # AddPromotions overwrites an existing code's name: repeating it changes nothing.
    Endpoint(
        "add_promotions", "POST", "/current/integrations/AddPromotions", "doc", True, legacy=True
    ),
    Endpoint(
        "delete_promotions",
        "POST",
        "/current/integrations/DeletePromotions",
        "doc",
        True,
        legacy=True,
    ),
)

ENDPOINTS: dict[str, Endpoint] = {endpoint.name: endpoint for endpoint in _ENDPOINTS}


@dataclass(frozen=True)
class Command:
    """One command of a transaction: `{"command": name, **fields}`, standing for the PATCH
    row `replaces` (the fake applies both with the same rules)."""

    name: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    replaces: str = ""

    def build(self, **fields: Any) -> dict[str, Any]:
        """The command as sent, its fields checked (ValueError names what is wrong)."""
        problems = self.problems(fields)
        if problems:
            raise ValueError(f"{self.name}: " + "; ".join(problems))
        return {"command": self.name, **{k: v for k, v in fields.items() if v is not None}}

    def problems(self, fields: Mapping[str, Any]) -> list[str]:
        known = set(self.required) | set(self.optional) | {"command"}
        missing = [name for name in self.required if fields.get(name) is None]
        unknown = sorted(set(fields) - known)
        return [f"{name} is required" for name in missing] + [
            f"{name} is not a field of this command" for name in unknown
        ]


def _commands(*commands: Command) -> dict[str, Command]:
    return {command.name: command for command in commands}


# POST /v1/promotions/{promotionId}/transaction (inferred): the promotion's PATCHes.
PROMOTION_COMMANDS = _commands(
    Command("setMetadata", (), ("name", "description"), "set_metadata"),
    Command("setProperties", ("properties",), (), "set_properties"),
    Command("setPromotionTiers", ("promotionTiers",), (), "set_tiers"),
    Command("setPublishingBudgets", (), ("audienceCap", "rewardBudget"), "set_budgets"),
    Command("setRewardConstraints", ("constraints",), (), "set_constraints"),
    Command("activate", replaces="activate"),
    Command("deactivate", replaces="deactivate"),
)

# POST /v1/promocodes/{promocodeId}/transaction (inferred): the settings a create leaves to
# commands ("Set promocode type" is API-only with no endpoint of its own), and the PATCHes.
PROMOCODE_COMMANDS = _commands(
    Command("setType", ("type",)),  # "global" | "unique"
    Command("setGlobalCode", ("code",)),  # the code customers type (global only)
    Command("setDefaultCode", ("defaultCode",)),  # unique only: used when the pool runs dry
    Command("setAllocationMethod", ("allocationMethod",)),  # "Consistent" | "Varying"
    Command("assign", ("promotionId",), replaces="assign"),
    Command("unassign", replaces="unassign"),
    Command("hide", replaces="hide"),
    Command("show", replaces="show"),
    Command("linkCampaign", ("campaignId",), replaces="link_campaign"),
    Command("unlinkCampaign", ("campaignId",), replaces="unlink_campaign"),
)

PROMOCODE_TYPES = ("global", "unique")
ALLOCATION_METHODS = ("Consistent", "Varying")  # as the guide capitalises them


def allocation_method(value: str) -> str:
    """'consistent', 'VARYING' ... -> the canonical spelling; ValueError for anything else."""
    for method in ALLOCATION_METHODS:
        if value.strip().lower() == method.lower():
            return method
    raise ValueError(f"the allocation method must be {' or '.join(ALLOCATION_METHODS)}")


# The legacy API's base as users type it: the host, maybe with the version segment the docs
# and old clients put before <area>/<Function> ("/current", "/v3.0"). promodesk adds
# "/current" itself (the documented current form), so a typed one is taken off.
_LEGACY_VERSION = re.compile(r"/(?:current|v\d+(?:\.\d+)*)$", re.IGNORECASE)


def legacy_base_url(url: str) -> str:
    base = url.strip().rstrip("/")
    return _LEGACY_VERSION.sub("", base).rstrip("/")


# Unique-code files (vendor-apis.md 1.6).
MAX_CODE_FILE_BYTES = 10 * 1024 * 1024
# Legacy AddPromotions/DeletePromotions take at most this many items per call.
LEGACY_BATCH = 100
