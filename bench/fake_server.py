#!/usr/bin/env python3
"""The sandbox fakes on a loopback socket, in their own process, for the vendor benchmarks.

    .venv/bin/python bench/fake_server.py [--impact-codes N] [--altcraft-codes N] [--no-limits]

Prints one JSON line (the same as `promodesk sandbox serve --json`) once it listens. The extra
codes are added straight into the fakes' state before serving; --no-limits switches off the
fakes' server-side rate limits (the throughput benchmark measures our client, not the limit).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from promodesk.domain.vendors import Vendor
from promodesk.services.sandbox import bind, build_sandbox, json_line, serve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--impact-codes", type=int, default=0)
    parser.add_argument("--altcraft-codes", type=int, default=0)
    parser.add_argument("--no-limits", action="store_true")
    args = parser.parse_args()
    sandbox = build_sandbox()
    impact = sandbox.fakes[Vendor.IMPACT]
    for number in range(args.impact_codes):
        impact.state.add(
            {
                "Code": f"BENCH{number:07d}",
                "AssignedPartnerId": ("2552842", "2553001", "2553010")[number % 3],
                "CampaignId": ("1000", "1001")[number % 2],
            }
        )
    altcraft = sandbox.fakes[Vendor.ALTCRAFT]
    if args.altcraft_codes:
        from promodesk.vendors.altcraft.fake import CodeState, _now

        now = _now()
        codes = altcraft.state.programs[5].codes
        for number in range(args.altcraft_codes):
            code = f"BENCH-{number:07d}"
            codes[code] = CodeState(code, now)
    if args.no_limits:
        for fake in sandbox.fakes.values():
            fake.limit = None
    sock = bind("127.0.0.1", 0)

    def announce(description: dict[str, dict[str, str]]) -> None:
        print(json_line(description), flush=True)

    asyncio.run(serve(sock, sandbox, announce=announce))


if __name__ == "__main__":
    sys.exit(main())
