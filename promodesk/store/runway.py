"""Pool runway: how long each pool of unique codes lasts at the pace codes are handed out.

Two kinds of pool:
- an Optimove unique-code promocode: codes left from its row (`available` as Optimove last
  said, less the allocations made since; else its pool size, or its code files' sizes, less
  the allocations in the workspace), handed out = `optimove_allocations.allocated_at`; when it
  runs dry, customers get its fallback (default) code;
- an Altcraft loyalty program: codes left = its available codes, handed out =
  `altcraft_codes.attached`.

Allocations are counted per hour in SQL (one pass; per quarter hour for zones with half-hour
offsets), then put on days of the vendor's time zone in Python (a few thousand buckets,
whatever the number of codes), so a day is the vendor's day. The pace is the average over
the last `window` whole days before the data's "as of" day; the trend compares the last week
with the week before. The per-day series and the projection of codes left are returned for
the chart.
"""

from __future__ import annotations

import math
import sqlite3
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from promodesk.domain.dates import DEFAULT_ZONE, zone_named
from promodesk.domain.jobs import CancelToken, Progress, ProgressFn, ignore_progress
from promodesk.domain.values import parse_instant
from promodesk.domain.vendors import Vendor
from promodesk.store.timeline import bucket_sql
from promodesk.store.timeline import per_day as days_of

DEFAULT_THRESHOLD_DAYS = 14
DEFAULT_WINDOW_DAYS = 14
_PROJECTION_MAX_DAYS = 365


@dataclass(frozen=True)
class Runway:
    vendor: Vendor
    account_id: int
    kind: str  # "promocode" | "loyalty program"
    pool: str  # promocode id / loyalty program id
    program: str  # the promotion (Optimove) or the program again (Altcraft)
    fallback: str  # the code customers get when the pool is empty ('' unknown / none)
    size: int | None  # codes the pool had in all (None: unknown)
    left: int | None  # codes left (None: unknown offline)
    left_from: str  # how `left` was found, in words
    as_of: str  # when `left` was true (canonical UTC)
    zone: str  # the vendor's time zone, whose days these are
    per_day: tuple[tuple[str, int], ...]  # (YYYY-MM-DD, codes handed out), no gaps
    average: float  # per day, over the window
    trend: float | None  # last 7 days against the 7 before: +0.25 is 25% more
    days_left: float | None  # at the average pace (None: unknown or nothing handed out)
    dry_on: str | None  # YYYY-MM-DD the pool runs out, in the vendor's time zone
    runway_days: int | None  # days from `today` to dry_on (0: already dry)
    under_threshold: bool
    projection: tuple[tuple[str, int], ...] = field(default=())  # (day, codes left)

    @property
    def message(self) -> str:
        what = f"{self.kind} {self.pool}"
        fallback = f" and customers get the fallback code {self.fallback}" if self.fallback else ""
        if self.left is None:
            return f"{what}: codes left {self.left_from}"
        if self.left <= 0:
            return f"{what} has no codes left{fallback}"
        if self.days_left is None:
            return f"{what}: {self.left:,} codes left, none handed out lately"
        return (
            f"{what}: {self.left:,} codes left, {self.average:,.1f} a day: runs dry on "
            f"{_day_text(self.dry_on)} (in {self.runway_days} days)"
            f"{fallback if self.under_threshold else ''}"
        )


def _day_text(day: str | None) -> str:
    """'2027-01-28' as people read it, '28 Jan 2027' (as the runway table shows it)."""
    try:
        parsed = date.fromisoformat(day or "")
    except ValueError:
        return day or ""
    return f"{parsed.day} {parsed:%b %Y}"


@dataclass(frozen=True)
class _PoolRow:
    vendor: Vendor
    account_id: int
    kind: str
    pool: str
    program: str
    fallback: str
    size: int | None
    left: int | None
    left_from: str
    as_of: str


def pool_runways(
    conn: sqlite3.Connection,
    *,
    zones: Mapping[int, str] | None = None,
    today: date | None = None,
    threshold_days: int = DEFAULT_THRESHOLD_DAYS,
    window_days: int = DEFAULT_WINDOW_DAYS,
    cancel: CancelToken | None = None,
    progress: ProgressFn = ignore_progress,
) -> list[Runway]:
    """Every unique-code pool's runway, shortest first (unknown ones last). `zones`: the
    vendor time zone of each account (UTC when not given); `today`: for the runway in days
    (default: today in the vendor's zone)."""
    token = cancel or CancelToken()
    unregister = token.on_cancel(conn.interrupt)
    try:
        progress(Progress(0, 3, "Reading the pools"))
        pools = _optimove_pools(conn) + _altcraft_pools(conn)
        token.raise_if_cancelled()
        progress(Progress(1, 3, "Counting allocations per day"))
        in_zones = [zone_named(name) for name in {*(zones or {}).values(), DEFAULT_ZONE}]
        buckets = _optimove_buckets(conn, bucket_sql("allocated_at", *in_zones))
        token.raise_if_cancelled()
        progress(Progress(2, 3, "Counting attachments per day"))
        buckets.update(_altcraft_buckets(conn, bucket_sql("attached", *in_zones)))
    except sqlite3.OperationalError:
        token.raise_if_cancelled()
        raise
    finally:
        unregister()
    found = [
        _runway(
            pool,
            buckets.get((pool.account_id, pool.kind, pool.pool), {}),
            (zones or {}).get(pool.account_id, DEFAULT_ZONE),
            today,
            threshold_days,
            window_days,
        )
        for pool in pools
    ]
    progress(Progress(3, 3, "Runway ready"))
    return sorted(
        found,
        key=lambda r: (r.runway_days is None, r.runway_days or 0, r.vendor, r.account_id, r.pool),
    )


def under_threshold(runways: Sequence[Runway]) -> list[Runway]:
    """The pools to warn about (on start, in the panel)."""
    return [runway for runway in runways if runway.under_threshold]


def _optimove_pools(conn: sqlite3.Connection) -> list[_PoolRow]:
    rows = conn.execute(
        "SELECT p.account_id, p.promocode_id, p.promotion_id, p.default_code, p.pool_size, "
        "p.available, p.allocation_count, p.as_of, "
        "(SELECT sum(f.code_count) FROM optimove_code_files f WHERE f.account_id = p.account_id "
        " AND f.promocode_id = p.promocode_id AND f.gone_run = 0), "
        "(SELECT count(*) FROM optimove_code_files f WHERE f.account_id = p.account_id "
        " AND f.promocode_id = p.promocode_id AND f.gone_run = 0 AND f.code_count IS NULL), "
        "CASE WHEN p.available IS NULL THEN 0 ELSE (SELECT count(*) FROM optimove_allocations a "
        " WHERE a.account_id = p.account_id AND a.promocode_id = p.promocode_id "
        " AND a.allocated_at > p.as_of) END "
        "FROM optimove_promocodes p WHERE p.gone_run = 0 AND (p.code_type = 'unique' OR "
        "(p.code_type = '' AND p.global_code = '' AND (p.file_count > 0 "
        " OR p.allocation_count > 0))) ORDER BY p.account_id, p.promocode_id"
    ).fetchall()
    pools = []
    for (
        account_id,
        promocode,
        promotion,
        fallback,
        pool_size,
        available,
        allocated,
        as_of,
        file_codes,
        files_unknown,
        allocated_since,
    ) in rows:
        size = pool_size if pool_size is not None else (file_codes if not files_unknown else None)
        if available is not None:
            left: int | None = max(0, available - allocated_since)
            left_from = "as Optimove said" + (
                f", less {allocated_since:,} allocated since" if allocated_since else ""
            )
        elif size is not None:
            left = max(0, size - allocated)
            left_from = "pool size less the allocations in the workspace"
        else:
            left = None
            left_from = "unknown offline: refresh the account, Optimove says how many are left"
        pools.append(
            _PoolRow(
                Vendor.OPTIMOVE,
                account_id,
                "promocode",
                promocode,
                promotion,
                fallback,
                size,
                left,
                left_from,
                _account_as_of(conn, account_id, as_of),
            )
        )
    return pools


def _altcraft_pools(conn: sqlite3.Connection) -> list[_PoolRow]:
    return [
        _PoolRow(
            Vendor.ALTCRAFT,
            account_id,
            "loyalty program",
            loyalty_id,
            loyalty_id,
            "",
            code_count,
            available,
            "available codes in the program",
            _account_as_of(conn, account_id, as_of),
        )
        for account_id, loyalty_id, code_count, available, as_of in conn.execute(
            "SELECT account_id, loyalty_id, code_count, available_count, as_of "
            "FROM altcraft_programs ORDER BY account_id, loyalty_id"
        )
    ]


def _account_as_of(conn: sqlite3.Connection, account_id: int, own: str) -> str:
    """When the pool's count was true: the row's own date, else its source's newest data."""
    if own:
        return str(own)
    row = conn.execute("SELECT as_of FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return str(row[0]) if row and row[0] else ""


Buckets = dict[tuple[int, str, str], dict[str, int]]


def _optimove_buckets(conn: sqlite3.Connection, bucket: str) -> Buckets:
    found: Buckets = defaultdict(dict)
    for account_id, promocode, at, count in conn.execute(
        f"SELECT account_id, promocode_id, {bucket}, count(*) FROM optimove_allocations "
        "GROUP BY 1, 2, 3"
    ):
        found[(account_id, "promocode", promocode)][at] = count
    return found


def _altcraft_buckets(conn: sqlite3.Connection, bucket: str) -> Buckets:
    found: Buckets = defaultdict(dict)
    for account_id, loyalty_id, at, count in conn.execute(
        f"SELECT account_id, loyalty_id, {bucket}, count(*) FROM altcraft_codes "
        "WHERE attached <> '' GROUP BY 1, 2, 3"
    ):
        found[(account_id, "loyalty program", loyalty_id)][at] = count
    return found


def _runway(
    pool: _PoolRow,
    buckets: Mapping[str, int],
    zone_name: str,
    today: date | None,
    threshold_days: int,
    window_days: int,
) -> Runway:
    zone = zone_named(zone_name)
    by_day = days_of(buckets, zone)
    as_of_day = (
        parse_instant(pool.as_of).astimezone(zone).date()
        if pool.as_of
        else (max(by_day) + timedelta(days=1) if by_day else datetime.now(zone).date())
    )
    first = min(by_day, default=as_of_day)
    days = [first + timedelta(days=n) for n in range((max(as_of_day, first) - first).days + 1)]
    per_day = tuple((day.isoformat(), by_day.get(day, 0)) for day in days)
    # Whole days before the "as of" day (that one is only partly known).
    recent = [by_day.get(as_of_day - timedelta(days=n), 0) for n in range(window_days, 0, -1)]
    average = sum(recent) / window_days if window_days else 0.0
    last_week = sum(by_day.get(as_of_day - timedelta(days=n), 0) for n in range(1, 8))
    week_before = sum(by_day.get(as_of_day - timedelta(days=n), 0) for n in range(8, 15))
    trend = (last_week - week_before) / week_before if week_before else None
    days_left: float | None = None
    dry_on: date | None = None
    if pool.left is not None and pool.left <= 0:
        days_left, dry_on = 0.0, as_of_day
    elif pool.left is not None and average > 0:
        days_left = pool.left / average
        dry_on = as_of_day + timedelta(days=math.floor(days_left))
    reference = today or datetime.now(zone).date()
    runway_days = max(0, (dry_on - reference).days) if dry_on is not None else None
    projection: tuple[tuple[str, int], ...] = ()
    if pool.left is not None and average > 0:
        horizon = min(_PROJECTION_MAX_DAYS, math.ceil(pool.left / average))
        projection = tuple(
            (
                (as_of_day + timedelta(days=n)).isoformat(),
                max(0, round(pool.left - average * n)),
            )
            for n in range(horizon + 1)
        )
    return Runway(
        vendor=pool.vendor,
        account_id=pool.account_id,
        kind=pool.kind,
        pool=pool.pool,
        program=pool.program,
        fallback=pool.fallback,
        size=pool.size,
        left=pool.left,
        left_from=pool.left_from,
        as_of=pool.as_of,
        zone=zone.key,
        per_day=per_day,
        average=round(average, 2),
        trend=round(trend, 3) if trend is not None else None,
        days_left=round(days_left, 1) if days_left is not None else None,
        dry_on=dry_on.isoformat() if dry_on is not None else None,
        runway_days=runway_days,
        under_threshold=runway_days is not None and runway_days < threshold_days,
        projection=projection,
    )
