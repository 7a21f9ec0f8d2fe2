"""Create ▸ Add codes to an Altcraft program…: codes typed, pasted, loaded from a file (or
dropped) or generated, checked like a code file, then imported with what happened to each
code: added, already in the program, or left out by the program's limit.

The codes are checked with the code-file engine (Altcraft's rules, and every code already in
the workspace); only the codes that pass are sent, through the executor, in chunks, so the
import shows progress and Cancel stops between chunks.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRegularExpression,
    QRegularExpressionValidator,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
)
from promodesk.ui.wizards.common import (
    AccountPicker,
    ProgressBox,
    RowsModel,
    WizardBase,
    WizardPageBase,
    WizardRefusal,
    buttons_row,
    count_words,
    fit_columns,
    local_files,
    offer_from_workspace,
    plain_label,
    table_view,
)
from promodesk.ui.wizards.problems import CheckView

if TYPE_CHECKING:
    from promodesk.codefiles.report import CheckReport
    from promodesk.qt import QDragEnterEvent, QDropEvent
    from promodesk.services.code_import import CodeResult, ImportReport
    from promodesk.ui.tasks import Job
    from promodesk.ui.wizards import Wizards

PROGRAM_PAGE, CODES_PAGE, REVIEW_PAGE, RUN_PAGE = range(4)
# A text box of codes; bigger lists are a job for a code file and `promodesk do import_codes`.
MAX_CODES = 100_000


def read_code_lines(path: Path) -> list[str]:
    """The lines of a code file (UTF-8, else Windows-1252), blank ones left out; blocking."""
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", "replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_CODES:
        raise WizardRefusal(
            f"{Path(path).name} has {len(lines):,} codes; this wizard takes up to {MAX_CODES:,} "
            "at once: split the file"
        )
    return lines


class AltcraftWizard(WizardBase):
    def __init__(self, hub: Wizards, *, codes_file: Path | None = None) -> None:
        super().__init__(hub, "Add codes to an Altcraft program", "altcraftWizard")
        self.folder = Path(tempfile.mkdtemp(prefix="promodesk-altcraft-"))
        self.report: CheckReport | None = None
        self.codes: list[str] = []
        self.program_page = ProgramPage(hub)
        self.codes_page = CodesPage()
        self.review_page = ReviewPage()
        self.run_page = RunPage()
        self.setPage(PROGRAM_PAGE, self.program_page)
        self.setPage(CODES_PAGE, self.codes_page)
        self.setPage(REVIEW_PAGE, self.review_page)
        self.setPage(RUN_PAGE, self.run_page)
        if codes_file is not None:
            self.codes_page.load_file(codes_file)

    def loyalty_id(self) -> int | None:
        text = self.program_page.program.currentText().strip()
        return int(text) if text.isdigit() else None

    def program_text(self) -> str:
        chosen = self.loyalty_id()
        if chosen is not None:
            return f"loyalty program {chosen}"
        account = self.program_page.accounts.account()
        default = account.settings.get("loyalty_id", "") if account else ""
        return f"loyalty program {default} (the account's)"

    def set_report(self, report: CheckReport | None) -> None:
        if self.report is not None and self.report is not report:
            self.review_page.view.show_report(None)
            self.report.close()
        self.report = report

    def done(self, result: int) -> None:
        self.review_page.view.close_model()
        self.set_report(None)
        shutil.rmtree(self.folder, ignore_errors=True)
        super().done(result)


class ProgramPage(WizardPageBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__()
        self.hub = hub
        self.setTitle("The loyalty program")
        self.setSubTitle("Altcraft keeps promo codes in loyalty programs.")
        self.accounts = AccountPicker(hub, Vendor.ALTCRAFT)
        self.accounts.currentIndexChanged.connect(lambda _: self._account_changed())
        self.program = QComboBox()
        self.program.setObjectName("loyaltyProgram")
        self.program.setEditable(True)
        self.program.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.program.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"\d{1,18}"), self.program)
        )
        self.program.editTextChanged.connect(self.changed)
        form = QFormLayout()
        form.addRow("Account:", self.accounts)
        form.addRow("Loyalty program ID:", self.program)
        form.addRow(
            "",
            plain_label(
                "A number; Altcraft shows it under Loyalty ▸ Programs. Empty: the account's "
                "own program.",
                secondary=True,
            ),
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addStretch(1)

    def _account_changed(self) -> None:
        self.changed()
        account = self.accounts.account()
        if account is None:
            return
        default = account.settings.get("loyalty_id", "")
        self.program.lineEdit().setPlaceholderText(
            f"Empty: {default}, the account's program" if default else "e.g. 5"
        )
        offer_from_workspace(
            self.hub,
            self.program,
            "SELECT p.loyalty_id FROM altcraft_programs p JOIN accounts a "
            "ON a.id = p.account_id WHERE a.vendor = 'altcraft' AND a.key = ? "
            "AND p.loyalty_id GLOB '[0-9]*' AND p.loyalty_id NOT GLOB '*[^0-9]*' "
            "ORDER BY CAST(p.loyalty_id AS INTEGER)",
            (account.id,),
        )

    def ready(self) -> bool:
        return self.accounts.account() is not None


class CodesEdit(QPlainTextEdit):
    """One code per line; a file dropped on it is read into it."""

    def __init__(self, page: CodesPage) -> None:
        super().__init__()
        self.page = page
        self.setObjectName("codesText")
        self.setPlaceholderText("One code per line: type them, paste them, or drop a file here.")
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event):
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            return
        super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_files(event)
        if paths:
            event.acceptProposedAction()
            for path in paths:
                self.page.load_file(path)
            return
        super().dropEvent(event)


class CodesPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("The codes")
        self.setSubTitle("Typed, pasted, from a file, or made new by promodesk.")
        self.text = CodesEdit(self)
        self.text.textChanged.connect(self._count)
        self.counted = plain_label(secondary=True, name="codesCount")
        self.problem = plain_label(name="codesProblem")
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        load = QPushButton("Load from a file…")
        load.setObjectName("loadCodes")
        load.clicked.connect(self.choose_file)
        self.show_generator = QPushButton("Generate codes…")
        self.show_generator.setObjectName("showGenerate")
        self.show_generator.clicked.connect(
            lambda: self.generator.setVisible(not self.generator.isVisible())
        )
        self.file_dialog: QFileDialog | None = None

        self.count = QSpinBox()
        self.count.setObjectName("generateCount")
        self.count.setRange(1, MAX_CODES)
        self.count.setGroupSeparatorShown(True)
        self.count.setValue(100)
        self.length = QSpinBox()
        self.length.setObjectName("generateLength")
        self.length.setRange(4, 64)
        self.length.setValue(8)
        self.prefix = QLineEdit()
        self.prefix.setObjectName("generatePrefix")
        self.prefix.setPlaceholderText("Prefix, e.g. LOY-")
        self.generate_button = QPushButton("Generate")
        self.generate_button.setObjectName("generate")
        self.generate_button.clicked.connect(self.generate)
        self.generator = QWidget()
        row = QHBoxLayout(self.generator)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(plain_label("How many:"))
        row.addWidget(self.count)
        row.addWidget(plain_label("Characters:"))
        row.addWidget(self.length)
        row.addWidget(self.prefix, 1)
        row.addWidget(self.generate_button)
        self.generator.hide()
        self.progress = ProgressBox()
        layout = QVBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.counted)
        layout.addLayout(buttons_row(load, self.show_generator))
        layout.addWidget(self.generator)
        layout.addWidget(self.progress)
        layout.addWidget(self.problem)
        self._count()

    def codes(self) -> list[str]:
        return [line for line in self.text.toPlainText().splitlines() if line.strip()]

    def _count(self) -> None:
        count = len(self.codes())
        self.counted.setText(
            f"{count_words(count, 'code')} (one per line; checked on the next page)"
            if count <= MAX_CODES
            else f"{count:,} codes: at most {MAX_CODES:,} at once"
        )
        self.changed()

    def ready(self) -> bool:
        return 0 < len(self.codes()) <= MAX_CODES

    def choose_file(self) -> QFileDialog:
        dialog = QFileDialog(self, "Load codes from a file", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Code files (*.csv *.txt)", "All files (*)"])
        dialog.fileSelected.connect(lambda name: self.load_file(Path(name)))
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def _add_lines(self, lines: list[str]) -> None:
        existing = self.text.toPlainText()
        joined = "\n".join(lines)
        self.text.setPlainText(f"{existing.rstrip()}\n{joined}" if existing.strip() else joined)

    def load_file(self, path: Path) -> Job:
        import asyncio

        wizard = self.wizard_base()

        async def work(_progress: Any) -> list[str]:
            return await asyncio.to_thread(read_code_lines, path)

        def loaded(job: Job) -> None:
            if job.error is not None:
                self.problem.setText(f"Could not read {Path(path).name}: {job.error}")
                self.problem.show()
            elif not job.cancelled:
                self.problem.hide()
                self._add_lines(job.result)

        return wizard.start(f"Reading {Path(path).name}", work, loaded, progress=self.progress)

    def generate(self) -> Job | None:
        from promodesk.codefiles.generator import CodeSpec
        from promodesk.services.codes import generate_code_file_async

        wizard = self.wizard_base()
        spec = CodeSpec(self.count.value(), self.length.value(), self.prefix.text().strip())
        problems = spec.problems()
        if problems:
            self.problem.setText("; ".join(problems).capitalize())
            self.problem.show()
            return None
        assert isinstance(wizard, AltcraftWizard)
        target = wizard.folder / "generated.csv"
        workspace = wizard.hub.workspace

        async def work(progress: Any) -> list[str]:
            import asyncio

            made = await generate_code_file_async(
                spec, target, workspace=workspace, progress=progress
            )
            lines: list[str] = []
            for path, _count in made.files:
                lines.extend(await asyncio.to_thread(read_code_lines, path))
            return lines

        def made(job: Job) -> None:
            if job.error is not None:
                self.problem.setText(f"Could not generate the codes: {job.error}")
                self.problem.show()
            elif not job.cancelled:
                self.problem.hide()
                self._add_lines(job.result)
                self.generator.hide()

        return wizard.start("Generating codes", work, made, progress=self.progress)


class ReviewPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Check")
        self.setSubTitle("Only the codes that pass are sent. Nothing is sent until you press Add.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Add codes")
        self.summary = plain_label(name="altcraftReview")
        self.progress = ProgressBox()
        self.view = CheckView()
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.view, 1)

    def wizard_(self) -> AltcraftWizard:
        wizard = self.wizard()
        assert isinstance(wizard, AltcraftWizard)
        return wizard

    def initializePage(self) -> None:
        from promodesk.services.codes import check_code_files_async, write_fixes_async

        wizard = self.wizard_()
        wizard.set_report(None)
        wizard.codes = []
        self.summary.setText("")
        lines = wizard.codes_page.codes()
        folder = wizard.folder
        workspace = wizard.hub.workspace

        async def work(progress: Any) -> tuple[Any, list[str]]:
            import asyncio

            source = folder / "codes.txt"
            await asyncio.to_thread(source.write_text, "\n".join(lines) + "\n", "utf-8")
            report = await check_code_files_async(
                [source], Vendor.ALTCRAFT, workspace=workspace, progress=progress
            )
            if report.clean:
                return report, [line.strip() for line in lines]
            fixed = folder / "fixed.txt"
            await write_fixes_async(report, fixed=fixed, progress=progress)
            kept = await asyncio.to_thread(read_code_lines, fixed) if fixed.exists() else []
            return report, kept

        wizard.start("Checking the codes", work, self._checked, progress=self.progress)

    def cleanupPage(self) -> None:
        wizard = self.wizard_()
        if wizard.job is not None:
            wizard.job.cancel()

    def _checked(self, job: Job) -> None:
        wizard = self.wizard_()
        if job.cancelled or job.error is not None:
            self.progress.finish(
                "Stopped." if job.cancelled else f"Could not check the codes: {job.error}"
            )
            return
        report, kept = job.result
        wizard.set_report(report)
        wizard.codes = kept
        self.view.show_report(report, names=["Your list"])
        self.view.files.hide()
        verdict = report.files[0]
        left_out = verdict.codes - len(kept)
        self.progress.finish("Checked")
        text = f"{count_words(len(kept), 'code')} will be added to {wizard.program_text()}."
        if left_out > 0:
            text += f" {count_words(left_out, 'line')} are left out: see why below."
        self.summary.setText(text)

    def ready(self) -> bool:
        return bool(self.wizard_().codes)


class RunPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Adding the codes")
        self.setSubTitle("What Altcraft did with each code.")
        self.setFinalPage(True)
        self.model = RowsModel(("Code", "Result", "Details"))
        self.view = table_view(self.model, "codeResults", stretch=2)
        self.progress = ProgressBox()
        self.summary = plain_label(name="altcraftSummary")
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        self.report: ImportReport | None = None

    def wizard_(self) -> AltcraftWizard:
        wizard = self.wizard()
        assert isinstance(wizard, AltcraftWizard)
        return wizard

    def initializePage(self) -> None:
        from promodesk.services.code_import import import_codes

        wizard = self.wizard_()
        account = wizard.program_page.accounts.account()
        assert account is not None
        codes = list(wizard.codes)
        loyalty_id = wizard.loyalty_id()
        executor = wizard.hub.executor()
        self.model.set_rows([])

        def heard(results: list[CodeResult]) -> None:
            self.model.append([(item.code, item.words, item.detail) for item in results])

        async def work(progress: Any) -> ImportReport:
            return await import_codes(
                executor,
                account,
                codes,
                loyalty_id=loyalty_id,
                progress=progress,
                on_results=heard,
            )

        wizard.start(
            f"Adding {count_words(len(codes), 'code')} to Altcraft",
            work,
            self._ended,
            progress=self.progress,
        )

    def _ended(self, job: Job) -> None:
        wizard = self.wizard_()
        fit_columns(self.view)
        if job.cancelled:
            self.progress.finish("Stopped")
            sent = self.model.rowCount()
            self.summary.setText(
                f"Stopped after {count_words(sent, 'code')}; the rest were not sent. What was "
                "added stays in the program."
            )
        elif job.error is not None:
            self.progress.finish("Stopped")
            self.summary.setText(f"Could not add the codes: {job.error}")
        else:
            report: ImportReport = job.result
            self.report = report
            self.setTitle("Codes added" if not report.stopped else "Stopped")
            self.progress.finish("Done")
            text = report.text().capitalize() + "."
            if report.stopped:
                text += f" Stopped early: {report.stopped}"
            self.summary.setText(text)
        wizard.hub.changed_workspace()

    def ready(self) -> bool:
        return True
