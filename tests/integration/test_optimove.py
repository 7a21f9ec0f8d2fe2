"""Every Optimove client operation against the fake, with the vendor's rules."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from promodesk.domain.jobs import CancelToken, JobCancelled
from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.vendors import errors
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.optimove.endpoints import ENDPOINTS
from promodesk.vendors.optimove.fake import SANDBOX_API_KEY, FakeOptimove
from tests.integration.conftest import SleepRecorder, fast


async def test_promotion_lifecycle(optimove: OptimoveClient) -> None:
    promotion = await optimove.create_promotion("Black Friday", description="30% off")
    assert promotion.state == "draft" and promotion.name == "Black Friday"
    assert promotion.promotion_id.startswith("black-friday-")
    pid = promotion.promotion_id
    await optimove.set_metadata(pid, name="Black Friday 2026")
    await optimove.set_properties(pid, {"channel": "email"})
    tiers = [
        {
            "id": "t1",
            "name": "Everyone",
            "benefits": "30%",
            "conditions": [{"attribute": "country"}, {"attribute": "tier", "parent": 0}],
        }
    ]
    await optimove.set_tiers(pid, tiers)
    await optimove.set_budgets(
        pid, audience_cap={"limit": 1000, "timeframe": "Lifetime"}, reward_budget={"count": 500}
    )
    await optimove.set_constraints(pid, [{"rewardType": "discount", "period": "daily", "limit": 1}])
    got = await optimove.get_promotion(pid)
    assert (got.name, got.properties, len(got.tiers)) == (
        "Black Friday 2026",
        {"channel": "email"},
        1,
    )
    assert got.model_extra["publishingBudgets"]["rewardBudget"] == {"count": 500}

    await optimove.activate(pid)
    with pytest.raises(errors.ConflictError, match="Tiers cannot be changed"):
        await optimove.set_tiers(pid, [])
    with pytest.raises(errors.ConflictError):
        await optimove.set_properties(pid, {"x": 1})  # not while active
    await optimove.set_metadata(pid, description="still editable while active")
    await optimove.deactivate(pid)
    with pytest.raises(errors.ConflictError, match="Tiers cannot be changed"):
        await optimove.set_tiers(pid, [])  # once ever active, even deactivated
    await optimove.activate(pid)
    await optimove.archive(pid)
    for action in (optimove.activate, optimove.deactivate):
        with pytest.raises(errors.ConflictError):
            await action(pid)
    copy = await optimove.duplicate(pid)
    assert copy.state == "draft" and copy.promotion_id != pid and len(copy.tiers) == 1
    assert not copy.ever_active


async def test_tier_tree_parents_must_point_down(optimove: OptimoveClient) -> None:
    promotion = await optimove.create_promotion("Tiers")
    bad = [{"id": "t", "conditions": [{"a": 1}, {"a": 2, "parent": 1}]}]
    with pytest.raises(errors.VendorValidationError) as caught:
        await optimove.set_tiers(promotion.promotion_id, bad)
    assert "parent" in caught.value.details


async def test_validation_and_transaction(optimove: OptimoveClient) -> None:
    promotion = await optimove.create_promotion("Validate me")
    pid = promotion.promotion_id
    result = await optimove.validate_promotion(pid, [{"customerId": "c1"}])
    assert result.contexts[0].customer_id == "c1" and not result.contexts[0].eligible
    await optimove.promotion_transaction(
        [
            {"command": "activate", "promotionId": pid},
            {"command": "setMetadata", "promotionId": pid, "name": "Renamed"},
        ]
    )
    assert (await optimove.get_promotion(pid)).state == "active"
    # All or nothing: the second command is refused, so the first one is not applied either.
    with pytest.raises(errors.ConflictError):
        await optimove.promotion_transaction(
            [
                {"command": "setMetadata", "promotionId": pid, "name": "X"},
                {"command": "teleport", "promotionId": pid},
            ]
        )
    assert (await optimove.get_promotion(pid)).name == "Renamed"
    result = await optimove.validate_promotion(pid, [{"customerId": "c1"}, {"customerId": "c2"}])
    assert [c.eligible for c in result.contexts] == [True, True]


async def test_global_and_unique_promocodes(optimove: OptimoveClient) -> None:
    promotion = await optimove.create_promotion("Welcome")
    pid = promotion.promotion_id
    shared = await optimove.create_promocode(type_="global", code="WELCOME2026", promotion_id=pid)
    assert (shared.type, shared.code, shared.promotion_id) == ("global", "WELCOME2026", pid)
    with pytest.raises(errors.ConflictError, match="already used"):
        await optimove.create_promocode(type_="global", code="WELCOME2026")
    unique = await optimove.create_promocode(
        type_="unique", promotion_id=pid, default_code="FALLBACK"
    )
    assert unique.default_code == "FALLBACK" and unique.allocation_method == "consistent"
    generated = await optimove.create_promocode(type_="unique")
    assert generated.default_code  # generated when not given
    await optimove.unassign(unique.promocode_id)
    assert (await optimove.get_promocode(unique.promocode_id)).promotion_id is None
    await optimove.assign(unique.promocode_id, pid)
    await optimove.hide(unique.promocode_id)
    assert (await optimove.get_promocode(unique.promocode_id)).hidden
    await optimove.show(unique.promocode_id)
    await optimove.link_campaign(unique.promocode_id, "camp-1")
    await optimove.link_campaign(unique.promocode_id, "camp-2")
    await optimove.unlink_campaign(unique.promocode_id, "camp-1")
    assert (await optimove.get_promocode(unique.promocode_id)).campaigns == ["camp-2"]
    await optimove.promocode_transaction([{"command": "hide", "promocodeId": unique.promocode_id}])
    assert (await optimove.get_promocode(unique.promocode_id)).hidden
    with pytest.raises(errors.NotFoundError):
        await optimove.assign(unique.promocode_id, "no-such-promotion")
    with pytest.raises(ValueError, match="needs its code"):
        await optimove.create_promocode(type_="global")


@pytest.mark.parametrize("method", ["consistent", "varying"])
async def test_code_files_allocation_and_export(
    optimove: OptimoveClient, optimove_fake: FakeOptimove, tmp_path: Path, method: str
) -> None:
    promotion = await optimove.create_promotion("Pool")
    await optimove.activate(promotion.promotion_id)
    code = await optimove.create_promocode(
        type_="unique",
        promotion_id=promotion.promotion_id,
        allocation_method=method,
        default_code="DRY",
    )
    first = await optimove.upload_code_file(code.promocode_id, b"A1\nA2\n", "first.csv")
    second = await optimove.upload_code_file(code.promocode_id, b"A3\r\n", "second.csv")
    assert (first.codes, second.codes) == (2, 1)
    assert [f.file_name for f in await optimove.list_files(code.promocode_id)] == [
        "first.csv",
        "second.csv",
    ]
    with pytest.raises(errors.VendorValidationError, match="repeats codes"):
        await optimove.upload_code_file(code.promocode_id, b"A1\n", "again.csv")
    with pytest.raises(errors.VendorValidationError, match="at most 10 MB"):
        await optimove.upload_code_file(
            code.promocode_id, b"x" * (10 * 1024 * 1024 + 1), "huge.csv"
        )

    response = await optimove.http.client.post(
        f"/_sandbox/promocodes/{code.promocode_id}/allocate",
        json={"customers": ["c1", "c2", "c1", "c3", "c4"]},
    )
    given = response.json()["allocated"]
    if (
        method == "consistent"
    ):  # c1 keeps its code; the pool of 3 serves c1, c2, c3; c4 gets the default
        assert given == {"c1": "A1", "c2": "A2", "c3": "A3", "c4": "DRY"}
    else:  # a new code every time: c1, c2, c1 again take the pool, then the default
        assert given == {"c1": "A3", "c2": "A2", "c3": "DRY", "c4": "DRY"}
    state = await optimove.get_promocode(code.promocode_id)
    assert (state.pool_size, state.available, state.allocated) == (3, 0, 3)

    target = tmp_path / "export.csv"
    assert await optimove.export_allocations(code.promocode_id, target) == 3
    rows = list(csv.reader(target.read_text().splitlines()))
    assert rows[0] == list(ALLOCATION_COLUMNS) and len(rows) == 4
    by_file = tmp_path / "by_file.csv"
    assert (
        await optimove.export_allocations(code.promocode_id, by_file, file_id=second.file_id) == 1
    )
    assert list(csv.reader(by_file.read_text().splitlines()))[1][4] == "A3"
    assert not list(tmp_path.glob("*.part"))


async def test_a_cancelled_export_leaves_the_old_file(
    optimove: OptimoveClient, tmp_path: Path
) -> None:
    code = await optimove.create_promocode(type_="unique")
    await optimove.upload_code_file(
        code.promocode_id, b"".join(b"C%05d\n" % n for n in range(5000)), "big.csv"
    )
    await optimove.http.client.post(
        f"/_sandbox/promocodes/{code.promocode_id}/allocate", json={"count": 5000}
    )
    target = tmp_path / "export.csv"
    target.write_text("previous export\n")
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        await optimove.export_allocations(code.promocode_id, target, cancel=token)
    assert target.read_text() == "previous export\n"
    assert not list(tmp_path.glob("*.part"))


async def test_legacy_functions(optimove: OptimoveClient) -> None:
    codes = await optimove.get_promo_codes("2026-11-20")
    assert {c.promo_code for c in codes} == {"SUMMER10", "VIP20"} and codes[0].target_group_id == 11
    assert [c.promo_code for c in await optimove.get_promo_codes_by_campaign(902)] == ["VIP20"]
    assert [
        c.action_id for c in await optimove.get_promo_codes_by_target_group(11, "2026-11-20")
    ] == [42]
    calls = await optimove.add_promotions([(f"CODE{n}", f"Promo {n}") for n in range(250)])
    assert calls == 3  # 100 + 100 + 50
    names = {p.promo_code: p.promotion_name for p in await optimove.get_promotions()}
    assert len(names) == 252 and names["CODE249"] == "Promo 249"
    await optimove.add_promotions([("CODE1", "Renamed")])  # an existing code is overwritten
    assert {p.promo_code: p.promotion_name for p in await optimove.get_promotions()}[
        "CODE1"
    ] == "Renamed"
    assert await optimove.delete_promotions([f"CODE{n}" for n in range(250)]) == 3
    assert len(await optimove.get_promotions()) == 2


async def test_every_endpoint_row_is_served_by_the_fake(optimove_fake: FakeOptimove) -> None:
    served = {
        (route.path, method)
        for route in optimove_fake.app.app.routes
        for method in (route.methods or [])
    }
    for endpoint in ENDPOINTS.values():
        assert (endpoint.path, endpoint.method) in served, endpoint.name


async def test_bad_key_and_missing_things(
    optimove_fake: FakeOptimove, sleeps: SleepRecorder
) -> None:
    wrong = OptimoveClient.connect(
        "http://o.test", "not-the-key", transport=SandboxTransport(optimove_fake), **fast(sleeps)
    )
    with pytest.raises(errors.AuthError, match="credentials were refused"):
        await wrong.ping()
    right = OptimoveClient.connect(
        "http://o.test", SANDBOX_API_KEY, transport=SandboxTransport(optimove_fake), **fast(sleeps)
    )
    await right.ping()
    with pytest.raises(errors.NotFoundError):
        await right.get_promocode("nope")
    await wrong.aclose()
    await right.aclose()


async def test_a_lost_answer_never_makes_a_second_promotion(
    optimove: OptimoveClient, optimove_fake: FakeOptimove
) -> None:
    optimove_fake.faults.slow_seconds = 2.0
    optimove.http.total_timeout = 0.2
    optimove_fake.faults.script.extend(["lost"])  # the create lands, its answer never arrives
    promotion = await optimove.create_promotion("Exactly once")
    optimove_fake.faults.script.extend(["drop-after"])  # and a dropped connection after the create
    code = await optimove.create_promocode(
        type_="global", code="ONCE", promotion_id=promotion.promotion_id
    )
    named = [p for p in optimove_fake.state.promotions.values() if p["name"] == "Exactly once"]
    assert len(named) == 1 and named[0]["promotionId"] == promotion.promotion_id
    assert [
        p.promocode_id for p in optimove_fake.state.promocodes.values() if p.code == "ONCE"
    ] == [code.promocode_id]
    assert optimove_fake.faults.injected == {"lost": 1, "drop-after": 1}


async def test_the_client_keeps_under_the_vendor_rate_limit(sleeps: SleepRecorder) -> None:
    from promodesk.vendors.http import RateLimit

    fake = FakeOptimove(rate_limit=(5, 0.5))
    client = OptimoveClient.connect(
        "http://o.test",
        SANDBOX_API_KEY,
        transport=SandboxTransport(fake),
        **fast(sleeps, rate_limit=RateLimit(5, 0.5), sleep=__import__("asyncio").sleep),
    )
    for _ in range(12):
        await client.get_promocode("pc-welcome-2025")
    assert fake.limit is not None and fake.limit.refused == 0
    # Without the client's limiter the vendor refuses, and the client backs off until it can.
    unpaced = OptimoveClient.connect(
        "http://o.test",
        SANDBOX_API_KEY,
        transport=SandboxTransport(fake),
        **fast(
            sleeps,
            sleep=__import__("asyncio").sleep,
            retry=__import__("promodesk.vendors.http", fromlist=["RetryPolicy"]).RetryPolicy(
                attempts=10, base_delay=0.1, max_delay=0.3, jitter=0.0
            ),
        ),
    )
    for _ in range(12):
        await unpaced.get_promocode("pc-welcome-2025")
    assert fake.limit.refused > 0
    await client.aclose()
    await unpaced.aclose()
