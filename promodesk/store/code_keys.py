"""`domain.codes.match_key` and `collision_key` as SQL expressions.

Most codes are plain ASCII: for them both keys are a few of SQLite's own string functions, in
C. The others go through the Python function itself, registered on the connection.

- collision key: exact. Any text with a character outside '!'..'~' (non-ASCII, a space, a
  control character) takes the Python path.
- match key: its test is the cheapest there is (more bytes than characters: non-ASCII).
  ASCII text is `lower(trim(x))`, which is `match_key` unless a tab, a line break or another
  control character is in the code (no one types those at a checkout; the code-file checker
  refuses them before upload).

An allocation's match key is what reconciliation looks it up by, through an index: its
`code_key` column holds it where only Python can work it out (a code with a non-ASCII
character, a few at most), and is NULL elsewhere, where SQL works it out from the code
(`allocation_key_sql`). So importing a million ASCII codes stores nothing more, and the index
(on that expression) holds every key.
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
        f"CASE WHEN {needs_python_sql(expression)} THEN {python_match_key_sql(expression)} "
        f"ELSE lower(trim({expression})) END"
    )


def needs_python_sql(expression: str) -> str:
    """True for text whose match key only Python works out (a non-ASCII character)."""
    return f"length({expression}) <> length(CAST({expression} AS BLOB))"


def python_match_key_sql(expression: str) -> str:
    """The match key by the Python function (for the text `needs_python_sql` picks)."""
    return f"{_MATCH_FUNCTION}({expression})"


def allocation_key_sql(alias: str = "") -> str:
    """An allocation's match key: stored, or worked out in SQL (see the module's docstring).
    Built-in functions only, so an index on it needs nothing registered on the connection.
    (A query's expression must be this one for SQLite to use that index.)"""
    table = f"{alias}." if alias else ""
    return f"coalesce({table}code_key, lower(trim({table}unique_code)))"


def collision_key_sql(expression: str) -> str:
    plain = f"lower({expression})"
    for character, replacement in ASCII_LOOKALIKES:
        plain = f"replace({plain}, '{character}', '{replacement}')"
    return (
        f"CASE WHEN {_not_plain(expression)} THEN {_COLLISION_FUNCTION}({expression}) "
        f"ELSE {plain} END"
    )
