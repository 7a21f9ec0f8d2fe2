"""Live vendor work in the Qt-free core: every operation of every table through the one
executor against the in-process fakes (checked on the fake's state and in the workspace),
sync with additions, changes and removals at the vendor, and the bulk runner with faults."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from promodesk.domain.vendors import Vendor
from promodesk.services.bulk import BulkRunner
from promodesk.services.operations import OPERATIONS, operation
from promodesk.services.operations.executor import (
    AccountRef,
    Executor,
    InputError,
    NotAllowed,
    NotRecorded,
    OperationOutcome,
)
from promodesk.services.run_claims import RunBusy
from promodesk.services.sync import YIELD_EVERY, sync_account
from promodesk.store import audit
from promodesk.store.db import connect, transaction
from promodesk.store.importers.base import ImportHints, SourceRef
from promodesk.store.importers.dispatch import import_file
from promodesk.store.imports import RemovalResult, list_imports, remove_import
from promodesk.store.indexer import build_indexes
from promodesk.store.query import Pager, RowQuery
from promodesk.store.runs import claim_run
from promodesk.store.tables import IMPACT_CODES
from promodesk.store.workspace import create_workspace
from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.altcraft.fake import SANDBOX_DB_ID, CodeState, FakeAltcraft
from promodesk.vendors.altcraft.fake import SANDBOX_TOKEN as ALTCRAFT_TOKEN
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, FakeImpact
from promodesk.vendors.impact.fake import SANDBOX_TOKEN as IMPACT_TOKEN
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.optimove.fake import SANDBOX_API_KEY, FakeOptimove
from tests.helpers import (
    allocation_rows,
    impact_code,
    impact_page,
    write_allocations,
    write_json,
)
from tests.integration.conftest import SleepRecorder, fast
from tests.unit.test_writes import assert_counts_match_a_recount


@dataclass
class Live:
    workspace: Path
    fakes: dict[Vendor, Any]
    clients: dict[Vendor, Any]
    executor: Executor
    accounts: dict[Vendor, AccountRef]

    async def run(
        self, vendor: Vendor, name: str, inputs: dict[str, Any], **options: Any
    ) -> OperationOutcome:
        return await self.executor.run(
            self.accounts[vendor], operation(vendor, name), inputs, **options
        )

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        conn = connect(self.workspace, readonly=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def one(self, sql: str, *params: Any) -> Any:
        rows = self.rows(sql, *params)
        assert len(rows) == 1, rows
        return rows[0][0] if len(rows[0]) == 1 else rows[0]

    def audit(self) -> list[audit.AuditEntry]:
        conn = connect(self.workspace, readonly=True)
        try:
            return list(audit.entries(conn, newest_first=False))
        finally:
            conn.close()


@pytest_asyncio.fixture
async def live(tmp_path: Path, sleeps: SleepRecorder) -> AsyncIterator[Live]:
    workspace = tmp_path / "live.promodesk"
    create_workspace(workspace, label="live")
    fakes: dict[Vendor, Any] = {
        Vendor.OPTIMOVE: FakeOptimove(rate_limit=None),
        Vendor.IMPACT: FakeImpact(rate_limit=None),
        Vendor.ALTCRAFT: FakeAltcraft(rate_limit=None),
    }
    clients: dict[Vendor, Any] = {
        Vendor.OPTIMOVE: OptimoveClient.connect(
            "http://optimove.test",
            SANDBOX_API_KEY,
            legacy_base_url="http://legacy.optimove.test",
            transport=SandboxTransport(fakes[Vendor.OPTIMOVE]),
            **fast(sleeps),
        ),
        Vendor.IMPACT: ImpactClient.connect(
            "http://impact.test",
            SANDBOX_SID,
            IMPACT_TOKEN,
            transport=SandboxTransport(fakes[Vendor.IMPACT]),
            **fast(sleeps),
        ),
        Vendor.ALTCRAFT: AltcraftClient.connect(
            "http://altcraft.test",
            ALTCRAFT_TOKEN,
            5,
            db_id=SANDBOX_DB_ID,
            transport=SandboxTransport(fakes[Vendor.ALTCRAFT]),
            **fast(sleeps),
        ),
    }

    async def client_for(account: AccountRef) -> Any:
        return clients[account.vendor]

    accounts = {
        vendor: AccountRef(f"acc-{vendor.value}", vendor, f"Shop {vendor.display_name}", False)
        for vendor in clients
    }
    yield Live(workspace, fakes, clients, Executor(workspace, client_for), accounts)
    for client in clients.values():
        await client.aclose()


# -- every operation, one scenario each ------------------------------------------------------

Scenario = Callable[[Live], Awaitable[None]]
SCENARIOS: dict[tuple[Vendor, str], Scenario] = {}


def scenario(vendor: Vendor, name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[(vendor, name)] = function
        return function

    return register


@scenario(Vendor.IMPACT, "list_all")
async def _impact_list(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    wanted = [r for r in fake.state.codes.values() if r["CampaignId"] == "1000"]
    outcome = await live.run(Vendor.IMPACT, "list_all", {"campaign_id": 1000, "state": "ACTIVE"})
    assert outcome.ok and len(outcome.result) == len(wanted)
    assert live.one("SELECT count(*) FROM impact_codes") == len(wanted)
    assert live.audit() == []  # a read changes nothing at the vendor


@scenario(Vendor.IMPACT, "create")
async def _impact_create(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    inputs = {"partner_id": 2552842, "campaign_id": 1000, "code": "FRESH-10", "type_": "LI"}
    outcome = await live.run(Vendor.IMPACT, "create", inputs)
    assert outcome.ok, outcome.message
    assert [r["Code"] for r in fake.state.codes.values()].count("FRESH-10") == 1
    assert live.one("SELECT status FROM impact_codes WHERE code = 'FRESH-10'") == "active"
    # The same create again (a script re-run after a lost answer) makes no second code.
    again = await live.run(Vendor.IMPACT, "create", inputs)
    assert again.ok
    assert [r["Code"] for r in fake.state.codes.values()].count("FRESH-10") == 1
    [entry, _] = live.audit()
    assert entry.operation == "create" and entry.outcome == "ok"
    assert "FRESH-10" not in repr(entry)  # the code is hashed in the audit log


@scenario(Vendor.IMPACT, "get")
async def _impact_get(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    await live.run(Vendor.IMPACT, "list_all", {})
    fake.state.codes[7_000_003]["State"] = "INACTIVE"  # expired in impact.com's own UI
    outcome = await live.run(Vendor.IMPACT, "get", {"promo_code_id": 7_000_003})
    assert outcome.ok
    assert live.one("SELECT status FROM impact_codes WHERE promo_code_id = 7000003") == "inactive"


@scenario(Vendor.IMPACT, "expire")
async def _impact_expire(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    await live.run(Vendor.IMPACT, "list_all", {})
    outcome = await live.run(Vendor.IMPACT, "expire", {"promo_code_id": 7_000_002})
    assert outcome.ok and outcome.message == "Expired (impact.com id 7000002)"
    assert fake.state.codes[7_000_002]["State"] == "INACTIVE"
    assert live.one("SELECT status FROM impact_codes WHERE promo_code_id = 7000002") == "inactive"
    assert (
        live.one(
            "SELECT active_count FROM impact_programs WHERE campaign_id = ?",
            fake.state.codes[7_000_002]["CampaignId"],
        )
        == 12 - 1
    )
    with pytest.raises(NotAllowed, match="already expired"):
        await live.run(Vendor.IMPACT, "expire", {"promo_code_id": 7_000_002})
    [entry] = live.audit()
    assert (entry.operation, entry.target, entry.outcome) == ("expire", "code 7000002", "ok")


@scenario(Vendor.ALTCRAFT, "import_codes")
async def _altcraft_import(live: Live) -> None:
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    outcome = await live.run(
        Vendor.ALTCRAFT, "import_codes", {"codes": ["NEW-1", " NEW-2 ", "LOY5-0001"]}
    )
    assert outcome.ok
    assert {"NEW-1", "NEW-2", "LOY5-0001"} <= set(program.codes)
    assert sorted(c for (c,) in live.rows("SELECT code FROM altcraft_codes")) == [
        "LOY5-0001",
        "NEW-1",
        "NEW-2",
    ]
    assert live.one(
        "SELECT code_count, available_count FROM altcraft_programs WHERE loyalty_id = '5'"
    ) == (3, 3)


@scenario(Vendor.ALTCRAFT, "get")
async def _altcraft_get(live: Live) -> None:
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    await live.clients[Vendor.ALTCRAFT].attach(code="LOY5-0007", email="outside@example.com")
    outcome = await live.run(Vendor.ALTCRAFT, "get", {"code": "LOY5-0007"})
    assert outcome.ok
    assert live.one("SELECT status FROM altcraft_codes WHERE code = 'LOY5-0007'") == "attached"
    assert live.one("SELECT attached_count FROM altcraft_programs") == 1


@scenario(Vendor.ALTCRAFT, "attach")
async def _altcraft_attach(live: Live) -> None:
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    outcome = await live.run(
        Vendor.ALTCRAFT, "attach", {"code": "LOY5-0003", "email": "ann@example.com"}
    )
    assert outcome.ok
    assert program.codes["LOY5-0003"].profiles
    row = live.one("SELECT status, profile_id FROM altcraft_codes WHERE code = 'LOY5-0003'")
    assert row == ("attached", program.codes["LOY5-0003"].profiles[0])


@scenario(Vendor.ALTCRAFT, "activate")
async def _altcraft_activate(live: Live) -> None:
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    with pytest.raises(NotAllowed, match="attached to a profile"):
        await live.run(Vendor.ALTCRAFT, "activate", {"code": "LOY5-0004"})
    await live.run(Vendor.ALTCRAFT, "attach", {"code": "LOY5-0004", "email": "bo@example.com"})
    outcome = await live.run(Vendor.ALTCRAFT, "activate", {"code": "LOY5-0004"})
    assert outcome.ok
    assert program.codes["LOY5-0004"].activated
    assert live.one("SELECT status FROM altcraft_codes WHERE code = 'LOY5-0004'") == "activated"


@scenario(Vendor.ALTCRAFT, "update")
async def _altcraft_update(live: Live) -> None:
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    with pytest.raises(InputError, match="expiry"):
        await live.run(Vendor.ALTCRAFT, "update", {"code": "LOY5-0005"})
    outcome = await live.run(
        Vendor.ALTCRAFT, "update", {"code": "LOY5-0005", "expire_date": "2027-01-31T23:00:00+01:00"}
    )
    assert outcome.ok
    assert program.codes["LOY5-0005"].expire_date.startswith("2027-01-31T22:00:00")
    assert (
        live.one("SELECT expire_date FROM altcraft_codes WHERE code = 'LOY5-0005'")
        == "2027-01-31T22:00:00Z"
    )


@scenario(Vendor.ALTCRAFT, "detach")
async def _altcraft_detach(live: Live) -> None:
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    await live.run(Vendor.ALTCRAFT, "attach", {"code": "LOY5-0006", "email": "cy@example.com"})
    outcome = await live.run(
        Vendor.ALTCRAFT, "detach", {"code": "LOY5-0006", "email": "cy@example.com"}
    )
    assert outcome.ok, outcome.message
    assert not program.codes["LOY5-0006"].profiles
    assert live.one("SELECT status FROM altcraft_codes WHERE code = 'LOY5-0006'") == "available"
    assert [entry.operation for entry in live.audit()] == ["attach", "detach"]
    # The customer's email is an input, never a code: only the code is hashed.
    assert live.audit()[1].inputs["email"] == "cy@example.com"
    assert live.audit()[1].inputs["code"].startswith("#")


@scenario(Vendor.ALTCRAFT, "export_all")
async def _altcraft_export(live: Live) -> None:
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    outcome = await live.run(Vendor.ALTCRAFT, "export_all", {})
    assert outcome.ok and live.one("SELECT count(*) FROM altcraft_codes") == len(program.codes)
    del program.codes["LOY5-0009"]  # deleted in Altcraft's UI
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    assert live.one("SELECT status FROM altcraft_codes WHERE code = 'LOY5-0009'") == "gone"
    assert live.one("SELECT code_count FROM altcraft_programs") == len(program.codes)


# Optimove -------------------------------------------------------------------------------------


def promotion(live: Live, promotion_id: str) -> dict[str, Any]:
    return live.fakes[Vendor.OPTIMOVE].state.promotions[promotion_id]


def promocode(live: Live, promocode_id: str) -> Any:
    return live.fakes[Vendor.OPTIMOVE].state.promocodes[promocode_id]


async def new_promotion(live: Live, promotion_id: str = "summer-26") -> None:
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "create_promotion",
        {"name": "Summer", "code": "SUMMER26", "promotion_id": promotion_id},
    )
    assert outcome.ok, outcome.message


@scenario(Vendor.OPTIMOVE, "create_promotion")
async def _create_promotion(live: Live) -> None:
    await new_promotion(live)
    assert promotion(live, "summer-26")["code"] == "SUMMER26"
    # The log names it by what was given, an empty field left out ("..., Description ").
    target = live.one("SELECT target FROM audit_log WHERE operation = 'create_promotion'")
    assert target == "Name Summer, Promotion code SUMMER26, Promotion ID summer-26"
    row = live.one("SELECT name, code, state FROM optimove_promotions")
    assert row == ("Summer", "SUMMER26", "draft")
    await new_promotion(live)  # again, as after a lost answer: still one promotion
    assert (
        len(
            [
                p
                for p in live.fakes[Vendor.OPTIMOVE].state.promotions.values()
                if p["code"] == "SUMMER26"
            ]
        )
        == 1
    )


@scenario(Vendor.OPTIMOVE, "get_promotion")
async def _get_promotion(live: Live) -> None:
    # Tracking a promotion the workspace does not know yet.
    outcome = await live.run(
        Vendor.OPTIMOVE, "get_promotion", {"promotion_id": "spring-welcome-2026"}
    )
    assert outcome.ok
    assert live.one("SELECT state, ever_active, code FROM optimove_promotions") == (
        "active",
        1,
        "SPRING26",
    )


@scenario(Vendor.OPTIMOVE, "set_metadata")
async def _set_metadata(live: Live) -> None:
    await new_promotion(live)
    await live.run(
        Vendor.OPTIMOVE, "set_metadata", {"promotion_id": "summer-26", "name": "Summer sale"}
    )
    assert promotion(live, "summer-26")["name"] == "Summer sale"
    assert live.one("SELECT name FROM optimove_promotions") == "Summer sale"


@scenario(Vendor.OPTIMOVE, "set_properties")
async def _set_properties(live: Live) -> None:
    await new_promotion(live)
    await live.run(
        Vendor.OPTIMOVE,
        "set_properties",
        {"promotion_id": "summer-26", "properties": {"channel": "email"}},
    )
    assert promotion(live, "summer-26")["properties"] == {"channel": "email"}
    await live.run(Vendor.OPTIMOVE, "activate", {"promotion_id": "summer-26"})
    with pytest.raises(NotAllowed, match="draft or deactivated"):
        await live.run(
            Vendor.OPTIMOVE, "set_properties", {"promotion_id": "summer-26", "properties": {}}
        )


TIERS = [
    {
        "id": "gold",
        "name": "Gold",
        "benefits": [{"rewardType": "discount", "percent": 20}],
        "conditions": [
            {"attribute": "LTV", "operator": ">", "value": 500},
            {"parent": 0, "attribute": "Country", "value": "DE"},
        ],
    },
    {"id": "everyone", "name": "Everyone", "benefits": [{"rewardType": "discount", "percent": 5}]},
]


@scenario(Vendor.OPTIMOVE, "set_tiers")
async def _set_tiers(live: Live) -> None:
    await new_promotion(live)
    bad = [{**TIERS[0], "conditions": [{"parent": 0}]}]
    with pytest.raises(InputError, match="parent must come before it"):
        await live.run(Vendor.OPTIMOVE, "set_tiers", {"promotion_id": "summer-26", "tiers": bad})
    outcome = await live.run(
        Vendor.OPTIMOVE, "set_tiers", {"promotion_id": "summer-26", "tiers": TIERS}
    )
    assert outcome.ok, outcome.message
    assert [t["id"] for t in promotion(live, "summer-26")["promotionTiers"]] == ["gold", "everyone"]
    details = json.loads(live.one("SELECT details FROM optimove_promotions"))
    assert [t["id"] for t in details["promotionTiers"]] == ["gold", "everyone"]
    await live.run(Vendor.OPTIMOVE, "activate", {"promotion_id": "summer-26"})
    await live.run(Vendor.OPTIMOVE, "deactivate", {"promotion_id": "summer-26"})
    with pytest.raises(NotAllowed, match="ever been active"):
        await live.run(Vendor.OPTIMOVE, "set_tiers", {"promotion_id": "summer-26", "tiers": TIERS})


@scenario(Vendor.OPTIMOVE, "set_budgets")
async def _set_budgets(live: Live) -> None:
    await new_promotion(live)
    await live.run(
        Vendor.OPTIMOVE,
        "set_budgets",
        {"promotion_id": "summer-26", "audience_cap": {"limit": 5000, "timeframe": "Daily"}},
    )
    assert promotion(live, "summer-26")["publishingBudgets"] == {
        "audienceCap": {"limit": 5000, "timeframe": "Daily"}
    }


@scenario(Vendor.OPTIMOVE, "set_constraints")
async def _set_constraints(live: Live) -> None:
    await new_promotion(live)
    await live.run(
        Vendor.OPTIMOVE,
        "set_constraints",
        {
            "promotion_id": "summer-26",
            "constraints": [{"rewardType": "discount", "period": "daily", "limit": 100}],
        },
    )
    assert promotion(live, "summer-26")["rewardConstraints"] == [
        {"rewardType": "discount", "period": "daily", "limit": 100}
    ]


@scenario(Vendor.OPTIMOVE, "activate")
async def _activate(live: Live) -> None:
    await new_promotion(live)
    await live.run(Vendor.OPTIMOVE, "activate", {"promotion_id": "summer-26"})
    assert promotion(live, "summer-26")["state"] == "active"
    assert live.one("SELECT state, ever_active FROM optimove_promotions") == ("active", 1)
    with pytest.raises(NotAllowed, match="draft or deactivated"):
        await live.run(Vendor.OPTIMOVE, "activate", {"promotion_id": "summer-26"})
    assert live.rows("SELECT old_state, new_state FROM state_events") == [("draft", "active")]


@scenario(Vendor.OPTIMOVE, "deactivate")
async def _deactivate(live: Live) -> None:
    await new_promotion(live)
    with pytest.raises(NotAllowed, match="Only an active promotion"):
        await live.run(Vendor.OPTIMOVE, "deactivate", {"promotion_id": "summer-26"})
    await live.run(Vendor.OPTIMOVE, "activate", {"promotion_id": "summer-26"})
    await live.run(Vendor.OPTIMOVE, "deactivate", {"promotion_id": "summer-26"})
    assert promotion(live, "summer-26")["state"] == "deactivated"
    assert live.one("SELECT state FROM optimove_promotions") == "deactivated"


@scenario(Vendor.OPTIMOVE, "archive")
async def _archive(live: Live) -> None:
    await new_promotion(live)
    assert (
        operation(Vendor.OPTIMOVE, "archive").confirm
        and "final" in operation(Vendor.OPTIMOVE, "archive").confirm
    )
    await live.run(Vendor.OPTIMOVE, "archive", {"promotion_id": "summer-26"})
    assert promotion(live, "summer-26")["state"] == "archived"
    with pytest.raises(NotAllowed, match="only be duplicated"):
        await live.run(Vendor.OPTIMOVE, "activate", {"promotion_id": "summer-26"})


@scenario(Vendor.OPTIMOVE, "duplicate")
async def _duplicate(live: Live) -> None:
    await new_promotion(live)
    await live.run(Vendor.OPTIMOVE, "archive", {"promotion_id": "summer-26"})
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "duplicate",
        {"promotion_id": "summer-26", "new_code": "SUMMER27", "new_promotion_id": "summer-27"},
    )
    assert outcome.ok, outcome.message
    assert promotion(live, "summer-27")["code"] == "SUMMER27"
    assert (
        live.one("SELECT state FROM optimove_promotions WHERE promotion_id = 'summer-27'")
        == "draft"
    )


@scenario(Vendor.OPTIMOVE, "validate_promotion")
async def _validate_promotion(live: Live) -> None:
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "validate_promotion",
        {"promo_code": "SPRING26", "customer_ids": ["c1", "c2", "c1"]},
    )
    assert outcome.ok, outcome.message
    rows = operation(Vendor.OPTIMOVE, "validate_promotion").result_json(outcome.result)
    assert [row["customer_id"] for row in rows] == ["c1", "c2"]
    assert all("tier" in row and "reward" in row for row in rows)
    assert live.audit() == []


@scenario(Vendor.OPTIMOVE, "promotion_transaction")
async def _promotion_transaction(live: Live) -> None:
    await new_promotion(live)
    commands = [{"command": "setMetadata", "name": "Summer final"}, {"command": "activate"}]
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "promotion_transaction",
        {"promotion_id": "summer-26", "commands": commands},
    )
    assert outcome.ok, outcome.message
    assert (promotion(live, "summer-26")["name"], promotion(live, "summer-26")["state"]) == (
        "Summer final",
        "active",
    )
    assert live.one("SELECT name, state FROM optimove_promotions") == ("Summer final", "active")
    # All or nothing: a refused command leaves everything as it was.
    refused = await live.run(
        Vendor.OPTIMOVE,
        "promotion_transaction",
        {
            "promotion_id": "summer-26",
            "commands": [
                {"command": "setMetadata", "name": "X"},
                {"command": "setProperties", "properties": {}},
            ],
        },
    )
    assert refused.status == "failed"
    assert promotion(live, "summer-26")["name"] == "Summer final"


async def new_promocode(live: Live, **inputs: Any) -> OperationOutcome:
    values = {
        "promocode_type": "unique",
        "promotion_id": "spring-welcome-2026",
        "promocode_id": "pc-new",
        **inputs,
    }
    outcome = await live.run(Vendor.OPTIMOVE, "create_promocode", values)
    assert outcome.ok, outcome.message
    return outcome


@scenario(Vendor.OPTIMOVE, "create_promocode")
async def _create_promocode(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promotion", {"promotion_id": "spring-welcome-2026"})
    await new_promocode(live, default_code="FALLBACK-1", allocation_method="Varying")
    created = promocode(live, "pc-new")
    assert (created.type, created.default_code, created.allocation_method) == (
        "unique",
        "FALLBACK-1",
        "Varying",
    )
    assert live.one(
        "SELECT code_type, default_code, allocation_method FROM optimove_promocodes"
    ) == ("unique", "FALLBACK-1", "Varying")
    assert live.one("SELECT promocode_count FROM optimove_promotions") == 1
    with pytest.raises(InputError, match="global promocode needs"):
        await live.run(Vendor.OPTIMOVE, "create_promocode", {"promocode_type": "global"})
    [entry] = live.audit()
    assert "FALLBACK-1" not in repr(entry)


@scenario(Vendor.OPTIMOVE, "get_promocode")
async def _get_promocode(live: Live) -> None:
    outcome = await live.run(
        Vendor.OPTIMOVE, "get_promocode", {"promocode_id": "pc-spring-welcome"}
    )
    assert outcome.ok
    assert live.one("SELECT pool_size, available, file_count FROM optimove_promocodes") == (
        500,
        500,
        1,
    )
    assert live.one("SELECT file_name, code_count FROM optimove_code_files") == (
        "spring_batch1.csv",
        500,
    )


@scenario(Vendor.OPTIMOVE, "assign")
async def _assign(live: Live) -> None:
    await new_promotion(live)
    await new_promocode(live, promotion_id=None)
    await live.run(
        Vendor.OPTIMOVE, "assign", {"promocode_id": "pc-new", "promotion_id": "summer-26"}
    )
    assert promocode(live, "pc-new").promotion_id == "summer-26"
    assert (
        live.one("SELECT promocode_count FROM optimove_promotions WHERE promotion_id = 'summer-26'")
        == 1
    )


@scenario(Vendor.OPTIMOVE, "unassign")
async def _unassign(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promotion", {"promotion_id": "spring-welcome-2026"})
    await new_promocode(live)
    await live.run(Vendor.OPTIMOVE, "unassign", {"promocode_id": "pc-new"})
    assert promocode(live, "pc-new").promotion_id is None
    assert live.one("SELECT promocode_count FROM optimove_promotions") == 0
    with pytest.raises(NotAllowed, match="not assigned"):
        await live.run(Vendor.OPTIMOVE, "unassign", {"promocode_id": "pc-new"})


@scenario(Vendor.OPTIMOVE, "hide")
async def _hide(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promocode", {"promocode_id": "pc-spring-welcome"})
    await live.run(Vendor.OPTIMOVE, "hide", {"promocode_id": "pc-spring-welcome"})
    assert promocode(live, "pc-spring-welcome").hidden
    assert live.one("SELECT hidden FROM optimove_promocodes") == 1
    with pytest.raises(NotAllowed, match="hidden already"):
        await live.run(Vendor.OPTIMOVE, "hide", {"promocode_id": "pc-spring-welcome"})


@scenario(Vendor.OPTIMOVE, "show")
async def _show(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promocode", {"promocode_id": "pc-spring-welcome"})
    await live.run(Vendor.OPTIMOVE, "hide", {"promocode_id": "pc-spring-welcome"})
    await live.run(Vendor.OPTIMOVE, "show", {"promocode_id": "pc-spring-welcome"})
    assert not promocode(live, "pc-spring-welcome").hidden
    assert live.one("SELECT hidden FROM optimove_promocodes") == 0


@scenario(Vendor.OPTIMOVE, "link_campaign")
async def _link(live: Live) -> None:
    await live.run(
        Vendor.OPTIMOVE, "link_campaign", {"promocode_id": "pc-welcome-2025", "campaign_id": "77"}
    )
    assert promocode(live, "pc-welcome-2025").campaigns == ["77"]
    assert live.one("SELECT campaigns FROM optimove_promocodes") == "77"


@scenario(Vendor.OPTIMOVE, "unlink_campaign")
async def _unlink(live: Live) -> None:
    await live.run(
        Vendor.OPTIMOVE, "link_campaign", {"promocode_id": "pc-welcome-2025", "campaign_id": "77"}
    )
    await live.run(
        Vendor.OPTIMOVE, "unlink_campaign", {"promocode_id": "pc-welcome-2025", "campaign_id": "77"}
    )
    assert promocode(live, "pc-welcome-2025").campaigns == []
    assert live.one("SELECT campaigns FROM optimove_promocodes") == ""


@scenario(Vendor.OPTIMOVE, "validate_customers")
async def _validate_customers(live: Live) -> None:
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "validate_customers",
        {"promocode_id": "pc-spring-welcome", "customer_ids": ["c9"]},
    )
    assert outcome.ok
    assert [
        row["customer_id"]
        for row in operation(Vendor.OPTIMOVE, "validate_customers").result_json(outcome.result)
    ] == ["c9"]


@scenario(Vendor.OPTIMOVE, "promocode_transaction")
async def _promocode_transaction(live: Live) -> None:
    commands = [{"command": "hide"}, {"command": "linkCampaign", "campaignId": "5"}]
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "promocode_transaction",
        {"promocode_id": "pc-welcome-2025", "commands": commands},
    )
    assert outcome.ok, outcome.message
    assert (
        promocode(live, "pc-welcome-2025").hidden,
        promocode(live, "pc-welcome-2025").campaigns,
    ) == (True, ["5"])
    assert live.one("SELECT hidden, campaigns FROM optimove_promocodes") == (1, "5")


@scenario(Vendor.OPTIMOVE, "list_files")
async def _list_files(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "list_files", {"promocode_id": "pc-spring-welcome"})
    assert live.one("SELECT count(*) FROM optimove_code_files") == 1


@scenario(Vendor.OPTIMOVE, "upload_code_file")
async def _upload(live: Live, tmp_path_factory: Any = None) -> None:
    folder = live.workspace.parent
    codes = folder / "batch2.csv"
    codes.write_text("\n".join(f"NEW-{n:05d}" for n in range(200)) + "\n")
    await live.run(Vendor.OPTIMOVE, "get_promocode", {"promocode_id": "pc-spring-welcome"})
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "upload_code_file",
        {"promocode_id": "pc-spring-welcome", "path": str(codes)},
    )
    assert outcome.ok, outcome.message
    assert len(promocode(live, "pc-spring-welcome").files) == 2
    assert live.one("SELECT pool_size, file_count FROM optimove_promocodes") == (700, 2)


@scenario(Vendor.OPTIMOVE, "export_allocations")
async def _export(live: Live) -> None:
    fake = live.fakes[Vendor.OPTIMOVE]
    for number in range(30):
        fake.state.allocate(fake.state.promocodes["pc-spring-welcome"], f"cust{number}", 42)
    target = live.workspace.parent / "alloc.csv"
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "export_allocations",
        {"promocode_id": "pc-spring-welcome", "target": str(target)},
    )
    assert outcome.ok and outcome.result == 30
    assert target.read_text().splitlines()[0].startswith("customerId,promocodeId")


@scenario(Vendor.OPTIMOVE, "get_promo_codes")
async def _legacy_by_date(live: Live) -> None:
    outcome = await live.run(Vendor.OPTIMOVE, "get_promo_codes", {"date": "2026-11-20"})
    assert outcome.ok, outcome.message
    assert sorted(live.rows("SELECT promo_code, for_date FROM optimove_legacy_codes")) == [
        ("SUMMER10", "2026-11-20"),
        ("VIP20", "2026-11-20"),
    ]


@scenario(Vendor.OPTIMOVE, "get_promo_codes_by_campaign")
async def _legacy_by_campaign(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promo_codes_by_campaign", {"campaign_id": 901})
    assert live.rows("SELECT promo_code, campaign_id FROM optimove_legacy_codes") == [
        ("SUMMER10", 901)
    ]


@scenario(Vendor.OPTIMOVE, "get_promo_codes_by_target_group")
async def _legacy_by_target_group(live: Live) -> None:
    await live.run(
        Vendor.OPTIMOVE,
        "get_promo_codes_by_target_group",
        {"target_group_id": 12, "date": "2026-11-20"},
    )
    assert live.rows("SELECT promo_code, target_group_id FROM optimove_legacy_codes") == [
        ("VIP20", 12)
    ]


@scenario(Vendor.OPTIMOVE, "get_promotions")
async def _legacy_promotions(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promotions", {})
    assert sorted(
        live.rows("SELECT promo_code, promotion_name FROM optimove_legacy_promotions")
    ) == [("SUMMER10", "Summer sale"), ("VIP20", "VIP weekend")]


@scenario(Vendor.OPTIMOVE, "add_promotions")
async def _legacy_add(live: Live) -> None:
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "add_promotions",
        {"promotions": [{"promo_code": "XMAS", "promotion_name": "Christmas"}]},
    )
    assert outcome.ok, outcome.message
    assert live.fakes[Vendor.OPTIMOVE].state.legacy_promotions["XMAS"] == "Christmas"
    assert live.rows("SELECT promo_code, state FROM optimove_legacy_promotions") == [
        ("XMAS", "listed")
    ]


@scenario(Vendor.OPTIMOVE, "delete_promotions")
async def _legacy_delete(live: Live) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promotions", {})
    await live.run(Vendor.OPTIMOVE, "delete_promotions", {"promo_codes": ["VIP20"]})
    assert "VIP20" not in live.fakes[Vendor.OPTIMOVE].state.legacy_promotions
    assert (
        live.one("SELECT state FROM optimove_legacy_promotions WHERE promo_code = 'VIP20'")
        == "gone"
    )


async def test_optimove_sync_asks_again_for_everything_known_and_marks_what_is_gone(
    live: Live,
) -> None:
    await live.run(Vendor.OPTIMOVE, "get_promotion", {"promotion_id": "spring-welcome-2026"})
    await live.run(Vendor.OPTIMOVE, "get_promocode", {"promocode_id": "pc-spring-welcome"})
    await new_promotion(live)
    fake = live.fakes[Vendor.OPTIMOVE]
    fake.state.promotions["summer-26"]["name"] = "Renamed in Optimove"
    del fake.state.promotions["spring-welcome-2026"]
    outcome = await sync_account(
        live.workspace, live.accounts[Vendor.OPTIMOVE], live.clients[Vendor.OPTIMOVE]
    )
    assert outcome.written.gone == 1
    assert (
        live.one("SELECT name FROM optimove_promotions WHERE promotion_id = 'summer-26'")
        == "Renamed in Optimove"
    )
    assert (
        live.one("SELECT state FROM optimove_promotions WHERE promotion_id = 'spring-welcome-2026'")
        == "gone"
    )
    assert sorted(live.rows("SELECT promo_code FROM optimove_legacy_promotions")) == [
        ("SUMMER10",),
        ("VIP20",),
    ]


def test_every_operation_has_a_scenario() -> None:
    declared = {(vendor, name) for vendor, table in OPERATIONS.items() for name in table}
    assert declared - set(SCENARIOS) == set()


@pytest.mark.parametrize(
    "key", sorted(SCENARIOS, key=str), ids=lambda key: f"{key[0].value}-{key[1]}"
)
async def test_operation_through_the_executor(live: Live, key: tuple[Vendor, str]) -> None:
    await SCENARIOS[key](live)
    conn = connect(live.workspace, readonly=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


# -- refusals, lost answers --------------------------------------------------------------------


async def test_a_vendor_refusal_is_an_outcome_on_record_and_changes_nothing(live: Live) -> None:
    outcome = await live.run(Vendor.ALTCRAFT, "activate", {"code": "NOT-THERE"})
    assert outcome.status == "failed"
    assert "Altcraft" in outcome.message
    [entry] = live.audit()
    assert entry.outcome == "failed" and "NOT-THERE" not in entry.message + entry.target
    assert live.one("SELECT count(*) FROM altcraft_codes") == 0


async def test_a_refusal_the_workspace_cannot_record_is_an_error_that_says_both(
    live: Live,
) -> None:
    """The audit log never silently misses an attempt: when the refusal cannot be written
    (here the workspace has lost its audit table), the caller hears the vendor's reason and
    the workspace's."""
    conn = connect(live.workspace)
    conn.execute("ALTER TABLE audit_log RENAME TO audit_log_elsewhere")
    conn.close()
    with pytest.raises(NotRecorded) as problem:
        await live.run(Vendor.ALTCRAFT, "activate", {"code": "NOT-THERE"})
    assert problem.value.outcome.status == "failed"
    text = str(problem.value)
    assert text.startswith(problem.value.outcome.message.rstrip("."))
    assert "could not be put on record in the workspace (no such table: audit_log)" in text
    assert live.rows("SELECT status FROM runs") == []  # its run went with the transaction


async def test_an_input_the_model_refuses_is_never_sent(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    before = dict(fake.state.codes)
    with pytest.raises(InputError) as problem:
        await live.run(
            Vendor.IMPACT,
            "create",
            {"partner_id": 1, "campaign_id": 1000, "code": "[", "type_": "RE"},
        )
    assert "pattern does not compile" in str(problem.value)
    assert fake.state.codes == before
    assert live.audit() == []


async def test_control_characters_in_inputs_are_refused_before_sending(live: Live) -> None:
    for inputs, field in (
        ({"loyalty_id": 5, "code": "AB\x1b[2JC", "profile_id": "p1"}, "code"),
        ({"loyalty_id": 5, "code": "AB\tC", "profile_id": "p1"}, "code"),
        ({"loyalty_id": 5, "code": "ABC", "profile_id": "p\r\n1"}, "profile_id"),
    ):
        with pytest.raises(InputError) as problem:
            await live.run(Vendor.ALTCRAFT, "attach", inputs)
        assert problem.value.problems[0][0] == field
        assert "invisible control character" in problem.value.problems[0][1]
    assert live.audit() == []  # nothing was sent: no outcome on record


async def test_a_lost_create_answer_never_makes_a_second_code(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    fake.faults.configure({"script": ["lost", "500"], "slow_seconds": 2.0})
    outcome = await live.run(
        Vendor.IMPACT, "create", {"partner_id": 2552842, "campaign_id": 1000, "code": "ONCE-1"}
    )
    assert outcome.ok, outcome.message
    assert [r["Code"] for r in fake.state.codes.values()].count("ONCE-1") == 1
    assert live.one("SELECT count(*) FROM impact_codes WHERE code = 'ONCE-1'") == 1


# -- sync --------------------------------------------------------------------------------------


def _search(live: Live, text: str) -> list[str]:
    conn = connect(live.workspace, readonly=True)
    try:
        pager = Pager(RowQuery(IMPACT_CODES, search=text))
        position = IMPACT_CODES.column_names.index("code")
        return sorted(row[position] for row in pager.fetch(conn, 0, 1000))
    finally:
        conn.close()


async def test_sync_writes_only_changes_marks_what_is_gone_and_search_stays_exact(
    live: Live,
) -> None:
    fake = live.fakes[Vendor.IMPACT]
    account = live.accounts[Vendor.IMPACT]
    first = await sync_account(live.workspace, account, live.clients[Vendor.IMPACT])
    assert (first.seen, first.written.added, first.written.changed) == (25, 25, 0)
    conn = connect(live.workspace)
    build_indexes(conn)  # the search index holds every row now
    conn.close()
    again = await sync_account(live.workspace, account, live.clients[Vendor.IMPACT])
    assert (again.written.added, again.written.changed, again.written.gone) == (0, 0, 0)

    # At the vendor: one code expired, one renamed, one deleted, one added.
    fake.state.codes[7_000_004]["State"] = "INACTIVE"
    fake.state.codes[7_000_005]["Code"] = "RENAMED-Q"
    del fake.state.codes[7_000_006]
    fake.state.add({"Code": "BRAND-NEW", "AssignedPartnerId": "2552842", "CampaignId": "1000"})
    third = await sync_account(live.workspace, account, live.clients[Vendor.IMPACT])
    assert (third.written.added, third.written.changed, third.written.gone) == (1, 2, 1)
    assert live.one("SELECT status FROM impact_codes WHERE promo_code_id = 7000006") == "gone"
    assert _search(live, "SANDBOX03") == ["SANDBOX03"]  # 7000004: expired, still found
    assert _search(live, "SANDBOX04") == []  # 7000005: renamed
    assert _search(live, "NAMED-Q") == ["RENAMED-Q"]
    assert _search(live, "BRAND-NEW") == ["BRAND-NEW"]
    runs = live.rows(
        "SELECT kind, status, added, changed, gone FROM runs WHERE kind = 'sync' ORDER BY id"
    )
    assert runs == [
        ("sync", "done", 25, 0, 0),
        ("sync", "done", 0, 0, 0),
        ("sync", "done", 1, 2, 1),
    ]
    events = live.rows("SELECT row_id, old_state, new_state FROM state_events ORDER BY row_id")
    assert events == [(4, "active", "inactive"), (6, "active", "gone")]
    assert live.one("SELECT as_of FROM accounts WHERE key = ?", account.id) == third.as_of


async def test_a_sync_skips_what_it_saw_unchanged_and_what_promodesk_itself_changed(
    live: Live,
) -> None:
    account = live.accounts[Vendor.IMPACT]
    client = live.clients[Vendor.IMPACT]
    first = await sync_account(live.workspace, account, client)
    assert first.written.added == 25
    assert live.one("SELECT count(*) FROM impact_codes WHERE fingerprint = 0") == 0
    again = await sync_account(live.workspace, account, client)
    assert (again.written.unchanged, again.written.changed) == (25, 0)
    # A change made through promodesk is in the workspace already (the state); the next sync
    # reads the vendor's new record and adds only what impact.com set itself (the end date),
    # with no second state event.
    await live.run(Vendor.IMPACT, "expire", {"promo_code_id": 7_000_010})
    assert live.one("SELECT end_date FROM impact_codes WHERE promo_code_id = 7000010") == ""
    after = await sync_account(live.workspace, account, client)
    assert (after.written.changed, after.written.unchanged) == (1, 24)
    assert live.one("SELECT end_date FROM impact_codes WHERE promo_code_id = 7000010") != ""
    assert live.rows("SELECT old_state, new_state FROM state_events") == [("active", "inactive")]
    fresh = live.one("SELECT fingerprint FROM impact_codes WHERE promo_code_id = 7000010")
    final = await sync_account(live.workspace, account, client)
    assert (final.written.changed, final.written.unchanged) == (0, 25)
    assert live.one("SELECT fingerprint FROM impact_codes WHERE promo_code_id = 7000010") == fresh


async def test_codes_hashed_by_an_earlier_version_are_read_once_more_and_kept_unchanged(
    live: Live,
) -> None:
    """Fingerprints an earlier version stored (another hash) match nothing now: the next
    sync validates those codes again, finds them unchanged (no change counted, no state
    event) and stores today's fingerprints, which the sync after that skips by."""
    for vendor in (Vendor.IMPACT, Vendor.ALTCRAFT):
        account, client = live.accounts[vendor], live.clients[vendor]
        table = f"{vendor.value}_codes"
        await sync_account(live.workspace, account, client)
        today = live.rows(f"SELECT id, fingerprint FROM {table} ORDER BY id")
        conn = connect(live.workspace)
        try:
            with transaction(conn):
                conn.execute(f"UPDATE {table} SET fingerprint = fingerprint / 2 + 1")
        finally:
            conn.close()
        upgraded = await sync_account(live.workspace, account, client)
        assert (upgraded.written.changed, upgraded.written.added) == (0, 0)
        assert upgraded.written.unchanged == len(today)
        assert live.rows(f"SELECT id, fingerprint FROM {table} ORDER BY id") == today
        again = await sync_account(live.workspace, account, client)
        assert (again.written.unchanged, again.written.changed) == (len(today), 0)
    assert live.one("SELECT count(*) FROM state_events") == 0


async def test_a_failed_sync_writes_nothing_and_is_on_record(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    for number in range(1500):  # two pages
        fake.state.add(
            {"Code": f"MANY{number:05d}", "AssignedPartnerId": "1", "CampaignId": "1000"}
        )
    # The first page arrives; the second fails for longer than the client retries.
    fake.faults.configure({"script": [None] + ["500"] * 5})
    from promodesk.vendors.errors import ServerError

    with pytest.raises(ServerError):
        await sync_account(
            live.workspace, live.accounts[Vendor.IMPACT], live.clients[Vendor.IMPACT]
        )
    assert live.one("SELECT count(*) FROM impact_codes") == 0
    assert live.one("SELECT status FROM runs WHERE kind = 'sync'") == "failed"


async def test_altcraft_sync_reads_every_known_program(live: Live) -> None:
    await live.run(Vendor.ALTCRAFT, "export_all", {"loyalty_id": 8})
    outcome = await sync_account(
        live.workspace, live.accounts[Vendor.ALTCRAFT], live.clients[Vendor.ALTCRAFT]
    )
    programs = dict(live.rows("SELECT loyalty_id, code_count FROM altcraft_programs"))
    assert programs == {"5": 40, "8": 10}
    assert outcome.seen == 50


async def test_a_big_altcraft_export_is_read_in_short_turns_of_the_loop(live: Live) -> None:
    """A sync runs on the window's event loop: of an export of 10,000 codes, other tasks
    (the window's) get a turn every YIELD_EVERY codes converted, not once at the end."""
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    for number in range(10_000):
        code = f"MANY-{number:05d}"
        program.codes[code] = CodeState(code, "2026-11-02T09:00:00Z")
    client = live.clients[Vendor.ALTCRAFT]
    converted = 0
    validate = client.record

    def counted(item: Any) -> Any:  # (the client's own validation, counted)
        nonlocal converted
        converted += 1
        return validate(item)

    client.record = counted
    syncing = asyncio.ensure_future(
        sync_account(live.workspace, live.accounts[Vendor.ALTCRAFT], client)
    )
    seen = [0]
    while not syncing.done():
        seen.append(converted)
        await asyncio.sleep(0)
    assert (await syncing).written.added == 10_040
    steps = [after - before for before, after in itertools.pairwise(seen)]
    assert sum(steps) == 10_040 and max(steps) <= YIELD_EVERY


async def test_codes_written_before_without_a_fingerprint_and_gone_at_the_vendor_are_marked(
    live: Live,
) -> None:
    """Codes an operation wrote (no fingerprint: the sync never saw them) are still among
    the codes the sync expects; one the vendor no longer sends is marked gone, the others
    are read again and kept."""
    await live.run(Vendor.IMPACT, "list_all", {})
    await live.run(Vendor.ALTCRAFT, "export_all", {"loyalty_id": 5})
    assert live.one("SELECT count(*) FROM impact_codes WHERE fingerprint != 0") == 0
    assert live.one("SELECT count(*) FROM altcraft_codes WHERE fingerprint != 0") == 0
    del live.fakes[Vendor.IMPACT].state.codes[7_000_003]
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    dropped = sorted(program.codes)[0]
    del program.codes[dropped]

    impact = await sync_account(
        live.workspace, live.accounts[Vendor.IMPACT], live.clients[Vendor.IMPACT]
    )
    altcraft = await sync_account(
        live.workspace, live.accounts[Vendor.ALTCRAFT], live.clients[Vendor.ALTCRAFT]
    )
    assert (impact.seen, impact.written.gone, impact.written.added) == (24, 1, 0)
    assert (altcraft.seen, altcraft.written.gone, altcraft.written.added) == (39, 1, 0)
    assert live.rows("SELECT promo_code_id FROM impact_codes WHERE status = 'gone'") == [
        (7_000_003,)
    ]
    assert live.rows("SELECT code FROM altcraft_codes WHERE status = 'gone'") == [(dropped,)]
    # Now each code has its fingerprint: nothing is read again, nothing more is gone.
    again = await sync_account(
        live.workspace, live.accounts[Vendor.ALTCRAFT], live.clients[Vendor.ALTCRAFT]
    )
    assert (again.written.unchanged, again.written.gone, again.written.changed) == (39, 0, 0)
    assert live.one("SELECT count(*) FROM altcraft_codes WHERE fingerprint = 0") == 1


async def _import_for(live: Live, vendor: Vendor, path: Path) -> int:
    """`path` imported as an export of the live account of `vendor`; its import's id."""
    account = live.accounts[vendor]
    conn = connect(live.workspace)
    try:
        import_file(
            conn,
            path,
            hints=ImportHints(
                source=SourceRef(vendor, key=account.id, name=account.name),
                as_of="2026-11-20T09:30:00Z",  # (exported before anything the test does)
            ),
        )
        return list_imports(conn)[0].id
    finally:
        conn.close()


def _remove_import(live: Live, import_id: int) -> RemovalResult:
    conn = connect(live.workspace)
    try:
        result = remove_import(conn, import_id)
        assert_counts_match_a_recount(conn)
        return result
    finally:
        conn.close()


async def test_removing_an_import_keeps_the_codes_a_sync_has_confirmed_since(
    live: Live, tmp_path: Path
) -> None:
    """The export and the account's sync are the same rows: taking the file back removes
    only what the vendor did not confirm (here a code it no longer has), and the codes stay
    with their history, found by search, and the next sync finds nothing new."""
    fake = live.fakes[Vendor.IMPACT]
    account = live.accounts[Vendor.IMPACT]
    async with httpx.AsyncClient(
        transport=SandboxTransport(fake), base_url="http://impact.test"
    ) as http:
        answer = await http.get(
            f"/Advertisers/{SANDBOX_SID}/PromoCodes",
            params={"PageSize": 1000},
            headers={"Accept": "application/json"},
            auth=(SANDBOX_SID, IMPACT_TOKEN),
        )
    export = answer.json()
    export["PromoCodes"].append({**export["PromoCodes"][0], "Id": "7999999", "Code": "OLD-ONE"})
    saved = tmp_path / "impact_export.json"
    saved.write_text(json.dumps(export), encoding="utf-8")
    imported = await _import_for(live, Vendor.IMPACT, saved)
    fake.state.codes[7_000_004]["State"] = "INACTIVE"  # changed at the vendor since the export
    synced = await sync_account(live.workspace, account, live.clients[Vendor.IMPACT])
    assert (synced.written.added, synced.written.changed, synced.written.gone) == (0, 1, 1)

    result = _remove_import(live, imported)
    assert (result.rows_kept, result.rows_removed) == (25, 1)
    assert live.one("SELECT count(*) FROM impact_codes") == 25
    assert live.rows("SELECT DISTINCT added_run FROM impact_codes") == [(synced.run_id,)]
    assert live.rows(
        "SELECT c.promo_code_id, e.old_state, e.new_state, e.run_id FROM state_events e "
        "JOIN impact_codes c ON c.id = e.row_id"
    ) == [(7_000_004, "active", "inactive", synced.run_id)]
    assert _search(live, "OLD-ONE") == []
    assert len(_search(live, "SANDBOX")) == 25
    again = await sync_account(live.workspace, account, live.clients[Vendor.IMPACT])
    assert (again.written.added, again.written.changed, again.written.gone) == (0, 0, 0)


async def test_removing_an_allocation_import_keeps_the_promotions_a_sync_has_confirmed(
    live: Live, tmp_path: Path
) -> None:
    """Optimove has no list of promotions: one that only an import brought and a sync then
    found would be lost for good with the import. The allocations go; the promotion and
    promocode Optimove has stay; the ones it does not have go."""
    known = allocation_rows(3, promocode="pc-spring-welcome", promotion="spring-welcome-2026")
    unknown = allocation_rows(2, promocode="pc-nowhere", promotion="nowhere", start=3)
    imported = await _import_for(
        live, Vendor.OPTIMOVE, write_allocations(tmp_path / "allocations.csv", known + unknown)
    )
    account = live.accounts[Vendor.OPTIMOVE]
    synced = await sync_account(live.workspace, account, live.clients[Vendor.OPTIMOVE])
    assert synced.written.gone == 2  # pc-nowhere and nowhere

    result = _remove_import(live, imported)
    assert result.rows_kept == 2
    assert live.one("SELECT count(*) FROM optimove_allocations") == 0
    assert live.rows("SELECT promotion_id, added_run FROM optimove_promotions") == [
        ("spring-welcome-2026", synced.run_id)
    ]
    assert live.rows("SELECT promocode_id, added_run FROM optimove_promocodes") == [
        ("pc-spring-welcome", synced.run_id)
    ]
    # The next sync still asks for them (the workspace is Optimove's list).
    again = await sync_account(live.workspace, account, live.clients[Vendor.OPTIMOVE])
    assert (again.seen, again.written.gone) == (2 + 2, 0)  # and the two legacy promotions


async def test_removing_an_import_keeps_a_code_an_operation_read_back_changed(
    live: Live, tmp_path: Path
) -> None:
    """An operation's write resets the code's fingerprint and, when only other values
    changed, records no state event: its later as_of says it was confirmed."""
    fake = live.fakes[Vendor.IMPACT]
    saved = write_json(
        tmp_path / "two.json",
        impact_page([dict(fake.state.codes[n]) for n in (7_000_001, 7_000_002)]),
    )
    imported = await _import_for(live, Vendor.IMPACT, saved)
    fake.state.codes[7_000_001]["DealName"] = "Renamed at impact.com"
    outcome = await live.run(Vendor.IMPACT, "get", {"promo_code_id": 7_000_001})
    assert outcome.ok and outcome.written.changed == 1
    result = _remove_import(live, imported)
    assert (result.rows_kept, result.rows_removed) == (1, 1)  # the other code
    assert live.rows("SELECT promo_code_id, deal_name, added_run FROM impact_codes") == [
        (7_000_001, "Renamed at impact.com", outcome.run_id)
    ]


async def test_removing_an_import_no_sync_has_seen_takes_all_it_added(
    live: Live, tmp_path: Path
) -> None:
    """A sync that ran before the import, or one of another account, confirms none of it."""
    await sync_account(live.workspace, live.accounts[Vendor.IMPACT], live.clients[Vendor.IMPACT])
    optimove = live.accounts[Vendor.OPTIMOVE]
    await sync_account(live.workspace, optimove, live.clients[Vendor.OPTIMOVE])
    saved = write_json(
        tmp_path / "more.json",
        impact_page([impact_code(n, Id=str(8_000_000 + n)) for n in range(3)]),
    )
    imported = await _import_for(live, Vendor.IMPACT, saved)
    allocations = await _import_for(
        live,
        Vendor.OPTIMOVE,
        write_allocations(
            tmp_path / "allocations.csv",
            allocation_rows(3, promocode="pc-spring-welcome", promotion="spring-welcome-2026"),
        ),
    )
    await sync_account(
        live.workspace, live.accounts[Vendor.ALTCRAFT], live.clients[Vendor.ALTCRAFT]
    )
    # Another Optimove account's refresh, after the import: not this account's confirmation.
    other = AccountRef("acc-other", Vendor.OPTIMOVE, "Other Optimove", False)
    await sync_account(live.workspace, other, live.clients[Vendor.OPTIMOVE])
    result = _remove_import(live, imported)
    assert (result.rows_kept, result.rows_removed) == (0, 3)
    assert live.one("SELECT count(*) FROM impact_codes") == 25
    result = _remove_import(live, allocations)
    # Its allocations (and with them the code file, promocode and promotion it brought).
    assert (result.rows_kept, result.rows_removed) == (0, 3)
    assert live.one("SELECT count(*) FROM optimove_promotions") == 0


# -- bulk --------------------------------------------------------------------------------------


async def test_bulk_with_faults_ends_every_item_once_and_retry_failed_finishes(live: Live) -> None:
    fake = live.fakes[Vendor.IMPACT]
    await live.run(Vendor.IMPACT, "list_all", {})
    runner = BulkRunner(live.executor)
    expire = operation(Vendor.IMPACT, "expire")
    ids = sorted(fake.state.codes)[:20]
    run_id = await runner.plan(
        live.accounts[Vendor.IMPACT], expire, [{"promo_code_id": i} for i in ids]
    )
    # Every third item meets a vendor failing for longer than the client retries (5 tries).
    script: list[str | None] = []
    for position in range(1, 21):
        script += ["503"] * 5 if position % 3 == 0 else [None]
    fake.faults.configure({"script": script})
    first = await runner.run(live.accounts[Vendor.IMPACT], run_id, concurrency=1)
    assert first.total == 20 and first.pending == 0
    assert first.ok + first.failed + first.unknown + first.skipped == 20
    assert (first.ok, first.unknown) == (14, 6)  # a 5xx may have been applied: "unknown"
    items = await runner.items(run_id)
    assert all(item.attempts == 1 for item in items)
    failed = [item.inputs["promo_code_id"] for item in items if item.status == "unknown"]
    assert all(fake.state.codes[i]["State"] == "ACTIVE" for i in failed)
    done = [item.inputs["promo_code_id"] for item in items if item.status == "ok"]
    assert all(fake.state.codes[i]["State"] == "INACTIVE" for i in done)

    fake.faults.configure({})
    second = await runner.retry_failed(live.accounts[Vendor.IMPACT], run_id)
    assert (second.ok, second.failed, second.pending) == (20, 0, 0)
    assert all(fake.state.codes[i]["State"] == "INACTIVE" for i in ids)
    retried = {item.position: item.attempts for item in await runner.items(run_id)}
    assert sorted(set(retried.values())) == [1, 2]
    assert live.one("SELECT count(*) FROM impact_codes WHERE status = 'inactive'") == 20
    assert len([e for e in live.audit() if e.outcome == "ok"]) == 20


async def test_a_cancelled_bulk_run_keeps_what_is_done_and_resumes_the_rest(live: Live) -> None:
    import asyncio

    fake = live.fakes[Vendor.IMPACT]
    await live.run(Vendor.IMPACT, "list_all", {})
    runner = BulkRunner(live.executor)
    ids = sorted(fake.state.codes)[:12]
    account = live.accounts[Vendor.IMPACT]
    run_id = await runner.plan(
        account, operation(Vendor.IMPACT, "expire"), [{"promo_code_id": i} for i in ids]
    )
    finished: list[int] = []
    task: asyncio.Task[Any] | None = None

    def heard(item: Any) -> None:
        finished.append(item.position)
        if len(finished) == 4 and task is not None:
            task.cancel()  # the user presses Cancel

    task = asyncio.ensure_future(runner.run(account, run_id, concurrency=1, on_item=heard))
    with pytest.raises(asyncio.CancelledError):
        await task
    summary = await runner.summary(run_id)
    assert summary.cancelled and summary.pending > 0
    assert summary.ok + summary.unknown + summary.pending == 12
    assert [info.id for info in await runner.unfinished()] == [run_id]
    done = {
        item.inputs["promo_code_id"] for item in await runner.items(run_id) if item.status == "ok"
    }
    assert all(fake.state.codes[i]["State"] == "INACTIVE" for i in done)

    resumed = await runner.run(account, run_id)
    assert (resumed.ok + resumed.skipped, resumed.pending) == (12, 0)
    assert all(item.attempts == 1 for item in await runner.items(run_id) if item.status == "ok")
    assert all(fake.state.codes[i]["State"] == "INACTIVE" for i in ids)
    assert await runner.unfinished() == []


async def test_a_bulk_run_going_on_elsewhere_is_refused_and_a_silent_one_is_taken_over(
    live: Live,
) -> None:
    """Two windows (or a window and `promodesk bulk --resume`) resuming one run would send
    every item twice: the second is refused while the first is heard of; a run whose runner
    stopped without a word (a crash) is taken over once it has been silent a minute."""
    fake = live.fakes[Vendor.IMPACT]
    await live.run(Vendor.IMPACT, "list_all", {})
    ids = sorted(fake.state.codes)[:6]
    account = live.accounts[Vendor.IMPACT]
    run_id = await BulkRunner(live.executor).plan(
        account, operation(Vendor.IMPACT, "expire"), [{"promo_code_id": i} for i in ids]
    )
    # Another process has it (its claim, as it writes it).
    other = connect(live.workspace)
    try:
        with transaction(other):
            assert claim_run(other, run_id, "another window") is None
        with pytest.raises(RunBusy, match=r"already going on.*Nothing was sent"):
            await BulkRunner(live.executor).run(account, run_id)
        assert all(fake.state.codes[i]["State"] == "ACTIVE" for i in ids)  # nothing sent
        assert live.one("SELECT count(*) FROM journal WHERE status = 'pending'") == 6
        assert live.audit() == []
        with pytest.raises(RunBusy):
            await BulkRunner(live.executor).retry_failed(account, run_id)

        # It was killed: silent for more than a minute, the run is taken over.
        with transaction(other):
            other.execute(
                "UPDATE runs SET heartbeat = '2026-01-01T00:00:00Z' WHERE id = ?", (run_id,)
            )
        refused_meanwhile: list[str | None] = []

        def heard(item: Any) -> None:
            if item.position == 2:  # while this run goes on, a third one is refused
                with transaction(other):
                    refused_meanwhile.append(claim_run(other, run_id, "a third"))

        summary = await BulkRunner(live.executor).run(account, run_id, concurrency=1, on_item=heard)
    finally:
        other.close()
    assert (summary.ok, summary.pending) == (6, 0)
    assert len(refused_meanwhile) == 1 and refused_meanwhile[0] is not None  # (last heard of)
    assert all(fake.state.codes[i]["State"] == "INACTIVE" for i in ids)
    assert live.one("SELECT status FROM runs WHERE id = ?", run_id) == "done"
    # Ended, it is anyone's again (e.g. a retry).
    assert (await BulkRunner(live.executor).retry_failed(account, run_id)).ok == 6


async def test_bulk_refuses_an_operation_that_is_not_bulk_and_bad_items_up_front(
    live: Live,
) -> None:
    runner = BulkRunner(live.executor)
    with pytest.raises(NotAllowed):
        await runner.plan(live.accounts[Vendor.IMPACT], operation(Vendor.IMPACT, "create"), [{}])
    with pytest.raises(InputError, match="item 2"):
        await runner.plan(
            live.accounts[Vendor.IMPACT],
            operation(Vendor.IMPACT, "expire"),
            [{"promo_code_id": 7000001}, {"promo_code_id": "seven"}],
        )
    assert live.one("SELECT count(*) FROM journal") == 0


async def test_a_bulk_item_already_done_is_skipped_not_failed(live: Live) -> None:
    await live.run(Vendor.IMPACT, "list_all", {})
    await live.run(Vendor.IMPACT, "expire", {"promo_code_id": 7000001})
    runner = BulkRunner(live.executor)
    run_id = await runner.plan(
        live.accounts[Vendor.IMPACT],
        operation(Vendor.IMPACT, "expire"),
        [{"promo_code_id": 7000001}, {"promo_code_id": 7000002}],
    )
    summary = await runner.run(live.accounts[Vendor.IMPACT], run_id)
    assert (summary.ok, summary.skipped) == (1, 1)
    [skipped] = [item for item in await runner.items(run_id) if item.status == "skipped"]
    assert "already expired" in skipped.message


# -- regressions found in review -----------------------------------------------------------------


async def test_a_vendor_undoing_an_operation_is_seen_by_the_next_sync(live: Live) -> None:
    client = live.clients[Vendor.ALTCRAFT]
    account = live.accounts[Vendor.ALTCRAFT]
    await sync_account(live.workspace, account, client)
    await live.run(Vendor.ALTCRAFT, "attach", {"code": "LOY5-0001", "email": "ann@example.com"})
    await client.detach("LOY5-0001", email="ann@example.com", loyalty_id=5)  # in Altcraft's UI
    outcome = await sync_account(live.workspace, account, client)
    assert outcome.written.changed == 1
    assert live.one("SELECT status FROM altcraft_codes WHERE code = 'LOY5-0001'") == "available"
    assert live.one("SELECT available_count, attached_count FROM altcraft_programs") == (40, 0)


async def test_a_code_created_while_a_sync_reads_is_not_marked_gone_by_it(live: Live) -> None:
    import asyncio

    client = live.clients[Vendor.IMPACT]
    account = live.accounts[Vendor.IMPACT]
    await sync_account(live.workspace, account, client)
    read_all, created = asyncio.Event(), asyncio.Event()
    real = client.iter_items

    async def pages(**filters: Any) -> Any:
        async for item in real(**filters):
            yield item
        read_all.set()
        await created.wait()  # the user's create lands before the sync saves

    client.iter_items = pages
    sync = asyncio.ensure_future(sync_account(live.workspace, account, client))
    await read_all.wait()
    made = await live.run(
        Vendor.IMPACT, "create", {"partner_id": 2001, "campaign_id": 1000, "code": "MIDSYNC-1"}
    )
    assert made.ok
    created.set()
    await sync
    assert live.one("SELECT status FROM impact_codes WHERE code = 'MIDSYNC-1'") == "active"


def write_code_meanwhile(live: Live, vendor: Vendor, row: tuple) -> None:
    """A code another path (another window's import, say) writes into the workspace."""
    from promodesk.store.runs import start_run
    from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, upsert

    conn = connect(live.workspace)
    try:
        with transaction(conn):
            (account_id,) = conn.execute(
                "SELECT id FROM accounts WHERE key = ?", (live.accounts[vendor].id,)
            ).fetchone()
            run = start_run(conn, "import", account_id=account_id)
            table = IMPACT_CODES if vendor is Vendor.IMPACT else ALTCRAFT_CODES
            upsert(conn, table, account_id, [row], run_id=run, as_of="2026-11-30T12:00:00Z")
    finally:
        conn.close()


@pytest.mark.parametrize("vendor", [Vendor.IMPACT, Vendor.ALTCRAFT])
async def test_a_code_written_after_the_vendor_was_asked_is_not_marked_gone(
    live: Live, vendor: Vendor
) -> None:
    """The vendor's list is asked for while the workspace is read: a code written between
    the asking and the reading is not in the list, and must not be taken for gone."""
    from promodesk.domain.records import AltcraftCodeRecord, ImpactPromoCodeRecord
    from promodesk.store.records import altcraft_row, impact_row
    from tests.helpers import impact_code

    client, account = live.clients[vendor], live.accounts[vendor]
    await sync_account(live.workspace, account, client)
    if vendor is Vendor.IMPACT:
        row = impact_row(ImpactPromoCodeRecord.model_validate(impact_code(900, Code="MEANWHILE")))
        name = "iter_items"
    else:
        row = altcraft_row(AltcraftCodeRecord(code="MEANWHILE"), "5")
        name = "export_items"
    real = getattr(client, name)

    def asked(**arguments: Any) -> Any:
        answer = real(**arguments)  # the request is on its way, then the code is written
        write_code_meanwhile(live, vendor, row)
        return answer

    setattr(client, name, asked)
    outcome = await sync_account(live.workspace, account, client)
    table = f"{vendor.value}_codes"
    assert outcome.written.gone == 0
    assert live.one(f"SELECT status FROM {table} WHERE code = 'MEANWHILE'") != "gone"


async def test_a_cancel_while_a_change_is_read_back_keeps_it_on_record(live: Live) -> None:
    import asyncio

    client = live.clients[Vendor.ALTCRAFT]
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    runner = BulkRunner(live.executor)
    update = operation(Vendor.ALTCRAFT, "update")
    items = [
        {"code": code, "expire_date": "2027-01-01T00:00:00Z"} for code in ("LOY5-0001", "LOY5-0002")
    ]
    run_id = await runner.plan(live.accounts[Vendor.ALTCRAFT], update, items)
    real_get = client.get
    reading = asyncio.Event()

    async def slow_get(code: str, **options: Any) -> Any:
        reading.set()
        await asyncio.sleep(30)  # the read-back is slow; the user presses Cancel meanwhile
        return await real_get(code, **options)

    client.get = slow_get
    task = asyncio.ensure_future(runner.run(live.accounts[Vendor.ALTCRAFT], run_id, concurrency=1))
    await reading.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    client.get = real_get
    first = (await runner.items(run_id))[0]
    assert first.status == "ok"  # the change was made at Altcraft: on record, never re-sent
    assert [e.outcome for e in live.audit()] == ["ok"]
    await runner.run(live.accounts[Vendor.ALTCRAFT], run_id)
    assert [item.attempts for item in await runner.items(run_id)] == [1, 1]


async def test_a_change_read_back_when_cancelled_twice_is_on_record_when_the_cancel_ends(
    live: Live,
) -> None:
    """A bulk run's cancel reaches each item twice (gather cancels its children, then the run
    cancels them again): the record of a change the vendor made must still be complete when
    the item's task ends, not left to finish later (a resume would find it pending)."""
    import asyncio

    client = live.clients[Vendor.ALTCRAFT]
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    real_get = client.get
    reading = asyncio.Event()

    async def slow_get(code: str, **options: Any) -> Any:
        reading.set()
        await asyncio.sleep(30)
        return await real_get(code, **options)

    client.get = slow_get
    task = asyncio.ensure_future(
        live.executor.run(
            live.accounts[Vendor.ALTCRAFT],
            operation(Vendor.ALTCRAFT, "update"),
            {"code": "LOY5-0001", "expire_date": "2027-01-01T00:00:00Z"},
        )
    )
    await reading.wait()
    task.cancel()
    await asyncio.sleep(0)  # the task starts recording the change...
    task.cancel()  # ...and is cancelled again meanwhile
    with pytest.raises(asyncio.CancelledError):
        await task
    client.get = real_get
    assert [e.outcome for e in live.audit()] == ["ok"]  # read at once: nothing left running


async def test_codes_nested_in_inputs_are_hashed_in_the_audit_log(live: Live) -> None:
    await live.run(
        Vendor.OPTIMOVE,
        "add_promotions",
        {"promotions": [{"promo_code": "NESTED-1", "promotion_name": "N"}]},
    )
    await live.run(
        Vendor.OPTIMOVE,
        "promocode_transaction",
        {
            "promocode_id": "pc-welcome-2025",
            "commands": [{"command": "setGlobalCode", "code": "NESTED-2"}],
        },
    )
    logged = repr(live.audit())
    assert "NESTED-1" not in logged and "NESTED-2" not in logged
    assert live.audit()[0].inputs["promotions"][0]["promo_code"].startswith("#")


async def test_a_promotion_create_repeated_after_a_lost_answer_makes_one(live: Live) -> None:
    fake = live.fakes[Vendor.OPTIMOVE]
    fake.faults.configure({"script": ["drop-after"] * 5})
    inputs = {"name": "Black Friday", "code": "BF-2026"}
    first = await live.run(Vendor.OPTIMOVE, "create_promotion", inputs)
    assert first.status == "unknown"
    again = await live.run(Vendor.OPTIMOVE, "create_promotion", inputs)
    assert again.ok, again.message
    assert [p for p in fake.state.promotions.values() if p["code"] == "BF-2026"] == [
        fake.state.promotions[again.result.promotion_id]
    ]
    # The same inputs after that promotion was archived: said plainly, nothing made.
    await live.run(Vendor.OPTIMOVE, "archive", {"promotion_id": again.result.promotion_id})
    archived = await live.run(Vendor.OPTIMOVE, "create_promotion", inputs)
    assert archived.status == "failed" and "archived" in archived.message


async def test_an_unreadable_program_does_not_stop_an_altcraft_sync(live: Live) -> None:
    from promodesk.store.importers.base import ImportHints
    from promodesk.store.importers.dispatch import import_file

    stray = live.workspace.parent / "codes.json"
    stray.write_text('{"data": [{"code": "X-1"}], "error": 0, "error_text": ""}')
    conn = connect(live.workspace)
    try:
        from promodesk.store.importers.base import SourceRef

        source = SourceRef(Vendor.ALTCRAFT, key="acc-altcraft", name="Shop Altcraft")
        import_file(conn, stray, hints=ImportHints(loyalty_id="55", source=source))
    finally:
        conn.close()
    outcome = await sync_account(
        live.workspace, live.accounts[Vendor.ALTCRAFT], live.clients[Vendor.ALTCRAFT]
    )
    assert outcome.written.added == 40
    assert any("loyalty program 55" in warning for warning in outcome.warnings)
    assert live.one("SELECT status FROM altcraft_codes WHERE code = 'X-1'") == "available"


async def test_the_accounts_own_program_unreadable_is_a_warning_and_its_codes_stay(
    live: Live,
) -> None:
    """The account's own program is asked for ahead, while the workspace is read: when
    Altcraft no longer has it, the sync says so and leaves its codes as they were."""
    account, client = live.accounts[Vendor.ALTCRAFT], live.clients[Vendor.ALTCRAFT]
    await sync_account(live.workspace, account, client)
    del live.fakes[Vendor.ALTCRAFT].state.programs[5]
    outcome = await sync_account(live.workspace, account, client)
    assert any("loyalty program 5 was not read" in warning for warning in outcome.warnings)
    assert (outcome.written.gone, outcome.written.changed, outcome.seen) == (0, 0, 0)
    assert live.one("SELECT count(*) FROM altcraft_codes WHERE status != 'gone'") == 40


async def test_inputs_the_client_refuses_are_bad_inputs_and_a_bulk_run_ends(live: Live) -> None:
    with pytest.raises(InputError, match="several ways"):
        await live.run(
            Vendor.ALTCRAFT,
            "detach",
            {"code": "LOY5-0001", "profile_id": "p1", "phone": "+1"},
            check_state=False,
        )
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    await live.run(Vendor.ALTCRAFT, "attach", {"code": "LOY5-0001", "email": "ann@example.com"})
    runner = BulkRunner(live.executor)
    run_id = await runner.plan(
        live.accounts[Vendor.ALTCRAFT],
        operation(Vendor.ALTCRAFT, "detach"),
        [{"code": "LOY5-0001", "profile_id": "p1", "phone": "+1"}],
    )
    summary = await runner.run(live.accounts[Vendor.ALTCRAFT], run_id)
    assert (summary.failed, summary.pending) == (1, 0)


async def _impact_sync_running(
    live: Live, codes: int, prefix: str, when: Callable[[Any], bool]
) -> Any:
    """`codes` more codes at the fake impact.com, then a sync of them as a task, returned
    once its progress says `when`."""
    import asyncio

    fake = live.fakes[Vendor.IMPACT]
    for number in range(codes):
        fake.state.add(
            {"Code": f"{prefix}{number:06d}", "AssignedPartnerId": "7", "CampaignId": "1000"}
        )
    reached = asyncio.Event()

    def progress(update: Any) -> None:
        if when(update):
            reached.set()

    task = asyncio.ensure_future(
        sync_account(
            live.workspace,
            live.accounts[Vendor.IMPACT],
            live.clients[Vendor.IMPACT],
            progress=progress,
        )
    )
    await reached.wait()
    return task


async def test_a_cancel_while_a_sync_saves_finishes_the_save_and_says_so(live: Live) -> None:
    task = await _impact_sync_running(
        live, 20_000, "BULK", lambda update: update.message.startswith("Saving")
    )
    task.cancel()  # Cancel pressed while "Saving what … has" shows
    outcome = await task  # saving is one short transaction: it ends, and the sync is done
    assert outcome.written.added == 20_025
    assert live.one("SELECT count(*) FROM impact_codes") == 20_025
    assert live.one("SELECT status FROM runs WHERE kind = 'sync'") == "done"
    assert live.one("PRAGMA integrity_check") == "ok"


async def test_a_cancel_while_the_first_page_is_awaited_drops_it_and_writes_nothing(
    live: Live,
) -> None:
    """The first page is asked for while the workspace is read: a cancel before impact.com
    answered drops the request and ends the sync "cancelled", and the next sync is whole."""
    import asyncio

    client = live.clients[Vendor.IMPACT]
    asked = asyncio.Event()

    async def sent(_request: Any) -> None:
        asked.set()

    client.http.client.event_hooks["request"].append(sent)
    async with live.fakes[Vendor.IMPACT].lock:  # impact.com takes its time to answer
        task = asyncio.ensure_future(
            sync_account(live.workspace, live.accounts[Vendor.IMPACT], client)
        )
        await asked.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    client.http.client.event_hooks["request"].remove(sent)
    assert live.one("SELECT count(*) FROM impact_codes") == 0
    assert live.one("SELECT status FROM runs WHERE kind = 'sync'") == "cancelled"
    outcome = await sync_account(
        live.workspace, live.accounts[Vendor.IMPACT], live.clients[Vendor.IMPACT]
    )
    assert (outcome.seen, outcome.written.added) == (25, 25)


async def test_a_cancel_while_a_page_is_staged_writes_nothing_and_the_next_sync_is_whole(
    live: Live,
) -> None:
    """Pages are staged on the worker thread while the next one is read: a cancel with a
    batch in flight ends the sync "cancelled" with nothing written, and the next sync (its
    own connection and staging) reads and writes every code."""
    import asyncio

    # A batch was just handed to the staging thread when "Read …" shows mid-way.
    task = await _impact_sync_running(
        live,
        6_000,
        "PAGE",
        lambda update: update.message.startswith("Read") and update.done < 6_025,
    )
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert live.one("SELECT count(*) FROM impact_codes") == 0
    assert live.one("SELECT status FROM runs WHERE kind = 'sync'") == "cancelled"
    outcome = await sync_account(
        live.workspace, live.accounts[Vendor.IMPACT], live.clients[Vendor.IMPACT]
    )
    assert (outcome.seen, outcome.written.added) == (6_025, 6_025)
    assert live.one("SELECT count(*) FROM impact_codes") == 6_025
    assert live.one("PRAGMA integrity_check") == "ok"


async def test_a_sync_keeps_what_altcraft_export_all_leaves_out(live: Live) -> None:
    """export_all sends a code's `attached` and `activated` only: a Refresh keeps what the
    workspace learnt elsewhere (created, expiry, the holder) instead of blanking it, and an
    expired code does not come back as available."""
    client = live.clients[Vendor.ALTCRAFT]
    account = live.accounts[Vendor.ALTCRAFT]
    await sync_account(live.workspace, account, client)
    await live.run(Vendor.ALTCRAFT, "attach", {"code": "LOY5-0002", "email": "ann@example.com"})
    await client.update("LOY5-0003", expire_date="2026-01-01T00:00:00Z", loyalty_id=5)
    await live.run(Vendor.ALTCRAFT, "get", {"code": "LOY5-0003"})
    await live.run(Vendor.ALTCRAFT, "get", {"code": "LOY5-0004"})
    columns = "status, created, expired, expire_date, profile_id, database_id"

    def details(code: str) -> tuple[Any, ...]:
        return live.one(f"SELECT {columns} FROM altcraft_codes WHERE code = ?", code)

    attached, expired, plain = details("LOY5-0002"), details("LOY5-0003"), details("LOY5-0004")
    assert attached[0] == "attached" and attached[1] and attached[4] and attached[5] != ""
    assert expired[0] == "expired" and expired[2] and expired[3] == "2026-01-01T00:00:00Z"
    assert plain[0] == "available" and plain[1]

    outcome = await sync_account(live.workspace, account, client)
    assert outcome.written.changed == 0  # (seen again as the operations wrote them)
    assert (details("LOY5-0002"), details("LOY5-0003"), details("LOY5-0004")) == (
        attached,
        expired,
        plain,
    )
    # A code whose holder changed at Altcraft: the old holder is not kept, what was created is.
    await client.detach("LOY5-0002", email="ann@example.com", loyalty_id=5)
    await sync_account(live.workspace, account, client)
    assert details("LOY5-0002") == ("available", attached[1], "", "", "", "")
    # The program's export through the operation table keeps them alike.
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    assert details("LOY5-0003") == expired
    assert details("LOY5-0004") == plain
