"""The Qt-free halves of the wizards against the in-process fakes: a planned promotion that
fails after its first step and resumes without a second promotion or promocode, an upload
whose parts resume without duplicates, Altcraft's per-code results, impact.com rows from a
marketer's CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from promodesk.domain.vendors import Vendor
from promodesk.services import code_import, impact_batch, wizard_runs
from promodesk.services.operations.executor import Executor, InputError
from promodesk.services.run_claims import RunBusy
from promodesk.store.db import connect, transaction
from promodesk.store.runs import claim_run
from tests.integration.test_live_core import Live
from tests.integration.test_live_core import live as live  # the fixture, re-exported

PROMOTION = {"name": "Winter sale", "code": "WINTER26", "description": "10% off"}
UNIQUE = {"promocode_type": "unique", "allocation_method": "Varying", "default_code": "WIN-FB"}


def promotions_named(live: Live, name: str) -> list[dict[str, Any]]:
    return [p for p in live.fakes[Vendor.OPTIMOVE].state.promotions.values() if p["name"] == name]


def promocodes_of(live: Live, promotion_id: str) -> list[Any]:
    return [
        p
        for p in live.fakes[Vendor.OPTIMOVE].state.promocodes.values()
        if p.promotion_id == promotion_id
    ]


async def test_a_planned_promotion_runs_both_steps_with_the_ids_it_chose(live: Live) -> None:
    account = live.accounts[Vendor.OPTIMOVE]
    run_id = await wizard_runs.plan_promotion(live.executor, account, PROMOTION, UNIQUE)
    plan = await wizard_runs.load_plan(live.executor, run_id)
    assert [step.operation for step in plan.steps] == ["create_promotion", "create_promocode"]
    promotion_id = plan.steps[0].inputs["promotion_id"]
    assert promotion_id.startswith("winter-sale-")
    assert plan.steps[1].inputs["promotion_id"] == promotion_id
    assert live.fakes[Vendor.OPTIMOVE].state.promotions.get(promotion_id) is None  # not sent

    heard: list[tuple[int, str]] = []
    done = await wizard_runs.run_plan(
        live.executor, account, run_id, on_step=lambda s: heard.append((s.position, s.status))
    )
    assert done.finished and done.status == "done"
    assert heard == [(1, "running"), (1, "ok"), (2, "running"), (2, "ok")]
    [promocode] = promocodes_of(live, promotion_id)
    assert (promocode.type, promocode.allocation_method, promocode.default_code) == (
        "unique",
        "Varying",
        "WIN-FB",
    )
    assert promocode.promocode_id == plan.steps[1].inputs["promocode_id"]
    assert live.one("SELECT kind, status FROM runs WHERE id = ?", run_id) == ("wizard", "done")
    assert live.one("SELECT count(*) FROM optimove_promocodes WHERE promotion_id = ?", promotion_id)
    assert await wizard_runs.unfinished_plans(live.executor) == []


async def test_a_failure_after_the_promotion_resumes_only_the_promocode(live: Live) -> None:
    fake = live.fakes[Vendor.OPTIMOVE]
    account = live.accounts[Vendor.OPTIMOVE]
    run_id = await wizard_runs.plan_promotion(
        live.executor, account, PROMOTION, {"promocode_type": "global", "code": "WINTER-10"}
    )
    # The promotion (POST, then GET) goes through; the promocode's create lands, but its
    # answer is lost and every try after it meets a 500: the outcome is unknown.
    fake.faults.configure({"script": [None, None, "lost", *["500"] * 4], "slow_seconds": 2.0})
    first = await wizard_runs.run_plan(live.executor, account, run_id)
    assert [step.status for step in first.steps] == ["ok", "unknown"]
    assert first.status == "failed" and not first.finished
    promotion_id = first.steps[0].inputs["promotion_id"]
    assert [plan.run_id for plan in await wizard_runs.unfinished_plans(live.executor)] == [run_id]

    # A new executor, as after the app was closed and opened again.
    fake.faults.configure({})
    again = Executor(live.workspace, live.executor._clients)
    resumed = await wizard_runs.run_plan(again, account, run_id)
    assert resumed.finished and resumed.status == "done"
    assert [step.attempts for step in resumed.steps] == [1, 2]  # the promotion: sent once
    assert len(promotions_named(live, "Winter sale")) == 1
    [promocode] = promocodes_of(live, promotion_id)
    assert (promocode.type, promocode.code) == ("global", "WINTER-10")
    assert [e.outcome for e in live.audit() if e.operation == "create_promocode"] == [
        "unknown",
        "ok",
    ]
    assert await wizard_runs.unfinished_plans(again) == []


async def test_a_step_refused_for_its_inputs_can_be_corrected_but_a_done_one_cannot(
    live: Live,
) -> None:
    account = live.accounts[Vendor.OPTIMOVE]
    taken = {**PROMOTION, "promotion_id": "spring-welcome-2026"}  # someone else's
    run_id = await wizard_runs.plan_promotion(live.executor, account, taken, UNIQUE)
    first = await wizard_runs.run_plan(live.executor, account, run_id)
    assert [step.status for step in first.steps] == ["failed", "pending"]
    assert "already exists" in first.steps[0].message
    fixed = wizard_runs.promotion_steps({**PROMOTION, "promotion_id": "winter-own"}, UNIQUE)
    await wizard_runs.replan_steps(
        live.executor,
        run_id,
        {1: fixed[0].inputs, 2: {**first.steps[1].inputs, "promotion_id": "winter-own"}},
    )
    done = await wizard_runs.run_plan(live.executor, account, run_id)
    assert done.finished
    assert len(promocodes_of(live, "winter-own")) == 1
    with pytest.raises(wizard_runs.PlanError, match="may exist already"):
        await wizard_runs.replan_steps(live.executor, run_id, {1: fixed[0].inputs})


async def test_bad_inputs_are_refused_before_a_plan_is_written(live: Live) -> None:
    with pytest.raises(InputError, match="global promocode needs"):
        await wizard_runs.plan_promotion(
            live.executor, live.accounts[Vendor.OPTIMOVE], PROMOTION, {"promocode_type": "global"}
        )
    assert live.one("SELECT count(*) FROM runs") == 0


def parts(folder: Path, count: int, per_part: int = 50) -> list[tuple[Path, int]]:
    made = []
    for number in range(1, count + 1):
        path = folder / f"winter-{number}.csv"
        path.write_text("".join(f"W{number}-{n:05d}\n" for n in range(per_part)))
        made.append((path, per_part))
    return made


async def test_an_interrupted_upload_resumes_without_uploading_a_part_twice(
    live: Live, tmp_path: Path
) -> None:
    fake = live.fakes[Vendor.OPTIMOVE]
    account = live.accounts[Vendor.OPTIMOVE]
    promocode = fake.state.promocodes["pc-spring-welcome"]
    three = parts(tmp_path, 3)
    run_id = await wizard_runs.plan_upload(live.executor, account, promocode.promocode_id, three)
    plan = await wizard_runs.load_plan(live.executor, run_id)
    assert plan.kind == "upload" and len(plan.steps) == 3
    assert plan.steps[0].inputs["listed_before"] == list(promocode.files)

    # Requests of a run: list files, then per part: upload URL, PUT, list files, GET promocode.
    # Part 1 goes through; part 2's file lands but the read-back after it never answers.
    fake.faults.configure({"script": [None] * 5 + [None, None] + ["500"] * 5})
    first = await wizard_runs.run_plan(live.executor, account, run_id)
    assert [step.status for step in first.steps] == ["ok", "unknown", "pending"]
    assert len(promocode.files) == 1 + 2  # part 2 is at the vendor all the same

    fake.faults.configure({})
    slots_before = len(fake.state.uploads)
    resumed = await wizard_runs.run_plan(live.executor, account, run_id)
    assert [step.status for step in resumed.steps] == ["ok", "skipped", "ok"]
    assert "Already uploaded" in resumed.steps[1].message
    assert len(fake.state.uploads) == slots_before + 1  # only part 3 asked for an upload URL
    names = sorted(item.file_name for item in promocode.files.values())
    assert names == ["spring_batch1.csv", "winter-1.csv", "winter-2.csv", "winter-3.csv"]
    assert len(promocode.pool) == 500 + 150
    assert (
        live.one(
            "SELECT count(*) FROM optimove_code_files WHERE promocode_id = 'pc-spring-welcome'"
        )
        == 4
    )


async def test_an_upload_going_on_elsewhere_is_refused_and_nothing_is_sent(
    live: Live, tmp_path: Path
) -> None:
    """Two windows (or a window and a command) resuming one upload could both find a part
    not uploaded yet and both send it: the second is refused while the first is heard of,
    and takes the plan over once that one has been silent a minute (it was killed)."""
    fake = live.fakes[Vendor.OPTIMOVE]
    account = live.accounts[Vendor.OPTIMOVE]
    promocode = fake.state.promocodes["pc-spring-welcome"]
    run_id = await wizard_runs.plan_upload(
        live.executor, account, promocode.promocode_id, parts(tmp_path, 2)
    )
    other = connect(live.workspace)
    try:
        with transaction(other):
            assert claim_run(other, run_id, "another window") is None
        with pytest.raises(RunBusy, match=rf"code file upload {run_id} is already going on"):
            await wizard_runs.run_plan(live.executor, account, run_id)
        assert len(promocode.files) == 1 and fake.state.uploads == {}  # nothing was sent
        assert live.one("SELECT status FROM runs WHERE id = ?", run_id) == "running"
        # Nor can its plan be changed under the runner that has it.
        with pytest.raises(RunBusy, match="it can be changed once it stops"):
            await wizard_runs.abandon_plan(live.executor, run_id)
        plan = await wizard_runs.load_plan(live.executor, run_id)
        with pytest.raises(RunBusy):
            await wizard_runs.replan_steps(
                live.executor, run_id, {2: plan.steps[1].operation_inputs}
            )
        plan = await wizard_runs.load_plan(live.executor, run_id)
        assert plan.going_on and [step.status for step in plan.steps] == ["pending", "pending"]

        with transaction(other):
            other.execute(
                "UPDATE runs SET heartbeat = '2026-01-01T00:00:00Z' WHERE id = ?", (run_id,)
            )
        done = await wizard_runs.run_plan(live.executor, account, run_id)
    finally:
        other.close()
    assert [step.status for step in done.steps] == ["ok", "ok"]
    assert len(promocode.files) == 1 + 2
    assert live.one(
        "SELECT status, claimed_by != 'another window' FROM runs WHERE id = ?", run_id
    ) == ("done", 1)


async def test_a_part_changed_after_it_was_checked_is_not_uploaded(
    live: Live, tmp_path: Path
) -> None:
    account = live.accounts[Vendor.OPTIMOVE]
    [(path, codes)] = parts(tmp_path, 1)
    run_id = await wizard_runs.plan_upload(
        live.executor, account, "pc-spring-welcome", [(path, codes)]
    )
    path.write_text("EDITED\n")
    ended = await wizard_runs.run_plan(live.executor, account, run_id)
    assert ended.steps[0].status == "failed"
    assert "changed since it was checked" in ended.steps[0].message
    assert len(live.fakes[Vendor.OPTIMOVE].state.promocodes["pc-spring-welcome"].files) == 1


async def test_two_parts_with_one_name_are_refused(live: Live, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "codes.csv").write_text("X1\n")
    with pytest.raises(wizard_runs.PlanError, match=r"two files are called codes\.csv"):
        await wizard_runs.plan_upload(
            live.executor,
            live.accounts[Vendor.OPTIMOVE],
            "pc-spring-welcome",
            [(tmp_path / "a" / "codes.csv", 1), (tmp_path / "b" / "codes.csv", 1)],
        )


async def test_altcraft_import_says_what_happened_to_each_code(live: Live) -> None:
    program = live.fakes[Vendor.ALTCRAFT].state.programs[5]
    program.limit = len(program.codes) + 2
    existing = next(iter(program.codes))
    heard: list[code_import.CodeResult] = []
    report = await code_import.import_codes(
        live.executor,
        live.accounts[Vendor.ALTCRAFT],
        ["NEW-A", existing, "NEW-B", "NEW-A", "NEW-C", "  "],
        chunk=2,
        on_results=heard.extend,
    )
    by_code = {(item.code, item.result) for item in report.results}
    assert by_code == {
        ("NEW-A", "inserted"),
        ("NEW-A", "repeated"),
        (existing, "duplicated"),
        ("NEW-B", "inserted"),
        ("NEW-C", "discarded"),
    }
    assert len(heard) == len(report.results) == 5
    assert report.text() == (
        "2 added, 1 already in the program, 1 over the program's limit, 1 repeated in the list"
    )
    assert {"NEW-A", "NEW-B"} <= set(program.codes) and "NEW-C" not in program.codes
    stored = {code for (code,) in live.rows("SELECT code FROM altcraft_codes")}
    assert {"NEW-A", "NEW-B", existing} <= stored and "NEW-C" not in stored
    assert [e.operation for e in live.audit()] == ["import_codes"] * 2  # one per chunk


CSV = """Code;Partner ID;Program ID;Credit policy;Type;Start;End
SUMMER-ANN;2552842;1000;If last click;Exact match;2026-12-01;2026-12-31
summer-[a-z]+;2552842;1000;Always;Pattern;2026-12-01 09:30;
BROKEN-[;2552842;1000;;Pattern;;
NO-PARTNER;;1000;;;;
LATE;2552842;1000;Sometimes;;2026-12-05;2026-12-01
SUMMER-ANN;2552842;1000;;;;
"""


def test_impact_rows_read_in_marketer_words_with_every_problem_on_its_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "codes.csv"
    path.write_text(CSV, encoding="utf-8-sig")
    berlin = timezone(timedelta(hours=1))
    rows = impact_batch.read_code_rows(path, berlin)
    assert [row.line for row in rows] == [2, 3, 4, 5, 6, 7]
    first = rows[0]
    assert first.ready and first.values["credit_policy"] == "WINNER"
    assert first.values["type_"] == "LI"
    assert first.values["start_date"] == datetime(2026, 12, 1, tzinfo=berlin)
    assert first.values["end_date"] == datetime(2026, 12, 31, 23, 59, 59, tzinfo=berlin)
    assert first.notes == ["ends at the end of that day"]
    assert rows[1].ready and rows[1].values["type_"] == "RE"
    assert rows[1].values["start_date"].astimezone(UTC).hour == 8
    assert "pattern does not compile" in rows[2].problems[0]
    assert rows[3].problems == ["the partner ID is missing"]
    assert "'Sometimes' is not a credit policy" in rows[4].problems[0]
    assert rows[5].problems == ["the same code for the same partner is on line 2"]


def test_an_impact_file_without_a_code_column_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "partners.csv"
    path.write_text("Partner,Program\n1,2\n")
    with pytest.raises(impact_batch.ImpactFileError, match=r"partners.csv, line 1: no “Code”"):
        impact_batch.read_code_rows(path)


async def test_impact_rows_are_created_one_by_one_and_a_refusal_does_not_stop_the_rest(
    live: Live, tmp_path: Path
) -> None:
    fake = live.fakes[Vendor.IMPACT]
    taken = next(r for r in fake.state.codes.values() if r["CampaignId"] == "1000")
    other_partner = int(taken["AssignedPartnerId"]) + 1
    path = tmp_path / "codes.csv"
    path.write_text(
        "Code,Partner,Program\nFRESH-1,2552842,1000\n"
        f"{taken['Code']},{other_partner},1000\nFRESH-3,1,1000\n"
    )
    rows = impact_batch.read_code_rows(path, UTC)
    ended = await impact_batch.create_codes(live.executor, live.accounts[Vendor.IMPACT], rows)
    assert [(o.row.code, o.status) for o in ended] == [
        ("FRESH-1", "ok"),
        (taken["Code"], "failed"),
        ("FRESH-3", "ok"),
    ]
    assert "already exists" in ended[1].message
    codes = [record["Code"] for record in fake.state.codes.values()]
    assert codes.count("FRESH-1") == codes.count("FRESH-3") == codes.count(taken["Code"]) == 1
    assert live.one("SELECT count(*) FROM impact_codes WHERE code LIKE 'FRESH-%'") == 2
