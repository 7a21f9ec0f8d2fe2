"""What the checker can find in a code file, and what the fixed file does about each."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import NamedTuple


class ProblemKind(StrEnum):
    """The value is the stable name used in `--json` output and the rejects file."""

    # The file as a whole (reported on the first line they concern).
    UNREADABLE = "unreadable"  # missing, a folder, no permission
    BINARY = "binary"  # a workbook, an archive, NUL bytes: not text
    NO_CODES = "no_codes"  # empty, or only blank lines
    ENCODING = "encoding"  # not UTF-8 (converted), or bytes no encoding explains (refused)
    BOM = "bom"  # a byte order mark at the start
    CRLF = "crlf"  # Windows (CR LF) or old Mac (CR) line breaks
    OVER_CAP = "over_cap"  # bigger than the vendor takes in one file (the fix splits it)
    # One line.
    HEADER = "header"
    EMPTY_LINE = "empty_line"
    WHITESPACE = "whitespace"
    INVISIBLE = "invisible"
    QUOTED = "quoted"
    EXTRA_COLUMNS = "extra_columns"
    TOO_LONG = "too_long"
    SCIENTIFIC_NOTATION = "scientific_notation"
    LEADING_ZEROS_LOST = "leading_zeros_lost"
    URL_UNSAFE = "url_unsafe"
    LOOKALIKE = "lookalike"
    DUPLICATE = "duplicate"
    CASE_DUPLICATE = "case_duplicate"
    IN_WORKSPACE = "in_workspace"


# Kinds that make a file unusable as input: nothing else is checked.
UNUSABLE = frozenset({ProblemKind.UNREADABLE, ProblemKind.BINARY})


class Effect(IntEnum):
    """What the fixed file does with the line (or file) a problem is on."""

    REPAIRED = 0  # the code is kept, cleaned (trimmed, unquoted, converted, split...)
    DROPPED = 1  # not a code (an empty line): left out, not listed as a reject
    REFUSED = 2  # left out of the fixed file and listed in the rejects file


class Problem(NamedTuple):
    """A tuple, so that a million of them are cheap to make and go to SQLite as they are."""

    line: int  # counting from 1
    kind: ProblemKind
    detail: str  # in a marketer's words
    code: str = ""  # the line as read (without its line break)
    effect: Effect = Effect.REFUSED

    def as_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "code": self.code,
            "kind": self.kind.value,
            "detail": self.detail,
        }
