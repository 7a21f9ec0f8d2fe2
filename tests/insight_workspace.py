"""A workspace whose Insights answers are known, written through the real importers and the
one writer (no SQL of the tests' own for the data):

- impact.com, source "Shop impact": run 1 imports codes IMP0000-IMP0009 (active); run 2, a
  refresh, finds IMP0003 inactive, IMP0010 new and IMP0008/IMP0009 gone. So between runs 1
  and 2 (and as the source's latest against the one before): 1 added, 1 changed state
  (active -> inactive), 2 removed.
- Optimove: allocations of two unique-code promocodes, by day, over the 14 days before today:
  pc-fast 10 a day with 50 codes left as Optimove said today (runs dry in 5 days: under the
  threshold of 14) and pc-slow 1 a day from a pool of 500. One pc-slow code is "imp0001",
  which is impact.com's IMP0001 but for the case: a collision at two vendors.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promodesk.domain.records import ImpactPromoCodeRecord
from promodesk.domain.values import CANONICAL_FORMAT
from promodesk.domain.vendors import Vendor
from promodesk.store.db import transaction
from promodesk.store.importers.base import ImportHints, SourceRef
from promodesk.store.importers.dispatch import import_file
from promodesk.store.records import impact_row, optimove_promocode_row
from promodesk.store.runs import start_run
from promodesk.store.writes import IMPACT_CODES, OPTIMOVE_PROMOCODES, Staging, upsert
from tests.helpers import impact_code, impact_page, new_workspace, write_allocations, write_json

SHOP = SourceRef(Vendor.IMPACT, key="acc-impact", name="Shop impact")
FAST_LEFT = 50
FAST_PER_DAY = 10
COLLIDING = "imp0001"


def now_text() -> str:
    return datetime.now(UTC).strftime(CANONICAL_FORMAT)


def allocations(promocode: str, per_day: int, days: int, *, first_code: str = "") -> list[Any]:
    today = datetime.now(UTC).date()
    rows = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        for n in range(per_day):
            code = f"{promocode.upper()}-{day:%m%d}-{n:02d}"
            if first_code and not rows:
                code = first_code
            rows.append(
                [
                    f"C-{promocode}-{day:%m%d}-{n}",
                    promocode,
                    "promo-1",
                    f"f-{promocode}",
                    code,
                    f"{day.isoformat()}T10:{n % 60:02d}:00Z",
                    "1",
                    "1",
                    "1",
                ]
            )
    return rows


def build_insight_workspace(folder: Path) -> Path:
    path, conn = new_workspace(folder, "Insights.promodesk", "Insights")
    try:
        import_file(
            conn,
            write_json(folder / "codes.json", impact_page([impact_code(n) for n in range(10)])),
            hints=ImportHints(source=SHOP),
        )
        account = conn.execute("SELECT id FROM accounts WHERE key = 'acc-impact'").fetchone()[0]
        with transaction(conn):
            run = start_run(conn, "sync", account_id=account)
            staging = Staging(conn, IMPACT_CODES, account)
            staging.add(
                [
                    impact_row(
                        ImpactPromoCodeRecord.model_validate(
                            impact_code(n, State="INACTIVE" if n == 3 else "ACTIVE")
                        )
                    )
                    for n in (*range(8), 10)
                ]
            )
            staging.write(run_id=run, as_of=now_text(), gone_scope={})
            conn.execute("UPDATE runs SET status = 'done' WHERE id = ?", (run,))
        rows = allocations("pc-fast", FAST_PER_DAY, 14) + allocations(
            "pc-slow", 1, 14, first_code=COLLIDING
        )
        import_file(
            conn,
            write_allocations(folder / "allocations.csv", rows),
            hints=ImportHints(as_of=now_text()),
        )
        optimove = conn.execute("SELECT id FROM accounts WHERE vendor = 'optimove'").fetchone()[0]
        with transaction(conn):
            run = start_run(conn, "sync", account_id=optimove)
            upsert(
                conn,
                OPTIMOVE_PROMOCODES,
                optimove,
                [
                    optimove_promocode_row(
                        promocode_id="pc-fast",
                        promotion_id="promo-1",
                        code_type="unique",
                        default_code="FALLBACK10",
                        pool_size=1_000,
                        available=FAST_LEFT,
                    ),
                    optimove_promocode_row(
                        promocode_id="pc-slow",
                        promotion_id="promo-1",
                        code_type="unique",
                        pool_size=500,
                    ),
                ],
                run_id=run,
                as_of=now_text(),
            )
    finally:
        conn.close()
    from promodesk.services.reports import prepare

    assert prepare(path) == 0  # the inventory (collisions read it) and the indexes, built
    return path
