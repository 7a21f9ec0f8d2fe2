"""The window's side of live vendor work: the accounts, which of them are online, and every
vendor call as a job on the TaskRunner (named, owned by the panel that asked, a newer one
of the same name replacing the older one).

The work itself is the Qt-free core's (services.live.LiveWork: the executor, sync, the bulk
runner); this only starts it, hears how it ended, and tells the panels what changed in the
workspace (`wrote`) so that they refresh those rows in place.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import ProgressFn
from promodesk.domain.vendors import Vendor
from promodesk.qt import QObject, Signal
from promodesk.ui.live.sources import Source, build_sources, default_source
from promodesk.ui.tasks import Job

if TYPE_CHECKING:
    from promodesk.services.live import LiveWork
    from promodesk.services.operations.base import Operation
    from promodesk.services.sync import SyncOutcome
    from promodesk.ui.main_window import MainWindow

log = logging.getLogger("promodesk.ui.live")

OFFLINE_KEY = "live/offline"
_LIVE_CORE = "promodesk.services.live"  # (it imports the rest of the live core)


@dataclass
class WriteNotice:
    """What a finished operation, sync or bulk batch changed in the workspace."""

    vendor: Vendor
    table: str = ""  # the operation's target table ('' for none, or for a sync)
    changed_ids: list[int] = field(default_factory=list)
    added: int = 0
    gone: int = 0
    everything: bool = False  # a sync: any table may have changed

    @property
    def in_place(self) -> bool:
        """Only values of known rows changed: refresh those, keep everything else."""
        return not self.everything and not self.added and not self.gone and bool(self.changed_ids)


@dataclass(frozen=True)
class Refused:
    """An operation the executor would not send: bad inputs (field, problem) or a state
    that forbids it (the reason)."""

    problems: list[tuple[str, str]]
    reason: str = ""


class LiveSession(QObject):
    sources_changed = Signal()  # accounts loaded or changed, or the workspace's sources did
    online_changed = Signal(str)  # an account's key: it went online or offline
    wrote = Signal(object)  # WriteNotice
    went_offline = Signal(object, str)  # (Source, what happened) when the network went away

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.runner = window.runner
        self.settings = window.settings
        self.accounts_loaded: list[Any] | None = None  # services.accounts.Account
        self._offline: set[str] = set(_strings(self.settings.value(OFFLINE_KEY, [])))
        self._live: LiveWork | None = None
        self._importing: Any = None  # the live core's import (ready_work), once
        self.loading: Job | None = None

    # -- accounts and sources -------------------------------------------------------------------

    def load_accounts(self) -> Job:
        """Read the accounts (settings file, keychain) off the GUI thread."""
        if self.loading is not None and not self.loading.done:
            return self.loading

        async def work(_progress: ProgressFn) -> list[Any]:
            entries = await self.window.accounts.entries()
            return [entry.account for entry in entries]

        def loaded(job: Job) -> None:
            if job.result is not None:
                self.accounts_loaded = job.result
                self.sources_changed.emit()

        self.loading = self.runner.start(
            "Loading accounts", work, cancellable=False, background=True, on_done=loaded
        )
        return self.loading

    def workspace_opened(self) -> None:
        """Another workspace: each panel picks its source in it (before its rows are read),
        and the accounts are read once."""
        for panel in self.window.panels.values():
            if panel.live_panel is not None:
                panel.live_panel.source = None
                panel.live_panel.update_sources(apply=False)
        if self.accounts_loaded is None:
            self.load_accounts()

    def sources(self, vendor: Vendor) -> list[Source]:
        session = self.window.session
        workspace = session.info.sources if session is not None else ()
        return build_sources(vendor, self.accounts_loaded, workspace)

    def _choice_key(self, vendor: Vendor) -> str:
        session = self.window.session
        place = str(session.path) if session is not None else ""
        digest = hashlib.sha1(place.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
        return f"live/source/{vendor.value}/{digest}"

    def chosen(self, vendor: Vendor) -> Source:
        """The source a panel shows for the open workspace (the user's last pick)."""
        saved = self.settings.value(self._choice_key(vendor), "", str)
        return default_source(self.sources(vendor), saved)

    def remember(self, source: Source) -> None:
        self.settings.setValue(self._choice_key(source.vendor), source.key)

    # -- online / offline -----------------------------------------------------------------------

    def is_online(self, source: Source) -> bool:
        return not source.imported and source.key not in self._offline

    def set_online(self, source: Source, online: bool) -> None:
        if online == self.is_online(source) or source.imported:
            return
        if online:
            self._offline.discard(source.key)
        else:
            self._offline.add(source.key)
        self.settings.setValue(OFFLINE_KEY, sorted(self._offline))
        self.online_changed.emit(source.key)

    def network_gone(self, source: Source, error: BaseException) -> None:
        """A call never reached the vendor: work offline until the user says otherwise."""
        self.set_online(source, False)
        self.went_offline.emit(source, str(error))

    # -- the work ---------------------------------------------------------------------------------

    def live_work(self) -> LiveWork:
        """LiveWork on the open workspace (made again when another workspace opens)."""
        from promodesk.services.live import LiveWork

        session = self.window.session
        assert session is not None, "no workspace is open"
        if self._live is None or self._live.workspace != session.path:
            self._live = LiveWork(session.path, self.window.accounts)
        return self._live

    async def ready_work(self) -> LiveWork:
        """`live_work()`, its modules imported in a worker thread first: the first sync or
        operation of a session loads the Qt-free live core (the operation tables, the
        vendor clients, httpx: hundreds of ms), which on the GUI thread would freeze the
        window for as long. (Imported elsewhere meanwhile, Python's import lock has the
        other wait.)"""
        import asyncio

        if self._importing is None and _LIVE_CORE not in sys.modules:
            import importlib

            self._importing = asyncio.ensure_future(
                asyncio.to_thread(importlib.import_module, _LIVE_CORE)
            )
        if self._importing is not None:
            # Every caller waits for the one import: one that found the module half-loaded
            # in sys.modules would wait for it on the GUI thread.
            await asyncio.shield(self._importing)
        return self.live_work()

    def run_operation(
        self,
        owner: object,
        source: Source,
        operation: Operation,
        values: dict[str, Any],
        *,
        title: str,
        on_done: Callable[[Job], None],
        check_state: bool = True,
    ) -> Job:
        """One operation as a job. `job.result`: the OperationOutcome, or Refused."""
        account = source.account
        # A newer read of the same thing replaces the older one; changes never replace each
        # other (cancelling one half-way would leave its outcome unknown).
        key = (
            f"{operation.key}:{_target_key(operation, values)}" if operation.kind == "read" else ""
        )

        async def work(_progress: ProgressFn) -> Any:
            live = await self.ready_work()
            from promodesk.services.operations.executor import InputError, NotAllowed

            try:
                outcome = await live.executor.run(
                    account, operation, values, check_state=check_state
                )
            except InputError as error:
                return Refused(error.problems)
            except NotAllowed as error:
                return Refused([], str(error))
            session = self.window.session
            if outcome.run_id is not None and session is not None:
                await session.refresh_info()
                if outcome.written.added:
                    session.start_indexing()  # All codes and the search index take them in
            return outcome

        def done(job: Job) -> None:
            from promodesk.services.live import never_connected

            outcome = job.result
            error = getattr(outcome, "error", None) or job.error
            if never_connected(error):
                assert error is not None
                self.network_gone(source, error)
            if outcome is not None and getattr(outcome, "run_id", None) is not None:
                self.window.workspace_info_changed()
                written = outcome.written
                if written.touched or written.changed_ids:
                    self.wrote.emit(
                        WriteNotice(
                            operation.vendor,
                            operation.target.table if operation.target else "",
                            list(written.changed_ids),
                            written.added,
                            written.gone,
                            everything=operation.target is None,
                        )
                    )
            on_done(job)

        return self.runner.start(title, work, owner=owner, key=key, on_done=done)

    def sync(self, owner: object, source: Source, on_done: Callable[[Job], None]) -> Job:
        """Refresh: read everything the account has into the workspace, with progress."""
        account = source.account

        async def work(progress: ProgressFn) -> SyncOutcome:
            live = await self.ready_work()
            outcome = await live.sync(account, progress=progress)
            session = self.window.session
            if session is not None:
                await session.refresh_info()
                if outcome.written.added:
                    session.start_indexing()  # All codes and the search index take them in
            return outcome

        def done(job: Job) -> None:
            from promodesk.services.live import never_connected

            if never_connected(job.error):
                assert job.error is not None
                self.network_gone(source, job.error)
            if job.result is not None:
                self.window.workspace_info_changed()
                self.wrote.emit(WriteNotice(source.vendor, everything=True))
            on_done(job)

        return self.runner.start(
            f"Refreshing {source.name} ({source.vendor.display_name})",
            work,
            owner=owner,
            key=f"sync:{source.key}",
            on_done=done,
        )


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    return [str(item) for item in value or []]


def _target_key(operation: Operation, values: dict[str, Any]) -> str:
    if operation.target is None:
        return ""
    return "/".join(str(values.get(name, "")) for name in operation.target.fields)
