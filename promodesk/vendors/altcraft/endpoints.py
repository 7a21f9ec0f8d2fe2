"""Altcraft promo-code API v1.1 (vendor-apis.md 2.2): every call is a POST to one of these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Method:
    name: str
    path: str
    idempotent: bool


_METHODS = (
    # Importing a code twice counts it as "duplicated", never stores it twice.
    Method("import", "/api/v1.1/promocodes/import", True),
    Method("get", "/api/v1.1/promocodes/get", True),
    Method("activate", "/api/v1.1/promocodes/activate", True),
    Method("update", "/api/v1.1/promocodes/update", True),
    # Attaching the same code twice is an error for personal codes and a second attachment
    # for universal ones: the client looks before repeating.
    Method("attach", "/api/v1.1/promocodes/attach", False),
    Method("detach", "/api/v1.1/promocodes/detach", False),
    Method("export_all", "/api/v1.1/promocodes/export_all", True),
)

METHODS: dict[str, Method] = {method.name: method for method in _METHODS}
# How attach and detach find the profile. "email" looks at the profile's email and its email
# subscriptions, "email_profile" at the profile's email field only (both take `email`). When
# `matching` is left out, Altcraft matches by email (the Russian attach page).
MATCHING = ("profile_id", "email", "email_profile", "phone", "custom")
DEFAULT_MATCHING = "email"

# Envelope error codes (vendor-apis.md 2.1): 0 success, 400 bad request, 401 token required,
# 402 tariff limit, 403 "No ..." (access). 404 for a missing code or program is our contract.
SUCCESS = 0
