"""Guided creates and code-file uploads that survive a failure, a Cancel or a closed app.

A wizard writes its plan before anything is sent: a run of kind "wizard" (a promotion and its
promocode) or "upload" (the parts of a code file) with one journal item per step, holding the
step's inputs, including the ids the wizard chose. Each step then goes through the executor
with its journal item, so the step's outcome, its audit entry and its mark commit together.

Running a plan again runs only the steps not done, with the same inputs: a create carries the
id chosen up front, so one whose outcome was unknown finds what the earlier try made instead of
making a second promotion or promocode; an upload part is looked for among the promocode's
files (ones that were not there when the upload was planned) before it is sent again. Nothing
here needs the app that planned it: a plan found in the workspace after a restart resumes the
same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from promodesk.domain.jobs import Progress, ProgressFn, ignore_progress
from promodesk.domain.values import now_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.services.operations import operation as find_operation
from promodesk.services.operations.executor import (
    Executor,
    InputError,
    JournalItem,
    NotAllowed,
    account_ref,
    validate_inputs,
    workspace_account,
)
from promodesk.services.run_claims import Claim, hold_run, refuse_if_going_on
from promodesk.store.db import transaction
from promodesk.store.runs import finish_run, going_on, start_run

PlanKind = Literal["wizard", "upload"]
PLAN_KINDS: tuple[PlanKind, ...] = ("wizard", "upload")
DONE = ("ok", "skipped")
LEFT = ("pending", "failed", "unknown")
UPLOAD = "upload_code_file"
# Journal keys of an upload part beside the operation's own inputs (left out when it runs).
_PART_EXTRAS = ("codes", "bytes", "sha256", "listed_before")


class PlanError(Exception):
    """A plan cannot run (it is not in the workspace, its account is another one, a part file
    changed since it was checked), said in a marketer's words."""


@dataclass(frozen=True)
class Step:
    position: int
    operation: str  # the name in the vendor's operation table
    target: str  # what it acts on, in words
    inputs: dict[str, Any]
    status: str  # pending | ok | failed | unknown | skipped
    attempts: int = 0
    message: str = ""

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def operation_inputs(self) -> dict[str, Any]:
        return {name: value for name, value in self.inputs.items() if name not in _PART_EXTRAS}


@dataclass(frozen=True)
class Plan:
    run_id: int
    kind: str
    title: str
    vendor: Vendor
    account_key: str
    account_name: str
    status: str  # the run's: running | done | failed | cancelled
    started_at: str
    steps: tuple[Step, ...]
    going_on: bool = False  # a runner (this window, another one, a command) has it now

    @property
    def left(self) -> list[Step]:
        return [step for step in self.steps if not step.done]

    @property
    def finished(self) -> bool:
        return not self.left

    @property
    def started(self) -> bool:
        """Something may have been sent (a step was tried)."""
        return any(step.attempts or step.status != "pending" for step in self.steps)

    def step(self, operation: str) -> Step | None:
        return next((step for step in self.steps if step.operation == operation), None)


@dataclass(frozen=True)
class PlannedStep:
    operation: str
    target: str
    inputs: Mapping[str, Any]


StepListener = Callable[[Step], None]


# -- planning ------------------------------------------------------------------------------------


async def create_plan(
    executor: Executor,
    account: Any,
    kind: PlanKind,
    title: str,
    steps: Sequence[PlannedStep],
) -> int:
    """Check every step's inputs and write the plan; returns its run id. Nothing is sent."""
    ref = account_ref(account)
    for step in steps:
        validate_inputs(
            find_operation(ref.vendor, step.operation),
            {k: v for k, v in step.inputs.items() if k not in _PART_EXTRAS},
        )
    if not steps:
        raise InputError([("", "there is nothing to do")])

    def write(conn: sqlite3.Connection) -> int:
        with transaction(conn):
            account_id = workspace_account(conn, ref)
            run_id = start_run(conn, kind, account_id=account_id, title=title)
            conn.executemany(
                "INSERT INTO journal(run_id, position, operation, target, inputs, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        position,
                        step.operation,
                        step.target,
                        json.dumps(dict(step.inputs)),
                        now_utc_text(),
                    )
                    for position, step in enumerate(steps, start=1)
                ],
            )
            return run_id

    result: int = await executor.in_workspace(write)
    return result


def _load(conn: sqlite3.Connection, run_id: int) -> Plan | None:
    row = conn.execute(
        "SELECT r.id, r.kind, r.title, a.vendor, a.key, a.name, r.status, r.started_at "
        "FROM runs r JOIN accounts a ON a.id = r.account_id WHERE r.id = ?",
        (run_id,),
    ).fetchone()
    if row is None or row[1] not in PLAN_KINDS:
        return None
    steps = tuple(
        Step(position, name, target, json.loads(inputs), status, attempts, message)
        for position, name, target, inputs, status, attempts, message in conn.execute(
            "SELECT position, operation, target, inputs, status, attempts, message FROM journal "
            "WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
    )
    run_id_, kind, title, vendor, key, name, status, started = row
    return Plan(
        run_id_,
        kind,
        title,
        Vendor(vendor),
        key,
        name,
        status,
        started,
        steps,
        going_on=going_on(conn, run_id_),
    )


async def load_plan(executor: Executor, run_id: int) -> Plan:
    plan = await executor.in_workspace(lambda conn: _load(conn, run_id))
    if plan is None:
        raise PlanError(
            f"there is no unfinished wizard or upload number {run_id} in this workspace"
        )
    return plan


async def unfinished_plans(executor: Executor) -> list[Plan]:
    """Wizard and upload runs with steps left (failed, cancelled, or cut short by a close)."""

    def read(conn: sqlite3.Connection) -> list[Plan]:
        ids = [
            run_id
            for (run_id,) in conn.execute(
                "SELECT DISTINCT r.id FROM runs r JOIN journal j ON j.run_id = r.id "
                f"WHERE r.kind IN ({', '.join('?' * len(PLAN_KINDS))}) "
                f"AND j.status IN ({', '.join('?' * len(LEFT))}) ORDER BY r.id DESC",
                (*PLAN_KINDS, *LEFT),
            )
        ]
        return [plan for plan in (_load(conn, run_id) for run_id in ids) if plan is not None]

    result: list[Plan] = await executor.in_workspace(read)
    return result


async def abandon_plan(executor: Executor, run_id: int) -> None:
    """Leave the steps left undone (the plan is no longer offered for resuming). What was
    done stays done at the vendor and in the workspace."""

    def write(conn: sqlite3.Connection) -> None:
        with transaction(conn):
            refuse_if_going_on(conn, run_id, f"plan {run_id}")
            conn.execute(
                f"UPDATE journal SET status = 'skipped', message = 'Left undone', updated_at = ? "
                f"WHERE run_id = ? AND status IN ({', '.join('?' * len(LEFT))})",
                (now_utc_text(), run_id, *LEFT),
            )
            finish_run(conn, run_id, "cancelled", message="Left undone")

    await executor.in_workspace(write)


async def replan_steps(
    executor: Executor, run_id: int, inputs: Mapping[int, Mapping[str, Any]]
) -> None:
    """Change the inputs of steps nothing was created for yet (not tried, or refused by the
    vendor): the user corrected what was refused. A step that may have been done (ok,
    skipped, unknown) keeps its inputs: changing its id could make a second one."""
    plan = await load_plan(executor, run_id)
    by_position = {step.position: step for step in plan.steps}
    for position, values in inputs.items():
        step = by_position.get(position)
        if step is None:
            raise PlanError(f"the plan has no step {position}")
        if step.status not in ("pending", "failed"):
            raise PlanError(f"{step.target} may exist already: it cannot be changed now")
        validate_inputs(find_operation(plan.vendor, step.operation), values)

    def write(conn: sqlite3.Connection) -> None:
        with transaction(conn):
            refuse_if_going_on(conn, run_id, f"plan {run_id}")
            for position, values in inputs.items():
                conn.execute(
                    "UPDATE journal SET inputs = ?, status = 'pending', message = '', "
                    "updated_at = ? WHERE run_id = ? AND position = ?",
                    (json.dumps(dict(values)), now_utc_text(), run_id, position),
                )

    await executor.in_workspace(write)


# -- running -------------------------------------------------------------------------------------


async def run_plan(
    executor: Executor,
    account: Any,
    run_id: int,
    *,
    on_step: StepListener | None = None,
    progress: ProgressFn = ignore_progress,
) -> Plan:
    """Run the steps left, in order, stopping at the first that does not end ok (the ones
    after it usually need it). `on_step` hears of each step as it starts (status "running")
    and ends. Cancelling stops at once; a step in flight ends "unknown" on record. Returns
    the plan as it is afterwards."""
    plan = await load_plan(executor, run_id)
    ref = account_ref(account)
    if (ref.vendor, ref.id) != (plan.vendor, plan.account_key):
        raise PlanError(
            f"this was planned for {plan.vendor.display_name} account {plan.account_name}, "
            f"not {ref.name}"
        )
    # One runner at a time: a second window or command resuming the plan meanwhile is
    # refused, rather than sending a part a second time (two runners could both find it not
    # uploaded yet).
    async with hold_run(executor, run_id, f"{NOUNS[plan.kind]} {run_id}") as claim:
        plan = await load_plan(executor, run_id)  # (as it is now that it is this runner's)
        failure = await _run_steps(executor, account, plan, claim, on_step, progress)
        after = await load_plan(executor, run_id)
        await claim.release(executor, "done" if after.finished else "failed", failure)
    return await load_plan(executor, run_id)


NOUNS = {"wizard": "guided create", "upload": "code file upload"}


async def _run_steps(
    executor: Executor,
    account: Any,
    plan: Plan,
    claim: Claim,
    on_step: StepListener | None,
    progress: ProgressFn,
) -> str:
    """The steps left, in order, until one does not end ok: its message ("" when all did)."""
    left = plan.left
    total = len(plan.steps)
    listed: list[Any] | None = None
    for number, step in enumerate(left, start=total - len(left) + 1):
        if claim.lost:
            return "taken over by another window or command"
        progress(Progress(number - 1, total, f"{step.target}: step {number} of {total}"))
        if on_step is not None:
            on_step(_with(step, "running", ""))
        if step.operation == UPLOAD:
            if listed is None:
                listed = await _listed_files(executor, account, step)
            ended = await _upload_part(executor, account, plan.run_id, step, listed)
        else:
            ended = await _run_step(executor, account, plan.run_id, step)
        if on_step is not None:
            on_step(ended)
        if not ended.done:
            progress(Progress(total, total, "Stopped"))
            return ended.message
    progress(Progress(total, total, "Done"))
    return ""


def _with(step: Step, status: str, message: str) -> Step:
    return Step(
        step.position,
        step.operation,
        step.target,
        step.inputs,
        status,
        step.attempts + (status != "running"),
        message,
    )


async def _run_step(executor: Executor, account: Any, run_id: int, step: Step) -> Step:
    journal = JournalItem(run_id, step.position)
    operation = find_operation(account_ref(account).vendor, step.operation)
    try:
        outcome = await executor.run(account, operation, step.operation_inputs, journal=journal)
    except (NotAllowed, InputError) as refusal:
        await _mark(executor, journal, "failed", str(refusal))
        return _with(step, "failed", str(refusal))
    return _with(step, outcome.status, outcome.message)


async def _mark(executor: Executor, journal: JournalItem, status: str, message: str) -> None:
    def write(conn: sqlite3.Connection) -> None:
        with transaction(conn):
            journal.record(conn, status, message)

    await asyncio.shield(executor.in_workspace(write))


# -- upload parts --------------------------------------------------------------------------------


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def plan_upload(
    executor: Executor,
    account: Any,
    promocode_id: str,
    parts: Sequence[tuple[Path, int]],
    *,
    title: str = "",
) -> int:
    """Plan uploading `parts` ((file, codes) each, at most the vendor's cap) to a unique
    promocode. The promocode's files are listed first: a file listed then is never taken for
    one of these parts when a resume looks for what already landed."""
    lister = find_operation(Vendor.OPTIMOVE, "list_files")
    outcome = await executor.run(account, lister, {"promocode_id": promocode_id})
    if not outcome.ok:
        raise PlanError(f"could not list the files of promocode {promocode_id}: {outcome.message}")
    before = sorted(item.file_id for item in outcome.result[1])
    names = [Path(path).name for path, _codes in parts]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise PlanError(
            f"two files are called {repeated[0]}: Optimove tells uploaded files apart by their "
            "names, so give each its own"
        )

    def describe(path: Path) -> tuple[int, str]:
        return path.stat().st_size, file_digest(path)

    steps = []
    for number, (path, codes) in enumerate(parts, start=1):
        size, digest = await asyncio.to_thread(describe, Path(path))
        steps.append(
            PlannedStep(
                UPLOAD,
                f"{Path(path).name} (part {number} of {len(parts)})"
                if len(parts) > 1
                else Path(path).name,
                {
                    "promocode_id": promocode_id,
                    "path": str(path),
                    "codes": codes,
                    "bytes": size,
                    "sha256": digest,
                    "listed_before": before,
                },
            )
        )
    return await create_plan(
        executor,
        account,
        "upload",
        title or f"Upload {len(parts)} code file(s) to {promocode_id}",
        steps,
    )


async def _listed_files(executor: Executor, account: Any, step: Step) -> list[Any]:
    """The promocode's files now (one GET per run of the plan: it finds the parts a lost
    answer, a Cancel or a closed app left uploaded but unmarked)."""
    lister = find_operation(Vendor.OPTIMOVE, "list_files")
    outcome = await executor.run(
        account, lister, {"promocode_id": step.inputs["promocode_id"]}, check_state=False
    )
    if not outcome.ok:
        raise PlanError(
            f"could not list the files of promocode {step.inputs['promocode_id']} to see what "
            f"is uploaded already: {outcome.message}"
        )
    return list(outcome.result[1])


async def _upload_part(
    executor: Executor, account: Any, run_id: int, step: Step, listed: list[Any]
) -> Step:
    journal = JournalItem(run_id, step.position)
    path = Path(step.inputs["path"])
    found = next(
        (
            item
            for item in listed
            if item.file_id not in step.inputs.get("listed_before", ())
            and item.file_name == path.name
            and item.codes == step.inputs.get("codes")
        ),
        None,
    )
    if found is not None:
        message = f"Already uploaded (the promocode lists it as file {found.file_id})"
        await _mark(executor, journal, "skipped", message)
        return _with(step, "skipped", message)
    try:
        digest = await asyncio.to_thread(file_digest, path)
    except OSError as error:
        message = f"{path.name} cannot be read any more ({error.strerror or error}): check it again"
        await _mark(executor, journal, "failed", message)
        return _with(step, "failed", message)
    if digest != step.inputs.get("sha256"):
        message = f"{path.name} changed since it was checked: check the code files again"
        await _mark(executor, journal, "failed", message)
        return _with(step, "failed", message)
    return await _run_step(executor, account, run_id, step)


# -- a promotion and its promocode ---------------------------------------------------------------


def promotion_steps(
    promotion: Mapping[str, Any], promocode: Mapping[str, Any]
) -> list[PlannedStep]:
    """Optimove's two-step create (vendor-apis.md 1.10): the promotion, then the promocode
    assigned to it. Both ids are chosen here, once, so every later try is the same create."""
    from promodesk.vendors.optimove.client import new_id

    promotion_values = dict(promotion)
    promotion_values["promotion_id"] = promotion_values.get("promotion_id") or new_id(
        str(promotion_values.get("name", "")), "promotion"
    )
    promocode_values = {
        name: value for name, value in dict(promocode).items() if value not in (None, "")
    }
    promocode_values["promotion_id"] = promotion_values["promotion_id"]
    promocode_values["promocode_id"] = promocode_values.get("promocode_id") or new_id(
        str(promocode_values.get("code") or promotion_values.get("code") or ""), "promocode"
    )
    return [
        PlannedStep(
            "create_promotion",
            f"promotion {promotion_values.get('name', '')} ({promotion_values['promotion_id']})",
            promotion_values,
        ),
        PlannedStep(
            "create_promocode",
            f"promocode {promocode_values['promocode_id']}",
            promocode_values,
        ),
    ]


async def plan_promotion(
    executor: Executor,
    account: Any,
    promotion: Mapping[str, Any],
    promocode: Mapping[str, Any],
) -> int:
    steps = promotion_steps(promotion, promocode)
    return await create_plan(
        executor,
        account,
        "wizard",
        f"New promotion {promotion.get('name', '')} with its promocode",
        steps,
    )
