"""The audit log: every change made through promodesk, with its outcome and what it wrote.

Promo-code values are never stored in it: they are hashed with a key kept in the workspace
(`meta.audit_salt`), so the same code always gives the same hash within a workspace (the
History view can still find "every change to this code") while the log, or a CSV of it, can be
shared without giving codes away. Secrets never reach it: the executor only hands it the
operation's inputs, which hold none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from promodesk.domain.values import now_utc_text

Outcome = Literal["ok", "failed", "unknown", "cancelled"]
HASH_PREFIX = "#"


def audit_salt(conn: sqlite3.Connection) -> bytes:
    row = conn.execute("SELECT value FROM meta WHERE key = 'audit_salt'").fetchone()
    if row is None:  # a workspace made before format 2 got its salt in the migration
        raise RuntimeError("the workspace has no audit key")
    return bytes.fromhex(str(row[0]))


def hash_code(salt: bytes, code: str) -> str:
    """'#' and 16 hex digits: enough to tell codes apart, not to recover one."""
    digest = hmac.new(salt, code.encode("utf-8"), hashlib.sha256).hexdigest()
    return HASH_PREFIX + digest[:16]


@dataclass(frozen=True)
class SearchKeys:
    """A search of the log's targets, as the log keeps them: the text's own hash (codes are
    only there hashed), and the impact.com ids of the codes the workspace knows by the text
    (impact.com's operations act on a promo code's id: their entries say "code 7000001",
    and a marketer looks for the code)."""

    hashed: str
    impact_ids: tuple[int, ...] = ()


IMPACT_CODE_TARGET = "code {}"
# Codes of one text at impact.com that a search also looks for by id (one per account at most
# in practice; a bound keeps a crafted text from making the query huge).
_MAX_IDS_PER_CODE = 50


def search_keys(conn: sqlite3.Connection, text: str) -> SearchKeys:
    text = text.strip()
    found = conn.execute(
        "SELECT DISTINCT promo_code_id FROM impact_codes WHERE code = ? LIMIT ?",
        (text, _MAX_IDS_PER_CODE),
    )
    return SearchKeys(hash_code(audit_salt(conn), text), tuple(int(i) for (i,) in found))


def target_terms(
    keys: SearchKeys, *, hash_param: str, id_param: str, column: str = "target"
) -> tuple[list[str], dict[str, Any]]:
    """SQL terms (to OR with the text's own) for `keys`, with named parameters: the hash
    anywhere in the target `column`; an impact.com code's id as the whole target."""
    terms = [f"{column} LIKE :{hash_param} ESCAPE '\\'"]
    params: dict[str, Any] = {hash_param: f"%{_escape(keys.hashed)}%"}
    for number, promo_code_id in enumerate(keys.impact_ids):
        name = f"{id_param}{number}"
        # The whole target, as impact.com's code operations write it (their Target's noun
        # and id: services.operations.impact.CODE); "Program ID 7000002" is not the code.
        terms.append(f"(vendor = 'impact' AND {column} = :{name})")
        params[name] = IMPACT_CODE_TARGET.format(promo_code_id)
    return terms, params


def hashed(salt: bytes, value: Any) -> Any:
    if isinstance(value, str):
        return hash_code(salt, value)
    if isinstance(value, list | tuple):
        return [hashed(salt, item) for item in value]
    return value


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    run_id: int | None
    vendor: str
    account: str
    operation: str
    target: str
    inputs: dict[str, Any]
    outcome: str
    message: str
    result: Any


def record(
    conn: sqlite3.Connection,
    *,
    run_id: int | None,
    account_id: int | None,
    vendor: str,
    account: str,
    operation: str,
    target: str,
    inputs: Mapping[str, Any],
    outcome: Outcome,
    message: str = "",
    result: Any = None,
) -> int:
    """One entry (inside the caller's transaction, with the write it describes). `inputs`
    and `target` must already have their code values hashed."""
    cursor = conn.execute(
        "INSERT INTO audit_log(at, run_id, account_id, vendor, account, operation, target, "
        "inputs, outcome, message, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            now_utc_text(),
            run_id,
            account_id,
            vendor,
            account,
            operation,
            target,
            json.dumps(dict(inputs), ensure_ascii=False, sort_keys=True, default=str),
            outcome,
            message,
            json.dumps(result if result is not None else {}, ensure_ascii=False, default=str),
        ),
    )
    assert cursor.lastrowid is not None
    return int(cursor.lastrowid)


@dataclass(frozen=True)
class AuditFilter:
    account: str = ""  # the account's name as it was when the change was made
    operation: str = ""
    target: str = ""  # a code (hashed before matching), an id, or part of one
    since: str = ""  # canonical UTC text, inclusive
    until: str = ""  # canonical UTC text, exclusive
    vendor: str = ""


def entries(
    conn: sqlite3.Connection, where: AuditFilter | None = None, *, newest_first: bool = True
) -> Iterator[AuditEntry]:
    """The log, filtered in SQL and streamed (it can hold years of changes)."""
    spec = where or AuditFilter()
    parts: list[str] = []
    params: dict[str, Any] = {}
    for column, value in (
        ("account", spec.account),
        ("operation", spec.operation),
        ("vendor", spec.vendor),
    ):
        if value:
            parts.append(f"{column} = :{column}")
            params[column] = value
    if spec.target:
        terms, found = target_terms(
            search_keys(conn, spec.target), hash_param="hashed", id_param="impact_id"
        )
        parts.append(f"(target LIKE :text ESCAPE '\\' OR {' OR '.join(terms)})")
        params |= found
        params["text"] = f"%{_escape(spec.target)}%"
    if spec.since:
        parts.append("at >= :since")
        params["since"] = spec.since
    if spec.until:
        parts.append("at < :until")
        params["until"] = spec.until
    sql = (
        "SELECT id, at, run_id, vendor, account, operation, target, inputs, outcome, message, "
        "result FROM audit_log"
    )
    if parts:
        sql += " WHERE " + " AND ".join(parts)
    sql += f" ORDER BY id {'DESC' if newest_first else 'ASC'}"
    for row in conn.execute(sql, params):
        yield AuditEntry(
            id=row[0],
            at=row[1],
            run_id=row[2],
            vendor=row[3],
            account=row[4],
            operation=row[5],
            target=row[6],
            inputs=json.loads(row[7] or "{}"),
            outcome=row[8],
            message=row[9],
            result=json.loads(row[10] or "{}"),
        )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


CSV_HEADER = (
    "time",
    "vendor",
    "account",
    "operation",
    "target",
    "outcome",
    "message",
    "inputs",
)


def csv_row(entry: AuditEntry) -> tuple[str, ...]:
    return (
        entry.at,
        entry.vendor,
        entry.account,
        entry.operation,
        entry.target,
        entry.outcome,
        entry.message,
        json.dumps(entry.inputs, ensure_ascii=False, sort_keys=True),
    )
