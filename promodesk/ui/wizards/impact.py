"""Create ▸ New impact.com codes…: one code for a partner in a program, or many from a CSV file
(Code, partner, program, credit policy, type, start, end), reviewed in a table before anything
is created, then created one by one with an outcome per row.

Credit policy and match type are in a marketer's words (Always / If involved / If last click;
Exact match / Pattern); a pattern is compiled before anything is sent (the create operation's
input model checks it). Dates are shown with their time zone: typed ones are in the
computer's, and a file's dates without one are read in it too.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTime,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QRadioButton,
    QRegularExpression,
    QRegularExpressionValidator,
    QVBoxLayout,
    QWidget,
    QWizard,
)
from promodesk.services.impact_batch import CREDIT_SHOWN, MATCH_SHOWN
from promodesk.services.operations.impact import CREDIT_POLICIES
from promodesk.ui.wizards.common import (
    AccountPicker,
    PathField,
    ProgressBox,
    RowsModel,
    WizardBase,
    WizardPageBase,
    count_words,
    fit_columns,
    local_files,
    offer_from_workspace,
    plain_label,
    table_view,
)

if TYPE_CHECKING:
    from promodesk.qt import QDragEnterEvent, QDropEvent
    from promodesk.services.impact_batch import CodeRow, RowOutcome
    from promodesk.ui.tasks import Job
    from promodesk.ui.wizards import Wizards

START_PAGE, ONE_PAGE, FILE_PAGE, REVIEW_PAGE, RUN_PAGE = range(5)
# What a row says: its line, its code, its check (or outcome), then what will be sent.
COLUMNS = ("Partner", "Program", "Credit policy", "Match", "Starts", "Ends")
STATUS = 2
MATCH_EXPLAINED = {
    "LI": "Exact match: the code as typed",
    "RE": "Pattern: a regular expression that also accepts variants (case, spacing)",
}
OUTCOME_WORDS = {
    "ok": "Created",
    "failed": "Refused",
    "unknown": "Not known (the answer was lost)",
}


def local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    return zone


def zone_text(moment: datetime) -> str:
    """'UTC+01:00' (and the zone's name when it has one, e.g. 'CET')."""
    offset = moment.utcoffset()
    if offset is None:
        return ""
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    text = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    name = moment.tzname() or ""
    return f"{text} ({name})" if name and not name.startswith(("UTC", "+", "-")) else text


def when_text(value: Any, *, empty: str) -> str:
    if not isinstance(value, datetime):
        return empty
    return f"{value.strftime('%d %b %Y %H:%M')} {zone_text(value)}"


def row_cells(row: CodeRow, status: str) -> tuple[str, ...]:
    values = row.values
    ends = when_text(values.get("end_date"), empty="Never")
    if row.notes:
        ends += f" ({'; '.join(row.notes)})"
    return (
        str(row.line) if row.line else "",
        row.code,
        status,
        str(values.get("partner_id", "")),
        str(values.get("campaign_id", "")),
        CREDIT_SHOWN.get(values.get("credit_policy", "ALWAYS"), ""),
        MATCH_SHOWN.get(values.get("type_", "LI"), ""),
        when_text(values.get("start_date"), empty="Now"),
        ends,
    )


class ImpactWizard(WizardBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__(hub, "New impact.com codes", "impactWizard")
        self.rows: list[CodeRow] = []
        self.start_page = StartPage(hub)
        self.one_page = OnePage(hub)
        self.file_page = FilePage()
        self.review_page = ReviewPage()
        self.run_page = RunPage()
        for number, page in (
            (START_PAGE, self.start_page),
            (ONE_PAGE, self.one_page),
            (FILE_PAGE, self.file_page),
            (REVIEW_PAGE, self.review_page),
            (RUN_PAGE, self.run_page),
        ):
            self.setPage(number, page)

    def ready_rows(self) -> list[CodeRow]:
        return [row for row in self.rows if row.ready]


class StartPage(WizardPageBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__()
        self.setTitle("impact.com codes")
        self.setSubTitle("Promo codes that credit a partner for the orders that use them.")
        self.accounts = AccountPicker(hub, Vendor.IMPACT)
        self.accounts.currentIndexChanged.connect(lambda _: self.changed())
        self.one = QRadioButton("One code for a partner")
        self.one.setObjectName("oneCode")
        self.many = QRadioButton("Many codes from a CSV file")
        self.many.setObjectName("manyCodes")
        group = QButtonGroup(self)
        group.addButton(self.one)
        group.addButton(self.many)
        self.one.setChecked(True)
        form = QFormLayout()
        form.addRow("Account:", self.accounts)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.one)
        layout.addWidget(self.many)
        layout.addStretch(1)

    def ready(self) -> bool:
        return self.accounts.account() is not None

    def nextId(self) -> int:
        return ONE_PAGE if self.one.isChecked() else FILE_PAGE


def _when_edit(name: str) -> QDateTimeEdit:
    edit = QDateTimeEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd MMM yyyy HH:mm")
    edit.setDateTime(QDateTime.currentDateTime())
    edit.setEnabled(False)
    return edit


class OnePage(WizardPageBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__()
        self.hub = hub
        self.setTitle("The code")
        self.setSubTitle("Checked before anything is sent.")
        digits = QRegularExpression(r"\d{1,16}")
        self.partner = QLineEdit()
        self.partner.setObjectName("partnerId")
        self.partner.setPlaceholderText("e.g. 2552842 (on the partner's page in impact.com)")
        self.partner.setValidator(QRegularExpressionValidator(digits, self.partner))
        self.program = QComboBox()
        self.program.setObjectName("programId")
        self.program.setEditable(True)
        self.program.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.program.setValidator(QRegularExpressionValidator(digits, self.program))
        self.program.lineEdit().setPlaceholderText("e.g. 1000")
        self.code = QLineEdit()
        self.code.setObjectName("impactCode")
        self.code.setPlaceholderText("What customers type at checkout")
        self.credit = QComboBox()
        self.credit.setObjectName("creditPolicy")
        for key, text in CREDIT_POLICIES.items():
            self.credit.addItem(f"{CREDIT_SHOWN[key]}: {text[0].lower()}{text[1:]}", key)
        self.match = QComboBox()
        self.match.setObjectName("matchType")
        for key, text in MATCH_EXPLAINED.items():
            self.match.addItem(text, key)
        self.starts_now = QCheckBox("Now")
        self.starts_now.setObjectName("startsNow")
        self.starts_now.setChecked(True)
        self.start = _when_edit("startDate")
        self.never_ends = QCheckBox("Never")
        self.never_ends.setObjectName("neverEnds")
        self.never_ends.setChecked(True)
        self.end = _when_edit("endDate")
        self.starts_now.toggled.connect(lambda on: self.start.setEnabled(not on))
        self.never_ends.toggled.connect(lambda on: self.end.setEnabled(not on))
        zone = zone_text(datetime.now().astimezone())
        self.problem = plain_label(name="impactProblem")
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        form = QFormLayout()
        form.addRow("Partner ID:", self.partner)
        form.addRow("Program ID:", self.program)
        form.addRow("Code:", self.code)
        form.addRow("Credit policy:", self.credit)
        form.addRow("Match:", self.match)
        form.addRow("Starts:", _pair(self.starts_now, self.start))
        form.addRow("Ends:", _pair(self.never_ends, self.end))
        form.addRow(
            "", plain_label(f"Times are in this computer's time zone, {zone}.", secondary=True)
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        for signal in (
            self.partner.textChanged,
            self.code.textChanged,
            self.program.editTextChanged,
        ):
            signal.connect(self.changed)

    def initializePage(self) -> None:
        wizard = self.wizard()
        assert isinstance(wizard, ImpactWizard)
        account = wizard.start_page.accounts.account()
        if account is None:
            return
        offer_from_workspace(
            self.hub,
            self.program,
            "SELECT p.campaign_id FROM impact_programs p JOIN accounts a "
            "ON a.id = p.account_id WHERE a.vendor = 'impact' AND a.key = ? "
            "ORDER BY p.campaign_id",
            (account.id,),
        )

    def ready(self) -> bool:
        return bool(
            self.partner.text().strip()
            and self.program.currentText().strip()
            and self.code.text().strip()
        )

    def fields(self) -> dict[str, str]:
        fields = {
            "code": self.code.text().strip(),
            "partner_id": self.partner.text().strip(),
            "campaign_id": self.program.currentText().strip(),
            "credit_policy": str(self.credit.currentData()),
            "type_": str(self.match.currentData()),
        }
        zone = local_zone()
        for name, off, edit in (
            ("start_date", self.starts_now, self.start),
            ("end_date", self.never_ends, self.end),
        ):
            if not off.isChecked():
                moment = edit.dateTime().toPython().replace(second=0, microsecond=0)
                fields[name] = moment.replace(tzinfo=zone).isoformat()
        return fields

    def validatePage(self) -> bool:
        from promodesk.services.impact_batch import row_values

        wizard = self.wizard()
        assert isinstance(wizard, ImpactWizard)
        row = row_values(self.fields(), local_zone(), 0)
        if not row.ready:
            self.problem.setText("Please correct this first: " + "; ".join(row.problems))
            self.problem.show()
            return False
        self.problem.hide()
        wizard.rows = [row]
        return True

    def nextId(self) -> int:
        return REVIEW_PAGE


def _pair(check: QCheckBox, edit: QDateTimeEdit) -> QWidget:
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(check)
    row.addWidget(edit, 1)
    return box


class FilePage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("A CSV file of codes")
        self.setSubTitle(
            "Choose the file, or drop it here. It is read and checked on the next page."
        )
        self.setAcceptDrops(True)
        self.path = PathField(save=False, name="impactFile")
        self.path.changed.connect(self.changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.path)
        layout.addWidget(
            plain_label(
                "The first line names the columns, in any order: Code, Partner ID, Program ID, "
                "Credit policy (Always, If involved, If last click), Type (Exact match or "
                "Pattern), Start, End. Dates like 2026-12-01 or 2026-12-01 09:30 are in this "
                "computer's time zone unless they say theirs (2026-12-01T09:30+01:00); an end "
                "date without a time lasts the whole day. Separated by commas or semicolons.",
                secondary=True,
            )
        )
        layout.addWidget(
            plain_label(
                "Code,Partner ID,Program ID,Credit policy,Type,Start,End\n"
                "SUMMER-ANNA,2552842,1000,If last click,Exact match,2026-12-01,2026-12-31",
                name="impactExample",
            )
        )
        layout.addStretch(1)

    def ready(self) -> bool:
        path = self.path.path()
        return path is not None and path.is_file()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_files(event)
        if paths:
            event.acceptProposedAction()
            self.path.set_path(paths[0])

    def nextId(self) -> int:
        return REVIEW_PAGE


class ReviewPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Review")
        self.setSubTitle("Nothing is created until you press Create.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create")
        self.summary = plain_label(name="impactReview")
        self.progress = ProgressBox()
        self.model = RowsModel(("Line", "Code", "Check", *COLUMNS), numeric=(0, 3, 4))
        self.view = table_view(self.model, "impactRows")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.view, 1)

    def wizard_(self) -> ImpactWizard:
        wizard = self.wizard()
        assert isinstance(wizard, ImpactWizard)
        return wizard

    def initializePage(self) -> None:
        wizard = self.wizard_()
        self.model.set_rows([])
        if wizard.start_page.one.isChecked():
            self.show_rows(wizard.rows)
            return
        wizard.rows = []
        path = wizard.file_page.path.path()
        assert path is not None

        async def work(_progress: Any) -> list[CodeRow]:
            import asyncio

            from promodesk.services.impact_batch import read_code_rows

            return await asyncio.to_thread(read_code_rows, path, local_zone())

        def read(job: Job) -> None:
            if job.cancelled or job.error is not None:
                self.progress.finish("Stopped" if job.cancelled else "Could not read the file")
                self.summary.setText(
                    "Stopped." if job.cancelled else f"Nothing can be created: {job.error}"
                )
                return
            self.progress.hide()
            wizard.rows = list(job.result)
            self.show_rows(wizard.rows)

        wizard.start(f"Reading {path.name}", work, read, progress=self.progress)

    def show_rows(self, rows: list[CodeRow]) -> None:
        self.model.set_rows(
            [row_cells(row, "; ".join(row.problems) if row.problems else "Ready") for row in rows]
        )
        fit_columns(self.view)
        ready = sum(1 for row in rows if row.ready)
        text = f"{count_words(ready, 'code')} ready to create"
        if ready < len(rows):
            text += f"; {count_words(len(rows) - ready, 'row')} with problems (not sent: see Check)"
        self.summary.setText(text + ".")
        self.changed()

    def ready(self) -> bool:
        return bool(self.wizard_().ready_rows())


class RunPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Creating")
        self.setSubTitle("One code at a time: impact.com takes them one by one.")
        self.setFinalPage(True)
        self.model = RowsModel(("Line", "Code", "Outcome", *COLUMNS), numeric=(0, 3, 4))
        self.view = table_view(self.model, "impactOutcomes")
        self.progress = ProgressBox()
        self.summary = plain_label(name="impactSummary")
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)

    def wizard_(self) -> ImpactWizard:
        wizard = self.wizard()
        assert isinstance(wizard, ImpactWizard)
        return wizard

    def initializePage(self) -> None:
        from promodesk.services.impact_batch import create_codes

        wizard = self.wizard_()
        account = wizard.start_page.accounts.account()
        assert account is not None
        rows = wizard.ready_rows()
        executor = wizard.hub.executor()
        self.model.set_rows([row_cells(row, "Waiting") for row in rows])
        fit_columns(self.view)
        positions = {id(row): number for number, row in enumerate(rows)}

        def heard(outcome: RowOutcome) -> None:
            words = OUTCOME_WORDS.get(outcome.status, outcome.status)
            detail = "" if outcome.status == "ok" else f": {outcome.message}"
            self.model.replace(positions[id(outcome.row)], row_cells(outcome.row, words + detail))

        async def work(progress: Any) -> list[RowOutcome]:
            return await create_codes(executor, account, rows, progress=progress, on_row=heard)

        wizard.start(
            f"Creating {count_words(len(rows), 'code')} at impact.com",
            work,
            self._ended,
            progress=self.progress,
        )

    def _ended(self, job: Job) -> None:
        wizard = self.wizard_()
        outcomes = self.model.column(STATUS)
        created = sum(1 for text in outcomes if text == "Created")
        refused = sum(1 for text in outcomes if text.startswith("Refused"))
        unknown = sum(1 for text in outcomes if text.startswith("Not known"))
        waiting = sum(1 for text in outcomes if text == "Waiting")
        parts = [f"{count_words(created, 'code')} created"]
        if refused:
            parts.append(f"{refused:,} refused")
        if unknown:
            parts.append(
                f"{unknown:,} not known (running it again finds a code already made: never two)"
            )
        if waiting:
            parts.append(f"{waiting:,} not sent")
        if job.error is not None:
            parts.append(f"stopped: {job.error}")
        self.progress.finish("Stopped" if job.cancelled else "Done")
        self.setTitle("Stopped" if job.cancelled or job.error else "Created")
        self.summary.setText(", ".join(parts) + ".")
        wizard.hub.changed_workspace()

    def ready(self) -> bool:
        return True
