"""The OptiPromo contract promodesk uses, declared once (vendor-apis.md 1.9): the client calls
these paths and the sandbox fake serves them. The published reference names most operations
but hides their paths; rows marked "inferred" are our contract until a real tenant shows
otherwise, and then the fix is one row here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


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

    def url(self, **values: str) -> str:
        return self.path.format(**values)


_ENDPOINTS = (
    # Promotions
    Endpoint("create_promotion", "POST", "/v1/promotions", "doc", True),
    Endpoint("get_promotion", "GET", "/v1/promotions/{promotionId}", "inferred", True),
    Endpoint("set_metadata", "PATCH", "/v1/promotions/{promotionId}/metadata", "inferred", True),
    Endpoint(
        "set_properties", "PATCH", "/v1/promotions/{promotionId}/properties", "inferred", True
    ),
    Endpoint("set_tiers", "PATCH", "/v1/promotions/{promotionId}/promotionTiers", "doc", True),
    Endpoint(
        "set_budgets", "PATCH", "/v1/promotions/{promotionId}/publishingBudgets", "inferred", True
    ),
    Endpoint(
        "set_constraints",
        "PATCH",
        "/v1/promotions/{promotionId}/rewardConstraints",
        "inferred",
        True,
    ),
    Endpoint("activate", "PATCH", "/v1/promotions/{promotionId}/activate", "doc", True),
    Endpoint("deactivate", "PATCH", "/v1/promotions/{promotionId}/deactivate", "doc", True),
    Endpoint("archive", "DELETE", "/v1/promotions/{promotionId}", "doc", True),
    Endpoint("duplicate", "POST", "/v1/promotions/{promotionId}/duplicate", "inferred", True),
    Endpoint(
        "validate_promotion",
        "POST",
        "/v1/promotions/{promotionId}/validateCustomers",
        "inferred",
        True,
    ),
    Endpoint("promotion_transaction", "POST", "/v1/promotions/transactions", "inferred", False),
    # Promocodes
    Endpoint("create_promocode", "POST", "/v1/promocodes", "doc", True),
    Endpoint("get_promocode", "GET", "/v1/promocodes/{promocodeId}", "doc", True),
    Endpoint("assign", "PATCH", "/v1/promocodes/{promocodeId}/assign", "inferred", True),
    Endpoint("unassign", "PATCH", "/v1/promocodes/{promocodeId}/unassign", "inferred", True),
    Endpoint("hide", "PATCH", "/v1/promocodes/{promocodeId}/hide", "inferred", True),
    Endpoint("show", "PATCH", "/v1/promocodes/{promocodeId}/show", "inferred", True),
    Endpoint(
        "link_campaign", "PATCH", "/v1/promocodes/{promocodeId}/linkCampaign", "inferred", True
    ),
    Endpoint(
        "unlink_campaign", "PATCH", "/v1/promocodes/{promocodeId}/unlinkCampaign", "inferred", True
    ),
    Endpoint(
        "validate_customers", "POST", "/v1/promocodes/{promocodeId}/validateCustomers", "doc", True
    ),
    Endpoint("promocode_transaction", "POST", "/v1/promocodes/transactions", "inferred", False),
    Endpoint("upload_url", "GET", "/v1/promocodes/{promocodeId}/files/uploadUrl", "inferred", True),
    Endpoint("list_files", "GET", "/v1/promocodes/{promocodeId}/files", "inferred", True),
    Endpoint(
        "export_allocations",
        "GET",
        "/v1/promocodes/{promocodeId}/allocations/export",
        "inferred",
        True,
    ),
    # Legacy function-style API (vendor-apis.md 1.8)
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

# Unique-code files (vendor-apis.md 1.6).
MAX_CODE_FILE_BYTES = 10 * 1024 * 1024
# Legacy AddPromotions/DeletePromotions take at most this many items per call.
LEGACY_BATCH = 100
