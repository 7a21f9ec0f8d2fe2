"""Create ▸ Export allocations…: which codes went to which customers, as Optimove's own CSV.

By promocode or by one of its code files, from the workspace (offline) or from the live
account (through the executor, so it is on record). Exactly the nine columns `customerId,
promocodeId, promotionId, fileId, uniqueCode, timestamp, occurenceId, seriesId, actionId`,
streamed into a temporary file beside the target and renamed at the end, so a failed or
cancelled export never leaves a half file under the name chosen. "Safe for spreadsheets" is on
by default; a byte order mark for Excel is optional.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.domain.records import ALLOCATION_COLUMNS
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizard,
)
from promodesk.ui.wizards.common import (
    AccountPicker,
    PathField,
    ProgressBox,
    WizardBase,
    WizardPageBase,
    buttons_row,
    count_words,
    offer_choices,
    plain_label,
)

if TYPE_CHECKING:
    from promodesk.ui.tasks import Job
    from promodesk.ui.wizards import Wizards

SCOPE_PAGE, SAVE_PAGE, RUN_PAGE = range(3)


class AllocationExportWizard(WizardBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__(hub, "Export allocations", "allocationExportWizard")
        self.rows = 0
        self.scope_page = ScopePage(hub)
        self.save_page = SavePage()
        self.run_page = RunPage()
        self.setPage(SCOPE_PAGE, self.scope_page)
        self.setPage(SAVE_PAGE, self.save_page)
        self.setPage(RUN_PAGE, self.run_page)

    def promocode(self) -> str:
        page = self.scope_page
        data = page.promocode.currentData()
        text = page.promocode.currentText().strip()
        # An item's text says how many allocations it has; its data is the bare ID.
        return (
            str(data)
            if data and page.promocode.itemText(page.promocode.currentIndex()) == text
            else text
        )

    def file_id(self) -> str | None:
        page = self.scope_page
        if not page.one_file.isChecked():
            return None
        return str(page.file.currentData() or page.file.currentText()).strip() or None


class ScopePage(WizardPageBase):
    def __init__(self, hub: Wizards) -> None:
        super().__init__()
        self.hub = hub
        self.setTitle("Which allocations")
        self.setSubTitle("Every code given to a customer, with the campaign that gave it.")
        self.offline = QRadioButton("From this workspace (works offline)")
        self.offline.setObjectName("fromWorkspace")
        self.live = QRadioButton("From Optimove now (the live account)")
        self.live.setObjectName("fromOptimove")
        sources = QButtonGroup(self)
        sources.addButton(self.offline)
        sources.addButton(self.live)
        self.offline.setChecked(True)
        self.accounts = AccountPicker(hub, Vendor.OPTIMOVE)
        self.accounts.setEnabled(False)
        self.promocode = QComboBox()
        self.promocode.setObjectName("exportPromocode")
        self.promocode.setEditable(True)
        self.promocode.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.promocode.lineEdit().setPlaceholderText("The promocode's ID")
        self.whole = QRadioButton("All of the promocode's allocations")
        self.whole.setObjectName("wholePromocode")
        self.one_file = QRadioButton("Only the codes of one code file:")
        self.one_file.setObjectName("oneFile")
        scopes = QButtonGroup(self)
        scopes.addButton(self.whole)
        scopes.addButton(self.one_file)
        self.whole.setChecked(True)
        self.file = QComboBox()
        self.file.setObjectName("exportFile")
        self.file.setEditable(True)
        self.file.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.file.setEnabled(False)
        self.one_file.toggled.connect(self.file.setEnabled)
        self.live.toggled.connect(self.accounts.setEnabled)
        for signal in (self.live.toggled, self.accounts.currentIndexChanged):
            signal.connect(lambda *_: self._load_promocodes())
        self.promocode.editTextChanged.connect(lambda _: self._load_files())
        for signal in (
            self.promocode.editTextChanged,
            self.file.editTextChanged,
            self.one_file.toggled,
        ):
            signal.connect(self.changed)
        self.promocode.editTextChanged.connect(lambda _: self._describe())
        self.file.editTextChanged.connect(lambda _: self._describe())
        self.one_file.toggled.connect(lambda _: self._describe())
        self.counts: dict[str, int] = {}
        self._files_asked = 0
        self.files: dict[str, tuple[str, int]] = {}
        self.described = plain_label(secondary=True, name="exportScopeNote")
        form = QFormLayout()
        form.addRow("Account:", self.accounts)
        form.addRow("Promocode:", self.promocode)
        layout = QVBoxLayout(self)
        layout.addWidget(self.offline)
        layout.addWidget(self.live)
        layout.addLayout(form)
        layout.addWidget(self.whole)
        layout.addWidget(self.one_file)
        layout.addWidget(self.file)
        layout.addWidget(self.described)
        layout.addStretch(1)
        self._load_promocodes()

    def _describe(self) -> None:
        """How many allocations the workspace holds for what is chosen (the live account may
        have more)."""
        promocode = self.promocode.currentText().strip()
        if not promocode:
            self.described.setText("")
            return
        if self.one_file.isChecked():
            file_id = self.file.currentText().strip()
            name, count = self.files.get(file_id, ("", 0))
            what = f"code file {name or file_id}" if file_id else "the chosen code file"
        else:
            count, what = self.counts.get(promocode, 0), f"promocode {promocode}"
        where = "in this workspace" if self.offline.isChecked() else "in this workspace so far"
        self.described.setText(f"{count_words(count, 'allocation')} of {what} {where}.")

    def _load_promocodes(self) -> None:
        live = self.live.isChecked()
        account = self.accounts.account()
        key = account.id if account is not None else ""

        def read(conn: Any) -> list[tuple[str, int]]:
            if live:
                sql = (
                    "SELECT p.promocode_id, p.allocation_count FROM optimove_promocodes p JOIN "
                    "accounts a ON a.id = p.account_id WHERE a.vendor = 'optimove' AND a.key = ? "
                    "ORDER BY p.promocode_id"
                )
                return [(str(p), int(n)) for p, n in conn.execute(sql, (key,))]
            return [
                (str(p), int(n))
                for p, n in conn.execute(
                    "SELECT promocode_id, sum(allocations) FROM optimove_allocation_counts "
                    "GROUP BY promocode_id ORDER BY promocode_id"
                )
            ]

        def fill(found: list[tuple[str, int]] | None) -> None:
            self.counts = dict(found or [])
            offer_choices(self.promocode, [promocode for promocode, _count in found or []])
            self._describe()
            self.changed()

        self.hub.read(read, fill)

    def _load_files(self) -> None:
        wizard = self.wizard()
        promocode = wizard.promocode() if isinstance(wizard, AllocationExportWizard) else ""
        self._files_asked += 1
        asked = self._files_asked  # typing asks again: only the newest answer counts

        def read(conn: Any) -> list[tuple[str, str, int]]:
            return [
                (str(file_id), str(name or ""), int(count))
                for file_id, name, count in conn.execute(
                    "SELECT c.file_id, (SELECT f.file_name FROM optimove_code_files f "
                    "WHERE f.file_id = c.file_id LIMIT 1), sum(c.allocations) "
                    "FROM optimove_allocation_counts c WHERE c.promocode_id = ? "
                    "GROUP BY c.file_id ORDER BY c.file_id",
                    (promocode,),
                )
            ]

        def fill(files: list[tuple[str, str, int]] | None) -> None:
            if asked != self._files_asked:
                return
            self.files = {file_id: (name, count) for file_id, name, count in files or []}
            self.file.blockSignals(True)
            self.file.clear()
            self.file.addItems(list(self.files))
            self.file.blockSignals(False)
            self._describe()
            self.changed()

        self.hub.read(read, fill)

    def ready(self) -> bool:
        wizard = self.wizard()
        if not isinstance(wizard, AllocationExportWizard) or not wizard.promocode():
            return False
        if self.live.isChecked() and self.accounts.account() is None:
            return False
        return not self.one_file.isChecked() or wizard.file_id() is not None


class SavePage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Save as")
        self.setSubTitle(
            "Optimove's own columns: " + ", ".join(ALLOCATION_COLUMNS) + " (spelled as "
            "Optimove spells them)."
        )
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Export")
        self.target = PathField(save=True, name="exportTarget")
        self.target.changed.connect(self._target_changed)
        self.safe = QCheckBox("Safe for spreadsheets (recommended)")
        self.safe.setObjectName("spreadsheetSafe")
        self.safe.setChecked(True)
        self.bom = QCheckBox("For Excel on Windows (a byte order mark)")
        self.bom.setObjectName("withBom")
        self.replace_note = plain_label(secondary=True, name="replaceNote")
        form = QFormLayout()
        form.addRow("Save as:", self.target)
        form.addRow("", self.replace_note)
        form.addRow("", self.safe)
        form.addRow(
            "",
            plain_label(
                "A value starting with = + - @ gets a ' in front, so a spreadsheet shows it as "
                "text instead of running it as a formula.",
                secondary=True,
            ),
        )
        form.addRow("", self.bom)
        form.addRow(
            "",
            plain_label(
                "Excel on Windows reads the file as UTF-8 only with it; other programs do not "
                "need it.",
                secondary=True,
            ),
        )
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(
            plain_label(
                "The file is written under a temporary name and renamed when complete: a "
                "failed or cancelled export leaves no half file.",
                secondary=True,
            )
        )
        layout.addStretch(1)

    def initializePage(self) -> None:
        wizard = self.wizard()
        assert isinstance(wizard, AllocationExportWizard)
        if self.target.path() is None:
            suffix = f"-{wizard.file_id()}" if wizard.file_id() else ""
            self.target.set_path(Path.home() / f"{wizard.promocode()}{suffix}-allocations.csv")

    def _target_changed(self) -> None:
        path = self.target.path()
        self.replace_note.setText(
            f"{path.name} exists: it is replaced when the export is complete."
            if path is not None and path.exists()
            else ""
        )
        self.changed()

    def ready(self) -> bool:
        path = self.target.path()
        return path is not None and path.parent.is_dir()


class RunPage(WizardPageBase):
    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Exporting")
        self.setSubTitle("Written under a temporary name, renamed when complete.")
        self.setFinalPage(True)
        self.progress = ProgressBox()
        self.summary = plain_label(name="exportSummary")
        self.show_folder = QPushButton("Show in folder")
        self.show_folder.setObjectName("showFolder")
        self.show_folder.clicked.connect(self.open_folder)
        self.show_folder.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.summary)
        layout.addLayout(buttons_row(self.show_folder))
        layout.addStretch(1)

    def wizard_(self) -> AllocationExportWizard:
        wizard = self.wizard()
        assert isinstance(wizard, AllocationExportWizard)
        return wizard

    def initializePage(self) -> None:
        from promodesk.services.codes import (
            export_live_allocations,
            export_workspace_allocations_async,
        )
        from promodesk.store.allocation_export import AllocationScope

        wizard = self.wizard_()
        scope = AllocationScope(wizard.promocode(), wizard.file_id())
        target = wizard.save_page.target.path()
        assert target is not None
        safe = wizard.save_page.safe.isChecked()
        bom = wizard.save_page.bom.isChecked()
        workspace = wizard.hub.workspace
        assert workspace is not None
        live = wizard.scope_page.live.isChecked()
        account = wizard.scope_page.accounts.account()
        executor = wizard.hub.executor() if live else None

        async def work(progress: Any) -> int:
            if live:
                return await export_live_allocations(
                    executor,
                    account,
                    scope,
                    target,
                    spreadsheet_safe=safe,
                    bom=bom,
                    progress=progress,
                )
            return await export_workspace_allocations_async(
                workspace, scope, target, spreadsheet_safe=safe, bom=bom, progress=progress
            )

        self.target = target
        wizard.start(f"Exporting to {target.name}", work, self._ended, progress=self.progress)

    def _ended(self, job: Job) -> None:
        target = self.target
        if job.cancelled:
            self.progress.finish("Stopped")
            self.summary.setText(f"Stopped: nothing was written, {target.name} is as it was.")
        elif job.error is not None:
            self.progress.finish("Stopped")
            self.summary.setText(f"Could not export: {job.error}. Nothing was written.")
        else:
            rows: int = job.result
            self.wizard_().rows = rows
            self.progress.finish("Done")
            self.setTitle("Exported")
            self.summary.setText(f"Saved {count_words(rows, 'allocation')} to {target}.")
            self.show_folder.show()

    def open_folder(self) -> None:
        from promodesk.qt import QDesktopServices, QUrl

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.target.parent)))

    def ready(self) -> bool:
        return True
