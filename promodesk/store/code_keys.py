"""`domain.codes.match_key` and `collision_key` as SQL expressions.

Most codes are plain ASCII: for them both keys are a few of SQLite's own string functions, in
C. The others go through the Python function itself, registered on the connection.

- collision key: exact. Any text with a character outside '!'..'~' (non-ASCII, a space, a
  control character) takes the Python path.
- match key: runs over every allocation of a reconciliation, so its test is the cheapest
  there is (more bytes than characters: non-ASCII). ASCII text is `lower(trim(x))`, which is
  `match_key` unless a tab, a line break or another control character is in the code (no one
  types those at a checkout; the code-file checker refuses them before upload).
"""

from __future__ import annotations

import sqlite3

from promodesk.domain.codes import ASCII_LOOKALIKES, collision_key, match_key

_MATCH_FUNCTION = "promodesk_match_key"
_COLLISION_FUNCTION = "promodesk_collision_key"


def register_key_functions(conn: sqlite3.Connection) -> None:
    """Make the functions the expressions below call known to `conn` (cheap; idempotent)."""
    conn.create_function(_MATCH_FUNCTION, 1, match_key, deterministic=True)
    conn.create_function(_COLLISION_FUNCTION, 1, collision_key, deterministic=True)


def _not_plain(expression: str) -> str:
    return (
        f"length({expression}) <> length(CAST({expression} AS BLOB)) "
        f"OR {expression} GLOB '*[^!-~]*'"
    )


def match_key_sql(expression: str) -> str:
    return (
        f"CASE WHEN length({expression}) = length(CAST({expression} AS BLOB)) "
        f"THEN lower(trim({expression})) ELSE {_MATCH_FUNCTION}({expression}) END"
    )


def collision_key_sql(expression: str) -> str:
    plain = f"lower({expression})"
    for character, replacement in ASCII_LOOKALIKES:
        plain = f"replace({plain}, '{character}', '{replacement}')"
    return (
        f"CASE WHEN {_not_plain(expression)} THEN {_COLLISION_FUNCTION}({expression}) "
        f"ELSE {plain} END"
    )
