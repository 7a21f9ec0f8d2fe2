"""From "these files were dropped" to the import job, with the questions a file cannot answer.

One job per import, started at once (so it shows in the status bar with Cancel), which:
- waits for a workspace that is still opening instead of refusing ("wait until it opened"),
  and starts the user's own workspace when none is open;
- in the Demo, asks first whether the files belong in the user's own workspace (the Demo
  stays the sample it is);
- asks for the loyalty program of an Altcraft export that does not say which it is from;
- imports, and reports in the message bar what landed, what was refused and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from promodesk.domain.jobs import ProgressFn
from promodesk.qt import QDialog, QMessageBox, QObject, Qt
from promodesk.ui.models.formatting import plural
from promodesk.ui.tasks import Job, dialog_finished

if TYPE_CHECKING:
    import sqlite3

    from promodesk.services.workspace_session import ImportOutcome, WorkspaceSession
    from promodesk.store.importers.base import ImportHints
    from promodesk.ui.main_window import MainWindow

ImportGroup = tuple[list[Path], "ImportHints | None"]


class ImportFlow(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.demo_confirmed = False  # "Import into the Demo" was chosen in this session
        self.question: QDialog | QMessageBox | None = None  # the one on screen (tests)

    def start(self, paths: Sequence[Path]) -> Job | None:
        paths = [Path(path) for path in paths]
        if not paths:
            return None
        window = self.window
        window.settings.setValue("files/last_folder", str(paths[0].parent))
        for path in paths:
            window.remember_recent(path)
        title = f"Importing {paths[0].name}" if len(paths) == 1 else f"Importing {len(paths)} files"
        kept: list[ImportOutcome] = []  # imports that finished before a Cancel

        async def work(progress: ProgressFn) -> ImportOutcome | None:
            session = await self._target_session()
            if session is None:
                return None
            groups, left_out = await self._groups(session, paths)
            try:
                for files, hints in groups:
                    kept.append(await session.import_files(files, progress=progress, hints=hints))
            except asyncio.CancelledError:
                if kept:  # an earlier group landed: say so instead of "nothing was kept"
                    self.window.show_message(
                        "warning",
                        "Import cancelled after "
                        + ", ".join(line.split(":")[0] for o in kept for line in o.summaries)
                        + " had been imported; the rest was not.",
                    )
                raise
            from promodesk.services.workspace_session import ImportOutcome

            outcome = ImportOutcome.combined(kept)
            return ImportOutcome(
                outcome.summaries,
                outcome.warnings
                + [f"{path.name}: left out (no loyalty program was given)" for path in left_out],
                outcome.errors,
                outcome.rows_added,
                outcome.vendors,
            )

        return window.runner.start(title, work, on_done=lambda job: self._imported(job, bool(kept)))

    # -- where the files go ----------------------------------------------------------------------

    async def _target_session(self) -> WorkspaceSession | None:
        from promodesk.services.demo import DEMO_LABEL

        window = self.window
        if window.session is None and window.opening is not None:
            await window.opening.as_future()
        if window.session is None:  # nothing open (a missing file, a failed open): the user's own
            job = window.workspaces.open_user_workspace()
            await job.as_future()
            return window.session
        if window.session.info.label != DEMO_LABEL or self.demo_confirmed:
            return window.session
        choice = await self._ask_about_demo()
        if choice == "demo":
            self.demo_confirmed = True
            return window.session
        if choice == "mine":
            job = window.workspaces.open_user_workspace()
            await job.as_future()
            if job.error is None and not job.cancelled:
                return window.session
        return None

    async def _ask_about_demo(self) -> str:
        from promodesk.services.paths import default_workspace

        mine = default_workspace()
        box = QMessageBox(self.window)
        box.setObjectName("demoImportQuestion")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Import into the Demo?")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText("This is the Demo workspace, built from sample exports.")
        box.setInformativeText(
            "Your own exports are better kept in your own workspace, apart from the samples: "
            f"“{mine.stem}”{' (it exists already)' if mine.exists() else ''}. promodesk opens "
            "it next time, and the command line (promodesk import) uses the same one."
        )
        own = box.addButton(f"Import into {mine.stem}", QMessageBox.ButtonRole.AcceptRole)
        own.setObjectName("importIntoMine")
        demo = box.addButton("Import into the Demo", QMessageBox.ButtonRole.ActionRole)
        demo.setObjectName("importIntoDemo")
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(own)
        self.question = box
        box.open()
        await dialog_finished(box)
        self.question = None
        clicked = box.clickedButton()
        box.deleteLater()
        return "mine" if clicked is own else "demo" if clicked is demo else "cancel"

    # -- the questions files cannot answer -------------------------------------------------------

    async def _groups(
        self, session: WorkspaceSession, paths: list[Path]
    ) -> tuple[list[ImportGroup], list[Path]]:
        """The files in imports of their own hints: the Altcraft exports that needed a loyalty
        program (one import per program), the rest together."""
        from promodesk.services.import_questions import files_without_program
        from promodesk.services.jobs import run_blocking
        from promodesk.store.importers.base import ImportHints
        from promodesk.ui.dialogs.loyalty_program import LoyaltyProgramDialog

        unknown = await run_blocking(
            lambda _token, _progress: files_without_program(paths, open_workspace=session.path)
        )
        answers: dict[str, list[Path]] = {}
        left_out: list[Path] = []
        known = await self._known_programs(session) if unknown else []
        for path in unknown:
            dialog = LoyaltyProgramDialog(path, known, self.window)
            self.question = dialog
            dialog.open()
            result = await dialog_finished(dialog)
            self.question = None
            if result == QDialog.DialogCode.Accepted.value and dialog.program_id():
                answers.setdefault(dialog.program_id(), []).append(path)
                if dialog.program_id() not in known:
                    known.append(dialog.program_id())
            else:
                left_out.append(path)
            dialog.deleteLater()
        rest = [path for path in paths if path not in unknown]
        groups: list[ImportGroup] = [(rest, None)] if rest else []
        groups += [(files, ImportHints(loyalty_id=program)) for program, files in answers.items()]
        return groups, left_out

    async def _known_programs(self, session: WorkspaceSession) -> list[str]:
        def read(conn: sqlite3.Connection) -> list[str]:
            return [
                str(loyalty)
                for (loyalty,) in conn.execute(
                    "SELECT DISTINCT loyalty_id FROM altcraft_programs ORDER BY loyalty_id"
                )
                if str(loyalty).isdigit()
            ]

        try:
            return await asyncio.wrap_future(session.reader.submit(read))
        except RuntimeError:  # the workspace is closing
            return []

    # -- telling the user ------------------------------------------------------------------------

    def _imported(self, job: Job, partly_kept: bool) -> None:
        window = self.window
        if job.cancelled:
            if not partly_kept:
                window.show_message(
                    "warning",
                    "Import cancelled. Nothing from it was kept; the workspace is as it was.",
                )
            else:
                window.refresh()
            return
        if job.error is not None:
            window.show_message("error", f"Import failed: {job.error}")
            return
        outcome: ImportOutcome | None = job.result
        if outcome is None:
            window.show_message("info", "Nothing was imported.")
            return
        if outcome.imported_any:
            window.refresh()
            _bring_forward(window, outcome)
        details = "\n".join(outcome.summaries + outcome.warnings + outcome.errors)
        if outcome.errors and not outcome.imported_any:
            text = (
                _sentence(outcome.errors[0])
                if len(outcome.errors) == 1
                else f"None of the {len(outcome.errors)} files could be imported."
            )
            text += " The workspace was not changed."
            window.show_message(
                "error", text, details if len(outcome.errors) > 1 or outcome.warnings else ""
            )
        elif outcome.errors:
            window.show_message(
                "warning",
                f"Imported {plural(len(outcome.summaries), 'file')}; "
                f"{plural(len(outcome.errors), 'file')} could not be imported and "
                f"{'was' if len(outcome.errors) == 1 else 'were'} left out (see Details).",
                details,
            )
        elif not outcome.imported_any:
            window.show_message("info", "Nothing was imported.", details)
        else:
            text = (
                _sentence(outcome.summaries[0])
                if len(outcome.summaries) == 1
                else (
                    f"Imported {len(outcome.summaries)} files: {outcome.rows_added:,} new or "
                    f"updated rows."
                )
            )
            window.show_message(
                "warning" if outcome.warnings else "info",
                text,
                "\n".join(outcome.summaries + outcome.warnings)
                if (outcome.warnings or len(outcome.summaries) > 1)
                else "",
            )
        window.imported.emit(outcome)


def _bring_forward(window: MainWindow, outcome: ImportOutcome) -> None:
    """Files of one vendor imported while another vendor's tab is on screen: that vendor's
    tab comes forward, where the new rows are (All codes shows every vendor: it stays)."""
    vendors = set(outcome.vendors)
    current = window.current_vendor()
    if len(vendors) == 1 and current is not None and current not in vendors:
        window.show_vendor(vendors.pop())


def _sentence(text: str) -> str:
    """An importer's message as a sentence, so that what the window adds after it reads right
    (a parser's message cut before its position used to end in "… starting at")."""
    text = text.strip().rstrip(":")
    text = text.removesuffix(" at")
    return text if text.endswith((".", "!", "?")) else text + "."
