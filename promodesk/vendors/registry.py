"""Per-vendor descriptions: what an account needs, the vendor's limits, how to make a client.

The accounts dialog builds its forms from `fields`; the services make clients with
`make_client`; the sandbox serves `make_fake`. Nothing vendor-specific lives elsewhere in the
shell.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from promodesk.domain.vendors import Vendor
from promodesk.vendors.http import PROBE_TIMEOUT, RateLimit


class VendorClient(Protocol):
    vendor: str

    async def ping(self, *, within: float = PROBE_TIMEOUT) -> None:
        """Test connection: one try, a verdict within `within` seconds; raises VendorError
        unless the vendor's API answered (a web page or another site is not)."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: Literal["text", "url", "int", "choice", "zone"] = "text"  # zone: an IANA time zone
    required: bool = True
    secret: bool = False
    placeholder: str = ""
    choices: tuple[str, ...] = ()
    help: str = ""
    default: str = ""  # what an empty optional field means (the client uses it)


@dataclass(frozen=True)
class VendorInfo:
    vendor: Vendor
    fields: tuple[Field, ...]
    rate_limit: RateLimit | None
    sandbox_settings: Mapping[str, str]
    sandbox_secret: str
    # (settings, secret, transport or None, **client options) -> client; the options (retry
    # policy, rate limit, ...) are the client's `connect` keywords, for tests and benchmarks.
    make_client: Callable[..., VendorClient]
    make_fake: Callable[[], Any]

    @property
    def secret_field(self) -> Field:
        return next(field for field in self.fields if field.secret)


def _optimove(
    settings: Mapping[str, str],
    secret: str,
    transport: httpx.AsyncBaseTransport | None,
    **options: Any,
) -> VendorClient:
    from promodesk.vendors.optimove.client import OptimoveClient

    return OptimoveClient.connect(
        settings["base_url"],
        secret,
        legacy_base_url=settings.get("legacy_base_url") or None,
        transport=transport,
        **options,
    )


def _altcraft(
    settings: Mapping[str, str],
    secret: str,
    transport: httpx.AsyncBaseTransport | None,
    **options: Any,
) -> VendorClient:
    from promodesk.vendors.altcraft.client import AltcraftClient

    db = settings.get("db_id")
    return AltcraftClient.connect(
        settings["base_url"],
        secret,
        int(settings["loyalty_id"]),
        db_id=int(db) if db else None,
        response_format=settings.get("response_format") or "json",
        transport=transport,
        **options,
    )


def _impact(
    settings: Mapping[str, str],
    secret: str,
    transport: httpx.AsyncBaseTransport | None,
    **options: Any,
) -> VendorClient:
    from promodesk.vendors.impact.client import ImpactClient
    from promodesk.vendors.impact.endpoints import DEFAULT_API_VERSION

    return ImpactClient.connect(
        settings["base_url"],
        settings["account_sid"],
        secret,
        response_format=settings.get("response_format") or "json",
        api_version=int(settings.get("api_version") or DEFAULT_API_VERSION),
        transport=transport,
        **options,
    )


def _fake_optimove() -> Any:
    from promodesk.vendors.optimove.fake import FakeOptimove

    return FakeOptimove()


def _fake_altcraft() -> Any:
    from promodesk.vendors.altcraft.fake import FakeAltcraft

    return FakeAltcraft()


def _fake_impact() -> Any:
    from promodesk.vendors.impact.fake import FakeImpact

    return FakeImpact()


# Every vendor runs its own clock: dates can be shown in it (View ▸ Dates), and a date-only
# expiry takes effect at midnight there.
_TIME_ZONE = Field(
    "time_zone",
    "Time zone",
    "zone",
    required=False,
    placeholder="e.g. Europe/Berlin",
    default="UTC",
    help="The time zone this vendor account runs on, as an IANA name (Europe/Berlin, "
    "America/New_York...). Dates can be shown in it, and an expiry given without a time "
    "takes effect at midnight there. Empty: UTC.",
)

# The sandbox credentials are public on purpose (printed by `promodesk sandbox serve`).
SANDBOX_CREDENTIALS = {
    Vendor.OPTIMOVE: {"api_key": "sandbox-optimove-key"},
    Vendor.ALTCRAFT: {"token": "sandbox-altcraft-token", "loyalty_id": "5", "db_id": "1"},
    Vendor.IMPACT: {
        "account_sid": "IRsandbox0000000000000000000000000",
        "auth_token": "sandbox-impact-token",
    },
}

VENDORS: dict[Vendor, VendorInfo] = {
    Vendor.OPTIMOVE: VendorInfo(
        Vendor.OPTIMOVE,
        fields=(
            Field(
                "base_url",
                "API base URL",
                "url",
                placeholder="https://…",
                help="The OptiPromo API address of your tenant (Optimove gives it to you).",
            ),
            Field(
                "tenant",
                "Tenant",
                required=False,
                placeholder="e.g. acme-prod",
                help="Your Optimove tenant name, to tell accounts apart (not sent to Optimove).",
            ),
            Field(
                "legacy_base_url",
                "Legacy API base URL",
                "url",
                required=False,
                placeholder="https://api4.optimove.net",
                help="Only for the older GetPromoCodes/AddPromotions functions.",
            ),
            _TIME_ZONE,
            Field(
                "api_key", "API key", secret=True, help="Settings ▸ API Key Management in Optimove."
            ),
        ),
        rate_limit=RateLimit(50, 10.0),
        sandbox_settings={"base_url": "http://optimove.sandbox"},
        sandbox_secret=SANDBOX_CREDENTIALS[Vendor.OPTIMOVE]["api_key"],
        make_client=_optimove,
        make_fake=_fake_optimove,
    ),
    Vendor.ALTCRAFT: VendorInfo(
        Vendor.ALTCRAFT,
        fields=(
            Field(
                "base_url",
                "API base URL",
                "url",
                placeholder="https://ru.altkraft.com",
                help="Your Altcraft host (cloud or on-premises).",
            ),
            Field("loyalty_id", "Loyalty program ID", "int", placeholder="5"),
            Field(
                "db_id",
                "Database ID",
                "int",
                required=False,
                placeholder="1",
                help="Needed to attach codes to profiles.",
            ),
            Field("response_format", "Answers in", "choice", choices=("json", "xml")),
            _TIME_ZONE,
            Field(
                "token",
                "API token",
                secret=True,
                help="Settings ▸ Tokens in Altcraft (a master user makes them).",
            ),
        ),
        rate_limit=RateLimit(20, 1.0),
        sandbox_settings={
            "base_url": "http://altcraft.sandbox",
            "loyalty_id": "5",
            "db_id": "1",
            "response_format": "json",
        },
        sandbox_secret=SANDBOX_CREDENTIALS[Vendor.ALTCRAFT]["token"],
        make_client=_altcraft,
        make_fake=_fake_altcraft,
    ),
    Vendor.IMPACT: VendorInfo(
        Vendor.IMPACT,
        fields=(
            Field("base_url", "API base URL", "url", placeholder="https://api.impact.com"),
            Field("account_sid", "Account SID", placeholder="IR…"),
            Field("response_format", "Answers in", "choice", choices=("json", "xml")),
            Field(
                "api_version",
                "API version",
                "int",
                required=False,
                placeholder="14",
                default="14",
                help="The impact.com API version promodesk asks for, so that answers do not "
                "change when your account is upgraded. Keep 14 unless impact.com says otherwise.",
            ),
            _TIME_ZONE,
            Field(
                "auth_token",
                "Auth token",
                secret=True,
                help="Settings ▸ API in impact.com (read/write pair).",
            ),
        ),
        rate_limit=RateLimit(1000, 3600.0),
        sandbox_settings={
            "base_url": "http://impact.sandbox",
            "account_sid": SANDBOX_CREDENTIALS[Vendor.IMPACT]["account_sid"],
            "response_format": "json",
        },
        sandbox_secret=SANDBOX_CREDENTIALS[Vendor.IMPACT]["auth_token"],
        make_client=_impact,
        make_fake=_fake_impact,
    ),
}
