"""Each vendor's rules for code files and code lists (vendor-apis.md 1.6, 2.x, 3.1/3.5).

codefiles sits beside vendors/ and may not import it, so the few numbers the checker needs are
kept here, each with where it comes from. When a vendor's documentation changes, change it here
and in the vendor's client together.
"""

from __future__ import annotations

from dataclasses import dataclass

from promodesk.domain.vendors import Vendor


@dataclass(frozen=True)
class CodeRules:
    vendor: Vendor
    # Longest code the vendor takes, in characters.
    max_code_length: int
    # The vendor refuses a file bigger than this (bytes as uploaded); None: codes are sent
    # through the API, not as a file, so there is no file cap.
    max_file_bytes: int | None
    # Where the numbers come from, for messages and reviewers.
    source: str
    # Code lists are one code per line; a header row would be taken for a code.
    header_allowed: bool = False

    @property
    def name(self) -> str:
        return self.vendor.display_name


# 10 MB as the UI guide states it. Whether Optimove means 10,000,000 or 10 x 1,048,576 bytes is
# not documented, so files are kept under the smaller (promodesk's client and fake use 10 MiB).
OPTIMOVE_MAX_FILE_BYTES = 10_000_000

RULES: dict[Vendor, CodeRules] = {
    Vendor.OPTIMOVE: CodeRules(
        Vendor.OPTIMOVE,
        # No length limit is documented; 255 is the usual string-column limit (impact.com's).
        max_code_length=255,
        max_file_bytes=OPTIMOVE_MAX_FILE_BYTES,
        source="unique-code files: CSV, one column, no header, at most 10 MB (Optimove UI "
        "guide); code length not documented (255 assumed)",
    ),
    Vendor.ALTCRAFT: CodeRules(
        Vendor.ALTCRAFT,
        # Altcraft documents neither a length limit nor a list size: codes go into a loyalty
        # program through the import API (JSON arrays, sent in batches by the client). 255 is
        # the conservative string limit, and there is no file to cap.
        max_code_length=255,
        max_file_bytes=None,
        source="codes are imported through the API; no length limit documented (255 assumed)",
    ),
    Vendor.IMPACT: CodeRules(
        Vendor.IMPACT,
        # "Strings: 255 UTF-8 characters" (vendor-apis.md 3.1); codes are created one by one.
        max_code_length=255,
        max_file_bytes=None,
        source="strings are at most 255 UTF-8 characters (impact.com API reference)",
    ),
}


def rules_for(vendor: Vendor | str) -> CodeRules:
    return RULES[Vendor(vendor)]
