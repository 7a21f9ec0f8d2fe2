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
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promodesk.domain.jobs import Progress, ProgressFn, ignore_progress
from promodesk.domain.values import now_utc_text
from promodesk.domain.vendors import Vendor
from promodesk.services.operations.executor import AccountRef, account_ref, workspace_account
from promodesk.store.db import connect, retry_busy, transaction
from promodesk.store.records import altcraft_row, impact_row
from promodesk.store.runs import finish_run, start_run
from promodesk.store.writes import ALTCRAFT_CODES, IMPACT_CODES, Staging, WriteOutcome

# Rows handed to the staging table at a time (one thread hop each).
STAGE_BATCH = 2_000


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
        return f"{self.account} ({self.vendor.display_name}): {', '.join(parts)}"


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

    async def db(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        assert self.conn is not None
        conn = self.conn
        return await asyncio.to_thread(lambda: retry_busy(lambda: work(conn)))

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

        written: WriteOutcome = await self.db(commit)
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
                finish_run(conn, self.run_id, status, message=message)  # type: ignore[arg-type]

        if self.conn is not None and self.run_id:
            await asyncio.shield(self.db(record))

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            await asyncio.to_thread(conn.close)


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
    await job.open()
    try:
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


async def _sync_impact(job: SyncJob, client: Any) -> SyncOutcome:
    staging: Staging = await job.db(lambda conn: Staging(conn, IMPACT_CODES, job.account_id))

    async def stage(rows: list[tuple[Any, ...]]) -> None:
        await job.db(lambda _conn: staging.add(rows))

    batch: list[tuple[Any, ...]] = []
    seen = 0
    async for record in client.iter_codes():
        batch.append(impact_row(record))
        seen += 1
        if len(batch) >= STAGE_BATCH:
            await stage(batch)
            batch = []
            job.progress(Progress(seen, 0, f"Read {seen:,} codes from impact.com"))
    if batch:
        await stage(batch)
    return await job.finish(
        lambda _conn: staging.write(run_id=job.run_id, as_of=job.as_of, gone_scope={}), seen
    )


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

    exported: list[tuple[int, list[tuple[Any, ...]]]] = []
    seen = 0
    for number, loyalty_id in enumerate(await job.db(programs), start=1):
        job.progress(Progress(number - 1, 0, f"Reading loyalty program {loyalty_id}"))
        records = await client.export_all(loyalty_id=loyalty_id)
        exported.append((loyalty_id, [altcraft_row(record, str(loyalty_id)) for record in records]))
        seen += len(records)

    def write(conn: sqlite3.Connection) -> WriteOutcome:
        total = WriteOutcome()
        for loyalty_id, rows in exported:
            staging = Staging(conn, ALTCRAFT_CODES, job.account_id)
            staging.add(rows)
            total.add(
                staging.write(
                    run_id=job.run_id, as_of=job.as_of, gone_scope={"loyalty_id": str(loyalty_id)}
                )
            )
        return total

    return await job.finish(write, seen)


SYNCERS: dict[Vendor, Syncer] = {
    Vendor.IMPACT: _sync_impact,
    Vendor.ALTCRAFT: _sync_altcraft,
}
