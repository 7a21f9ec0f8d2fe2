"""impact.com Advertiser (brand) API, promo codes (vendor-apis.md 3.5)."""

from __future__ import annotations

# Relative to the account's base URL; {sid} is the AccountSID.
COLLECTION = "/Advertisers/{sid}/PromoCodes"
ITEM = "/Advertisers/{sid}/PromoCodes/{id}"

CREDIT_POLICIES = ("ALWAYS", "INVOLVED", "WINNER")
MATCH_TYPES = ("LI", "RE")  # exact, regex
STATES = ("ACTIVE", "INACTIVE")
DEFAULT_PAGE_SIZE = 1000
# Strings are at most 255 UTF-8 characters (vendor-apis.md 3.1).
MAX_STRING = 255
