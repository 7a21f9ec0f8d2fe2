#!/usr/bin/env python3
"""All codes over 3,000,000 codes of three vendors, at the store level: what the All codes tab
will ask of the workspace (the window-level benchmark comes with the view).

    .venv/bin/python bench/inventory.py [--codes N] [--repeat R]

The workspace is made once (bench/out): bench's 1,000,000-row Optimove allocation export
imported, and 1,000,000 Altcraft and 1,000,000 impact.com codes written through the one
writer as syncs write them, then the background builder run as the app runs it (feeding the
inventory, building sort and search indexes). Each measurement runs in a fresh process with
a read-only connection, through the same `RowQuery`/`Pager` the table model uses, a page of
200 rows:
- open: the count and the first page;
- sort: the first page sorted by each sortable column, both ways, and the last page;
- filter: each status and each vendor (count and first page), and a vendor with a status;
- search: part of a code, a whole code, a customer id prefix;
- baseline: a first page of a plain 3,000,000-row table with one index, in the same run.
Target (issue 12): each <= 100 ms in the window (the store's share is what is measured here).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from common import ALPHABET, OUT, allocation_export, emit, median, run_child

MEASURE = """
import statistics, time
from pathlib import Path
from promodesk.store.db import connect
from promodesk.store.query import Pager, RowQuery
from promodesk.store.tables import CODE_INVENTORY as SPEC
conn = connect(Path(sys.argv[1]), readonly=True)
search_code, customer = sys.argv[2], sys.argv[3]
PAGE = 200
timings = {}
def measure(name, query, *, last=False):
    start = time.perf_counter()
    pager = Pager(query)
    total = pager.count(conn)
    rows = pager.fetch(conn, max(0, total - PAGE) if last else 0, PAGE)
    timings[name] = round((time.perf_counter() - start) * 1000, 2)
    return total, rows
total, _ = measure('open', RowQuery(SPEC))
for column in SPEC.columns:
    if column.sortable and column.name != 'id':
        for descending in (False, True):
            measure(f"sort {column.name}{' desc' if descending else ''}",
                    RowQuery(SPEC, sort=column.name, descending=descending))
measure('scroll to the end', RowQuery(SPEC), last=True)
for status in ('available', 'allocated', 'used', 'expired', 'gone'):
    measure(f'filter status={status}', RowQuery(SPEC, equals=(('status', status),)))
for vendor in ('optimove', 'altcraft', 'impact'):
    measure(f'filter vendor={vendor}', RowQuery(SPEC, equals=(('vendor', vendor),)))
measure('filter altcraft used, by expiry', RowQuery(
    SPEC, equals=(('vendor', 'altcraft'), ('status', 'used')), sort='expires_at'))
measure('filter given in one week', RowQuery(SPEC).between(
    'given_at', '2026-10-01T00:00:00Z', '2026-10-08T00:00:00Z'))
found, _ = measure('search part of a code', RowQuery(SPEC, search=search_code[2:6]))
exact, _ = measure('search a whole code', RowQuery(SPEC, search=search_code))
prefix, _ = measure('search a customer id prefix', RowQuery(SPEC, search=customer[:5]))
result = {'codes': total, 'timings_ms': timings, 'found': [found, exact, prefix]}
"""

BASELINE = """
import sqlite3, time
conn = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True)
start = time.perf_counter()
conn.execute('SELECT count(*) FROM t').fetchone()
conn.execute('SELECT * FROM t ORDER BY code, id LIMIT 200').fetchall()
result = {'ms': round((time.perf_counter() - start) * 1000, 2)}
"""


def _codes(rng: random.Random, count: int, prefix: str) -> list[str]:
    return [prefix + "".join(rng.choices(ALPHABET, k=10)) for _ in range(count)]


def workspace_with(codes_per_vendor: int) -> tuple[Path, dict[str, float]]:
    """The workspace (made once) and what making it took."""
    from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
    from promodesk.domain.vendors import Vendor
    from promodesk.store.db import connect, transaction
    from promodesk.store.importers.base import ensure_account
    from promodesk.store.importers.dispatch import import_file
    from promodesk.store.indexer import build_indexes
    from promodesk.store.records import altcraft_row, impact_row
    from promodesk.store.runs import start_run
    from promodesk.store.workspace import create_workspace
    from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, Staging

    path = OUT / f"inventory_{codes_per_vendor}.promodesk"
    timing = path.with_suffix(".timings")
    if path.exists() and timing.exists():
        import json

        return path, json.loads(timing.read_text())
    rng = random.Random(codes_per_vendor)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=OUT) as folder:
        building = Path(folder) / path.name
        create_workspace(building, label="bench")
        conn = connect(building)
        start = time.perf_counter()
        import_file(conn, allocation_export(codes_per_vendor))
        timings["import_optimove_seconds"] = time.perf_counter() - start
        states = ["", "", "", "", "", "", "attached", "attached", "activated", "expired"]
        batch = 50_000
        start = time.perf_counter()
        with transaction(conn):
            account = ensure_account(conn, Vendor.ALTCRAFT, key="alt", name="Shop RU", kind="live")
            run = start_run(conn, "sync", account_id=account)
            for offset in range(0, codes_per_vendor, batch):
                rows = []
                for n, code in enumerate(_codes(rng, batch, "L"), start=offset):
                    state = states[n % len(states)]
                    fields: dict[str, str] = {"created": "2026-08-01T10:00:00Z"}
                    day = f"2026-{9 + n % 3:02d}-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"
                    if state:
                        fields["attached"] = day
                    if state in ("activated", "expired"):
                        fields["activated" if state == "activated" else "expired"] = day
                    if n % 5 == 0:
                        fields["expire_date"] = f"2027-0{1 + n % 9}-01T00:00:00Z"
                    rows.append(altcraft_row(AltcraftCodeRecord(code=code, **fields), str(n % 7)))
                staging = Staging(conn, ALTCRAFT_CODES, account)
                staging.add(rows)
                staging.write(run_id=run, as_of="2026-11-20T09:00:00Z")
        timings["write_altcraft_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        with transaction(conn):
            account = ensure_account(conn, Vendor.IMPACT, key="imp", name="Partners", kind="live")
            run = start_run(conn, "sync", account_id=account)
            for offset in range(0, codes_per_vendor, batch):
                rows = [
                    impact_row(
                        ImpactPromoCodeRecord.model_validate(
                            {
                                "Id": str(10_000_000 + n),
                                "Code": code,
                                "CampaignId": str(1000 + n % 5),
                                "CampaignName": f"Program {n % 5}",
                                "AssignedPartnerId": str(2000 + n % 300),
                                "AssignedPartnerName": f"Partner {n % 300}",
                                "CreatedDate": "2026-06-01T00:00:00Z",
                                "State": "INACTIVE" if n % 10 == 0 else "ACTIVE",
                                "EndDate": "2027-01-01T00:00:00Z" if n % 3 == 0 else "",
                            }
                        )
                    )
                    for n, code in enumerate(_codes(rng, batch, "I"), start=offset)
                ]
                staging = Staging(conn, IMPACT_CODES, account)
                staging.add(rows)
                staging.write(run_id=run, as_of="2026-11-20T09:00:00Z")
        timings["write_impact_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        build_indexes(conn)
        timings["background_build_seconds"] = time.perf_counter() - start
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        building.replace(path)
    timings["workspace_mb"] = round(path.stat().st_size / 1e6, 1)
    import json

    timing.write_text(json.dumps({k: round(v, 2) for k, v in timings.items()}))
    return path, json.loads(timing.read_text())


def baseline_table(rows: int) -> Path:
    """A plain table of `rows` codes with one index, for the same-run reference."""
    import sqlite3

    path = OUT / f"inventory_baseline_{rows}.db"
    if path.exists():
        return path
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, code TEXT NOT NULL, other TEXT)")
    conn.executemany(
        "INSERT INTO t(code, other) VALUES (?, ?)",
        (("".join(rng.choices(ALPHABET, k=10)), "x" * 40) for _ in range(rows)),
    )
    conn.execute("CREATE INDEX ix_t_code ON t(code)")
    conn.commit()
    conn.close()
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--codes", type=int, default=1_000_000, help="codes per vendor")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    workspace, build = workspace_with(args.codes)
    from promodesk.store.db import connect

    conn = connect(workspace, readonly=True)
    code, customer = conn.execute(
        "SELECT unique_code, customer_id FROM optimove_allocations WHERE id = 4242"
    ).fetchone()
    conn.close()
    plain = baseline_table(3 * args.codes)
    runs, baselines = [], []
    for _ in range(args.repeat):
        runs.append(run_child(MEASURE, str(workspace), code, customer))
        baselines.append(run_child(BASELINE, str(plain))["ms"])
    names = list(runs[0]["timings_ms"])
    timings = {name: median([run["timings_ms"][name] for run in runs]) for name in names}
    emit(
        {
            "benchmark": "inventory",
            "codes": runs[0]["codes"],
            "repeat": args.repeat,
            "workspace": build,
            "timings_ms": timings,
            "slowest_ms": max(timings.values()),
            "slowest": max(timings, key=lambda name: timings[name]),
            "baseline_plain_table_first_page_ms": median(baselines),
            "found": runs[0]["found"],
            "targets": {"each": "<= 100 ms (window level, with the view)"},
        }
    )


if __name__ == "__main__":
    main()
