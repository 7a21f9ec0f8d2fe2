"""Counting events per day of a chosen time zone without a Python call per event.

SQL counts them per hour of UTC (per quarter hour for the zones whose offset is not a whole
number of hours: every zone's is a whole number of quarter hours); Python then puts those few
thousand buckets on the days of the zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo


def _whole_hours(zone: tzinfo) -> bool:
    year = datetime.now(UTC).year
    for month in (1, 7):  # winter and summer time
        offset = datetime(year, month, 1, tzinfo=UTC).astimezone(zone).utcoffset()
        if offset is not None and offset % timedelta(hours=1):
            return False
    return True


def bucket_sql(column: str, *zones: tzinfo) -> str:
    """The hour of a canonical UTC text column, 'YYYY-MM-DDTHH', fine enough for days in
    every one of `zones`; else its quarter hour, 'YYYY-MM-DDTHH:q' (q = 0..3)."""
    if all(_whole_hours(zone) for zone in zones):
        return f"substr({column}, 1, 13)"
    return f"substr({column}, 1, 14) || (substr({column}, 15, 2) / 15)"


def per_day(buckets: Mapping[str, int], zone: tzinfo) -> dict[date, int]:
    """Buckets (from `bucket_sql`) summed per day of `zone`."""
    days: dict[date, int] = defaultdict(int)
    for bucket, count in buckets.items():
        if not bucket:
            continue
        moment = datetime.strptime(bucket[:13], "%Y-%m-%dT%H").replace(tzinfo=UTC)
        if len(bucket) > 14:
            moment += timedelta(minutes=15 * int(bucket[14:]))
        days[moment.astimezone(zone).date()] += count
    return dict(days)
