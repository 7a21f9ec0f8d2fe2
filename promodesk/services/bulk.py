"""Running one operation over many targets: within the vendor's rate limit, cancellable, with
each item's outcome kept in the workspace's journal.

A bulk run is planned first (every item's inputs checked, the journal written), then run.
Each item's result, its audit entry and its journal mark commit together, so after a crash
or a cancel the run resumes with exactly the items not yet done. "Retry failed" puts the
failed and unknown items back in line. An item whose target already is where the operation
would take it (e.g. a code already expired) is skipped with the reason, not failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from promodesk.domain.jobs import Progress, ProgressFn, ignore_progress
from promodesk.domain.values import now_utc_text
from promodesk.services.operations import operation as find_operation
from promodesk.services.operations.base import Operation, Target
from promodesk.services.operations.executor import (
    Executor,
    InputError,
    JournalItem,
    NotAllowed,
    NotRecorded,
    account_ref,
    validate_inputs,
    workspace_account,
)
from promodesk.services.run_claims import Claim, hold_run
from promodesk.store.db import transaction
from promodesk.store.runs import RunInfo, going_on, run_info, start_run

log = logging.getLogger("promodesk.bulk")

# In flight at once; the client's limiter keeps them within the vendor's rate.
CONCURRENCY = 4
LEFT = ("pending",)
RETRYABLE = ("failed", "unknown")


@dataclass(frozen=True)
class BulkItem:
    position: int
    target: str
    status: str  # pending | ok | failed | unknown | skipped
    attempts: int
    message: str
    inputs: dict[str, Any]


@dataclass(frozen=True)
class BulkSummary:
    run_id: int
    total: int
    ok: int
    failed: int
    unknown: int
    skipped: int
    pending: int
    cancelled: bool = False
    going_on: bool = False  # in a window or command now (`store.runs.going_on`)

    @property
    def finished(self) -> bool:
        return self.pending == 0

    def text(self, noun: str = "item") -> str:
        parts = [f"{self.ok:,} of {self.total:,} {noun}(s) done"]
        for count, word in (
            (self.failed, "failed"),
            (self.unknown, "with an unknown outcome"),
            (self.skipped, "skipped"),
            (self.pending, "not started"),
        ):
            if count:
                parts.append(f"{count:,} {word}")
        return ", ".join(parts)


class BulkRunner:
    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    async def plan(
        self,
        account: Any,
        operation: Operation,
        items: Sequence[Mapping[str, Any]],
        *,
        title: str = "",
    ) -> int:
        """Check every item's inputs and write the journal; returns the run's id. Nothing is
        sent yet. InputError names the first bad item (its position counts from 1)."""
        if not operation.bulk:
            raise NotAllowed(f"{operation.label} cannot be run on many targets at once")
        checked = []
        for number, values in enumerate(items, start=1):
            try:
                checked.append(validate_inputs(operation, values))
            except InputError as error:
                raise InputError(
                    [
                        (f"item {number}: {name}" if name else f"item {number}", text)
                        for name, text in error.problems
                    ]
                ) from None
        if not checked:
            raise InputError([("", "there is nothing to do: no items")])
        ref = account_ref(account)
        target = operation.target

        def write(conn: sqlite3.Connection) -> int:
            with transaction(conn):
                account_id = workspace_account(conn, ref)
                run_id = start_run(
                    conn,
                    "bulk",
                    account_id=account_id,
                    title=title or f"{operation.label} × {len(checked):,}",
                )
                rows = []
                for position, inputs in enumerate(checked, start=1):
                    values = inputs.model_dump(mode="json")
                    label = " ".join(
                        str(values[name])
                        for name in (target.fields if target else values)
                        if values.get(name) is not None and not isinstance(values[name], list)
                    )
                    rows.append(
                        (
                            run_id,
                            position,
                            operation.name,
                            label,
                            json.dumps(values),
                            now_utc_text(),
                        )
                    )
                conn.executemany(
                    "INSERT INTO journal(run_id, position, operation, target, inputs, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                return run_id

        result: int = await self.executor.in_workspace(write)
        return result

    async def run(
        self,
        account: Any,
        run_id: int,
        *,
        progress: ProgressFn = ignore_progress,
        concurrency: int = CONCURRENCY,
        on_item: Callable[[BulkItem], None] | None = None,
    ) -> BulkSummary:
        """Run the items not done yet, `concurrency` at a time; `on_item` hears of each one
        as it ends. Cancelling stops starting new ones; those in flight end as done or
        unknown; the rest stay for a resume."""
        if concurrency < 1:
            raise ValueError("run at least one item at a time")
        return await self._run(account, run_id, progress, concurrency, on_item, again=False)

    async def _run(
        self,
        account: Any,
        run_id: int,
        progress: ProgressFn,
        concurrency: int,
        on_item: Callable[[BulkItem], None] | None,
        *,
        again: bool,
    ) -> BulkSummary:
        operation = find_operation(account_ref(account).vendor, await self._operation_of(run_id))

        def requeue(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"UPDATE journal SET status = 'pending' WHERE run_id = ? AND status IN "
                f"({', '.join('?' * len(RETRYABLE))})",
                (run_id, *RETRYABLE),
            )

        # A second window or command that resumes the run meanwhile is refused, rather than
        # sending every item a second time; "retry failed" puts the failed items back in
        # line only once the run is this runner's.
        async with hold_run(
            self.executor, run_id, f"bulk run {run_id}", also=requeue if again else None
        ) as claim:
            return await self._run_claimed(
                account, claim, operation, progress, concurrency, on_item
            )

    async def _run_claimed(
        self,
        account: Any,
        claim: Claim,
        operation: Operation,
        progress: ProgressFn,
        concurrency: int,
        on_item: Callable[[BulkItem], None] | None,
    ) -> BulkSummary:
        run_id = claim.run_id
        items = [item for item in await self.items(run_id) if item.status in LEFT]
        total = (await self.summary(run_id)).total
        done_before = total - len(items)
        slots = asyncio.Semaphore(concurrency)
        finished = 0

        async def one(item: BulkItem) -> None:
            nonlocal finished
            async with slots:
                if claim.lost:
                    return  # (left pending, for the runner that took the run over)
                journal = JournalItem(run_id, item.position)
                status: str
                try:
                    outcome = await self.executor.run(
                        account, operation, item.inputs, journal=journal
                    )
                    status, message = outcome.status, outcome.message
                except NotAllowed as reason:
                    status, message = "skipped", str(reason)
                    await self._mark(journal, status, message)
                except InputError as error:
                    status, message = "failed", str(error)
                    await self._mark(journal, status, message)
                except NotRecorded as refused:
                    # The vendor's answer is known (a refusal, or lost), only its record failed.
                    status, message = refused.outcome.status, str(refused)
                    await self._mark(journal, status, message)
                except (sqlite3.Error, OSError) as error:
                    # Sent, but its result could not be recorded: say so, never guess.
                    status, message = "unknown", f"could not record the result ({error})"
                    await self._mark(journal, status, message)
                except Exception as error:  # a bug: the item ends, the run goes on
                    log.exception("bulk run %s, item %s", run_id, item.position)
                    status, message = "unknown", f"an unexpected problem ({error})"
                    await self._mark(journal, status, message)
                if on_item is not None:
                    on_item(replace(item, status=status, message=message))
                finished += 1
                progress(
                    Progress(
                        done_before + finished,
                        total,
                        f"{operation.label}: {done_before + finished:,} of {total:,}",
                    )
                )

        tasks = [asyncio.ensure_future(one(item)) for item in items]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # Every item stops before the run is let go (a cancel, or an error that left
            # the others sending): none may be sent again by the next runner meanwhile.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise  # (the run is marked cancelled by `_run`)
        summary = await self.summary(run_id)
        await claim.release(self.executor, "done" if summary.finished else "cancelled")
        return summary

    async def retry_failed(
        self,
        account: Any,
        run_id: int,
        *,
        progress: ProgressFn = ignore_progress,
        on_item: Callable[[BulkItem], None] | None = None,
    ) -> BulkSummary:
        """Put the failed and unknown items back in line and run them."""
        return await self._run(account, run_id, progress, CONCURRENCY, on_item, again=True)

    async def items(self, run_id: int) -> list[BulkItem]:
        def read(conn: sqlite3.Connection) -> list[BulkItem]:
            return [
                BulkItem(position, target, status, attempts, message, json.loads(inputs))
                for position, target, status, attempts, message, inputs in conn.execute(
                    "SELECT position, target, status, attempts, message, inputs FROM journal "
                    "WHERE run_id = ? ORDER BY position",
                    (run_id,),
                )
            ]

        result: list[BulkItem] = await self.executor.in_workspace(read)
        return result

    async def labels(self, run_id: int, target: Target | None) -> dict[int, str]:
        """Each item's name as the workspace knows its row, by position: the journal keeps
        what the operation acts on (impact.com's promo code id), a marketer knows the code.
        Items whose row is not in the workspace are left out."""
        if target is None:
            return {}
        names = list(target.fields)
        # (the table's and columns' names come from the operation tables, not from input)
        match = " AND ".join(f"{column} = ?" for column in target.fields.values())

        def read(conn: sqlite3.Connection) -> dict[int, str]:
            run = conn.execute("SELECT account_id FROM runs WHERE id = ?", (run_id,)).fetchone()
            if run is None or run[0] is None:
                return {}
            found = {}
            # One lookup an item, by the table's key (account, id): a run of twelve does not
            # read an account of a million codes.
            for position, inputs in conn.execute(
                "SELECT position, inputs FROM journal WHERE run_id = ?", (run_id,)
            ).fetchall():
                values = json.loads(inputs)
                key = [values.get(name) for name in names]
                if None in key:
                    continue
                row = conn.execute(
                    f"SELECT {target.label_column} FROM {target.table} "
                    f"WHERE account_id = ? AND {match} LIMIT 1",
                    (run[0], *key),
                ).fetchone()
                if row is not None and row[0]:
                    found[position] = str(row[0])
            return found

        result: dict[int, str] = await self.executor.in_workspace(read)
        return result

    async def summary(self, run_id: int) -> BulkSummary:
        def read(conn: sqlite3.Connection) -> BulkSummary:
            counts = dict(
                conn.execute(
                    "SELECT status, count(*) FROM journal WHERE run_id = ? GROUP BY status",
                    (run_id,),
                ).fetchall()
            )
            status = conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            return BulkSummary(
                run_id,
                total=sum(counts.values()),
                ok=counts.get("ok", 0),
                failed=counts.get("failed", 0),
                unknown=counts.get("unknown", 0),
                skipped=counts.get("skipped", 0),
                pending=counts.get("pending", 0),
                cancelled=bool(status and status[0] == "cancelled"),
                going_on=going_on(conn, run_id),
            )

        result: BulkSummary = await self.executor.in_workspace(read)
        return result

    async def runs(self) -> list[RunInfo]:
        """Every bulk run of the workspace, oldest first."""

        def read(conn: sqlite3.Connection) -> list[RunInfo]:
            ids = [
                r for (r,) in conn.execute("SELECT id FROM runs WHERE kind = 'bulk' ORDER BY id")
            ]
            return [info for info in (run_info(conn, run_id) for run_id in ids) if info]

        result: list[RunInfo] = await self.executor.in_workspace(read)
        return result

    async def unfinished(self) -> list[RunInfo]:
        """Bulk runs with items left (interrupted by a crash, a close or a cancel)."""

        def read(conn: sqlite3.Connection) -> list[RunInfo]:
            ids = [
                run_id
                for (run_id,) in conn.execute(
                    "SELECT DISTINCT r.id FROM runs r JOIN journal j ON j.run_id = r.id "
                    "WHERE r.kind = 'bulk' AND j.status = 'pending' ORDER BY r.id"
                )
            ]
            return [info for info in (run_info(conn, run_id) for run_id in ids) if info]

        result: list[RunInfo] = await self.executor.in_workspace(read)
        return result

    async def open_runs(self) -> list[tuple[RunInfo, str, BulkSummary]]:
        """Bulk runs with work left: items not started yet (resume them) or failed or
        unknown ones (retry them); with each run's operation, newest first."""

        def read(conn: sqlite3.Connection) -> list[tuple[int, str]]:
            return [
                (int(run_id), str(operation))
                for run_id, operation in conn.execute(
                    "SELECT r.id, min(j.operation) FROM runs r JOIN journal j ON j.run_id = r.id "
                    "WHERE r.kind = 'bulk' AND j.status IN ('pending', 'failed', 'unknown') "
                    "GROUP BY r.id ORDER BY r.id DESC"
                )
            ]

        def info_of(run_id: int) -> Callable[[sqlite3.Connection], RunInfo | None]:
            return lambda conn: run_info(conn, run_id)

        found = []
        for run_id, operation in await self.executor.in_workspace(read):
            info = await self.executor.in_workspace(info_of(run_id))
            if info is not None:
                found.append((info, operation, await self.summary(run_id)))
        return found

    async def _operation_of(self, run_id: int) -> str:
        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT j.operation FROM journal j JOIN runs r ON r.id = j.run_id "
                "WHERE j.run_id = ? AND r.kind = 'bulk' LIMIT 1",
                (run_id,),
            ).fetchone()
            return str(row[0]) if row else None

        name = await self.executor.in_workspace(read)
        if name is None:
            raise LookupError(f"there is no bulk run {run_id} in this workspace")
        return name

    async def _mark(self, journal: JournalItem, status: str, message: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                journal.record(conn, status, message)

        await asyncio.shield(self.executor.in_workspace(write))
