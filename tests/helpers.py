"""Small builders for test files and workspaces."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.store.db import connect
from promodesk.store.workspace import create_workspace


def new_workspace(folder: Path, name: str = "test.promodesk", label: str = "Test"):
    path = folder / name
    create_workspace(path, label=label)
    return path, connect(path)


def allocation_rows(
    count: int,
    *,
    promocode: str = "pc-1",
    promotion: str = "promo-1",
    file_id: str = "f-1",
    start: int = 0,
) -> list[list[str]]:
    return [
        [
            f"C{n:07d}",
            promocode,
            promotion,
            file_id,
            f"CODE{n:07d}",
            f"2026-09-{1 + n % 28:02d}T10:{n % 60:02d}:00Z",
            str(100 + n),
            str(n % 7),
            "42",
        ]
        for n in range(start, start + count)
    ]


def write_allocations(
    path: Path,
    rows: Iterable[Sequence[str]],
    *,
    header: Sequence[str] = ALLOCATION_COLUMNS,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def impact_code(n: int, **overrides: object) -> dict[str, object]:
    record: dict[str, object] = {
        "Id": str(7_000_000 + n),
        "Code": f"IMP{n:04d}",
        "Type": "LI",
        "CreditPolicy": "ALWAYS",
        "CampaignId": "1000",
        "CampaignName": "Acme Campaign",
        "AssignedPartnerId": str(2000 + n % 3),
        "AssignedPartnerName": f"Partner {n % 3}",
        "CreatedDate": "2026-01-15T10:00:00-08:00",
        "StartDate": "2026-06-01T00:00:00-07:00",
        "EndDate": "",
        "State": "ACTIVE",
        "DealId": "",
        "DealName": "",
    }
    record.update(overrides)
    return record


def impact_page(codes: list[dict[str, object]], page: int = 1, pages: int = 1) -> dict[str, object]:
    return {
        "@page": str(page),
        "@numpages": str(pages),
        "@pagesize": "1000",
        "@total": str(len(codes)),
        "@nextpageuri": "",
        "PromoCodes": codes,
    }


def write_json(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@contextlib.contextmanager
def named_pipe(path: Path) -> Iterator[Path]:
    """A FIFO at `path`. Should something block reading it, a watchdog writes to it after 30 s,
    so that a test fails instead of hanging forever."""
    os.mkfifo(path)
    done = threading.Event()

    def unblock() -> None:
        if not done.wait(30):
            with open(path, "wb") as writer:
                writer.write(b"watchdog\n")

    watchdog = threading.Thread(target=unblock, daemon=True)
    watchdog.start()
    try:
        yield path
    finally:
        done.set()
        watchdog.join()
