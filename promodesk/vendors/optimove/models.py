"""OptiPromo wire models: what the API answers, validated, tolerant of what the docs leave open
(field names beyond promotionId/promocodeId are our contract, see endpoints.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Promotion(_Wire):
    promotion_id: str = Field(alias="promotionId", min_length=1)
    name: str = ""
    # "Promotion Code: the identifier of the promotion in your promotion system" (not a code
    # customers type; those belong to promocodes).
    code: str = ""
    description: str = ""
    state: str = ""
    ever_active: bool = Field(default=False, alias="everActive")
    tiers: list[dict[str, Any]] = Field(default_factory=list, alias="promotionTiers")
    properties: dict[str, Any] = Field(default_factory=dict)
    created_at: str = Field(default="", alias="createdAt")
    updated_at: str = Field(default="", alias="updatedAt")


class CodeFile(_Wire):
    file_id: str = Field(alias="fileId", min_length=1)
    file_name: str = Field(default="", alias="fileName")
    codes: int = 0
    allocated: int = 0
    uploaded_at: str = Field(default="", alias="uploadedAt")


class Promocode(_Wire):
    """A promocode. `promocode_id` is its id in the API; `code` is what customers type (a
    global promocode's shared code; None for unique ones, whose codes come from files). The
    two are never the same field, even when they look alike."""

    promocode_id: str = Field(alias="promocodeId", min_length=1)
    promotion_id: str | None = Field(default=None, alias="promotionId")
    type: str | None = None  # "global" | "unique"; None until set by a transaction command
    code: str | None = None
    default_code: str | None = Field(default=None, alias="defaultCode")
    allocation_method: str | None = Field(default=None, alias="allocationMethod")
    hidden: bool = False
    campaigns: list[str] = Field(default_factory=list)
    files: list[CodeFile] = Field(default_factory=list)
    pool_size: int | None = Field(default=None, alias="poolSize")
    available: int | None = None
    allocated: int | None = None


class UploadSlot(_Wire):
    file_id: str = Field(alias="fileId", min_length=1)
    upload_url: str = Field(alias="uploadUrl", min_length=1)


class Created(_Wire):
    promotion_id: str | None = Field(default=None, alias="promotionId")
    promocode_id: str | None = Field(default=None, alias="promocodeId")


class Effect(_Wire):
    """What a customer gets: the tier chosen and its reward."""

    tier_id: str | None = Field(default=None, alias="tierId")
    tier: Any = None
    reward: Any = None


class CustomerResult(_Wire):
    customer_id: str = Field(alias="customerId")
    eligible: bool = True
    code: str | None = None
    effects: list[Effect] = Field(default_factory=list)


class Validation(_Wire):
    """A validate answer. The reference describes it as "a list of contexts with effects" and,
    in newer wording, "a list of customers with reward allocations": both are read, and
    `results` is whichever came."""

    promotion_id: str | None = Field(default=None, alias="promotionId")
    promocode_id: str | None = Field(default=None, alias="promocodeId")
    contexts: list[CustomerResult] = Field(default_factory=list)
    customers: list[CustomerResult] = Field(default_factory=list)

    @property
    def results(self) -> list[CustomerResult]:
        return self.contexts or self.customers


class LegacyPromoCode(_Wire):
    promo_code: str = Field(alias="PromoCode")
    action_id: int | None = Field(default=None, alias="ActionID")
    recipient_group_id: int | None = Field(default=None, alias="RecipientGroupID")
    target_group_id: int | None = Field(default=None, alias="TargetGroupID")


class LegacyPromotion(_Wire):
    promo_code: str = Field(alias="PromoCode")
    promotion_name: str = Field(default="", alias="PromotionName")
