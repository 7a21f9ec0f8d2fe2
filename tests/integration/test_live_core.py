"""Live vendor work in the Qt-free core: every operation of every table through the one
executor against the in-process fakes (checked on the fake's state and in the workspace),
sync with additions, changes and removals at the vendor, and the bulk runner with faults."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    OperationOutcome,
)
from promodesk.services.sync import sync_account
from promodesk.store import audit
from promodesk.store.db import connect
from promodesk.store.indexer import build_indexes
from promodesk.store.query import Pager, RowQuery
from promodesk.store.tables import IMPACT_CODES
from promodesk.store.workspace import create_workspace
from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.altcraft.fake import SANDBOX_DB_ID, FakeAltcraft
from promodesk.vendors.altcraft.fake import SANDBOX_TOKEN as ALTCRAFT_TOKEN
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, FakeImpact
from promodesk.vendors.impact.fake import SANDBOX_TOKEN as IMPACT_TOKEN
from tests.integration.conftest import SleepRecorder, fast


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
        Vendor.IMPACT: FakeImpact(rate_limit=None),
        Vendor.ALTCRAFT: FakeAltcraft(rate_limit=None),
    }
    clients: dict[Vendor, Any] = {
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
    assert outcome.ok
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
