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
# Integers are at most 16 digits (vendor-apis.md 3.1).
MAX_INTEGER_DIGITS = 16

# Pinned with the IR-Version header, so that an account-level upgrade does not change the
# answers under a running client (vendor-apis.md 1.10). Per account; this is the default.
DEFAULT_API_VERSION = 14

# The permission a scoped token needs for each operation (the first two are documented;
# the write ones follow the reference's operation titles, inferred).
SCOPES = {
    "list promo codes": "Retrieve promo codes",
    "get promo code": "Retrieve promo code",
    "create promo code": "Create promo code",
    "expire promo code": "Expire promo code",
}

# promodesk keeps ids as SQLite INTEGER: larger ones are refused with a message.
MAX_ID = 2**63 - 1
