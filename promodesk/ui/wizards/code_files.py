"""Create ▸ Check and upload code files…: choose (or drop) files, or generate codes; check them
against the vendor's rules and the workspace; write a fixed file and a rejects file (split at
the vendor's cap); upload the parts to an Optimove promocode with progress and Cancel.

The upload is planned before anything is sent: a run of kind "upload" in the workspace, one
journal item per part (services/wizard_runs.py). An upload that stopped (a failure, a Cancel,
a closed app) resumes from Create ▸ Resume unfinished… or the History view: parts already
uploaded are skipped, and a part whose outcome was not known is looked for among the
promocode's files before it is sent again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.codefiles.generator import MAX_COUNT, CodeSpec, alphabet_named
from promodesk.codefiles.rules import rules_for
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWizard,
)
from promodesk.ui.wizards.common import (
    AccountPicker,
    FileList,
    PathField,
    ProgressBox,
    StepList,
    WizardBase,
    WizardPageBase,
    buttons_row,
    count_words,
    default_sibling,
    local_files,
    offer_from_workspace,
    plain_label,
)
from promodesk.ui.wizards.problems import CheckView

if TYPE_CHECKING:
    from promodesk.codefiles.report import CheckReport
    from promodesk.qt import QDragEnterEvent, QDropEvent
    from promodesk.services.wizard_runs import Plan
    from promodesk.ui.tasks import Job
    from promodesk.ui.wizards import Wizards

SOURCE_PAGE, CHECK_PAGE, FIX_PAGE, UPLOAD_PAGE, UPLOAD_RUN_PAGE, DONE_PAGE = range(6)
VENDOR_CHOICES = (
    (Vendor.OPTIMOVE, "Optimove: unique-code files (one code per line, no header, at most 10 MB)"),
    (Vendor.ALTCRAFT, "Altcraft: codes for a loyalty program"),
    (Vendor.IMPACT, "impact.com: codes for partners"),
)
ALPHABETS = (
    ("Letters and digits without look-alikes (no 0/O, 1/I/L)", "safe"),
    ("Capital letters and digits", "upper-digits"),
    ("Capital letters only", "upper"),
    ("Digits only", "digits"),
    ("Hexadecimal (0-9, A-F)", "hex"),
)


class CodeFileWizard(WizardBase):
    def __init__(
        self,
        hub: Wizards,
        *,
        paths: list[Path] | None = None,
        account_id: str | None = None,
        promocode_id: str | None = None,
        run_id: int | None = None,
    ) -> None:
        super().__init__(hub, "Check and upload code files", "codeFileWizard")
        self.account_id = account_id
        self.promocode_id = promocode_id
        self.run_id = run_id
        self.report: CheckReport | None = None
        self.parts: list[tuple[Path, int]] = []
        self.rejects: Path | None = None
        self.plan: Plan | None = None
        self.source_page = SourcePage()
        self.check_page = CheckPage()
        self.fix_page = FixPage()
        self.upload_page = UploadPage(hub)
        self.upload_run_page = UploadRunPage()
        self.done_page = DonePage()
        for number, page in (
            (SOURCE_PAGE, self.source_page),
            (CHECK_PAGE, self.check_page),
            (FIX_PAGE, self.fix_page),
            (UPLOAD_PAGE, self.upload_page),
            (UPLOAD_RUN_PAGE, self.upload_run_page),
            (DONE_PAGE, self.done_page),
        ):
            self.setPage(number, page)
        if paths:
            self.source_page.files.add(paths)
        if promocode_id is not None:
            self.source_page.vendor.setEnabled(False)  # it is for an Optimove promocode
        if run_id is not None:
            self.setStartId(UPLOAD_RUN_PAGE)

    def vendor(self) -> Vendor:
        return Vendor(self.source_page.vendor.currentData())

    def set_report(self, report: CheckReport | None) -> None:
        if self.report is not None and self.report is not report:
            self.check_page.view.show_report(None)
            self.report.close()
        self.report = report
        self.parts = []

    def done(self, result: int) -> None:
        self.check_page.view.close_model()
        if self.report is not None:
            self.report.close()
            self.report = None
        super().done(result)


class SourcePage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Code files")
        self.setSubTitle(
            "Choose or drop the files to check, or let promodesk make new codes. Nothing is "
            "changed in your files: fixes go to a new file."
        )
        self.setAcceptDrops(True)
        self.vendor = QComboBox()
        self.vendor.setObjectName("rulesOf")
        for vendor, text in VENDOR_CHOICES:
            self.vendor.addItem(text, vendor.value)  # plain text: no Python object in Qt
        self.have = QRadioButton("Code files I have")
        self.have.setObjectName("haveFiles")
        self.generate = QRadioButton("Generate new codes")
        self.generate.setObjectName("generateCodes")
        group = QButtonGroup(self)
        group.addButton(self.have)
        group.addButton(self.generate)
        self.have.setChecked(True)

        self.files = FileList()
        self.files.files_changed.connect(self.changed)
        add = QPushButton("Add files…")
        add.setObjectName("addFiles")
        add.clicked.connect(self.choose_files)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.files.remove_selected)
        self.file_dialog: QFileDialog | None = None
        self.files_box = QGroupBox("Files")
        files_layout = QVBoxLayout(self.files_box)
        files_layout.addWidget(self.files, 1)
        files_layout.addLayout(buttons_row(add, remove))
        files_layout.addWidget(plain_label("You can also drop files here.", secondary=True))

        self.count = QSpinBox()
        self.count.setObjectName("generateCount")
        self.count.setRange(1, MAX_COUNT)
        self.count.setGroupSeparatorShown(True)
        self.count.setValue(1000)
        self.length = QSpinBox()
        self.length.setObjectName("generateLength")
        self.length.setRange(4, 64)
        self.length.setValue(8)
        self.prefix = QLineEdit()
        self.prefix.setObjectName("generatePrefix")
        self.prefix.setPlaceholderText("e.g. WIN-")
        self.suffix = QLineEdit()
        self.suffix.setObjectName("generateSuffix")
        self.alphabet = QComboBox()
        self.alphabet.setObjectName("generateAlphabet")
        for text, name in ALPHABETS:
            self.alphabet.addItem(text, name)
        self.target = PathField(save=True, name="generateTarget")
        self.target.set_path(Path.home() / "new-codes.csv")
        self.spec_problem = plain_label(name="specProblem")
        self.spec_problem.setStyleSheet("color: #b00020;")
        self.generate_box = QGroupBox("New codes")
        form = QFormLayout(self.generate_box)
        form.addRow("How many:", self.count)
        form.addRow("Characters:", self.length)
        form.addRow("Prefix:", self.prefix)
        form.addRow("Suffix:", self.suffix)
        form.addRow("Made of:", self.alphabet)
        form.addRow("Save as:", self.target)
        form.addRow(
            "",
            plain_label(
                "Random, never the same twice, and checked against every code in this "
                "workspace, at every vendor.",
                secondary=True,
            ),
        )
        form.addRow("", self.spec_problem)
        for signal in (
            self.count.valueChanged,
            self.length.valueChanged,
            self.prefix.textChanged,
            self.suffix.textChanged,
            self.alphabet.currentIndexChanged,
            self.target.changed,
        ):
            signal.connect(self.changed)
        self.have.toggled.connect(self._mode_changed)

        layout = QVBoxLayout(self)
        vendor_row = QHBoxLayout()
        vendor_row.addWidget(plain_label("Check against the rules of:"))
        vendor_row.addWidget(self.vendor, 1)
        layout.addLayout(vendor_row)
        layout.addWidget(self.have)
        layout.addWidget(self.generate)
        layout.addWidget(self.files_box, 1)
        layout.addWidget(self.generate_box)
        self._mode_changed()

    def _mode_changed(self) -> None:
        self.files_box.setVisible(self.have.isChecked())
        self.generate_box.setVisible(self.generate.isChecked())
        self.changed()

    def spec(self) -> CodeSpec:
        return CodeSpec(
            self.count.value(),
            self.length.value(),
            self.prefix.text().strip(),
            self.suffix.text().strip(),
            alphabet_named(self.alphabet.currentData()),
        )

    def changed(self) -> None:
        if self.generate.isChecked():
            problems = self.spec().problems()
            self.spec_problem.setText("; ".join(problems).capitalize())
            self.spec_problem.setVisible(bool(problems))
        super().changed()

    def ready(self) -> bool:
        if self.have.isChecked():
            return self.files.count() > 0
        return not self.spec().problems() and self.target.path() is not None

    def choose_files(self) -> QFileDialog:
        dialog = QFileDialog(self, "Choose code files", str(Path.home()))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(["Code files (*.csv *.txt)", "All files (*)"])
        dialog.filesSelected.connect(lambda names: self.files.add([Path(n) for n in names]))
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_files(event)
        if paths:
            event.acceptProposedAction()
            self.have.setChecked(True)
            self.files.add(paths)


class CheckPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Check")
        self.setSubTitle("Every problem, with its line. Nothing is sent anywhere yet.")
        self.view = CheckView()
        self.view.encoding_chosen.connect(lambda codec: self.check(codec))
        self.progress = ProgressBox()
        self.again = QPushButton("Check again")
        self.again.setObjectName("checkAgain")
        self.again.clicked.connect(lambda: self.check(self.view.encoding.currentData()))
        self.again.hide()
        self.generated_note = plain_label(name="generatedNote")
        self.generated_note.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.generated_note)
        layout.addWidget(self.progress)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons_row(self.again))
        self.generated: list[tuple[Path, int]] = []

    def wizard_(self) -> CodeFileWizard:
        wizard = self.wizard()
        assert isinstance(wizard, CodeFileWizard)
        return wizard

    def initializePage(self) -> None:
        self.generated = []
        self.generated_note.hide()
        self.view.encoding.setCurrentIndex(0)
        self.check(None)

    def cleanupPage(self) -> None:
        wizard = self.wizard_()
        if wizard.job is not None:
            wizard.job.cancel()
        wizard.set_report(None)

    def check(self, encoding: str | None) -> Job:
        from promodesk.services.codes import check_code_files_async, generate_code_file_async

        wizard = self.wizard_()
        wizard.set_report(None)
        source = wizard.source_page
        vendor = wizard.vendor()
        workspace = wizard.hub.workspace
        generate = source.generate.isChecked() and not self.generated
        spec = source.spec() if generate else None
        target = source.target.path()
        paths = [path for path, _ in self.generated] or source.files.paths()
        self.again.hide()

        async def work(progress: Any) -> Any:
            nonlocal paths
            if spec is not None and target is not None:
                made = await generate_code_file_async(
                    spec,
                    target,
                    workspace=workspace,
                    max_file_bytes=rules_for(vendor).max_file_bytes,
                    progress=progress,
                )
                self.generated = made.files
                paths = [path for path, _ in made.files]
            return await check_code_files_async(
                paths, vendor, workspace=workspace, encoding=encoding, progress=progress
            )

        return wizard.start("Checking the codes", work, self._checked, progress=self.progress)

    def _checked(self, job: Job) -> None:
        wizard = self.wizard_()
        self.again.show()
        if self.generated:
            total = sum(count for _, count in self.generated)
            names = ", ".join(path.name for path, _ in self.generated)
            self.generated_note.setText(f"Generated {count_words(total, 'new code')} in {names}.")
            self.generated_note.show()
        if job.cancelled:
            self.progress.finish("Stopped: press Check again to check the files.")
            return
        if job.error is not None:
            self.progress.finish(f"Could not check the files: {job.error}")
            return
        report: CheckReport = job.result
        wizard.set_report(report)
        self.view.show_report(report)
        valid = sum(verdict.valid for verdict in report.files)
        self.progress.finish(
            "Every code can be used as it is."
            if report.clean
            else f"{count_words(valid, 'code')} can be used; the next page fixes the rest."
        )

    def ready(self) -> bool:
        report = self.wizard_().report
        return report is not None and any(verdict.valid for verdict in report.files)


class FixPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Fixed file")
        self.setSubTitle("Your files stay as they are: the fix goes to a new file.")
        self.explanation = plain_label(name="fixExplanation")
        self.fixed = PathField(save=True, name="fixedFile")
        self.with_rejects = QCheckBox("Also save the refused lines, with the reasons, as:")
        self.with_rejects.setObjectName("writeRejects")
        self.with_rejects.setChecked(True)
        self.rejects = PathField(save=True, name="rejectsFile")
        self.with_rejects.toggled.connect(self.rejects.setEnabled)
        self.progress = ProgressBox()
        self.written = plain_label(name="fixWritten")
        self.form = QGroupBox()
        form = QFormLayout(self.form)
        form.addRow("Fixed file:", self.fixed)
        form.addRow(self.with_rejects)
        form.addRow("", self.rejects)
        for signal in (self.fixed.changed, self.rejects.changed, self.with_rejects.toggled):
            signal.connect(self.changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.form)
        layout.addWidget(self.progress)
        layout.addWidget(self.written)
        layout.addStretch(1)
        self._written_for: CheckReport | None = None

    def wizard_(self) -> CodeFileWizard:
        wizard = self.wizard()
        assert isinstance(wizard, CodeFileWizard)
        return wizard

    def needs_fixing(self) -> bool:
        report = self.wizard_().report
        return report is not None and not report.clean

    def initializePage(self) -> None:
        wizard = self.wizard_()
        report = wizard.report
        assert report is not None
        self.written.setText("")
        self.progress.hide()
        valid = sum(verdict.valid for verdict in report.files)
        cap = report.rules.max_file_bytes
        if not self.needs_fixing():
            self.form.hide()
            self.explanation.setText(
                f"Nothing to fix: the {count_words(valid, 'code')} can be used as they are."
            )
            return
        self.form.show()
        split = (
            f" Parts of at most {cap // 1_000_000} MB are made when they do not fit in one "
            f"file ({report.rules.name}'s limit)."
            if cap
            else ""
        )
        self.explanation.setText(
            f"The fixed file keeps the {count_words(valid, 'code')} that passed, cleaned: "
            "UTF-8, one per line, no spaces, quotes or duplicates." + split
        )
        first = report.files[0].path
        if self.fixed.path() is None:
            self.fixed.set_path(default_sibling(first, "fixed"))
        if self.rejects.path() is None:
            self.rejects.set_path(default_sibling(first, "rejects"))

    def ready(self) -> bool:
        if not self.needs_fixing():
            return True
        return self.fixed.path() is not None and (
            not self.with_rejects.isChecked() or self.rejects.path() is not None
        )

    def validatePage(self) -> bool:
        wizard = self.wizard_()
        report = wizard.report
        assert report is not None
        if not self.needs_fixing():
            wizard.parts = [
                (verdict.path, verdict.valid) for verdict in report.files if verdict.valid
            ]
            wizard.rejects = None
            return True
        if self._written_for is report and wizard.parts:
            return True
        self.write(report)
        return False  # Next again once the files are written

    def write(self, report: CheckReport) -> Job | None:
        from promodesk.services.codes import write_fixes_async

        wizard = self.wizard_()
        fixed = self.fixed.path()
        rejects = self.rejects.path() if self.with_rejects.isChecked() else None
        sources = {verdict.path.resolve() for verdict in report.files}
        for target in (fixed, rejects):
            if target is not None and target.resolve() in sources:
                self.written.setText(
                    f"{target.name} is one of the files being checked: save the fixed file "
                    "under another name, so the original stays as it was."
                )
                return None

        async def work(progress: Any) -> Any:
            return await write_fixes_async(report, fixed=fixed, rejects=rejects, progress=progress)

        def written(job: Job) -> None:
            if job.cancelled:
                self.progress.finish("Stopped: nothing was written.")
                return
            if job.error is not None:
                self.progress.finish(f"Could not write the fixed file: {job.error}")
                return
            outcome = job.result
            wizard.parts = list(outcome.fixed)
            wizard.rejects = rejects
            self._written_for = report
            lines = [
                f"Wrote {path.name} ({count_words(codes, 'code')})" for path, codes in outcome.fixed
            ]
            if rejects is not None and outcome.rejects is not None:
                lines.append(
                    f"Wrote {rejects.name} ({count_words(outcome.rejects, 'refused line')})"
                )
            self.progress.finish("Done")
            self.written.setText("\n".join(lines))
            wizard.next()

        return wizard.start("Writing the fixed file", work, written, progress=self.progress)

    def nextId(self) -> int:
        wizard = self.wizard_()
        return UPLOAD_PAGE if wizard.vendor() is Vendor.OPTIMOVE else DONE_PAGE


class UploadPage(WizardPageBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__()
        self.hub = hub
        self.setTitle("Upload to Optimove")
        self.setSubTitle("The codes go into the pool of a unique promocode.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Upload")
        self.accounts = AccountPicker(hub, Vendor.OPTIMOVE)
        self.accounts.currentIndexChanged.connect(lambda _: self._load_promocodes())
        self.promocode = QComboBox()
        self.promocode.setObjectName("promocode")
        self.promocode.setEditable(True)
        self.promocode.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.promocode.lineEdit().setPlaceholderText("The promocode's ID, e.g. pc-spring-welcome")
        self.promocode.editTextChanged.connect(self.changed)
        self.parts_text = plain_label(name="uploadParts")
        form = QFormLayout()
        form.addRow("Account:", self.accounts)
        form.addRow("Promocode:", self.promocode)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.parts_text)
        layout.addWidget(
            plain_label(
                "If the upload stops (a failure, Cancel, promodesk closed), finish it later with "
                "Create ▸ Resume unfinished…: parts already uploaded are not sent again.",
                secondary=True,
            )
        )
        layout.addStretch(1)

    def wizard_(self) -> CodeFileWizard:
        wizard = self.wizard()
        assert isinstance(wizard, CodeFileWizard)
        return wizard

    def initializePage(self) -> None:
        wizard = self.wizard_()
        if wizard.account_id is not None:
            self.accounts.choose(wizard.account_id)
        if wizard.promocode_id is not None:
            self.promocode.setEditText(wizard.promocode_id)
        parts = wizard.parts
        total = sum(codes for _, codes in parts)
        names = "\n".join(
            f"  {path.name}: {count_words(codes, 'code')}, {path.stat().st_size / 1e6:,.1f} MB"
            for path, codes in parts
        )
        self.parts_text.setText(
            f"{count_words(total, 'code')} in {count_words(len(parts), 'file')}:\n{names}"
        )

    def _load_promocodes(self) -> None:
        self.changed()
        account = self.accounts.account()
        if account is None:
            return
        offer_from_workspace(
            self.hub,
            self.promocode,
            "SELECT p.promocode_id FROM optimove_promocodes p JOIN accounts a "
            "ON a.id = p.account_id WHERE a.vendor = 'optimove' AND a.key = ? "
            "AND p.code_type IN ('unique', '') ORDER BY p.promocode_id",
            (account.id,),
        )

    def ready(self) -> bool:
        return self.accounts.account() is not None and bool(self.promocode.currentText().strip())


class UploadRunPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Uploading")
        self.setSubTitle("One part at a time; each is on record as soon as it is uploaded.")
        self.setFinalPage(True)
        self.steps = StepList()
        self.progress = ProgressBox()
        self.summary = plain_label(name="uploadSummary")
        self.retry_button = QPushButton("Upload the parts left")
        self.retry_button.setObjectName("retryUpload")
        self.retry_button.clicked.connect(self.retry)
        self.retry_button.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addLayout(buttons_row(self.retry_button))

    def wizard_(self) -> CodeFileWizard:
        wizard = self.wizard()
        assert isinstance(wizard, CodeFileWizard)
        return wizard

    def initializePage(self) -> None:
        wizard = self.wizard_()
        if wizard.run_id is not None and wizard.plan is None:
            self.setTitle("Finishing an upload")
            self.load()
        else:
            self.upload()

    def upload(self) -> Job | None:
        from promodesk.services.wizard_runs import load_plan, plan_upload, run_plan

        wizard = self.wizard_()
        account = wizard.upload_page.accounts.account()
        promocode_id = wizard.upload_page.promocode.currentText().strip()
        if account is None:
            return None
        executor = wizard.hub.executor()
        parts = list(wizard.parts)

        async def work(progress: Any) -> Plan:
            run_id = await plan_upload(executor, account, promocode_id, parts)
            wizard.run_id = run_id
            self.steps.set_steps((await load_plan(executor, run_id)).steps)
            return await run_plan(
                executor, account, run_id, on_step=self._step_changed, progress=progress
            )

        return self._start(f"Uploading to {promocode_id}", work)

    def _step_changed(self, step: Any) -> None:
        self.steps.update_step(step)

    def _start(self, title: str, work: Any) -> Job:
        self.retry_button.hide()
        self.summary.setText("")
        return self.wizard_().start(title, work, self._ended, progress=self.progress)

    def _ended(self, job: Job) -> None:
        wizard = self.wizard_()
        if job.error is not None:
            self.progress.finish("Stopped")
            self.summary.setText(f"Could not go on: {job.error}")
        elif job.cancelled:
            self.progress.finish("Stopped")
        if wizard.run_id is not None:
            # (the plan's summary keeps the reason in front: e.g. another window uploads it)
            note = f"Could not go on: {job.error}. " if job.error is not None else ""
            self.load(note=note or ("Stopped. " if job.cancelled else ""))
        if job.error is None and not job.cancelled:
            wizard.hub.changed_workspace()

    def load(self, note: str = "") -> None:
        from promodesk.services.wizard_runs import load_plan

        wizard = self.wizard_()
        run_id = wizard.run_id
        assert run_id is not None
        executor = wizard.hub.executor()

        async def work(_progress: Any) -> Plan:
            return await load_plan(executor, run_id)

        def loaded(job: Job) -> None:
            if job.error is not None:
                self.summary.setText(f"Could not read the upload's plan: {job.error}")
            elif not job.cancelled:
                self.show_plan(job.result, note)

        wizard.start("Reading the upload's plan", work, loaded)

    def show_plan(self, plan: Plan, note: str = "") -> None:
        wizard = self.wizard_()
        wizard.plan = plan
        self.progress.hide()  # the steps and the summary say how it went
        self.steps.set_steps(plan.steps)
        done = [step for step in plan.steps if step.done]
        codes = sum(int(step.inputs.get("codes", 0)) for step in done)
        promocode = plan.steps[0].inputs.get("promocode_id", "") if plan.steps else ""
        if plan.finished:
            self.setTitle("Uploaded")
            what = (
                Path(plan.steps[0].inputs["path"]).name + " is"
                if len(plan.steps) == 1
                else f"All {len(plan.steps):,} files are"
            )
            self.summary.setText(
                f"{note}{what} in promocode {promocode}: {count_words(codes, 'code')}."
            )
            return
        self.setTitle("Not finished yet")
        # Going on in another window or a command: this one cannot go on with it now.
        self.retry_button.setVisible(not plan.going_on)
        self.summary.setText(
            f"{note}{len(done)} of {count_words(len(plan.steps), 'file')} uploaded to "
            f"{promocode}. “Upload the parts left” sends only the others; a part whose outcome "
            "is not known is looked for in the promocode first, so nothing is uploaded twice. "
            "You can also close this and finish later: Create ▸ Resume unfinished…"
        )
        self.changed()

    def retry(self) -> None:
        from promodesk.services.wizard_runs import run_plan

        wizard = self.wizard_()
        plan = wizard.plan
        if plan is None:
            return
        hub = wizard.hub
        executor = hub.executor()

        async def work(progress: Any) -> Plan:
            account = await hub.find_account(Vendor.OPTIMOVE, plan.account_key, plan.account_name)
            return await run_plan(
                executor, account, plan.run_id, on_step=self._step_changed, progress=progress
            )

        self._start("Uploading the parts left", work)

    def ready(self) -> bool:
        return True

    def nextId(self) -> int:
        return -1  # the last page of an upload (the "Ready" page is for other vendors)


class DonePage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Ready")
        self.setSubTitle("The fixed codes are saved.")
        self.setFinalPage(True)
        self.summary = plain_label(name="doneSummary")
        self.altcraft_button = QPushButton("Add these codes to an Altcraft program…")
        self.altcraft_button.setObjectName("toAltcraft")
        self.altcraft_button.clicked.connect(self.to_altcraft)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(buttons_row(self.altcraft_button))
        layout.addStretch(1)

    def wizard_(self) -> CodeFileWizard:
        wizard = self.wizard()
        assert isinstance(wizard, CodeFileWizard)
        return wizard

    def initializePage(self) -> None:
        wizard = self.wizard_()
        lines = [
            f"{path}: {count_words(codes, 'code')}, ready for {wizard.vendor().display_name}."
            for path, codes in wizard.parts
        ]
        if wizard.rejects is not None:
            lines.append(f"The refused lines and why: {wizard.rejects}")
        self.summary.setText("\n".join(lines))
        self.altcraft_button.setVisible(
            wizard.vendor() is Vendor.ALTCRAFT and len(wizard.parts) == 1
        )

    def to_altcraft(self) -> None:
        wizard = self.wizard_()
        [(path, _codes)] = wizard.parts
        hub = wizard.hub
        wizard.accept()
        hub.open_altcraft(codes_file=path)
