"""Counts shown beside promotions, promocodes, files and programs.

Record writes adjust them by what they wrote (`store.writes`); allocations, which arrive a
million at a time through the bulk path, are tallied by (promocode, file) as they stream in and
added here per group. The full recounts at the end are for whole-workspace jobs only (a merge),
whose cost is the rows they copy anyway.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from promodesk.domain.vendors import CodeStatus, Vendor

GONE = CodeStatus.GONE.value
# (promocode_id, file_id, promotion_id) -> allocations
Tally = Mapping[tuple[str, str, str], int]


def tally_new_allocations(
    conn: sqlite3.Connection, account_id: int, after_id: int
) -> list[tuple[str, str, str, int]]:
    """Allocations with id > after_id, grouped: (promocode, file, promotion, count)."""
    return [
        (str(promocode), str(file_id), str(promotion), int(count))
        for promocode, file_id, promotion, count in conn.execute(
            "SELECT promocode_id, file_id, max(promotion_id), count(*) FROM optimove_allocations "
            "WHERE id > ? AND account_id = ? GROUP BY promocode_id, file_id",
            (after_id, account_id),
        )
    ]


def tally_groups(tally: Tally) -> list[tuple[str, str, str, int]]:
    """A tally counted while reading, by (promocode, file, promotion), as groups."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for (promocode_id, file_id, promotion_id), count in tally.items():
        group = groups.setdefault((promocode_id, file_id), [promotion_id, 0])
        group[0] = max(group[0], promotion_id)
        group[1] += count
    return [
        (promocode_id, file_id, promotion_id, count)
        for (promocode_id, file_id), (promotion_id, count) in groups.items()
    ]


def add_allocation_counts(
    conn: sqlite3.Connection,
    account_id: int,
    groups: Sequence[tuple[str, str, str, int]],
    *,
    run_id: int,
) -> None:
    """Add (or with negative counts, take off) allocations per promocode and file, and carry
    them to the promocode, its file and its promotion. Anything an allocation names is known
    to exist, so missing promocodes, files and promotions are created (as added by `run_id`)."""
    conn.executemany(
        "INSERT INTO optimove_allocation_counts(account_id, promocode_id, file_id, promotion_id, "
        "allocations) VALUES (?, ?, ?, ?, ?) ON CONFLICT(account_id, promocode_id, file_id) "
        "DO UPDATE SET allocations = allocations + excluded.allocations",
        [(account_id, *group) for group in groups],
    )
    per_promocode: dict[str, int] = defaultdict(int)
    per_file: dict[str, int] = defaultdict(int)
    per_promotion: dict[str, int] = defaultdict(int)
    promotion_of: dict[str, str] = {}
    promocode_of_file: dict[str, str] = {}
    for promocode_id, file_id, promotion_id, count in groups:
        per_promocode[promocode_id] += count
        promotion_of[promocode_id] = max(promotion_of.get(promocode_id, ""), promotion_id)
        if file_id:
            per_file[file_id] += count
            promocode_of_file[file_id] = promocode_id
    for promocode_id, count in per_promocode.items():
        promotion_id = promotion_of[promocode_id]
        created = conn.execute(
            "INSERT OR IGNORE INTO optimove_promocodes(account_id, promocode_id, promotion_id, "
            "code_type, added_run) VALUES (?, ?, ?, 'unique', ?)",
            (account_id, promocode_id, promotion_id, run_id),
        ).rowcount
        if created and promotion_id:
            _ensure_promotion(conn, account_id, promotion_id, run_id)
            conn.execute(
                "UPDATE optimove_promotions SET promocode_count = promocode_count + 1 "
                "WHERE account_id = ? AND promotion_id = ?",
                (account_id, promotion_id),
            )
        row = conn.execute(
            "UPDATE optimove_promocodes SET allocation_count = allocation_count + ?, "
            "code_type = CASE WHEN code_type = '' THEN 'unique' ELSE code_type END "
            "WHERE account_id = ? AND promocode_id = ? RETURNING promotion_id",
            (count, account_id, promocode_id),
        ).fetchone()
        owner = str(row[0]) if row else ""
        if owner:
            per_promotion[owner] += count
    for file_id, count in per_file.items():
        promocode_id = promocode_of_file[file_id]
        created = conn.execute(
            "INSERT OR IGNORE INTO optimove_code_files(account_id, file_id, promocode_id, "
            "added_run) VALUES (?, ?, ?, ?)",
            (account_id, file_id, promocode_id, run_id),
        ).rowcount
        if created:
            conn.execute(
                "UPDATE optimove_promocodes SET file_count = file_count + 1 "
                "WHERE account_id = ? AND promocode_id = ?",
                (account_id, promocode_id),
            )
        conn.execute(
            "UPDATE optimove_code_files SET allocation_count = allocation_count + ? "
            "WHERE account_id = ? AND file_id = ?",
            (count, account_id, file_id),
        )
    for promotion_id, count in per_promotion.items():
        conn.execute(
            "UPDATE optimove_promotions SET allocation_count = allocation_count + ? "
            "WHERE account_id = ? AND promotion_id = ?",
            (count, account_id, promotion_id),
        )


def _ensure_promotion(
    conn: sqlite3.Connection, account_id: int, promotion_id: str, run_id: int
) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO optimove_promotions(account_id, promotion_id, added_run) "
        "VALUES (?, ?, ?)",
        (account_id, promotion_id, run_id),
    )


# -- full recounts (whole-workspace jobs only) -------------------------------------------------


def recount(conn: sqlite3.Connection, vendor: Vendor, account_id: int) -> None:
    {
        Vendor.OPTIMOVE: _recount_optimove,
        Vendor.ALTCRAFT: _recount_altcraft,
        Vendor.IMPACT: _recount_impact,
    }[vendor](conn, account_id)


def _recount_optimove(conn: sqlite3.Connection, account_id: int) -> None:
    conn.execute("DELETE FROM optimove_allocation_counts WHERE account_id = ?", (account_id,))
    conn.execute(
        "INSERT INTO optimove_allocation_counts(account_id, promocode_id, file_id, promotion_id, "
        "allocations) SELECT account_id, promocode_id, file_id, max(promotion_id), count(*) "
        "FROM optimove_allocations WHERE account_id = ? GROUP BY promocode_id, file_id",
        (account_id,),
    )
    conn.execute(
        "INSERT OR IGNORE INTO optimove_code_files(account_id, file_id, promocode_id) "
        "SELECT account_id, file_id, promocode_id FROM optimove_allocation_counts "
        "WHERE account_id = ? AND file_id != ''",
        (account_id,),
    )
    conn.execute(
        "INSERT OR IGNORE INTO optimove_promocodes(account_id, promocode_id, promotion_id, "
        "code_type) SELECT account_id, promocode_id, max(promotion_id), 'unique' FROM "
        "optimove_allocation_counts WHERE account_id = ? GROUP BY promocode_id",
        (account_id,),
    )
    conn.execute(
        "INSERT OR IGNORE INTO optimove_promotions(account_id, promotion_id) SELECT DISTINCT "
        "account_id, promotion_id FROM optimove_promocodes WHERE account_id = ? "
        "AND promotion_id != ''",
        (account_id,),
    )
    conn.execute(
        "UPDATE optimove_code_files SET allocation_count = coalesce((SELECT sum(allocations) "
        "FROM optimove_allocation_counts a WHERE a.account_id = optimove_code_files.account_id "
        "AND a.file_id = optimove_code_files.file_id), 0) WHERE account_id = ?",
        (account_id,),
    )
    conn.execute(
        "UPDATE optimove_code_files SET code_count = (SELECT count(*) FROM optimove_pool_codes p "
        "WHERE p.account_id = optimove_code_files.account_id "
        "AND p.file_id = optimove_code_files.file_id) "
        "WHERE account_id = ? AND file_id IN (SELECT DISTINCT file_id FROM optimove_pool_codes "
        "WHERE account_id = ?)",
        (account_id, account_id),
    )
    conn.execute(
        "UPDATE optimove_promocodes SET allocation_count = coalesce((SELECT sum(allocations) "
        "FROM optimove_allocation_counts a WHERE a.account_id = optimove_promocodes.account_id "
        "AND a.promocode_id = optimove_promocodes.promocode_id), 0), "
        "file_count = (SELECT count(*) FROM optimove_code_files f "
        "WHERE f.account_id = optimove_promocodes.account_id "
        "AND f.promocode_id = optimove_promocodes.promocode_id AND f.gone_run = 0) "
        "WHERE account_id = ?",
        (account_id,),
    )
    conn.execute(
        "UPDATE optimove_promotions SET "
        "promocode_count = (SELECT count(*) FROM optimove_promocodes c "
        "WHERE c.account_id = optimove_promotions.account_id "
        "AND c.promotion_id = optimove_promotions.promotion_id AND c.state != ?), "
        "allocation_count = (SELECT coalesce(sum(allocation_count), 0) FROM optimove_promocodes c "
        "WHERE c.account_id = optimove_promotions.account_id "
        "AND c.promotion_id = optimove_promotions.promotion_id) "
        "WHERE account_id = ?",
        (GONE, account_id),
    )


def _recount_altcraft(conn: sqlite3.Connection, account_id: int) -> None:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for loyalty_id, status, count in conn.execute(
        "SELECT loyalty_id, status, count(*) FROM altcraft_codes WHERE account_id = ? "
        "GROUP BY loyalty_id, status",
        (account_id,),
    ):
        counts[loyalty_id][status] = count
    conn.executemany(
        "INSERT OR IGNORE INTO altcraft_programs(account_id, loyalty_id) VALUES (?, ?)",
        [(account_id, loyalty_id) for loyalty_id in counts],
    )
    conn.execute(
        "UPDATE altcraft_programs SET code_count = 0, available_count = 0, attached_count = 0, "
        "activated_count = 0, expired_count = 0 WHERE account_id = ?",
        (account_id,),
    )
    conn.executemany(
        "UPDATE altcraft_programs SET code_count = ?, available_count = ?, attached_count = ?, "
        "activated_count = ?, expired_count = ? WHERE account_id = ? AND loyalty_id = ?",
        [
            (
                sum(count for status, count in by_status.items() if status != GONE),
                by_status[CodeStatus.AVAILABLE],
                by_status[CodeStatus.ATTACHED],
                by_status[CodeStatus.ACTIVATED],
                by_status[CodeStatus.EXPIRED],
                account_id,
                loyalty_id,
            )
            for loyalty_id, by_status in counts.items()
        ],
    )


def _recount_impact(conn: sqlite3.Connection, account_id: int) -> None:
    conn.execute("DELETE FROM impact_program_partners WHERE account_id = ?", (account_id,))
    conn.execute(
        "INSERT INTO impact_program_partners(account_id, campaign_id, partner_id, codes) "
        "SELECT account_id, campaign_id, partner_id, count(*) FROM impact_codes "
        "WHERE account_id = ? AND partner_id != '' AND status != ? "
        "GROUP BY campaign_id, partner_id",
        (account_id, GONE),
    )
    rows = conn.execute(
        "SELECT campaign_id, max(campaign_name), sum(status != ?), "
        "sum(status = ?), count(DISTINCT CASE WHEN status != ? THEN nullif(partner_id, '') END) "
        "FROM impact_codes WHERE account_id = ? GROUP BY campaign_id",
        (GONE, CodeStatus.ACTIVE.value, GONE, account_id),
    ).fetchall()
    conn.execute(
        "UPDATE impact_programs SET code_count = 0, active_count = 0, partner_count = 0 "
        "WHERE account_id = ?",
        (account_id,),
    )
    conn.executemany(
        "INSERT INTO impact_programs(account_id, campaign_id, name, code_count, active_count, "
        "partner_count) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(account_id, campaign_id) DO UPDATE "
        "SET name = CASE WHEN excluded.name != '' THEN excluded.name ELSE name END, "
        "code_count = excluded.code_count, active_count = excluded.active_count, "
        "partner_count = excluded.partner_count",
        [
            (account_id, campaign_id, name or "", total, active, partners)
            for campaign_id, name, total, active, partners in rows
        ],
    )


def recount_all(conn: sqlite3.Connection, accounts: Iterable[tuple[Vendor, int]]) -> None:
    for vendor, account_id in accounts:
        recount(conn, vendor, account_id)
