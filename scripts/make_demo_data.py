#!/usr/bin/env python3
"""Write the demo workspace's sample exports into resources/demo/ (deterministic).

    python scripts/make_demo_data.py            # regenerate resources/demo/
    python scripts/make_demo_data.py --out DIR  # somewhere else

The files look like what each vendor hands out (see ../shared/vendor-apis.md):
- Optimove: an allocation export (3 promotions, 20,000 allocations over 60 days) and one
  unique-code file that has not been uploaded yet;
- Altcraft: `export_all` responses for two loyalty programs, one saved as JSON, one as XML;
- impact.com: a PromoCodes list response, two pages in one JSON array, 300 codes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from promodesk.domain.records import ALLOCATION_COLUMNS

DEMO_NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
# No 0/O or 1/I/L: codes people read aloud to a call centre.
CODE_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1IL")

OPTIMOVE_PROMOTIONS = [
    # promotion id, promocode id, prefix, files, allocations
    ("spring-welcome-2026", "pc-spring-welcome", "SPRW", ["f-sprw-01", "f-sprw-02"], 9_000),
    ("summer-sale-2026", "pc-summer-sale", "SUMS", ["f-sums-01"], 7_000),
    ("vip-winback-q4", "pc-vip-winback", "VIPW", ["f-vipw-01"], 4_000),
]

ALTCRAFT_PROGRAMS = [("5", "json", 300), ("8", "xml", 200)]
IMPACT_PROGRAMS = [
    ("11432", "Acme Outdoor US"),
    ("11433", "Acme Outdoor UK"),
    ("12001", "Acme Kids"),
]
PARTNERS = [
    ("2552842", "Wile E. Coyote Facebook"),
    ("2552901", "Trail Deals Blog"),
    ("2553010", "Coupon Finder"),
    ("2553011", "Coupon Finder EU"),
    ("2553120", "Hike Weekly"),
    ("2553188", "Gear Review Hub"),
    ("2553200", "Student Saver"),
    ("2553311", "Cashback Kings"),
    ("2553400", "Outdoor Moms"),
    ("2553500", "Peak Podcast"),
    ("2553612", "Summit Newsletter"),
    ("2553700", "Campfire Stories"),
    ("2553801", "Family Trips"),
    ("2553902", "Budget Backpacker"),
    ("2554003", "Trail Runner Mag"),
    ("2554104", "Cyclist Club"),
    ("2554205", "Ski Bums"),
    ("2554306", "Alpine Insider"),
    ("2554407", "Deal Hunter"),
    ("2554508", "Loyalty Loop"),
    ("2554609", "Creator Collective"),
    ("2554710", "Nordic Walks"),
    ("2554811", "Rain Gear Review"),
    ("2554912", "Green Commute"),
]


def code(rng: random.Random, prefix: str, length: int = 8) -> str:
    return prefix + "-" + "".join(rng.choices(CODE_ALPHABET, k=length))


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_optimove(out: Path, rng: random.Random) -> None:
    rows = []
    for promotion_id, promocode_id, prefix, files, count in OPTIMOVE_PROMOTIONS:
        for number in range(count):
            moment = DEMO_NOW - timedelta(days=60) + timedelta(seconds=rng.randrange(60 * 86_400))
            rows.append(
                [
                    f"{rng.randrange(10**7, 10**8)}",
                    promocode_id,
                    promotion_id,
                    files[number % len(files)],
                    code(rng, prefix),
                    stamp(moment),
                    str(rng.randrange(100_000, 999_999)),
                    str(rng.randrange(1_000, 9_999)),
                    str(rng.choice([41, 42, 57, 63, 88])),
                ]
            )
    rows.sort(key=lambda row: row[5])
    with (out / "optimove_allocations_2026-11-20.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(ALLOCATION_COLUMNS)
        writer.writerows(rows)
    with (out / "optimove_unique_codes_spring_batch3.csv").open("w", encoding="utf-8") as f:
        for _ in range(5_000):
            f.write(code(rng, "SPRW") + "\n")


def write_altcraft(out: Path, rng: random.Random) -> None:
    for loyalty_id, form, count in ALTCRAFT_PROGRAMS:
        items = []
        for _ in range(count):
            item: dict[str, str] = {"code": code(rng, f"LOY{loyalty_id}", 6)}
            roll = rng.random()
            if roll < 0.55:
                attached = DEMO_NOW - timedelta(hours=rng.randrange(1, 24 * 90))
                item["attached"] = stamp(attached)
                if roll < 0.25:
                    item["activated"] = stamp(attached + timedelta(hours=rng.randrange(1, 24 * 14)))
            items.append(item)
        name = out / f"altcraft_export_all_loyalty-{loyalty_id}.{form}"
        if form == "json":
            name.write_text(
                json.dumps(
                    {"data": items, "error": 0, "error_text": "Successful operation"}, indent=1
                ),
                encoding="utf-8",
            )
        else:
            parts = ["<xml>"]
            for item in items:
                parts.append("<data>")
                parts += [f"<{key}>{escape(value)}</{key}>" for key, value in item.items()]
                parts.append("</data>")
            parts += ["<error>0</error>", "<error_text>Successful operation</error_text>", "</xml>"]
            name.write_text("\n".join(parts) + "\n", encoding="utf-8")


def write_impact(out: Path, rng: random.Random) -> None:
    codes = []
    for number in range(300):
        campaign_id, campaign_name = IMPACT_PROGRAMS[number % len(IMPACT_PROGRAMS)]
        partner_id, partner_name = rng.choice(PARTNERS)
        created = DEMO_NOW - timedelta(days=rng.randrange(5, 200), minutes=rng.randrange(1440))
        start = created + timedelta(days=rng.randrange(0, 10))
        end = (
            ""
            if rng.random() < 0.3
            else (start + timedelta(days=rng.randrange(30, 365))).isoformat()
        )
        inactive = rng.random() < 0.15
        codes.append(
            {
                "Id": str(7_000_000 + number),
                "Code": partner_name.split()[0].upper()[:8]
                + str(rng.randrange(10, 99))
                + ("" if number % 5 else "OFF"),
                "Type": "LI" if rng.random() < 0.85 else "RE",
                "CreditPolicy": rng.choice(["ALWAYS", "INVOLVED", "WINNER"]),
                "CampaignId": campaign_id,
                "CampaignName": campaign_name,
                "AssignedPartnerId": partner_id,
                "AssignedPartnerName": partner_name,
                "CreatedDate": created.astimezone(UTC).isoformat(),
                "StartDate": start.astimezone(UTC).isoformat(),
                "EndDate": end,
                "State": "INACTIVE" if inactive else "ACTIVE",
                "DealId": "" if rng.random() < 0.6 else str(rng.randrange(1, 40)),
                "DealName": "",
                "DiscountType": rng.choice(["FIXED", "PERCENT"]),
                "DiscountPercent": str(rng.choice([10, 15, 20, 25])),
                "Uri": f"/Advertisers/IRdemoAccount/PromoCodes/{7_000_000 + number}",
            }
        )
    pages = []
    for page, chunk in enumerate((codes[:200], codes[200:]), start=1):
        pages.append(
            {
                "@page": str(page),
                "@numpages": "2",
                "@pagesize": "200",
                "@total": str(len(codes)),
                "@start": str((page - 1) * 200),
                "@end": str((page - 1) * 200 + len(chunk) - 1),
                "@uri": f"/Advertisers/IRdemoAccount/PromoCodes?Page={page}&PageSize=200",
                "@firstpageuri": "/Advertisers/IRdemoAccount/PromoCodes?Page=1&PageSize=200",
                "@previouspageuri": ""
                if page == 1
                else "/Advertisers/IRdemoAccount/PromoCodes?Page=1&PageSize=200",
                "@nextpageuri": "/Advertisers/IRdemoAccount/PromoCodes?Page=2&PageSize=200"
                if page == 1
                else "",
                "@lastpageuri": "/Advertisers/IRdemoAccount/PromoCodes?Page=2&PageSize=200",
                "PromoCodes": chunk,
            }
        )
    (out / "impact_promocodes_2pages.json").write_text(
        json.dumps(pages, indent=1), encoding="utf-8"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "resources" / "demo"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2026)
    write_optimove(args.out, rng)
    write_altcraft(args.out, rng)
    write_impact(args.out, rng)
    for path in sorted(args.out.iterdir()):
        print(f"{path.stat().st_size:>10,}  {path.name}")


if __name__ == "__main__":
    main()
