"""2,000 mixed operations across the three fakes with 10% of requests faulted (every kind),
eight at a time: every operation ends well, every entity meant to be made exists exactly
once, and every universal Altcraft code is held by exactly the profiles meant to hold it
(attached and detached by profile id and by email, through the same faults)."""

from __future__ import annotations

import asyncio
import collections
import random
from dataclasses import dataclass, field
from typing import Any

import pytest

from promodesk.vendors import errors
from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.altcraft.fake import SANDBOX_TOKEN as ALTCRAFT_TOKEN
from promodesk.vendors.altcraft.fake import FakeAltcraft
from promodesk.vendors.fake_support import KINDS, FaultPlan, SandboxTransport
from promodesk.vendors.http import RetryPolicy
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, FakeImpact
from promodesk.vendors.impact.fake import SANDBOX_TOKEN as IMPACT_TOKEN
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.optimove.fake import SANDBOX_API_KEY, FakeOptimove

OPERATIONS = 2000
WORKERS = 8
PERSONAL = 5  # Altcraft program whose codes one profile holds; it allows new codes
UNIVERSAL = 8  # Altcraft program where a repeated attach would show as a second profile
UNIVERSAL_POOL = [f"SOAK-U-{n:02d}" for n in range(24)]


@dataclass
class Intended:
    promotions: list[str] = field(default_factory=list)
    global_codes: list[str] = field(default_factory=list)
    altcraft_codes: list[str] = field(default_factory=list)
    attached: dict[str, str] = field(default_factory=dict)  # code -> profile
    # universal code -> the profiles meant to hold it (one operation per code at a time)
    holders: dict[str, list[str]] = field(
        default_factory=lambda: {code: [] for code in UNIVERSAL_POOL}
    )
    busy: set[str] = field(default_factory=set)
    refused_detaches: int = 0
    detaches: int = 0
    impact_codes: list[str] = field(default_factory=list)
    promotion_ids: list[str] = field(default_factory=list)
    impact_ids: list[str] = field(default_factory=list)
    inserted: int = 0
    duplicated: int = 0


@pytest.mark.slow
async def test_soak_2000_operations_with_faults() -> None:
    def plan(seed: int) -> FaultPlan:
        return FaultPlan(probability=0.10, kinds=KINDS, slow_seconds=0.6, seed=seed)

    optimove_fake = FakeOptimove(rate_limit=None, faults=plan(1))
    altcraft_fake = FakeAltcraft(rate_limit=None, faults=plan(2))
    impact_fake = FakeImpact(rate_limit=None, faults=plan(3))
    options: dict[str, Any] = {
        "retry": RetryPolicy(attempts=8, base_delay=0.001, max_delay=0.005, jitter=0.5),
        "rate_limit": None,
        "total_timeout": 0.3,  # "slow" and "lost" answers outlast it
        "max_concurrency": WORKERS,
    }
    optimove = OptimoveClient.connect(
        "http://o.test", SANDBOX_API_KEY, transport=SandboxTransport(optimove_fake), **options
    )
    altcraft = AltcraftClient.connect(
        "http://a.test",
        ALTCRAFT_TOKEN,
        5,
        db_id=1,
        import_batch=4,
        transport=SandboxTransport(altcraft_fake),
        **options,
    )
    impact = ImpactClient.connect(
        "http://i.test",
        SANDBOX_SID,
        IMPACT_TOKEN,
        page_size=50,
        transport=SandboxTransport(impact_fake),
        **options,
    )
    intended = Intended()
    chooser = random.Random(2026)
    done: collections.Counter[str] = collections.Counter()

    identities: dict[str, dict[str, str]] = {}  # the fake's profile id -> how it is found

    def someone() -> tuple[dict[str, str], str]:
        """A profile, found by id or by email, and the id the fake knows it by."""
        number = chooser.randrange(6)
        if chooser.random() < 0.5:
            who, profile = {"profile_id": f"up-{number}"}, f"up-{number}"
        else:
            email = f"u{number}@example.com"
            who, profile = {"email": email}, altcraft_fake.state.profile(1, "email", email)
        identities[profile] = who
        return who, profile

    async def universal_change(code: str) -> None:
        holding = intended.holders[code]
        who, profile = someone()
        if holding and chooser.random() < 0.5:  # a holder: detach (refused if not the only)
            profile = chooser.choice(holding)
            who = identities[profile]
        if profile in holding:  # held: detach it (refused while others hold the code too)
            if len(holding) > 1:
                with pytest.raises(errors.VendorValidationError, match="several profiles"):
                    await altcraft.detach(code, loyalty_id=UNIVERSAL, **who)
                intended.refused_detaches += 1
                return
            await altcraft.detach(code, loyalty_id=UNIVERSAL, **who)
            holding.remove(profile)
            intended.detaches += 1
        else:
            await altcraft.attach(code=code, loyalty_id=UNIVERSAL, **who)
            holding.append(profile)

    async def run(number: int, kind: str) -> None:
        if kind == "optimove.create_promotion":
            promotion = await optimove.create_promotion(f"Soak promotion {number}", f"SP{number}")
            intended.promotions.append(promotion.name or "")
            intended.promotion_ids.append(promotion.promotion_id)
        elif kind == "optimove.create_promocode":
            target = chooser.choice(intended.promotion_ids) if intended.promotion_ids else None
            code = await optimove.create_promocode(
                promocode_type="global", code=f"SOAK{number}", promotion_id=target
            )
            intended.global_codes.append(code.code or "")
        elif kind == "optimove.read":
            pid = chooser.choice(intended.promotion_ids or ["spring-welcome-2026"])
            assert (await optimove.get_promotion(pid)).promotion_id == pid
        elif kind == "optimove.change":
            pid = chooser.choice(intended.promotion_ids or ["spring-welcome-2026"])
            await optimove.set_metadata(pid, description=f"touched by {number}")
            await optimove.activate(pid)
        elif kind == "altcraft.import":
            codes = [f"SOAK-{number}-{n}" for n in range(chooser.choice((1, 3, 6)))]
            summary = await altcraft.import_codes(codes)
            intended.altcraft_codes += codes
            intended.inserted += summary.inserted
            intended.duplicated += summary.duplicated
        elif kind == "altcraft.attach":
            code, profile = f"SOAK-ATT-{number}", f"profile-{number}"
            await altcraft.attach(code=code, profile_id=profile, loyalty_id=PERSONAL)
            intended.attached[code] = profile
        elif kind == "altcraft.universal":
            free = [code for code in UNIVERSAL_POOL if code not in intended.busy]
            if not free:
                done[kind] += 1
                return
            code = chooser.choice(free)
            intended.busy.add(code)
            try:
                await universal_change(code)
            finally:
                intended.busy.discard(code)
        elif kind == "altcraft.read":
            code = chooser.choice(intended.altcraft_codes or ["LOY5-0001"])
            assert (await altcraft.get(code)).code == code
        elif kind == "impact.create":
            record = await impact.create(
                partner_id=2552842, campaign_id=1000, code=f"SOAKIMP{number}"
            )
            intended.impact_codes.append(record.code)
            intended.impact_ids.append(record.id)
        elif kind == "impact.read":
            if intended.impact_ids and chooser.random() < 0.7:
                rid = chooser.choice(intended.impact_ids)
                assert (await impact.get(rid)).id == rid
            else:
                assert [r.code for r in await impact.list_all(code="SANDBOX03")] == ["SANDBOX03"]
        done[kind] += 1

    kinds = [
        "optimove.create_promotion",
        "optimove.create_promocode",
        "optimove.read",
        "optimove.change",
        "altcraft.import",
        "altcraft.attach",
        "altcraft.universal",
        "altcraft.read",
        "impact.create",
        "impact.read",
    ]
    weights = [3, 2, 3, 2, 3, 2, 4, 2, 3, 3]
    # The universal pool, imported through the same faults (an import is exactly once).
    await altcraft.import_codes(UNIVERSAL_POOL, loyalty_id=UNIVERSAL)
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for number in range(OPERATIONS):
        queue.put_nowait((number, chooser.choices(kinds, weights)[0]))
    failures: list[str] = []

    async def worker() -> None:
        while not queue.empty():
            number, kind = queue.get_nowait()
            try:
                await run(number, kind)
            except Exception as error:  # collected and reported below
                failures.append(f"{number} {kind}: {type(error).__name__}: {error}")

    await asyncio.gather(*(worker() for _ in range(WORKERS)))
    for client in (optimove, altcraft, impact):
        await client.aclose()

    assert failures == []
    assert sum(done.values()) == OPERATIONS
    injected = (
        optimove_fake.faults.injected + altcraft_fake.faults.injected + impact_fake.faults.injected
    )
    assert set(injected) == set(KINDS)  # every kind of fault happened along the way
    assert sum(injected.values()) > OPERATIONS * 0.1 * 0.8

    names = collections.Counter(p["name"] for p in optimove_fake.state.promotions.values())
    assert all(names[name] == 1 for name in intended.promotions)
    assert len(intended.promotions) == done["optimove.create_promotion"]
    codes = collections.Counter(p.code for p in optimove_fake.state.promocodes.values())
    assert all(codes[code] == 1 for code in intended.global_codes)
    program = altcraft_fake.state.programs[5].codes
    assert all(code in program for code in intended.altcraft_codes)
    assert (intended.inserted, intended.duplicated) == (len(intended.altcraft_codes), 0)
    personal = altcraft_fake.state.programs[PERSONAL].codes
    assert all(personal[code].profiles == [profile] for code, profile in intended.attached.items())
    universal = altcraft_fake.state.programs[UNIVERSAL].codes
    held = {code: sorted(universal[code].profiles) for code in UNIVERSAL_POOL}
    assert held == {code: sorted(profiles) for code, profiles in intended.holders.items()}
    assert done["altcraft.universal"] > 200 and intended.refused_detaches > 0
    assert intended.detaches > 20, intended.detaches
    assert sum(len(profiles) for profiles in held.values()) > 0
    impact_codes = collections.Counter(r["Code"] for r in impact_fake.state.codes.values())
    assert all(impact_codes[code] == 1 for code in intended.impact_codes)
    assert len(intended.impact_codes) == done["impact.create"]
