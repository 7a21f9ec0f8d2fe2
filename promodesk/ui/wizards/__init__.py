"""The wizards: guided creates, code files, allocation exports, and resuming what stopped.

`install_wizards(window)` adds the Create menu and answers the window's `resume_requested`
(the History view emits it for an unfinished wizard or upload). It is called while the
window's frame is built, so this module imports nothing but the menu's own Qt names: each
wizard's module (and the services behind it) loads when a wizard is first opened.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.qt import QAction, QMenu, QObject, Signal

if TYPE_CHECKING:
    import sqlite3

    from promodesk.domain.vendors import Vendor
    from promodesk.services.accounts import Account
    from promodesk.services.operations.executor import Executor
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job, TaskRunner
    from promodesk.ui.wizards.common import WizardBase


# The Qt-free modules behind each wizard, loaded off the GUI thread before it opens.
_SERVICES = ("promodesk.services.live",)
PRELOAD: dict[str, tuple[str, ...]] = {
    "promotion": ("promodesk.services.operations", "promodesk.services.wizard_runs", *_SERVICES),
    "altcraft": ("promodesk.services.codes", "promodesk.services.code_import", *_SERVICES),
    "impact": ("promodesk.services.impact_batch", *_SERVICES),
    "code_files": ("promodesk.services.codes", "promodesk.services.wizard_runs", *_SERVICES),
    "allocations": ("promodesk.services.codes", *_SERVICES),
}


class Wizards(QObject):
    """Opens the wizards for one window and gives them what they share: the runner, the
    open workspace, the accounts, an executor."""

    opened = Signal(object)  # the wizard, once it shows

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        # Tests (and benchmarks) hand in their own clients: (account) -> awaitable client.
        self.clients: Callable[[Any], Any] | None = None
        self.open_wizards: list[WizardBase] = []
        window.closed.connect(self.close_all)

    def close_all(self) -> None:
        """The window is closing: each wizard stops its job and lets go of its files."""
        for wizard in list(self.open_wizards):
            if wizard.job is not None:
                wizard.job.cancel()
            wizard.done(0)

    # -- what the wizards share ----------------------------------------------------------------

    @property
    def runner(self) -> TaskRunner:
        return self.window.runner

    @property
    def workspace(self) -> Path | None:
        session = self.window.session
        return session.path if session is not None else None

    def executor(self) -> Executor:
        from promodesk.services.live import LiveWork
        from promodesk.services.operations.executor import Executor

        workspace = self.workspace
        if workspace is None:
            raise RuntimeError("no workspace is open")
        clients = self.clients or LiveWork(workspace, self.window.accounts).client
        return Executor(workspace, clients)

    def load_accounts(self, vendor: Vendor, done: Callable[[list[Account]], None]) -> Job:
        accounts = self.window.accounts

        async def work(_progress: Any) -> list[Account]:
            return [
                entry.account
                for entry in await accounts.entries()
                if entry.account.vendor is vendor
            ]

        def loaded(job: Job) -> None:
            deliver(done, job.result if job.error is None and not job.cancelled else [])

        return self.runner.start(
            "Reading accounts", work, cancellable=False, background=True, on_done=loaded
        )

    async def find_account(self, vendor: Vendor, account_id: str, name: str = "") -> Account:
        """The settings account a plan was made with (PlanError when it was removed)."""
        from promodesk.services.wizard_runs import PlanError

        for entry in await self.window.accounts.entries():
            if entry.account.vendor is vendor and entry.account.id == account_id:
                return entry.account
        raise PlanError(
            f"this was started with the {vendor.display_name} account {name or account_id}, "
            "which is no longer in promodesk: add it again in File ▸ Accounts, then try again"
        )

    def read(
        self, work: Callable[[sqlite3.Connection], Any], done: Callable[[Any], None]
    ) -> Job | None:
        """`work(conn)` on a read-only connection to the workspace, off the GUI thread."""
        workspace = self.workspace
        if workspace is None:
            done(None)
            return None

        async def job_work(_progress: Any) -> Any:
            import asyncio

            from promodesk.store.db import connect

            def run() -> Any:
                conn = connect(workspace, readonly=True)
                try:
                    return work(conn)
                finally:
                    conn.close()

            return await asyncio.to_thread(run)

        def finished(job: Job) -> None:
            deliver(done, job.result if job.error is None and not job.cancelled else None)

        return self.runner.start(
            "Reading the workspace",
            job_work,
            cancellable=False,
            background=True,
            on_done=finished,
        )

    def settings_value(self, key: str) -> str:
        return str(self.window.settings.value(key, "", str) or "")

    def set_settings_value(self, key: str, value: str) -> None:
        self.window.settings.setValue(key, value)

    def changed_workspace(self) -> None:
        """A wizard changed the workspace: the window shows it."""
        self.window.refresh()

    # -- opening -------------------------------------------------------------------------------

    def _ready(self) -> bool:
        if self.workspace is None:
            self.window.show_message(
                "info", "Open a workspace first: the wizards keep what they do in it."
            )
            return False
        return True

    def _open(self, kind: str, build: Callable[[], WizardBase]) -> None:
        """Build and show a wizard once the Qt-free modules behind it are loaded: they load
        in a worker thread (the operation tables alone take ~80 ms), so opening a wizard
        never holds up the window; the wizard shows a moment later."""
        if not self._ready():
            return
        missing = [name for name in PRELOAD[kind] if name not in sys.modules]

        def show(_job: Job | None = None) -> None:
            if self.workspace is None:  # the window closed meanwhile
                return
            wizard = build()
            self.open_wizards.append(wizard)
            wizard.open()
            self.opened.emit(wizard)

        if not missing:
            show()
            return

        async def load(_progress: Any) -> None:
            import asyncio
            import importlib

            for name in missing:
                await asyncio.to_thread(importlib.import_module, name)

        self.runner.start(
            "Opening the wizard", load, cancellable=False, background=True, on_done=show
        )

    def closed(self, wizard: WizardBase) -> None:
        if wizard in self.open_wizards:
            self.open_wizards.remove(wizard)
        wizard.deleteLater()

    def open_promotion(self, *, run_id: int | None = None) -> None:
        def build() -> WizardBase:
            from promodesk.ui.wizards.promotion import PromotionWizard

            return PromotionWizard(self, run_id=run_id)

        self._open("promotion", build)

    def open_altcraft(self, *, codes_file: Path | None = None) -> None:
        def build() -> WizardBase:
            from promodesk.ui.wizards.altcraft import AltcraftWizard

            return AltcraftWizard(self, codes_file=codes_file)

        self._open("altcraft", build)

    def open_impact(self) -> None:
        def build() -> WizardBase:
            from promodesk.ui.wizards.impact import ImpactWizard

            return ImpactWizard(self)

        self._open("impact", build)

    def open_code_files(
        self,
        *,
        paths: list[Path] | None = None,
        account_id: str | None = None,
        promocode_id: str | None = None,
        run_id: int | None = None,
    ) -> None:
        def build() -> WizardBase:
            from promodesk.ui.wizards.code_files import CodeFileWizard

            return CodeFileWizard(
                self, paths=paths, account_id=account_id, promocode_id=promocode_id, run_id=run_id
            )

        self._open("code_files", build)

    def open_export(self) -> None:
        def build() -> WizardBase:
            from promodesk.ui.wizards.allocations import AllocationExportWizard

            return AllocationExportWizard(self)

        self._open("allocations", build)

    def open_resume_list(self) -> Any:
        if not self._ready():
            return None
        from promodesk.ui.wizards.resume import ResumeDialog

        dialog = ResumeDialog(self)
        dialog.open()
        dialog.reload()
        return dialog

    def resume(self, run_id: int, kind: str) -> None:
        """Reopen an unfinished wizard ("wizard") or code-file upload ("upload")."""
        if kind == "upload":
            self.open_code_files(run_id=run_id)
        elif kind == "wizard":
            self.open_promotion(run_id=run_id)
        else:
            self.window.show_message("info", f"There is nothing to resume for a {kind} run.")


def deliver(done: Callable[[Any], None], value: Any) -> None:
    """Hand a background read to the widget that asked, unless it was closed meanwhile (a
    wizard closed while its accounts were still loading)."""
    try:
        done(value)
    except RuntimeError as error:
        if "already deleted" not in str(error):
            raise


def _help_menu_action(window: MainWindow) -> QAction | None:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == "Help":
            return action
    return None


def install_wizards(window: MainWindow) -> Wizards:
    """The Create menu (before Help) and the answer to `resume_requested`."""
    wizards = Wizards(window)
    menu = QMenu("C&reate", window)
    menu.setObjectName("createMenu")
    entries = (
        (
            "New &promotion with code…",
            wizards.open_promotion,
            "An Optimove promotion and its promocode, global or unique, step by step",
        ),
        (
            "Add codes to an &Altcraft program…",
            wizards.open_altcraft,
            "Typed, pasted, from a file or generated, with what happened to each code",
        ),
        (
            "New &impact.com codes…",
            wizards.open_impact,
            "One code for a partner, or many from a CSV file, checked before anything is sent",
        ),
        (
            "&Check and upload code files…",
            wizards.open_code_files,
            "Check code files against the vendor's rules, fix them, and upload them to Optimove",
        ),
        (
            "&Export allocations…",
            wizards.open_export,
            "Optimove's nine-column allocation CSV, from the workspace or the live account",
        ),
    )
    for text, slot, tip in entries:
        action = QAction(text, window)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda _=False, open_it=slot: open_it())
        menu.addAction(action)
    menu.addSeparator()
    resume = QAction("&Resume unfinished…", window)
    resume.setObjectName("resumeUnfinished")
    resume.setStatusTip("Finish a wizard or an upload that stopped part of the way")
    resume.triggered.connect(lambda _=False: wizards.open_resume_list())
    menu.addAction(resume)
    help_action = _help_menu_action(window)
    if help_action is not None:
        window.menuBar().insertMenu(help_action, menu)
    else:
        window.menuBar().addMenu(menu)
    window.resume_requested.connect(wizards.resume)
    window.create_menu = menu  # type: ignore[attr-defined]
    window.wizards = wizards  # type: ignore[attr-defined]
    return wizards
