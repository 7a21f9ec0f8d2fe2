"""What the core gives the window for live work: the audit log as a table that pages in SQL
(date ranges, a code found by its hash), unfinished runs to resume, transactions built from
their kinds of change, sync progress with a total, and a sync cancelled at any moment."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.jobs import Progress
from promodesk.domain.vendors import Vendor
from promodesk.services.bulk import BulkRunner
from promodesk.services.operations import OPERATIONS, operation
from promodesk.services.sync import sync_account
from promodesk.store import audit
from promodesk.store.db import connect, transaction
from promodesk.store.query import Pager, RowQuery
from promodesk.store.runs import finish_run, start_run, unfinished_runs
from promodesk.store.tables import AUDIT_LOG
from tests.integration.test_live_core import Live, live  # noqa: F401 - the fixture

pytestmark = pytest.mark.asyncio


def audit_rows(live: Live, query: RowQuery) -> list[tuple[Any, ...]]:  # noqa: F811
    conn = connect(live.workspace, readonly=True)
    try:
        pager = Pager(query)
        return pager.fetch(conn, 0, pager.count(conn))
    finally:
        conn.close()


async def test_the_audit_log_pages_filters_by_date_and_finds_a_code_by_its_value(
    live: Live,  # noqa: F811
) -> None:
    await live.run(Vendor.ALTCRAFT, "export_all", {})
    await live.run(Vendor.ALTCRAFT, "attach", {"code": "LOY5-0003", "email": "a@example.com"})
    await live.run(Vendor.IMPACT, "list_all", {})
    await live.run(Vendor.IMPACT, "expire", {"promo_code_id": 7_000_002})
    names = AUDIT_LOG.column_names
    everything = audit_rows(live, RowQuery(AUDIT_LOG, descending=True))
    assert [row[names.index("operation")] for row in everything] == ["expire", "attach"]
    # The code is stored hashed, and found by its value (as audit.entries finds it).
    found = audit_rows(live, RowQuery(AUDIT_LOG, search="LOY5-0003"))
    assert [row[names.index("operation")] for row in found] == ["attach"]
    assert "LOY5-0003" not in repr(found)
    assert audit_rows(live, RowQuery(AUDIT_LOG, search="LOY5-000")) == []  # not a prefix
    assert len(audit_rows(live, RowQuery(AUDIT_LOG, search="7000002"))) == 1  # ids as they are
    # Date ranges: from (inclusive) .. until (exclusive), in the log's UTC text.
    at = everything[0][names.index("at")]
    assert len(audit_rows(live, RowQuery(AUDIT_LOG).between("at", at, None))) >= 1
    assert audit_rows(live, RowQuery(AUDIT_LOG).between("at", None, "2000-01-01T00:00:00Z")) == []
    narrowed = RowQuery(AUDIT_LOG).filtered("vendor", "impact").between("at", None, "2999-01-01")
    assert [row[names.index("vendor")] for row in audit_rows(live, narrowed)] == ["impact"]
    conn = connect(live.workspace, readonly=True)
    try:
        listed = list(audit.entries(conn, audit.AuditFilter(target="LOY5-0003")))
    finally:
        conn.close()
    assert [entry.operation for entry in listed] == ["attach"]


async def test_the_audit_log_finds_an_impact_code_by_its_value_though_it_names_its_id(
    live: Live,  # noqa: F811
) -> None:
    """impact.com's operations act on a promo code's id ("code 7000002"); a marketer types
    the code. The log finds it through the workspace's codes, and not a longer id."""
    await live.run(Vendor.IMPACT, "list_all", {})
    await live.run(Vendor.IMPACT, "expire", {"promo_code_id": 7_000_002})
    conn = connect(live.workspace, readonly=True)
    try:
        codes = dict(conn.execute("SELECT promo_code_id, code FROM impact_codes"))
    finally:
        conn.close()
    # Another code whose id has this one's digits and more: not found by this one's code.
    await live.run(Vendor.IMPACT, "expire", {"promo_code_id": 7_000_020})
    # An entry that ends with the same number but is not the code (e.g. a create in that
    # program): not found either.
    conn = connect(live.workspace)
    try:
        with transaction(conn):
            audit.record(
                conn,
                run_id=None,
                account_id=None,
                vendor="impact",
                account="Sandbox",
                operation="create",
                target="Partner ID 2001, Program ID 7000002",
                inputs={},
                outcome="ok",
            )
    finally:
        conn.close()
    names = AUDIT_LOG.column_names
    found = audit_rows(live, RowQuery(AUDIT_LOG, search=codes[7_000_002]))
    assert [row[names.index("target")] for row in found] == ["code 7000002"]
    assert audit_rows(live, RowQuery(AUDIT_LOG, search=codes[7_000_003])) == []  # untouched
    conn = connect(live.workspace, readonly=True)
    try:
        listed = list(audit.entries(conn, audit.AuditFilter(target=codes[7_000_002])))
        others = list(audit.entries(conn, audit.AuditFilter(target=codes[7_000_020])))
    finally:
        conn.close()
    assert [entry.target for entry in listed] == ["code 7000002"]
    assert [entry.target for entry in others] == ["code 7000020"]


async def test_unfinished_wizard_and_upload_runs_are_listed_newest_first(
    live: Live,  # noqa: F811
) -> None:
    conn = connect(live.workspace)
    try:
        with transaction(conn):
            done = start_run(conn, "wizard", account_id=None, title="done")
            finish_run(conn, done, "done")
            failed = start_run(conn, "wizard", account_id=None, title="failed at step 2")
            finish_run(conn, failed, "failed")
            crashed = start_run(conn, "upload", account_id=None, title="upload")  # still running
            start_run(conn, "bulk", account_id=None, title="not a wizard")
        found = unfinished_runs(conn, ("wizard", "upload"))
    finally:
        conn.close()
    assert [(info.id, info.kind) for info in found] == [(crashed, "upload"), (failed, "wizard")]


async def test_open_bulk_runs_are_those_with_items_left_or_failed(live: Live) -> None:  # noqa: F811
    await live.run(Vendor.IMPACT, "list_all", {})
    runner = BulkRunner(live.executor)
    expire = operation(Vendor.IMPACT, "expire")
    account = live.accounts[Vendor.IMPACT]
    finished = await runner.plan(account, expire, [{"promo_code_id": 7_000_001}])
    await runner.run(account, finished)
    left = await runner.plan(account, expire, [{"promo_code_id": 7_000_002}])
    del live.fakes[Vendor.IMPACT].state.codes[7_000_003]
    failing = await runner.plan(account, expire, [{"promo_code_id": 7_000_003}])
    await runner.run(account, failing)
    found = await runner.open_runs()
    assert [(info.id, name) for info, name, _summary in found] == [
        (failing, "expire"),
        (left, "expire"),
    ]
    assert [(summary.failed, summary.pending) for _i, _n, summary in found] == [(1, 0), (0, 1)]


async def test_transactions_are_built_from_their_declared_kinds_of_change(
    live: Live,  # noqa: F811
) -> None:
    promotion = operation(Vendor.OPTIMOVE, "promotion_transaction")
    kinds = {kind.name: kind for kind in promotion.commands}
    commands = [
        kinds["setMetadata"].build({"promotion_id": "summer-26", "name": "Summer final"}),
        kinds["setPublishingBudgets"].build(
            {"promotion_id": "summer-26", "audience_cap": {"limit": 10}}
        ),
        kinds["activate"].build({}),
    ]
    assert commands[1] == {
        "command": "setPublishingBudgets",
        "audienceCap": {"limit": 10, "timeframe": "Lifetime"},
    }
    await live.run(
        Vendor.OPTIMOVE,
        "create_promotion",
        {"name": "Summer", "code": "SUMMER26", "promotion_id": "summer-26"},
    )
    outcome = await live.run(
        Vendor.OPTIMOVE,
        "promotion_transaction",
        {"promotion_id": "summer-26", "commands": commands},
    )
    assert outcome.ok, outcome.message
    state = live.fakes[Vendor.OPTIMOVE].state.promotions["summer-26"]
    assert (state["name"], state["state"]) == ("Summer final", "active")
    # Every kind the window offers is one the fake (Optimove's contract) takes.
    from promodesk.vendors.optimove.endpoints import PROMOCODE_COMMANDS, PROMOTION_COMMANDS

    assert {kind.name for kind in promotion.commands} == set(PROMOTION_COMMANDS)
    promocode = operation(Vendor.OPTIMOVE, "promocode_transaction")
    assert {kind.name for kind in promocode.commands} == set(PROMOCODE_COMMANDS)
    assert all(not op.commands for op in OPERATIONS[Vendor.IMPACT].values())


async def test_an_impact_sync_reports_progress_against_the_total(live: Live) -> None:  # noqa: F811
    fake = live.fakes[Vendor.IMPACT]
    for number in range(1_500):
        fake.state.add(
            {"Code": f"MANY{number:05d}", "AssignedPartnerId": "1", "CampaignId": "1000"}
        )
    heard: list[Progress] = []
    client = live.clients[Vendor.IMPACT]
    client.page_size = 1000
    outcome = await sync_account(
        live.workspace, live.accounts[Vendor.IMPACT], client, progress=heard.append
    )
    assert outcome.seen == 1_525
    counted = [update for update in heard if update.total]
    assert counted and all(update.total == 1_525 for update in counted)
    assert counted[-1].done == 1_525


async def test_a_sync_cancelled_at_any_moment_leaves_no_run_running(live: Live) -> None:  # noqa: F811
    account = live.accounts[Vendor.IMPACT]
    client = live.clients[Vendor.IMPACT]
    for turns in range(40):
        task = asyncio.ensure_future(sync_account(live.workspace, account, client))
        for _ in range(turns):
            await asyncio.sleep(0 if turns % 2 else 0.0005)
        task.cancel()  # (a sync that already ended stays done)
        with contextlib.suppress(asyncio.CancelledError):
            await task
    statuses = {row[0] for row in live.rows("SELECT status FROM runs WHERE kind = 'sync'")}
    assert statuses <= {"cancelled", "done"}
    assert live.one("SELECT count(*) FROM runs WHERE status = 'running'") == 0


async def test_a_cancelled_wait_for_the_indexes_stops_the_waiter_not_the_build(
    tmp_path: Path,
) -> None:
    """The index build is shared (All codes, search): a job that waits for it (collisions
    after a sync) and is cancelled must end cancelled and leave the build running. It used to
    cancel the build and then carry on as if nothing happened."""
    from promodesk.services.workspace_session import WorkspaceSession
    from promodesk.store.importers.dispatch import import_file
    from tests.helpers import allocation_rows, new_workspace, write_allocations

    path, conn = new_workspace(tmp_path)
    export = write_allocations(tmp_path / "allocations.csv", allocation_rows(60_000))
    import_file(conn, export)
    conn.close()
    session = await WorkspaceSession.open(path)  # starts building the indexes
    assert session.indexing
    waiter = asyncio.ensure_future(session.wait_for_indexes())
    await asyncio.sleep(0)  # the waiter waits
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert session.indexing  # the build goes on
    await session.wait_for_indexes()
    assert not session.indexing
    await session.close()
