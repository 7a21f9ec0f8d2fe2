"""Create ▸ New promotion with code…: an Optimove promotion and the promocode assigned to it.

Pages: the promotion (account, name, promotion code, description, optional ID); the code
(global: the code customers type; unique: Consistent or Varying, a fallback code, code files
next); a review of exactly what will be created, with the IDs chosen for it; the run.

The plan (the IDs and every input) is written to the workspace before anything is sent
(services/wizard_runs.py). When a step fails, the run page says what exists already and
"Retry the steps left" sends only the rest with the same IDs, so there is never a second
promotion or promocode; the same plan can be finished after the app was closed, from
Create ▸ Resume unfinished… or the History view. A step the vendor refused for its inputs
(the ID is taken, say) can be corrected and sent again: "Change the details…".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QButtonGroup,
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QRegularExpression,
    QRegularExpressionValidator,
    QVBoxLayout,
    QWizard,
)
from promodesk.services.operations.optimove import ALLOCATION_METHODS
from promodesk.ui.wizards.common import (
    AccountPicker,
    ProgressBox,
    StepList,
    WizardBase,
    WizardPageBase,
    buttons_row,
    plain_label,
)

if TYPE_CHECKING:
    from promodesk.services.accounts import Account
    from promodesk.services.wizard_runs import Plan, PlannedStep, Step
    from promodesk.ui.tasks import Job
    from promodesk.ui.wizards import Wizards

PROMOTION_PAGE, CODE_PAGE, REVIEW_PAGE, RUN_PAGE = range(4)
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"


class PromotionWizard(WizardBase):
    def __init__(self, hub: Wizards, *, run_id: int | None = None) -> None:
        super().__init__(hub, "New promotion with code", "promotionWizard")
        self.run_id = run_id
        self.plan: Plan | None = None
        self.planned: list[PlannedStep] = []
        self.promotion_page = PromotionPage(hub)
        self.code_page = CodePage()
        self.review_page = ReviewPage()
        self.run_page = RunPage()
        self.setPage(PROMOTION_PAGE, self.promotion_page)
        self.setPage(CODE_PAGE, self.code_page)
        self.setPage(REVIEW_PAGE, self.review_page)
        self.setPage(RUN_PAGE, self.run_page)
        if run_id is not None:
            self.setStartId(RUN_PAGE)

    # -- what the pages say ----------------------------------------------------------------

    def account(self) -> Account | None:
        return self.promotion_page.accounts.account()

    def promotion_inputs(self) -> dict[str, Any]:
        page = self.promotion_page
        values: dict[str, Any] = {
            "name": page.name.text().strip(),
            "code": page.code.text().strip(),
            "description": page.description.text().strip(),
        }
        if page.promotion_id.text().strip():
            values["promotion_id"] = page.promotion_id.text().strip()
        return values

    def promocode_inputs(self) -> dict[str, Any]:
        page = self.code_page
        if page.global_kind.isChecked():
            return {"promocode_type": "global", "code": page.global_code.text().strip()}
        values: dict[str, Any] = {
            "promocode_type": "unique",
            "allocation_method": "Varying" if page.varying.isChecked() else "Consistent",
        }
        if page.fallback.text().strip():
            values["default_code"] = page.fallback.text().strip()
        return values

    def unique(self) -> bool:
        if self.plan is not None:
            step = self.plan.step("create_promocode")
            return bool(step and step.inputs.get("promocode_type") == "unique")
        return self.code_page.unique_kind.isChecked()


class PromotionPage(WizardPageBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__()
        self.setTitle("The promotion")
        self.setSubTitle(
            "A draft promotion in Optimove. Add its tiers and activate it later, in the "
            "Optimove tab."
        )
        self.accounts = AccountPicker(hub, Vendor.OPTIMOVE)
        self.accounts.loaded.connect(self.changed)
        self.name = QLineEdit()
        self.name.setObjectName("promotionName")
        self.name.setPlaceholderText("e.g. Winter sale 2026")
        self.code = QLineEdit()
        self.code.setObjectName("promotionCode")
        self.code.setPlaceholderText("e.g. WINTER26")
        self.description = QLineEdit()
        self.description.setObjectName("promotionDescription")
        self.description.setPlaceholderText("Optional: what it is for")
        self.promotion_id = QLineEdit()
        self.promotion_id.setObjectName("promotionId")
        self.promotion_id.setPlaceholderText("Empty: promodesk chooses one")
        self.promotion_id.setValidator(
            QRegularExpressionValidator(QRegularExpression(ID_PATTERN), self.promotion_id)
        )
        self.locked_note = plain_label(secondary=True, name="promotionLocked")
        self.locked_note.hide()
        for edit in (self.name, self.code):
            edit.textChanged.connect(self.changed)
        form = QFormLayout()
        form.addRow("Account:", self.accounts)
        form.addRow("Name:", self.name)
        form.addRow("Promotion code:", self.code)
        form.addRow(
            "",
            plain_label(
                "The promotion's identifier in your own promotion system (Optimove calls it "
                "the Promotion Code). It is not the code customers type: that comes next.",
                secondary=True,
            ),
        )
        form.addRow("Description:", self.description)
        form.addRow("Promotion ID (optional):", self.promotion_id)
        form.addRow(
            "",
            plain_label(
                "Optimove's ID for the promotion. promodesk chooses one and keeps it, so that "
                "trying again never makes a second promotion.",
                secondary=True,
            ),
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.locked_note)
        layout.addStretch(1)

    def ready(self) -> bool:
        return (
            self.accounts.account() is not None
            and bool(self.name.text().strip())
            and bool(self.code.text().strip())
        )

    def lock(self, text: str) -> None:
        """The promotion exists already: what it was made with cannot change."""
        for widget in (self.accounts, self.name, self.code, self.description, self.promotion_id):
            widget.setEnabled(False)
        self.locked_note.setText(text)
        self.locked_note.show()


class CodePage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("The code customers use")
        self.setSubTitle("One code everyone types, or a unique code per customer.")
        self.global_kind = QRadioButton("Global: one code every customer types")
        self.global_kind.setObjectName("globalKind")
        self.unique_kind = QRadioButton("Unique: one code per customer, from code files")
        self.unique_kind.setObjectName("uniqueKind")
        kinds = QButtonGroup(self)
        kinds.addButton(self.global_kind)
        kinds.addButton(self.unique_kind)
        self.global_kind.setChecked(True)

        self.global_code = QLineEdit()
        self.global_code.setObjectName("globalCode")
        self.global_code.setPlaceholderText("e.g. WINTER10")
        self.global_box = QGroupBox("Global code")
        global_form = QFormLayout(self.global_box)
        global_form.addRow("Code customers type:", self.global_code)

        self.consistent = QRadioButton(ALLOCATION_METHODS["Consistent"])
        self.consistent.setObjectName("consistent")
        self.varying = QRadioButton(ALLOCATION_METHODS["Varying"])
        self.varying.setObjectName("varying")
        methods = QButtonGroup(self)
        methods.addButton(self.consistent)
        methods.addButton(self.varying)
        self.consistent.setChecked(True)
        self.fallback = QLineEdit()
        self.fallback.setObjectName("fallbackCode")
        self.fallback.setPlaceholderText("Empty: Optimove makes one")
        self.then_files = QCheckBox("Then check and upload its code files")
        self.then_files.setObjectName("thenCodeFiles")
        self.then_files.setChecked(True)
        self.unique_box = QGroupBox("Unique codes")
        unique_layout = QVBoxLayout(self.unique_box)
        unique_layout.addWidget(plain_label("How codes are given out:"))
        unique_layout.addWidget(self.consistent)
        unique_layout.addWidget(self.varying)
        fallback_form = QFormLayout()
        fallback_form.addRow("Fallback code:", self.fallback)
        fallback_form.addRow(
            "",
            plain_label("Given to customers once the uploaded codes run out.", secondary=True),
        )
        unique_layout.addLayout(fallback_form)
        unique_layout.addWidget(self.then_files)

        self.problem = plain_label(name="codeProblem")
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.global_kind)
        layout.addWidget(self.unique_kind)
        layout.addWidget(self.global_box)
        layout.addWidget(self.unique_box)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.global_kind.toggled.connect(self._kind_changed)
        self.global_code.textChanged.connect(self.changed)
        self._kind_changed()

    def _kind_changed(self) -> None:
        self.global_box.setVisible(self.global_kind.isChecked())
        self.unique_box.setVisible(self.unique_kind.isChecked())
        self.problem.hide()
        self.changed()

    def ready(self) -> bool:
        return self.unique_kind.isChecked() or bool(self.global_code.text().strip())

    def validatePage(self) -> bool:
        """The inputs checked by the operations' own models before the review."""
        from promodesk.services.operations import operation
        from promodesk.services.operations.executor import InputError, validate_inputs

        wizard = self.wizard()
        assert isinstance(wizard, PromotionWizard)
        try:
            validate_inputs(
                operation(Vendor.OPTIMOVE, "create_promotion"), wizard.promotion_inputs()
            )
            validate_inputs(
                operation(Vendor.OPTIMOVE, "create_promocode"), wizard.promocode_inputs()
            )
        except InputError as error:
            self.problem.setText(f"Please correct this first: {error}")
            self.problem.show()
            return False
        self.problem.hide()
        return True


class ReviewPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Review")
        self.setSubTitle("Nothing is sent to Optimove until you press Create.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create")
        self.summary = plain_label(name="reviewSummary")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(
            plain_label(
                "If a step fails, promodesk keeps what was done and tries only the rest, with "
                "the same IDs: there is never a second promotion or promocode, even after "
                "promodesk was closed (Create ▸ Resume unfinished…).",
                secondary=True,
            )
        )
        layout.addStretch(1)

    def initializePage(self) -> None:
        from promodesk.services.wizard_runs import promotion_steps

        wizard = self.wizard()
        assert isinstance(wizard, PromotionWizard)
        planned = promotion_steps(wizard.promotion_inputs(), wizard.promocode_inputs())
        if wizard.plan is not None:
            planned = corrected(wizard.plan, planned)
        wizard.planned = planned
        self.summary.setText(review_text(wizard, planned))


def corrected(plan: Plan, fresh: list[PlannedStep]) -> list[PlannedStep]:
    """The pages' inputs for a plan being corrected: a step that may exist keeps its inputs,
    and the promocode keeps its ID and belongs to the promotion as planned."""
    from promodesk.services.wizard_runs import PlannedStep

    promotion, promocode = plan.step("create_promotion"), plan.step("create_promocode")
    assert promotion is not None
    assert promocode is not None
    first = fresh[0]
    if promotion.status not in ("pending", "failed"):
        first = PlannedStep(promotion.operation, promotion.target, promotion.inputs)
    second_inputs = dict(fresh[1].inputs)
    second_inputs["promotion_id"] = first.inputs["promotion_id"]
    second_inputs["promocode_id"] = promocode.inputs["promocode_id"]
    second = PlannedStep(promocode.operation, promocode.target, second_inputs)
    if promocode.status not in ("pending", "failed"):
        second = PlannedStep(promocode.operation, promocode.target, promocode.inputs)
    return [first, second]


def review_text(wizard: PromotionWizard, planned: list[PlannedStep]) -> str:
    promotion, promocode = planned[0].inputs, planned[1].inputs
    account = wizard.account()
    lines = [f"In the Optimove account {account.name if account else '?'}:", ""]
    lines.append(
        f"1. Create the draft promotion “{promotion['name']}” (promotion code "
        f"{promotion['code']}), ID {promotion['promotion_id']}."
    )
    if promotion.get("description"):
        lines.append(f"    Description: {promotion['description']}")
    if promocode["promocode_type"] == "global":
        lines.append(
            f"2. Create the global promocode {promocode['promocode_id']} for it: every "
            f"customer types {promocode['code']}."
        )
    else:
        method = promocode.get("allocation_method", "Consistent")
        fallback = promocode.get("default_code") or "one Optimove makes"
        lines.append(
            f"2. Create the unique promocode {promocode['promocode_id']} for it: {method} "
            f"allocation, fallback code {fallback}."
        )
        if wizard.code_page.then_files.isChecked():
            lines.append("Then: check and upload its code files.")
    return "\n".join(lines)


class RunPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Creating")
        self.setSubTitle("The promotion first, then its promocode.")
        self.setFinalPage(True)
        self.steps = StepList()
        self.progress = ProgressBox()
        self.summary = plain_label(name="runSummary")
        self.retry_button = QPushButton("Retry the steps left")
        self.retry_button.setObjectName("retrySteps")
        self.retry_button.clicked.connect(self.retry)
        self.change_button = QPushButton("Change the details…")
        self.change_button.setObjectName("changeDetails")
        self.change_button.clicked.connect(self.change_details)
        self.files_button = QPushButton("Check and upload code files…")
        self.files_button.setObjectName("addCodeFiles")
        self.files_button.clicked.connect(self.add_code_files)
        for button in (self.retry_button, self.change_button, self.files_button):
            button.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.steps, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addLayout(buttons_row(self.retry_button, self.change_button, self.files_button))
        self._started = False

    def wizard_(self) -> PromotionWizard:
        wizard = self.wizard()
        assert isinstance(wizard, PromotionWizard)
        return wizard

    def initializePage(self) -> None:
        wizard = self.wizard_()
        if wizard.run_id is not None and wizard.plan is None:
            self.setTitle("Finishing a promotion")
            self.load()
        else:
            self.create()

    def create(self) -> None:
        from promodesk.services.wizard_runs import plan_promotion, replan_steps

        wizard = self.wizard_()
        account = wizard.account()
        if account is None:
            return
        executor = wizard.hub.executor()
        planned = wizard.planned
        plan = wizard.plan
        if plan is None:
            self.steps.set_steps([_pending(n, step) for n, step in enumerate(planned, 1)])

        async def work(progress: Any) -> Plan:
            if plan is None:
                run_id = await plan_promotion(
                    executor, account, planned[0].inputs, planned[1].inputs
                )
            else:
                run_id = plan.run_id
                await replan_steps(
                    executor,
                    run_id,
                    {
                        step.position: planned[step.position - 1].inputs
                        for step in plan.steps
                        if step.status in ("pending", "failed")
                    },
                )
            wizard.run_id = run_id
            return await self._run(executor, account, run_id, progress)

        self._start("Creating the promotion", work)

    def _run(self, executor: Any, account: Account, run_id: int, progress: Any) -> Any:
        from promodesk.services.wizard_runs import run_plan

        return run_plan(
            executor, account, run_id, on_step=self.steps.update_step, progress=progress
        )

    def _start(self, title: str, work: Any) -> Job:
        for button in (self.retry_button, self.change_button, self.files_button):
            button.hide()
        self.summary.setText("")
        return self.wizard_().start(title, work, self._ended, progress=self.progress)

    def _ended(self, job: Job) -> None:
        wizard = self.wizard_()
        if job.error is None and not job.cancelled:
            self.show_plan(job.result)
            wizard.hub.changed_workspace()
            return
        self.progress.finish("Stopped")
        if wizard.run_id is None:  # stopped while the plan was being written
            self.summary.setText(
                "Stopped before anything was sent to Optimove."
                if job.cancelled
                else f"Could not start: {job.error}"
            )
            return
        self.load(note="Stopped. " if job.cancelled else f"Could not go on: {job.error}. ")

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
                self.summary.setText(f"{note}Could not read what was planned: {job.error}")
            elif not job.cancelled:
                self.show_plan(job.result, note=note)

        wizard.start("Reading what was done", work, loaded)

    def show_plan(self, plan: Plan, *, note: str = "") -> None:
        wizard = self.wizard_()
        wizard.plan = plan
        self.progress.hide()  # the steps and the summary say how it went
        self.steps.set_steps(plan.steps)
        promotion = plan.step("create_promotion")
        if promotion is not None and promotion.status in ("ok", "skipped", "unknown"):
            wizard.promotion_page.lock(
                "This promotion was sent to Optimove already, so it cannot change here."
            )
        self.summary.setText(note + plan_summary(plan) + ("" if plan.finished else LATER))
        if plan.finished:
            self.setTitle("Created")
            self.files_button.setVisible(
                wizard.unique() and wizard.code_page.then_files.isChecked()
            )
        else:
            self.setTitle("Not finished yet")
            self.retry_button.show()
            self.retry_button.setDefault(True)
            editable = any(step.status == "failed" for step in plan.steps) and not any(
                step.status == "unknown" for step in plan.steps
            )
            self.change_button.setVisible(editable and wizard.run_id is not None)
        self.changed()

    def retry(self) -> None:
        wizard = self.wizard_()
        plan = wizard.plan
        if plan is None:
            return
        hub = wizard.hub
        executor = hub.executor()

        async def work(progress: Any) -> Plan:
            account = await hub.find_account(Vendor.OPTIMOVE, plan.account_key, plan.account_name)
            return await self._run(executor, account, plan.run_id, progress)

        self._start("Creating what is left", work)

    def change_details(self) -> None:
        """Back to the first page to correct what the vendor refused (the IDs of anything
        that may exist stay as they are)."""
        wizard = self.wizard_()
        plan = wizard.plan
        if plan is None:
            return
        if wizard.startId() != PROMOTION_PAGE:  # resumed: the pages show what was planned
            _fill_pages(wizard, plan)
            wizard.setStartId(PROMOTION_PAGE)
        wizard.restart()

    def add_code_files(self) -> None:
        wizard = self.wizard_()
        plan = wizard.plan
        if plan is None:
            return
        step = plan.step("create_promocode")
        wizard.accept()
        if step is not None:
            wizard.hub.open_code_files(
                account_id=plan.account_key, promocode_id=step.inputs["promocode_id"]
            )

    def ready(self) -> bool:
        return True


def _pending(position: int, planned: PlannedStep) -> Step:
    from promodesk.services.wizard_runs import Step

    return Step(position, planned.operation, planned.target, dict(planned.inputs), "pending")


def _fill_pages(wizard: PromotionWizard, plan: Plan) -> None:
    """The pages show a resumed plan's inputs (to correct what was refused)."""
    promotion = plan.step("create_promotion")
    promocode = plan.step("create_promocode")
    page = wizard.promotion_page
    if promotion is not None:
        page.accounts.choose(plan.account_key)
        page.name.setText(promotion.inputs.get("name", ""))
        page.code.setText(promotion.inputs.get("code", ""))
        page.description.setText(promotion.inputs.get("description", ""))
        page.promotion_id.setText(promotion.inputs.get("promotion_id", ""))
    if promocode is not None:
        codes = wizard.code_page
        unique = promocode.inputs.get("promocode_type") == "unique"
        (codes.unique_kind if unique else codes.global_kind).setChecked(True)
        codes.global_code.setText(promocode.inputs.get("code") or "")
        codes.fallback.setText(promocode.inputs.get("default_code") or "")
        varying = promocode.inputs.get("allocation_method") == "Varying"
        (codes.varying if varying else codes.consistent).setChecked(True)


def plan_summary(plan: Plan) -> str:
    promotion = plan.step("create_promotion")
    promocode = plan.step("create_promocode")
    if promotion is None or promocode is None:
        return ""
    promotion_id = promotion.inputs.get("promotion_id", "")
    promocode_id = promocode.inputs.get("promocode_id", "")
    if plan.finished:
        kind = promocode.inputs.get("promocode_type")
        what = (
            f"customers type {promocode.inputs.get('code')}"
            if kind == "global"
            else "add its code files next"
        )
        return (
            f"Created the draft promotion {promotion_id} and its {kind} promocode "
            f"{promocode_id} ({what}). Activate the promotion in the Optimove tab when it is "
            "ready."
        )
    if promotion.status in ("ok", "skipped"):
        exists = f"The promotion {promotion_id} exists in Optimove. "
        missing = f"The promocode {promocode_id} "
        if promocode.status == "unknown":
            missing += "may or may not have been created (the answer was lost). "
        else:
            missing += "was not created. "
        return (
            exists
            + missing
            + "Retry sends only what is left, with the same IDs: it never makes a second "
            "promotion or promocode."
        )
    if promotion.status == "unknown":
        return (
            f"Whether the promotion {promotion_id} was created is not known (the answer was "
            "lost). Retry finds it if it was, and creates it if not: never twice."
        )
    return (
        f"Nothing was created: {promotion.message or 'the promotion was refused'}. Change the "
        "details and try again, or retry as it is."
    )


LATER = " You can also close this and finish it later: Create ▸ Resume unfinished…"
