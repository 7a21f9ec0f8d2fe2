"""Every Optimove client operation against the fake, with the vendor's rules and our contract
(vendor-apis.md 1.9 as revised by 1.10)."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from promodesk.atomic import TEMP_SUFFIX
from promodesk.domain.jobs import CancelToken, JobCancelled
from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.vendors import errors
from promodesk.vendors.fake_support import KINDS, SandboxTransport
from promodesk.vendors.http import RateLimit, RetryPolicy
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.optimove.endpoints import (
    ENDPOINTS,
    PROMOCODE_COMMANDS,
    PROMOTION_COMMANDS,
    legacy_base_url,
)
from promodesk.vendors.optimove.fake import SANDBOX_API_KEY, FakeOptimove
from tests.integration.conftest import RecordingTransport, SleepRecorder, fast


def recorded(fake: FakeOptimove, sleeps: SleepRecorder, **options: Any) -> tuple[Any, Any]:
    transport = RecordingTransport(fake)
    client = OptimoveClient.connect(
        "http://optimove.test", SANDBOX_API_KEY, transport=transport, **fast(sleeps, **options)
    )
    return client, transport


async def raw(fake: FakeOptimove, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request as another program would send it (to check what the fake accepts)."""
    async with httpx.AsyncClient(
        transport=SandboxTransport(fake),
        base_url="http://optimove.test",
        headers={"X-API-KEY": SANDBOX_API_KEY},
    ) as client:
        return await client.request(method, path, **kwargs)


# -- promotions ---------------------------------------------------------------------------------


async def test_promotion_lifecycle(optimove: OptimoveClient) -> None:
    promotion = await optimove.create_promotion("Black Friday", "BF-2026", description="30% off")
    assert (promotion.state, promotion.name, promotion.code) == ("draft", "Black Friday", "BF-2026")
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
    assert (got.name, got.code, got.properties, len(got.tiers)) == (
        "Black Friday 2026",
        "BF-2026",
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
    copy = await optimove.duplicate(pid, "BF-2026-B")
    assert copy.state == "draft" and copy.promotion_id != pid and len(copy.tiers) == 1
    assert copy.code == "BF-2026-B" and copy.name == "Black Friday 2026"
    assert not copy.ever_active
    chosen = await optimove.duplicate(pid, "BF-2026-C", new_promotion_id="bf-copy-c")
    assert chosen.promotion_id == "bf-copy-c"


async def test_a_promotion_has_a_code_and_a_copy_needs_a_new_one(
    optimove: OptimoveClient, optimove_fake: FakeOptimove
) -> None:
    with pytest.raises(ValueError, match="needs its code"):
        await optimove.create_promotion("No code", " ")
    refused = await raw(optimove_fake, "POST", "/v1/promotions", json={"name": "No code"})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "code"
    promotion = await optimove.create_promotion("Coded", "CODED-1")
    assert optimove_fake.state.promotions[promotion.promotion_id]["code"] == "CODED-1"
    with pytest.raises(ValueError, match="new code"):
        await optimove.duplicate(promotion.promotion_id, "")
    path = f"/v1/promotions/{promotion.promotion_id}/duplicate"
    for body in ({}, {"code": "CODED-1"}):  # no code, or the same code
        answer = await raw(optimove_fake, "POST", path, json=body)
        assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "code"
    with pytest.raises(errors.VendorValidationError, match="new code"):
        await optimove.duplicate(promotion.promotion_id, "CODED-1")
    assert len(optimove_fake.state.promotions) == 3  # two demo promotions and ours


async def test_tiers_go_out_as_a_bare_array_and_the_fake_takes_both_shapes(
    optimove_fake: FakeOptimove, sleeps: SleepRecorder
) -> None:
    client, transport = recorded(optimove_fake, sleeps)
    promotion = await client.create_promotion("Tiers", "TIERS")
    tiers = [{"id": "t1", "name": "All", "conditions": []}]
    await client.set_tiers(promotion.promotion_id, tiers)
    sent = next(r for r in transport.requests if r.url.path.endswith("/promotionTiers"))
    assert json.loads(sent.content) == tiers
    wrapped = [{"id": "t2", "name": "Wrapped", "conditions": []}]
    path = f"/v1/promotions/{promotion.promotion_id}/promotionTiers"
    answer = await raw(optimove_fake, "PATCH", path, json={"promotionTiers": wrapped})
    assert answer.status_code == 204
    assert (await client.get_promotion(promotion.promotion_id)).tiers == wrapped
    answer = await raw(optimove_fake, "PATCH", path, json={"tiers": "no"})
    assert answer.status_code == 400
    await client.aclose()


async def test_tier_tree_parents_must_point_down(optimove: OptimoveClient) -> None:
    promotion = await optimove.create_promotion("Tiers", "TIERS-2")
    bad = [{"id": "t", "conditions": [{"a": 1}, {"a": 2, "parent": 1}]}]
    with pytest.raises(errors.VendorValidationError) as caught:
        await optimove.set_tiers(promotion.promotion_id, bad)
    assert "parent" in caught.value.details


async def test_validate_promotion_is_keyed_by_the_promo_code(
    optimove: OptimoveClient, optimove_fake: FakeOptimove, sleeps: SleepRecorder
) -> None:
    promotion = await optimove.create_promotion("Validate me", "VAL/ME 1")
    result = await optimove.validate_promotion("VAL/ME 1", [{"customerId": "c1"}])
    assert result.promotion_id == promotion.promotion_id
    assert result.contexts and result.results[0].customer_id == "c1"
    assert not result.results[0].eligible  # a draft
    await optimove.set_tiers(
        promotion.promotion_id, [{"id": "gold", "name": "Gold", "benefits": "20%"}]
    )
    await optimove.activate(promotion.promotion_id)
    result = await optimove.validate_promotion(
        "VAL/ME 1", [{"customerId": "c1"}, {"customerId": "c2"}]
    )
    assert [c.eligible for c in result.results] == [True, True]
    effect = result.results[0].effects[0]
    assert (effect.tier_id, effect.tier["name"], effect.reward) == ("gold", "Gold", "20%")
    # The code of a global promocode identifies its promotion too.
    by_global = await optimove.validate_promotion("WELCOME2025", [{"customerId": "c9"}])
    assert by_global.promotion_id == "welcome-global"
    with pytest.raises(errors.NotFoundError):
        await optimove.validate_promotion(promotion.promotion_id, [{"customerId": "c1"}])
    client, transport = recorded(optimove_fake, sleeps)
    await client.validate_promotion("VAL/ME 1", [{"customerId": "c1"}])
    assert transport.requests[-1].url.raw_path == b"/v1/promotions/VAL%2FME%201/validateCustomers"
    await client.aclose()


async def test_validate_answers_in_both_shapes(optimove: OptimoveClient) -> None:
    """The reference calls the list "contexts" and, in newer wording, "customers": the fake
    answers the promotion call with one and the promocode call with the other."""
    promocode = await optimove.validate_customers("pc-spring-welcome", [{"customerId": "c1"}])
    assert promocode.customers and not promocode.contexts
    assert promocode.results[0].customer_id == "c1" and promocode.results[0].eligible
    assert promocode.results[0].effects[0].reward == "default"
    promotion = await optimove.validate_promotion("SPRING26", [{"customerId": "c1"}])
    assert promotion.contexts and not promotion.customers
    assert promotion.results[0].eligible


async def test_promotion_transaction_applies_every_command_or_none(
    optimove: OptimoveClient, optimove_fake: FakeOptimove
) -> None:
    promotion = await optimove.create_promotion("Transact", "TX-1")
    pid = promotion.promotion_id
    command = {name: kind.build for name, kind in PROMOTION_COMMANDS.items()}
    answer = await optimove.promotion_transaction(
        pid,
        [
            command["setMetadata"](name="Renamed", description="by a transaction"),
            command["setProperties"](properties={"channel": "sms"}),
            command["setPromotionTiers"](promotionTiers=[{"id": "t1", "name": "All"}]),
            command["setPublishingBudgets"](audienceCap={"limit": 10, "timeframe": "Daily"}),
            command["setRewardConstraints"](
                constraints=[{"rewardType": "discount", "period": "weekly", "limit": 2}]
            ),
            command["activate"](),
        ],
    )
    assert answer == {"applied": 6}
    got = optimove_fake.state.promotions[pid]
    assert (got["name"], got["state"], got["properties"]) == (
        "Renamed",
        "active",
        {"channel": "sms"},
    )
    assert got["promotionTiers"][0]["id"] == "t1" and got["everActive"]
    assert got["publishingBudgets"] == {"audienceCap": {"limit": 10, "timeframe": "Daily"}}
    assert got["rewardConstraints"][0]["period"] == "weekly"
    before = json.dumps(got, sort_keys=True)
    # The second command breaks a rule (tiers once ever active): the first is not kept either.
    with pytest.raises(errors.ConflictError, match="nothing was applied") as caught:
        await optimove.promotion_transaction(
            pid,
            [
                {"command": "deactivate"},
                {"command": "setPromotionTiers", "promotionTiers": []},
            ],
        )
    assert "command 1 (setPromotionTiers)" in str(caught.value)
    assert json.dumps(optimove_fake.state.promotions[pid], sort_keys=True) == before
    with pytest.raises(ValueError, match="teleport"):
        await optimove.promotion_transaction(pid, [{"command": "teleport"}])
    with pytest.raises(ValueError, match="properties is required"):
        await optimove.promotion_transaction(pid, [{"command": "setProperties"}])
    # The fake checks the shapes itself too.
    path = f"/v1/promotions/{pid}/transaction"
    for body in ({"commands": []}, {"commands": [{"command": "teleport"}]}, {"x": 1}):
        assert (await raw(optimove_fake, "POST", path, json=body)).status_code == 400
    missing = await raw(optimove_fake, "POST", "/v1/promotions/nope/transaction", json=body)
    assert missing.status_code == 404


async def test_promocode_transaction_applies_every_command_or_none(
    optimove: OptimoveClient, optimove_fake: FakeOptimove
) -> None:
    promotion = await optimove.create_promotion("Codes", "CODES")
    pid = promotion.promotion_id
    code = await optimove.create_promocode(promocode_type="unique", default_code="DRY-1")
    cid = code.promocode_id
    command = {name: kind.build for name, kind in PROMOCODE_COMMANDS.items()}
    await optimove.promocode_transaction(
        cid,
        [
            command["assign"](promotionId=pid),
            command["hide"](),
            command["linkCampaign"](campaignId="camp-1"),
            command["linkCampaign"](campaignId="camp-2"),
            command["unlinkCampaign"](campaignId="camp-1"),
            command["setDefaultCode"](defaultCode="DRY-2"),
            command["setAllocationMethod"](allocationMethod="varying"),
        ],
    )
    got = await optimove.get_promocode(cid)
    assert (got.promotion_id, got.hidden, got.campaigns) == (pid, True, ["camp-2"])
    assert (got.default_code, got.allocation_method) == ("DRY-2", "Varying")
    await optimove.promocode_transaction(cid, [command["show"](), command["unassign"]()])
    got = await optimove.get_promocode(cid)
    assert (got.hidden, got.promotion_id) == (False, None)
    before = optimove_fake.state.promocodes[cid].as_json()
    with pytest.raises(errors.ConflictError, match="nothing was applied"):
        await optimove.promocode_transaction(
            cid, [command["hide"](), command["setGlobalCode"](code="NOT-FOR-UNIQUE")]
        )
    with pytest.raises(errors.NotFoundError, match="nothing was applied"):
        await optimove.promocode_transaction(
            cid, [command["hide"](), command["assign"](promotionId="no-such-promotion")]
        )
    with pytest.raises(errors.VendorValidationError):
        await optimove.promocode_transaction(
            cid, [command["setAllocationMethod"](allocationMethod="x")]
        )
    assert optimove_fake.state.promocodes[cid].as_json() == before


# -- promocodes ---------------------------------------------------------------------------------


async def test_create_promocode_sends_the_id_as_query_and_the_promotion_as_a_string_body(
    optimove_fake: FakeOptimove, sleeps: SleepRecorder
) -> None:
    client, transport = recorded(optimove_fake, sleeps)
    promotion = await client.create_promotion("Shape", "SHAPE")
    transport.requests.clear()
    made = await client.create_promocode(
        promocode_type="global", code="SHAPE10", promotion_id=promotion.promotion_id
    )
    create, transaction = transport.requests[0], transport.requests[1]
    assert (create.method, create.url.path) == ("POST", "/v1/promocodes")
    assert create.url.params["promocodeId"] == made.promocode_id
    assert json.loads(create.content) == promotion.promotion_id
    assert create.headers["content-type"] == "application/json"
    assert transaction.url.path == f"/v1/promocodes/{made.promocode_id}/transaction"
    assert json.loads(transaction.content) == {
        "commands": [
            {"command": "setType", "type": "global"},
            {"command": "setGlobalCode", "code": "SHAPE10"},
        ]
    }
    transport.requests.clear()
    unassigned = await client.create_promocode(
        promocode_type="unique", default_code="FALL", allocation_method="varying"
    )
    assert transport.requests[0].content == b"" and unassigned.promotion_id is None
    assert json.loads(transport.requests[1].content)["commands"] == [
        {"command": "setType", "type": "unique"},
        {"command": "setDefaultCode", "defaultCode": "FALL"},
        {"command": "setAllocationMethod", "allocationMethod": "Varying"},
    ]
    # Another program's body that is not a string is refused.
    bad = await raw(optimove_fake, "POST", "/v1/promocodes?promocodeId=x1", json={"a": 1})
    assert bad.status_code == 400
    await client.aclose()


async def test_global_and_unique_promocodes(optimove: OptimoveClient) -> None:
    promotion = await optimove.create_promotion("Welcome", "WELCOME-26")
    pid = promotion.promotion_id
    shared = await optimove.create_promocode(
        promocode_type="global", code="WELCOME2026", promotion_id=pid
    )
    assert (shared.type, shared.code, shared.promotion_id) == ("global", "WELCOME2026", pid)
    with pytest.raises(errors.ConflictError, match="already used"):
        await optimove.create_promocode(promocode_type="global", code="WELCOME2026")
    unique = await optimove.create_promocode(
        promocode_type="unique", promotion_id=pid, default_code="FALLBACK"
    )
    assert unique.default_code == "FALLBACK" and unique.allocation_method == "Consistent"
    generated = await optimove.create_promocode(promocode_type="unique")
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
    with pytest.raises(errors.NotFoundError):
        await optimove.assign(unique.promocode_id, "no-such-promotion")
    with pytest.raises(ValueError, match="needs its code"):
        await optimove.create_promocode(promocode_type="global")
    with pytest.raises(ValueError, match="files"):
        await optimove.create_promocode(promocode_type="unique", code="X")
    with pytest.raises(ValueError, match="Consistent or Varying"):
        await optimove.create_promocode(promocode_type="unique", allocation_method="random")


async def test_the_promocode_id_and_the_code_customers_type_are_separate(
    optimove: OptimoveClient, optimove_fake: FakeOptimove
) -> None:
    shared = await optimove.create_promocode(promocode_type="global", code="SUMMER-SALE")
    assert shared.code == "SUMMER-SALE"
    assert "summer" not in shared.promocode_id.lower()  # no slug of the code posing as it
    unique = await optimove.create_promocode(promocode_type="unique")
    assert unique.code is None and unique.promocode_id
    state = optimove_fake.state.promocodes[unique.promocode_id].as_json()
    assert state["code"] is None and state["promocodeId"] == unique.promocode_id
    # A blank promocode (created, its settings not yet sent) has no code and no type.
    blank = await raw(optimove_fake, "POST", "/v1/promocodes?promocodeId=blank-1")
    assert blank.status_code == 201
    got = await optimove.get_promocode("blank-1")
    assert (got.type, got.code, got.promocode_id) == (None, None, "blank-1")


@pytest.mark.parametrize("step", ["create", "transaction"])
@pytest.mark.parametrize("fault", KINDS)
async def test_create_promocode_is_exactly_once_through_faults(
    optimove: OptimoveClient, optimove_fake: FakeOptimove, fault: str, step: str
) -> None:
    optimove_fake.faults.slow_seconds = 0.5
    optimove.http.total_timeout = 0.1
    promotion = await optimove.create_promotion("Faulted", f"F-{fault}-{step}")
    optimove_fake.faults.script.extend([fault] if step == "create" else [None, fault])
    code = f"ONCE-{fault}-{step}".upper()
    made = await optimove.create_promocode(
        promocode_type="global", code=code, promotion_id=promotion.promotion_id
    )
    holding = [p for p in optimove_fake.state.promocodes.values() if p.code == code]
    assert [p.promocode_id for p in holding] == [made.promocode_id]
    assert (holding[0].type, holding[0].promotion_id) == ("global", promotion.promotion_id)
    blanks = [p for p in optimove_fake.state.promocodes.values() if p.type is None]
    assert blanks == []  # nothing left half made
    assert optimove_fake.faults.injected == {fault: 1}


async def test_a_stopped_create_is_finished_by_running_it_again(
    optimove: OptimoveClient, optimove_fake: FakeOptimove
) -> None:
    # The global code is taken: the promocode is made, its settings refused.
    with pytest.raises(errors.ConflictError, match="create it again with this promocode id"):
        await optimove.create_promocode(
            promocode_type="global", code="WELCOME2025", promocode_id="pc-retry-me"
        )
    assert optimove_fake.state.promocodes["pc-retry-me"].type is None
    finished = await optimove.create_promocode(
        promocode_type="global", code="WELCOME-RETRY", promocode_id="pc-retry-me"
    )
    assert (finished.type, finished.code) == ("global", "WELCOME-RETRY")
    again = await optimove.create_promocode(
        promocode_type="global", code="WELCOME-RETRY", promocode_id="pc-retry-me"
    )
    assert again.promocode_id == "pc-retry-me"  # already done: found, nothing sent twice
    assert sum(1 for p in optimove_fake.state.promocodes.values() if p.code == "WELCOME-RETRY") == 1
    with pytest.raises(errors.ConflictError, match="other settings"):
        await optimove.create_promocode(promocode_type="unique", promocode_id="pc-retry-me")
    with pytest.raises(errors.ConflictError, match="another promotion"):
        await optimove.create_promocode(
            promocode_type="global",
            code="WELCOME-RETRY",
            promocode_id="pc-retry-me",
            promotion_id="welcome-global",
        )


@pytest.mark.parametrize("method", ["Consistent", "Varying"])
async def test_code_files_allocation_and_export(
    optimove: OptimoveClient, optimove_fake: FakeOptimove, tmp_path: Path, method: str
) -> None:
    promotion = await optimove.create_promotion("Pool", "POOL")
    await optimove.activate(promotion.promotion_id)
    code = await optimove.create_promocode(
        promocode_type="unique",
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
    with pytest.raises(errors.ConflictError, match="type cannot change"):
        await optimove.promocode_transaction(
            code.promocode_id, [{"command": "setType", "type": "global"}]
        )

    response = await optimove.http.client.post(
        f"/_sandbox/promocodes/{code.promocode_id}/allocate",
        json={"customers": ["c1", "c2", "c1", "c3", "c4"]},
    )
    given = response.json()["allocated"]
    if method == "Consistent":  # c1 keeps its code; the pool of 3 serves c1, c2, c3; c4: default
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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["by_file.csv", "export.csv"]


async def test_a_cancelled_export_leaves_the_old_file(
    optimove: OptimoveClient, tmp_path: Path
) -> None:
    code = await optimove.create_promocode(promocode_type="unique")
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
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]  # no temporary file left


async def test_an_export_that_is_not_the_nine_columns_leaves_the_old_file(
    optimove: OptimoveClient, optimove_fake: FakeOptimove, tmp_path: Path
) -> None:
    target = tmp_path / "export.csv"
    target.write_text("previous export\n")
    optimove_fake.faults.script.append("malformed")
    with pytest.raises(errors.MalformedResponseError, match="nine expected"):
        await optimove.export_allocations("pc-spring-welcome", target)
    assert target.read_text() == "previous export\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(TEMP_SUFFIX)]


# -- legacy ---------------------------------------------------------------------------------------


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


@pytest.mark.parametrize(
    "typed",
    [
        "http://legacy.test",
        "http://legacy.test/",
        "http://legacy.test/current",
        "http://legacy.test/current/",
        "http://legacy.test/Current",
        "http://legacy.test/v3.0",
        "http://legacy.test/v3.0/",
        " http://legacy.test/current// ",
    ],
)
async def test_the_legacy_base_url_is_normalised(
    optimove_fake: FakeOptimove, sleeps: SleepRecorder, typed: str
) -> None:
    assert legacy_base_url(typed) == "http://legacy.test"
    transport = RecordingTransport(optimove_fake)
    client = OptimoveClient.connect(
        "http://optimove.test",
        SANDBOX_API_KEY,
        legacy_base_url=typed,
        transport=transport,
        **fast(sleeps),
    )
    assert {p.promo_code for p in await client.get_promotions()} == {"SUMMER10", "VIP20"}
    await client.add_promotions([("TYPED", "Typed base")])
    assert transport.urls == [
        "http://legacy.test/current/integrations/GetPromotions",
        "http://legacy.test/current/integrations/AddPromotions",
    ]
    await client.aclose()


def test_a_legacy_base_under_a_path_keeps_its_path() -> None:
    # The served sandbox mounts each fake under a prefix.
    assert legacy_base_url("http://127.0.0.1:8000/optimove/current") == (
        "http://127.0.0.1:8000/optimove"
    )
    assert legacy_base_url("https://api4.optimove.net/v3.0") == "https://api4.optimove.net"


async def test_one_rate_limiter_for_both_hosts(sleeps: SleepRecorder) -> None:
    """Optimove counts requests per API key, whichever host they go to: the client paces the
    OptiPromo and the legacy host as one."""
    fake = FakeOptimove(rate_limit=(4, 0.4))
    client = OptimoveClient.connect(
        "http://optimove.test",
        SANDBOX_API_KEY,
        legacy_base_url="http://legacy.test/current",
        transport=SandboxTransport(fake),
        **fast(
            sleeps,
            # A little slower than the vendor's window: the clocks read at different moments.
            rate_limit=RateLimit(4, 0.5),
            sleep=asyncio.sleep,
            retry=RetryPolicy(attempts=1),  # a 429 would fail the test at once
        ),
    )
    assert client.http is not client.legacy_http
    assert client.http.limiter is client.legacy_http.limiter
    for _ in range(5):
        await client.get_promocode("pc-welcome-2025")
        await client.get_promotions()
    assert fake.limit is not None and fake.limit.refused == 0
    await client.aclose()


# -- contract and transport ---------------------------------------------------------------------


async def test_every_endpoint_row_is_served_by_the_fake(optimove_fake: FakeOptimove) -> None:
    served = {
        (route.path.replace(":path}", "}"), method)
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
    promotion = await optimove.create_promotion("Exactly once", "ONCE-P")
    optimove_fake.faults.script.extend(["drop-after"])  # and a dropped connection after the create
    code = await optimove.create_promocode(
        promocode_type="global", code="ONCE", promotion_id=promotion.promotion_id
    )
    named = [p for p in optimove_fake.state.promotions.values() if p["name"] == "Exactly once"]
    assert len(named) == 1 and named[0]["promotionId"] == promotion.promotion_id
    assert [
        p.promocode_id for p in optimove_fake.state.promocodes.values() if p.code == "ONCE"
    ] == [code.promocode_id]
    assert optimove_fake.faults.injected == {"lost": 1, "drop-after": 1}


async def test_the_client_keeps_under_the_vendor_rate_limit(sleeps: SleepRecorder) -> None:
    fake = FakeOptimove(rate_limit=(5, 0.5))
    client = OptimoveClient.connect(
        "http://o.test",
        SANDBOX_API_KEY,
        transport=SandboxTransport(fake),
        # A little slower than the vendor's window: the two clocks read at different moments.
        **fast(sleeps, rate_limit=RateLimit(5, 0.6), sleep=asyncio.sleep),
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
            sleep=asyncio.sleep,
            retry=RetryPolicy(attempts=10, base_delay=0.1, max_delay=0.3, jitter=0.0),
        ),
    )
    for _ in range(12):
        await unpaced.get_promocode("pc-welcome-2025")
    assert fake.limit.refused > 0
    await client.aclose()
    await unpaced.aclose()


async def test_an_export_bigger_than_the_download_cap_leaves_the_old_file(
    optimove_fake: FakeOptimove, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    client = OptimoveClient.connect(
        "http://optimove.test",
        SANDBOX_API_KEY,
        transport=SandboxTransport(optimove_fake),
        **fast(sleeps, max_download_bytes=64 * 1024),
    )
    code = await client.create_promocode(promocode_type="unique")
    await client.upload_code_file(
        code.promocode_id, b"".join(b"C%05d\n" % n for n in range(5000)), "big.csv"
    )
    await client.http.client.post(
        f"/_sandbox/promocodes/{code.promocode_id}/allocate", json={"count": 5000}
    )
    target = tmp_path / "export.csv"
    target.write_text("previous export\n")
    with pytest.raises(errors.AnswerRefusedError, match="bigger than 64 KB; it was stopped"):
        await client.export_allocations(code.promocode_id, target)
    assert target.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]
    await client.aclose()
