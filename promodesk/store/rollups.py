"""Counts shown beside promotions, programs and files, kept in step with the rows below them.

Recomputed from the rows inside the same transaction that changed them, so a count never
disagrees with what the code table shows. One grouped scan per vendor and account.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from promodesk.domain.vendors import CodeStatus


def count_new_allocations(conn: sqlite3.Connection, after_id: int) -> None:
    """Add allocations with id > after_id to the per-promocode/file counts, in one grouped
    pass over them."""
    _add_allocation_counts(
        conn,
        conn.execute(
            "SELECT account_id, promocode_id, file_id, max(promotion_id), count(*) "
            "FROM optimove_allocations WHERE id > ? GROUP BY account_id, promocode_id, file_id",
            (after_id,),
        ).fetchall(),
    )


def add_tallied_allocations(
    conn: sqlite3.Connection, account_id: int, tally: Mapping[tuple[str, str, str], int]
) -> None:
    """Add allocations counted while they were read, by (promocode, file, promotion), to the
    counts: what count_new_allocations() would find, without sorting the rows again."""
    groups: dict[tuple[str, str], list[Any]] = {}
    for (promocode_id, file_id, promotion_id), count in tally.items():
        group = groups.setdefault((promocode_id, file_id), [promotion_id, 0])
        group[0] = max(group[0], promotion_id)
        group[1] += count
    _add_allocation_counts(
        conn,
        [
            (account_id, promocode_id, file_id, promotion_id, count)
            for (promocode_id, file_id), (promotion_id, count) in groups.items()
        ],
    )


def _add_allocation_counts(conn: sqlite3.Connection, groups: Iterable[Sequence[Any]]) -> None:
    """groups: (account_id, promocode_id, file_id, promotion_id, allocations)."""
    conn.executemany(
        "INSERT INTO optimove_allocation_counts(account_id, promocode_id, file_id, promotion_id, "
        "allocations) VALUES (?, ?, ?, ?, ?) ON CONFLICT(account_id, promocode_id, file_id) "
        "DO UPDATE SET allocations = allocations + excluded.allocations",
        groups,
    )


def refresh_optimove(conn: sqlite3.Connection, account_id: int) -> None:
    allocations: dict[tuple[str, str], int] = {}
    promotion_of: dict[str, str] = {}
    for promocode_id, file_id, promotion_id, count in conn.execute(
        "SELECT promocode_id, file_id, promotion_id, allocations FROM optimove_allocation_counts "
        "WHERE account_id = ?",
        (account_id,),
    ):
        allocations[(promocode_id, file_id)] = count
        promotion_of[promocode_id] = promotion_id

    # Anything named by an allocation is known to exist, even with no name yet.
    conn.executemany(
        "INSERT OR IGNORE INTO optimove_code_files(account_id, file_id, promocode_id) "
        "VALUES (?, ?, ?)",
        [(account_id, file_id, promocode_id) for promocode_id, file_id in allocations if file_id],
    )
    conn.executemany(
        "INSERT INTO optimove_promocodes(account_id, promocode_id, promotion_id, code_type) "
        "VALUES (?, ?, ?, 'unique') ON CONFLICT(account_id, promocode_id) DO UPDATE SET "
        "promotion_id = CASE WHEN promotion_id = '' THEN excluded.promotion_id "
        "ELSE promotion_id END, "
        "code_type = CASE WHEN code_type = '' THEN 'unique' ELSE code_type END",
        [
            (account_id, promocode_id, promotion_id)
            for promocode_id, promotion_id in promotion_of.items()
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO optimove_promotions(account_id, promotion_id) VALUES (?, ?)",
        [(account_id, promotion_id) for promotion_id in set(promotion_of.values()) if promotion_id],
    )

    per_file: dict[str, int] = defaultdict(int)
    per_promocode: dict[str, int] = defaultdict(int)
    for (promocode_id, file_id), count in allocations.items():
        per_file[file_id] += count
        per_promocode[promocode_id] += count
    conn.execute(
        "UPDATE optimove_code_files SET allocation_count = 0 WHERE account_id = ?", (account_id,)
    )
    conn.executemany(
        "UPDATE optimove_code_files SET allocation_count = ? WHERE account_id = ? AND file_id = ?",
        [(count, account_id, file_id) for file_id, count in per_file.items()],
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
        "UPDATE optimove_promocodes SET allocation_count = 0 WHERE account_id = ?", (account_id,)
    )
    conn.executemany(
        "UPDATE optimove_promocodes SET allocation_count = ? "
        "WHERE account_id = ? AND promocode_id = ?",
        [(count, account_id, promocode_id) for promocode_id, count in per_promocode.items()],
    )
    conn.execute(
        "UPDATE optimove_promocodes SET file_count = (SELECT count(*) FROM optimove_code_files f "
        "WHERE f.account_id = optimove_promocodes.account_id "
        "AND f.promocode_id = optimove_promocodes.promocode_id) WHERE account_id = ?",
        (account_id,),
    )
    conn.execute(
        "UPDATE optimove_promotions SET "
        "promocode_count = (SELECT count(*) FROM optimove_promocodes c "
        "WHERE c.account_id = optimove_promotions.account_id "
        "AND c.promotion_id = optimove_promotions.promotion_id), "
        "allocation_count = (SELECT coalesce(sum(allocation_count), 0) FROM optimove_promocodes c "
        "WHERE c.account_id = optimove_promotions.account_id "
        "AND c.promotion_id = optimove_promotions.promotion_id) "
        "WHERE account_id = ?",
        (account_id,),
    )


def refresh_altcraft(conn: sqlite3.Connection, account_id: int) -> None:
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
                sum(by_status.values()),
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


def refresh_impact(conn: sqlite3.Connection, account_id: int) -> None:
    rows = conn.execute(
        "SELECT campaign_id, max(campaign_name), count(*), "
        "sum(status = ?), count(DISTINCT nullif(partner_id, '')) "
        "FROM impact_codes WHERE account_id = ? GROUP BY campaign_id",
        (CodeStatus.ACTIVE.value, account_id),
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
