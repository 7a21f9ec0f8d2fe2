"""One runner at a time for a run that sends things (a bulk run, a wizard's or an upload's
plan): two windows, or a window and a command, resuming the same run would send every item
or part twice.

`hold_run` claims the run in one statement (`store.runs.claim_run`), says every
HEARTBEAT_SECONDS that it is still going on, and lets it go when the runner ends. A second
claimant is refused with `RunBusy`; a run not heard of for a minute (its process was killed)
is taken over, and the runner that fell silent starts nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from promodesk.services.operations.executor import Executor, NotAllowed
from promodesk.store.db import transaction
from promodesk.store.runs import (
    HEARTBEAT_SECONDS,
    RunStatus,
    beat_run,
    claim_run,
    going_on,
    release_run,
)

log = logging.getLogger("promodesk.runs")


class RunBusy(NotAllowed):
    """The run is going on in another window or command (nothing was sent)."""


@dataclass
class Claim:
    """A runner's hold on a run (`store.runs.claim_run`)."""

    run_id: int
    claimant: str
    lost: bool = False  # it fell silent and another runner took the run over

    async def release(self, executor: Executor, status: RunStatus, message: str = "") -> None:
        """The run ends with `status`, unless another runner has taken it over."""

        def write(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                release_run(conn, self.run_id, self.claimant, status, message=message)

        await executor.in_workspace(write)


def refuse_if_going_on(conn: sqlite3.Connection, run_id: int, what: str) -> None:
    """For a change to a run's plan (its steps left undone, their inputs corrected), inside
    the change's transaction: not while a runner has the run (it works from the plan it read
    and would overwrite the change, or send what was corrected without the correction)."""
    if going_on(conn, run_id):
        raise RunBusy(
            f"{what} is going on now, in this window or another one or in a command; it can "
            "be changed once it stops (or a minute after promodesk was closed or stopped)"
        )


@asynccontextmanager
async def hold_run(
    executor: Executor,
    run_id: int,
    what: str,
    *,
    also: Callable[[sqlite3.Connection], Any] | None = None,
) -> AsyncIterator[Claim]:
    """The run is this runner's while the block runs (`what` names it in the refusal, e.g.
    "bulk run 12"). `also(conn)` runs in the claim's transaction, only when the claim holds
    (e.g. failed items put back in line, not while another runner has them). When the block
    raises or is cancelled, the run is marked cancelled; the block marks its own end with
    `Claim.release`."""
    claim = Claim(run_id, secrets.token_hex(8))

    def claiming(conn: sqlite3.Connection) -> datetime | None:
        with transaction(conn):
            heard = claim_run(conn, run_id, claim.claimant)
            if heard is None and also is not None:
                also(conn)
            return heard

    heard = await executor.in_workspace(claiming)
    if heard is not None:
        ago = max(0, round((datetime.now(UTC) - heard).total_seconds()))
        raise RunBusy(
            f"{what} is already going on, in this window or another one or in a command "
            f"(heard from {ago} s ago). Nothing was sent. If promodesk was closed or stopped "
            "while it ran, try again in a minute."
        )
    heart = asyncio.ensure_future(_keep(executor, claim))
    try:
        yield claim
    except BaseException as error:
        # A cancel (or Ctrl+C) ends it cancelled; anything else failed, with what it was.
        status: RunStatus = "failed" if isinstance(error, Exception) else "cancelled"
        message = str(error)[:500] if isinstance(error, Exception) else ""
        try:
            await asyncio.shield(claim.release(executor, status, message))
        except Exception:  # (the first error is the one to tell)
            log.exception("run %s: could not mark it stopped", run_id)
        raise
    finally:
        heart.cancel()
        await asyncio.gather(heart, return_exceptions=True)


async def _keep(executor: Executor, claim: Claim) -> None:
    """Says every HEARTBEAT_SECONDS that the run is going on, until it is not this runner's."""

    def write(conn: sqlite3.Connection) -> bool:
        with transaction(conn):
            return beat_run(conn, claim.run_id, claim.claimant)

    while not claim.lost:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            claim.lost = not await executor.in_workspace(write)
        except (sqlite3.Error, OSError) as error:  # the next beat may get through
            log.warning("run %s: could not say it is going on: %s", claim.run_id, error)
    # Silent too long (the machine slept, say), it was taken over: what is not started yet
    # is left to the new runner.
    log.warning("run %s was taken over by another runner", claim.run_id)
