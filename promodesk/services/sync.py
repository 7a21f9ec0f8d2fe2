"""Mirroring an account into the workspace ("Refresh"), with progress, cancel and "as of".

Each vendor is read the way its API allows: impact.com page by page, Altcraft with one
export per loyalty program, Optimove by asking again for every promotion and promocode the
workspace knows (its API has no list; the workspace is the list). What the vendor answered is
staged on the side and written in one transaction at the end through the store's one writer,
which writes only the rows that changed and marks what the vendor no longer has as gone. A
cancelled or failed sync leaves the workspace as it was, with the run on record.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promodesk.domain.jobs import Progress, ProgressFn, ignore_progress
from promodesk.domain.values import now_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.services.jobs import asked_ahead, to_the_end, until_done
from promodesk.services.operations.executor import AccountRef, account_ref, workspace_account
from promodesk.store.db import connect, retry_busy, transaction
from promodesk.store.records import altcraft_row, fingerprint, impact_row, keep_unsent_altcraft
from promodesk.store.runs import finish_run, start_run
from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, Staging, WriteOutcome, top_id
from promodesk.vendors.errors import ForbiddenError, NotFoundError

# Codes read between two steps of staging: changed ones go to the staging table (one thread
# hop per batch), new ones are held for the write, and progress is told.
STAGE_BATCH = 2_000
# Codes converted between two turns of the event loop. A sync runs on the window's loop: a
# page of 1,000 impact.com codes is read without a pause otherwise (25-40 ms, a visible
# stall), and an Altcraft export of 100,000 held the window for 0.4 s.
YIELD_EVERY = 250


@dataclass
class SyncOutcome:
    account: str
    vendor: Vendor
    run_id: int
    as_of: str
    seen: int = 0
    written: WriteOutcome = field(default_factory=WriteOutcome)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        written = self.written
        parts = [f"{self.seen:,} read"]
        if written.added:
            parts.append(f"{written.added:,} new")
        if written.changed:
            parts.append(f"{written.changed:,} changed")
        if written.gone:
            parts.append(f"{written.gone:,} gone at the vendor")
        if not (written.added or written.changed or written.gone):
            parts.append("nothing changed")
        text = f"{self.account} ({self.vendor.display_name}): {', '.join(parts)}"
        return "; ".join([text, *self.warnings])


class SyncJob:
    """One sync: a connection of its own (staging lives in it), used from worker threads one
    step at a time so that the event loop never waits on SQLite."""

    def __init__(self, workspace: Path, account: AccountRef, progress: ProgressFn) -> None:
        self.workspace = Path(workspace)
        self.account = account
        self.progress = progress
        self.conn: sqlite3.Connection | None = None
        self.account_id = 0
        self.run_id = 0
        self.started = time.perf_counter()
        self.as_of = now_utc_text()
        # One step at a time on the connection: a step whose caller was cancelled still runs
        # to its end in its thread, and the next one (abandon, close) must wait for it.
        self._turn = threading.Lock()

    async def db(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """`work(conn)` on a worker thread. A thread cannot be stopped: when the job is
        cancelled meanwhile, this waits for the step to end before the cancel goes on, so
        nothing else ever touches the connection while the step still uses it."""
        assert self.conn is not None
        conn = self.conn

        def step() -> Any:
            with self._turn:
                return retry_busy(lambda: work(conn))

        running = asyncio.ensure_future(asyncio.to_thread(step))
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            await until_done(running)
            raise

    async def open(self) -> None:
        self.conn = await asyncio.to_thread(connect, self.workspace, shared=True)

        def begin(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                self.account_id = workspace_account(conn, self.account)
                self.run_id = start_run(
                    conn,
                    "sync",
                    account_id=self.account_id,
                    title=f"Refresh {self.account.name}",
                    as_of=self.as_of,
                )

        await self.db(begin)

    async def finish(
        self, writes: Callable[[sqlite3.Connection], WriteOutcome], seen: int
    ) -> SyncOutcome:
        """The staged records in, the run and "as of" recorded: one transaction."""
        self.progress(Progress(0, 0, f"Saving what {self.account.name} has"))

        def commit(conn: sqlite3.Connection) -> WriteOutcome:
            with transaction(conn):
                written = writes(conn)
                finish_run(
                    conn,
                    self.run_id,
                    "done",
                    added=written.added,
                    changed=written.changed,
                    gone=written.gone,
                )
                conn.execute(
                    "UPDATE accounts SET as_of = max(as_of, ?) WHERE id = ?",
                    (self.as_of, self.account_id),
                )
            return written

        # Saving is not cancelled half way: once it starts it ends (it is one short
        # transaction), and a cancel that arrives meanwhile finds the sync done.
        assert self.conn is not None
        conn = self.conn
        saving = asyncio.ensure_future(asyncio.to_thread(lambda: retry_busy(lambda: commit(conn))))
        cancels = await until_done(saving)
        written: WriteOutcome = saving.result()
        task = asyncio.current_task()
        if task is not None:
            for _ in range(cancels):
                task.uncancel()  # every one: a later await in this task is not cancelled
        return SyncOutcome(
            self.account.name,
            self.account.vendor,
            self.run_id,
            self.as_of,
            seen=seen,
            written=written,
            seconds=time.perf_counter() - self.started,
        )

    async def abandon(self, status: str, message: str) -> None:
        def record(conn: sqlite3.Connection) -> None:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            with transaction(conn):
                found = conn.execute("SELECT status FROM runs WHERE id = ?", (self.run_id,))
                if found.fetchone() == ("done",):
                    return  # its last step committed before the cancel reached it
                finish_run(conn, self.run_id, status, message=message)  # type: ignore[arg-type]

        if self.conn is not None and self.run_id:
            await asyncio.shield(self.db(record))

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None

            def shut() -> None:
                with self._turn:
                    conn.close()

            await asyncio.to_thread(shut)


class StagingQueue:
    """Batches staged on the job's worker thread one after the other while the caller goes
    on reading and converting the next: SQLite's part of staging runs beside the Python
    part of reading (on another core; SQLite lets go of the GIL while it works)."""

    def __init__(self, job: SyncJob) -> None:
        self.job = job
        self.running: asyncio.Future[Any] | None = None

    async def put(self, work: Callable[[sqlite3.Connection], Any]) -> None:
        await self.drain()  # one batch in flight: its error surfaces here, in order
        self.running = asyncio.ensure_future(self.job.db(work))

    async def drain(self) -> None:
        running, self.running = self.running, None
        if running is not None:
            await running

    async def settle(self) -> None:
        """After an error or a cancel: the batch in flight ends (the connection is the
        job's next step), and its own error, if any, does not hide the first one."""
        running, self.running = self.running, None
        if running is not None:
            await until_done(running)
            if not running.cancelled():
                running.exception()


Syncer = Callable[[SyncJob, Any], Awaitable[SyncOutcome]]


async def sync_account(
    workspace: Path,
    account: Any,
    client: Any,
    *,
    progress: ProgressFn = ignore_progress,
) -> SyncOutcome:
    """Mirror `account` (services.accounts.Account or AccountRef) into the workspace."""
    ref = account_ref(account)
    job = SyncJob(workspace, ref, progress)
    try:
        # Opened whole even when cancelled meanwhile: a half-open job would leave its run
        # "running" for ever and its connection open.
        await to_the_end(job.open())
        outcome = await SYNCERS[ref.vendor](job, client)
    except asyncio.CancelledError:
        await job.abandon("cancelled", "cancelled by the user; nothing was written")
        raise
    except BaseException as error:
        await job.abandon("failed", str(error)[:500])
        raise
    finally:
        await job.close()
    return outcome


def _fingerprints(
    conn: sqlite3.Connection, table: str, key: str, account_id: int, **scope: Any
) -> dict[Any, int]:
    """Every code the account has (not gone; within `scope`: column -> value), with what the
    last sync saw (0: written by another path): a record that hashes the same now is not
    validated, converted or written again, and a code the vendor no longer sends is the one
    to mark gone."""
    where = "".join(f" AND {column} = ?" for column in scope)
    return dict(
        conn.execute(
            f"SELECT {key}, fingerprint FROM {table} WHERE account_id = ? AND gone_run = 0{where}",
            (account_id, *scope.values()),
        ).fetchall()
    )


class Sorted:
    """Records read from a vendor, sorted against what the workspace had (`_fingerprints`):
    the unchanged counted, the changed and the new kept as rows, and what it had that was
    not read (yet) left in `missing`."""

    def __init__(self, known: dict[Any, int]) -> None:
        self.known = known
        self.missing = set(known)
        self.changed: list[tuple[Any, ...]] = []  # rows of codes the workspace has
        self.new: list[tuple[Any, ...]] = []  # rows of codes it does not have
        self.same = 0

    def rows_for(self, key: Any, print_: int) -> list[tuple[Any, ...]] | None:
        """Where the row of a record read goes (its fingerprint last): the changed or the
        new ones; None when it is unchanged. A record read twice counts once."""
        first = key in self.missing
        self.missing.discard(key)
        if key is not None and self.known.get(key) == print_:
            self.same += first
            return None
        return self.changed if key in self.known else self.new

    def sorter(self) -> Callable[[Any, int], list[tuple[Any, ...]] | None]:
        """`rows_for`, to bind once for a loop over many records. When the workspace had none
        of them (a first sync) every record is new: then a cheaper equivalent."""
        if self.known:
            return self.rows_for
        return lambda _key, _print: self.new

    @property
    def count(self) -> int:
        return len(self.changed) + len(self.new) + self.same

    def take(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
        """The changed rows, the new rows and the unchanged count since the last take."""
        taken = self.changed, self.new, self.same
        self.changed, self.new, self.same = [], [], 0
        return taken


def _impact_key(item: Any) -> int | None:
    try:
        return int(item.get("Id"))
    except (TypeError, ValueError, AttributeError):
        return None  # validation will say what is wrong with it


async def _sync_impact(job: SyncJob, client: Any) -> SyncOutcome:
    total = 0  # what impact.com says its first page; 0 until then (progress without a bar)

    def heard_total(announced: int) -> None:
        nonlocal total
        total = announced

    def prepare(conn: sqlite3.Connection) -> tuple[dict[Any, int], Staging]:
        known = _fingerprints(conn, "impact_codes", "promo_code_id", job.account_id)
        return known, Staging(conn, IMPACT_CODES, job.account_id)

    # Codes written after this (created while the list is read) are not in it: read before
    # its first page is asked for, or such a code would be marked gone.
    upto: int = await job.db(lambda conn: top_id(conn, IMPACT_CODES))
    items = client.iter_items(on_total=heard_total)
    staged = StagingQueue(job)
    try:
        # The first page is asked for while the workspace is read (0.1 s of a 100,000-code
        # re-sync).
        async with asked_ahead(anext(items, None)) as first_item:
            prepared: tuple[dict[Any, int], Staging] = await job.db(prepare)
            item = await first_item
        known, staging = prepared

        async def stage(
            rows: list[tuple[Any, ...]], new: list[tuple[Any, ...]], unchanged: int
        ) -> None:
            staging.add_unchanged(unchanged)
            # New codes are held for the write; only changed ones go to SQLite, on the worker
            # (a first sync makes no hop: each cost the loop a GIL hand-over of up to 5 ms).
            pending: list[Sequence[Any]] = [*rows, *staging.hold_new(new)]
            if pending:

                def add(_conn: sqlite3.Connection) -> None:
                    staging.add_kept(pending)

                await staged.put(add)

        read = Sorted(known)
        rows_for = read.sorter()  # (once, not per code)
        count = 0
        while item is not None:  # (not `async for`: the first item is already asked for)
            count += 1
            print_ = fingerprint(item)
            rows = rows_for(_impact_key(item), print_)
            if rows is not None:
                rows.append((*impact_row(client.record(item)), print_))
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            if count % STAGE_BATCH == 0:
                await stage(*read.take())
                job.progress(
                    Progress(count, max(total, count), f"Read {count:,} codes from impact.com")
                )
            item = await anext(items, None)
        await stage(*read.take())
        await staged.drain()
    except BaseException:
        await staged.settle()
        raise
    finally:
        await items.aclose()  # (drops a page asked for ahead)
    job.progress(Progress(count, max(total, count), f"Read {count:,} codes from impact.com"))

    def write(_conn: sqlite3.Connection) -> WriteOutcome:
        staging.add_missing([(key,) for key in read.missing])
        return staging.write(run_id=job.run_id, as_of=job.as_of, gone_scope={}, gone_upto=upto)

    return await job.finish(write, count)


async def _sync_altcraft(job: SyncJob, client: Any) -> SyncOutcome:
    """Every loyalty program the account or the workspace knows, one export each."""

    def programs(conn: sqlite3.Connection) -> list[int]:
        known = {
            int(loyalty_id)
            for (loyalty_id,) in conn.execute(
                "SELECT DISTINCT loyalty_id FROM altcraft_programs WHERE account_id = ?",
                (job.account_id,),
            )
            if str(loyalty_id).isdigit()
        }
        return sorted(known | {int(client.loyalty_id)})

    def prepare(conn: sqlite3.Connection) -> tuple[list[int], dict[int, dict[Any, int]]]:
        loyalty_ids = programs(conn)
        known = {
            i: _fingerprints(conn, "altcraft_codes", "code", job.account_id, loyalty_id=str(i))
            for i in loyalty_ids
        }
        return loyalty_ids, known

    # Codes written after this (created while the exports are asked for) are not in them:
    # read before any is asked for, or such a code would be marked gone.
    upto: int = await job.db(lambda conn: top_id(conn, ALTCRAFT_CODES))
    own = int(client.loyalty_id)
    exported: list[tuple[int, Sorted]] = []
    warnings: list[str] = []
    # The account's own program is asked for while the workspace is read (each takes about
    # 0.1 s in a re-sync of 100,000 codes).
    async with asked_ahead(client.export_items(loyalty_id=own)) as own_export:
        prepared: tuple[list[int], dict[int, dict[Any, int]]] = await job.db(prepare)
        await asyncio.wait([own_export])  # (its answer or its error: read in its turn below)
    loyalty_ids, known_by_program = prepared
    for number, loyalty_id in enumerate(loyalty_ids, start=1):
        job.progress(
            Progress(number - 1, len(loyalty_ids), f"Reading loyalty program {loyalty_id}")
        )
        program = str(loyalty_id)
        read = Sorted(known_by_program[loyalty_id])
        rows_for = read.sorter()  # (once, not per code)
        try:
            if loyalty_id == own:
                items = await own_export
            else:
                items = await client.export_items(loyalty_id=loyalty_id)
        except (NotFoundError, ForbiddenError) as error:
            # One program this token cannot read (a mistyped id in an import, a program
            # deleted in Altcraft) does not stop the others; its codes are left as they are.
            warnings.append(f"loyalty program {loyalty_id} was not read: {error}")
            continue
        for read_so_far, item in enumerate(items, start=1):
            if read_so_far % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            is_record = isinstance(item, dict)
            print_ = fingerprint(item) if is_record else 0
            code = item.get("code") if is_record else None
            # (a record without a code is validated and refused below)
            rows = rows_for(code if isinstance(code, str) else None, print_)
            if rows is not None:
                rows.append((*altcraft_row(client.record(item), program), print_))
        exported.append((loyalty_id, read))
    seen = sum(read.count for _, read in exported)

    def write(conn: sqlite3.Connection) -> WriteOutcome:
        total = WriteOutcome()
        for loyalty_id, read in exported:
            staging = Staging(conn, ALTCRAFT_CODES, job.account_id)
            staging.add_kept(keep_unsent_altcraft(conn, job.account_id, read.changed))
            staging.add_new(read.new)
            staging.add_unchanged(read.same)
            staging.add_missing([(str(loyalty_id), code) for code in read.missing])
            total.add(
                staging.write(
                    run_id=job.run_id,
                    as_of=job.as_of,
                    gone_scope={"loyalty_id": str(loyalty_id)},
                    gone_upto=upto,
                )
            )
        return total

    outcome = await job.finish(write, seen)
    outcome.warnings += warnings
    return outcome


# Asked at once; the client's limiter keeps them within Optimove's 50 requests per 10 s.
OPTIMOVE_IN_FLIGHT = 4


async def _sync_optimove(job: SyncJob, client: Any) -> SyncOutcome:
    """Every promotion and promocode the workspace knows for this account, asked again (the
    API has no list); one Optimove no longer has is marked gone. Plus the legacy promotions
    list when the account has the legacy API."""
    from promodesk.services.operations.base import WriteContext
    from promodesk.services.operations.optimove import (
        write_legacy_promotions,
        write_promocode,
        write_promotion,
    )
    from promodesk.store.writes import OPTIMOVE_PROMOCODES, OPTIMOVE_PROMOTIONS, mark_gone
    from promodesk.vendors.errors import NotFoundError

    def known(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
        def ids(table: str, column: str) -> list[str]:
            return [
                str(value)
                for (value,) in conn.execute(
                    # Gone ones too: one misrouted 404 must not lose a promotion for good.
                    f"SELECT {column} FROM {table} WHERE account_id = ? ORDER BY {column}",
                    (job.account_id,),
                )
            ]

        return ids("optimove_promotions", "promotion_id"), ids(
            "optimove_promocodes", "promocode_id"
        )

    promotion_ids, promocode_ids = await job.db(known)
    total = len(promotion_ids) + len(promocode_ids)
    found: list[tuple[str, Any]] = []
    missing: list[tuple[str, str]] = []
    slots = asyncio.Semaphore(OPTIMOVE_IN_FLIGHT)
    done = 0

    async def fetch(kind: str, identifier: str) -> None:
        nonlocal done
        async with slots:
            try:
                if kind == "promotion":
                    found.append((kind, await client.get_promotion(identifier)))
                else:
                    found.append((kind, await client.get_promocode(identifier)))
            except NotFoundError:
                missing.append((kind, identifier))
            done += 1
            job.progress(Progress(done, total, f"Asked Optimove for {done:,} of {total:,}"))

    await asyncio.gather(
        *(fetch("promotion", i) for i in promotion_ids),
        *(fetch("promocode", i) for i in promocode_ids),
    )
    legacy = None
    if client.legacy_http is not client.http:
        job.progress(Progress(total, total, "Reading the legacy promotions list"))
        legacy = await client.get_promotions()

    def write(conn: sqlite3.Connection) -> WriteOutcome:
        ctx = WriteContext(conn, job.account_id, job.run_id, job.as_of)
        written = WriteOutcome()
        # Promotions first: a promocode's count lands on its promotion.
        for kind, record in sorted(found, key=lambda pair: pair[0] != "promotion"):
            written.add(
                write_promotion(ctx, record)
                if kind == "promotion"
                else write_promocode(ctx, record)
            )
        for kind, identifier in missing:
            table, key = (
                (OPTIMOVE_PROMOTIONS, "promotion_id")
                if kind == "promotion"
                else (OPTIMOVE_PROMOCODES, "promocode_id")
            )
            written.add(
                mark_gone(
                    conn,
                    table,
                    job.account_id,
                    [{key: identifier}],
                    run_id=job.run_id,
                    as_of=job.as_of,
                )
            )
        if legacy is not None:
            written.add(write_legacy_promotions(ctx, legacy, complete=True))
        return written

    return await job.finish(write, len(found) + (len(legacy) if legacy else 0))


SYNCERS: dict[Vendor, Syncer] = {
    Vendor.OPTIMOVE: _sync_optimove,
    Vendor.IMPACT: _sync_impact,
    Vendor.ALTCRAFT: _sync_altcraft,
}
