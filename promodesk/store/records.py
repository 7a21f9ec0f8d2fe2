"""Vendor records as workspace rows: the tuples `store.writes` takes, in each record table's
column order (`RecordTable.columns`). Importers and syncs build rows here, so a field is read
the same way whichever path brought it."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Mapping, Sequence
from itertools import product
from operator import attrgetter
from typing import Any

from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
from promodesk.domain.vendors import altcraft_status, impact_status


def altcraft_row(record: AltcraftCodeRecord, loyalty_id: str) -> tuple[Any, ...]:
    # Read in one C call, the status looked up (it is `record.status`; the property and its
    # enum cost two fifths of the row, 0.02 s of a first sync of 100,000 codes).
    (
        code,
        created,
        attached,
        activated,
        expired,
        expire_date,
        is_attached,
        is_activated,
        is_expired,
        profile_id,
        database_id,
    ) = _altcraft_fields(record)
    status = _ALTCRAFT_STATUS_TEXT[
        (
            is_attached or attached != "",
            is_activated or activated != "",
            is_expired or expired != "",
        )
    ]
    return (
        loyalty_id,
        code,
        status,
        created,
        attached,
        activated,
        expired,
        expire_date,
        profile_id or "",
        database_id if database_id is not None else "",
    )


_altcraft_fields = attrgetter(
    "code",
    "created",
    "attached",
    "activated",
    "expired",
    "expire_date",
    "is_attached",
    "is_activated",
    "is_expired",
    "profile_id",
    "database_id",
)
# Altcraft's status text by (attached, activated, expired): the one rule, `altcraft_status`.
_ALTCRAFT_STATUS_TEXT = {
    (attached, activated, expired): altcraft_status(
        attached=attached, activated=activated, expired=expired
    ).value
    for attached, activated, expired in product((False, True), repeat=3)
}


# What an export_all item leaves out whatever it is (it sends a code's `attached` and
# `activated`, and those only when set), by its place in `altcraft_row`'s tuple.
_CREATED, _ATTACHED, _ACTIVATED, _EXPIRED, _EXPIRE_DATE, _PROFILE, _DATABASE = range(3, 10)
_ALTCRAFT_KEPT_CHUNK = 500  # codes looked up per statement (SQLite allows 32,766 values)


def altcraft_sent_in_full(record: AltcraftCodeRecord) -> bool:
    """A `get` answer, which sends every field set or not (an export_all item sends few)."""
    return "created" in record.model_fields_set


# The details export_all leaves out, as the workspace may know them (see keep_unsent_altcraft).
_EXPIRED_TEXT = _ALTCRAFT_STATUS_TEXT[(False, False, True)]
_ALTCRAFT_DETAILS = (
    "(created != '' OR expired != '' OR expire_date != '' OR profile_id != '' "
    f"OR status = '{_EXPIRED_TEXT}')"
)


def altcraft_details_known(conn: sqlite3.Connection, account_id: int) -> bool:
    """Whether any of the account's codes has what export_all leaves out (else there is
    nothing for `keep_unsent_altcraft` to look up)."""
    found = conn.execute(
        f"SELECT 1 FROM altcraft_codes WHERE account_id = ? AND {_ALTCRAFT_DETAILS} LIMIT 1",
        (account_id,),
    ).fetchone()
    return found is not None


def keep_unsent_altcraft(
    conn: sqlite3.Connection,
    account_id: int,
    rows: Sequence[tuple[Any, ...]],
    *,
    exported: Sequence[bool] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows of export_all items (`altcraft_row`'s, anything after it kept) completed with
    what the workspace knows of the same codes (from a `get`, an import of Altcraft's file)
    and export_all does not send: when the code was created, its expiry, and who holds it
    while it is still the same attachment. A Refresh must not blank them, nor show an expired
    code as available again; the status follows from the completed dates. `exported`: which
    of the rows are export_all items (default all; a `get` answer's row is left as it is)."""
    if exported is not None and len(exported) != len(rows):
        raise ValueError(f"{len(exported)} marks for {len(rows)} rows")
    by_program: dict[str, list[str]] = {}
    for number, (loyalty_id, code, *_rest) in enumerate(rows):
        if exported is None or exported[number]:
            by_program.setdefault(loyalty_id, []).append(code)
    known: dict[tuple[str, str], tuple[Any, ...]] = {}
    for loyalty_id, codes in by_program.items():
        for start in range(0, len(codes), _ALTCRAFT_KEPT_CHUNK):
            chunk = codes[start : start + _ALTCRAFT_KEPT_CHUNK]
            # (rows a sync wrote from an export know nothing more: not read)
            for code, *details in conn.execute(
                "SELECT code, status, created, attached, expired, expire_date, profile_id, "
                "database_id FROM altcraft_codes WHERE account_id = ? AND loyalty_id = ? AND "
                "code IN "
                f"({', '.join('?' * len(chunk))}) AND {_ALTCRAFT_DETAILS}",
                (account_id, loyalty_id, *chunk),
            ):
                known[loyalty_id, code] = tuple(details)
    if not known:
        return list(rows)
    completed: list[tuple[Any, ...]] = []
    for number, row in enumerate(rows):
        had = None if exported is not None and not exported[number] else known.get(row[:2])
        if had is None:
            completed.append(row)
            continue
        status, created, attached, expired, expire_date, profile_id, database_id = had
        values = list(row)
        values[_CREATED] = row[_CREATED] or created
        values[_EXPIRED] = row[_EXPIRED] or expired
        values[_EXPIRE_DATE] = row[_EXPIRE_DATE] or expire_date
        if not row[_PROFILE] and row[_ATTACHED] and row[_ATTACHED] == attached:
            values[_PROFILE], values[_DATABASE] = profile_id, database_id
        # (a `get` may say a code is expired by its flag alone, without a date)
        is_expired = values[_EXPIRED] != "" or status == _EXPIRED_TEXT
        values[2] = _ALTCRAFT_STATUS_TEXT[
            (values[_ATTACHED] != "", values[_ACTIVATED] != "", is_expired)
        ]
        completed.append(tuple(values))
    return completed


def impact_row(record: ImpactPromoCodeRecord) -> tuple[Any, ...]:
    # Read in one C call; the status is `record.status`, its text read without the enum's
    # `value` property (which cost as much as the rest of the fields together).
    (
        promo_code_id,
        code,
        state,
        campaign_id,
        campaign_name,
        partner_id,
        partner_name,
        credit_policy,
        code_type,
        created_date,
        start_date,
        end_date,
        deal_id,
        deal_name,
    ) = _impact_fields(record)
    return (
        int(promo_code_id),
        code,
        impact_status(state)._value_,
        campaign_id or "",
        campaign_name or "",
        partner_id or "",
        partner_name or "",
        credit_policy or "",
        code_type or "",
        created_date,
        start_date,
        end_date,
        deal_id or "",
        deal_name or "",
        details_json(record.extra_fields()),
    )


_impact_fields = attrgetter(
    "id",
    "code",
    "state",
    "campaign_id",
    "campaign_name",
    "partner_id",
    "partner_name",
    "credit_policy",
    "type",
    "created_date",
    "start_date",
    "end_date",
    "deal_id",
    "deal_name",
)


# One encoder for every row: json.dumps() with options builds a new encoder on every call,
# which was half the cost of turning a synced record into a row.
_DETAILS = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)
# JSONEncoder.encode() still builds its C encoder on every call: more than half of encoding a
# code's few details (0.9 of 1.5 us). The same C encoder, built once with _DETAILS's options
# (no cycle check: the details come from a vendor's JSON or XML, never cyclic). Absent when
# Python runs without json's C speed-ups.
_c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
_DETAILS_C = (
    _c_make_encoder(
        None,
        _DETAILS.default,
        json.encoder.encode_basestring,  # (ensure_ascii=False)
        _DETAILS.indent,
        _DETAILS.key_separator,
        _DETAILS.item_separator,
        _DETAILS.sort_keys,
        _DETAILS.skipkeys,
        _DETAILS.allow_nan,
    )
    if _c_make_encoder is not None
    else None
)


def details_json(details: Mapping[str, Any]) -> str:
    """The vendor's fields promodesk has no column for, kept for the details pane."""
    if not details:
        return "{}"
    if _DETAILS_C is not None and type(details) is dict:
        return "".join(_DETAILS_C(details, 0))
    return _DETAILS.encode(dict(details))


def optimove_promotion_row(
    *,
    promotion_id: str,
    name: str = "",
    code: str = "",
    description: str = "",
    state: str = "",
    ever_active: bool = False,
    created_at: str = "",
    updated_at: str = "",
    details: Mapping[str, Any] | None = None,
) -> tuple[Any, ...]:
    return (
        promotion_id,
        name,
        code,
        description,
        state,
        int(ever_active),
        created_at,
        updated_at,
        details_json(details or {}),
    )


def optimove_promocode_row(
    *,
    promocode_id: str,
    promotion_id: str = "",
    code_type: str = "",
    global_code: str = "",
    default_code: str = "",
    allocation_method: str = "",
    hidden: bool = False,
    campaigns: Sequence[str] = (),
    pool_size: int | None = None,
    available: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> tuple[Any, ...]:
    return (
        promocode_id,
        promotion_id,
        code_type,
        global_code,
        default_code,
        allocation_method,
        int(hidden),
        "hidden" if hidden else "shown",
        ", ".join(campaigns),
        pool_size,
        available,
        details_json(details or {}),
    )


def optimove_code_file_row(
    *,
    file_id: str,
    file_name: str = "",
    promocode_id: str = "",
    code_count: int | None = None,
    uploaded_at: str = "",
) -> tuple[Any, ...]:
    return (file_id, file_name, promocode_id, code_count, uploaded_at)


def fingerprint(item: Mapping[str, Any]) -> int:
    """A record as the vendor sent it, hashed (64 bits, signed to fit SQLite's INTEGER). Two
    syncs that get the same values in the same order get the same number: the second can skip
    validating and converting that record. Never 0 (the "not known" of rows written by other
    paths)."""
    # The values joined (not the tuple's repr, which quotes and escapes each): a fifth cheaper.
    # Vendors mostly send strings, which join as they are (map(str) would triple the cost).
    try:
        text = "\x1f".join(item.values())
    except TypeError:
        text = "\x1f".join(map(str, item.values()))
    data = text.encode()
    # CRC-32 (signed) above Adler-32: it only has to tell a code's last record from its next,
    # and CRC-32 catches every change within 4 adjacent bytes (a digit of a date, a state).
    # A hash object per record (blake2b, in earlier versions) cost 0.35 us more, a tenth of
    # a re-sync; rows they hashed are validated once more by their next sync.
    return ((_crc32(data) ^ 0x80000000) - 0x80000000) << 32 | _adler32(data) or 1


_crc32, _adler32 = zlib.crc32, zlib.adler32
