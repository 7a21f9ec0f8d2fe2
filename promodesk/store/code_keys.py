"""`domain.codes.match_key` and `collision_key` as SQL expressions.

Most codes are plain printable ASCII: for them both keys are a few of SQLite's own string
functions, in C. The others (a non-ASCII letter, a space, an invisible character: more bytes
than characters, or a character outside '!'..'~') go through the Python function itself,
registered on the connection, so the two sides can never disagree.
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
        f"CASE WHEN {_not_plain(expression)} THEN {_MATCH_FUNCTION}({expression}) "
        f"ELSE lower({expression}) END"
    )


def collision_key_sql(expression: str) -> str:
    plain = f"lower({expression})"
    for character, replacement in ASCII_LOOKALIKES:
        plain = f"replace({plain}, '{character}', '{replacement}')"
    return (
        f"CASE WHEN {_not_plain(expression)} THEN {_COLLISION_FUNCTION}({expression}) "
        f"ELSE {plain} END"
    )
