"""Accounts: add, edit, remove and test the vendor accounts promodesk talks to.

The form is built from each vendor's `fields` in the registry. Everything slow (the settings
file, the keychain, the test call) runs as a job on the TaskRunner, so the dialog never freezes
even when the keychain is locked. The built-in Sandbox accounts are shown read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import ProgressFn
from promodesk.domain.vendors import Vendor
from promodesk.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFont,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.services.accounts import (
    Account,
    AccountEntry,
    AccountSettingsError,
    AccountsService,
    ConnectionCheck,
    SavedAccount,
    account_problems,
)
from promodesk.ui.widgets.elided_label import WrappedLabel
from promodesk.ui.widgets.message_bar import MessageBar
from promodesk.ui.widgets.style import secondary_text_style
from promodesk.vendors.registry import VENDORS, Field

if TYPE_CHECKING:
    from promodesk.services.secrets import KeychainStatus
    from promodesk.ui.tasks import Job, TaskRunner

_ACCOUNT_ROLE = Qt.ItemDataRole.UserRole
_OK_STYLE = "color: #1f6b2e;"
_NOTE_STYLE = "color: #7a5200;"  # done, with a caveat: not an error, so not red
_PROBLEM_STYLE = "color: #a11a1a;"

# How settings the registry names for the API read in the form (the stored values stay).
FIELD_WORDS: dict[str, tuple[str, str]] = {
    "response_format": (
        "Response format",
        "How the vendor writes its answers. Both work; JSON is quicker to read.",
    ),
}
CHOICE_WORDS = {"json": "JSON", "xml": "XML"}


class AccountsDialog(QDialog):
    """One list of accounts (sandbox first) beside the form of the selected one."""

    changed = Signal()  # an account was saved or removed

    def __init__(
        self, service: AccountsService, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("accountsDialog")
        self.setWindowTitle("Accounts")
        self.resize(880, 560)
        self.service = service
        self.runner = runner
        self.entries: list[AccountEntry] = []
        self.keychain: KeychainStatus | None = None
        self.editing: Account | None = None  # what the form shows (a new one has no entry yet)
        self.is_new = False
        self.dirty = False
        self._inputs: dict[str, QLineEdit | QComboBox] = {}
        self._loading = False

        self.keychain_bar = MessageBar()
        self.keychain_bar.setObjectName("keychainBar")

        self.account_list = QListWidget()
        self.account_list.setObjectName("accountList")
        self.account_list.setMinimumWidth(240)
        self.account_list.setSpacing(2)
        self.account_list.currentItemChanged.connect(self._selected)
        self.add_button = QToolButton()
        self.add_button.setObjectName("addAccountButton")
        self.add_button.setText("Add account")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        add_menu = QMenu(self.add_button)
        self.add_actions = {}
        for vendor in Vendor:
            action = add_menu.addAction(f"{vendor.display_name} account")
            action.triggered.connect(lambda _=False, v=vendor: self.add_account(v))
            self.add_actions[vendor] = action
        self.add_button.setMenu(add_menu)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("removeAccountButton")
        self.remove_button.clicked.connect(self.confirm_remove)
        self.list_hint = QLabel("Save or revert your changes to switch accounts.")
        self.list_hint.setWordWrap(True)
        self.list_hint.setStyleSheet(secondary_text_style(self))
        self.list_hint.hide()
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        list_buttons.addStretch(1)
        left = QVBoxLayout()
        left.addWidget(self.account_list, 1)
        left.addWidget(self.list_hint)
        left.addLayout(list_buttons)

        self.title = QLabel()
        self.title.setObjectName("accountTitle")
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # an account's name is data
        title_font = QFont(self.title.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.25)
        title_font.setBold(True)
        self.title.setFont(title_font)
        self.sandbox_note = QLabel()
        self.sandbox_note.setObjectName("sandboxNote")
        self.sandbox_note.setWordWrap(True)
        self.sandbox_note.setStyleSheet(
            "background: #eef3fb; border: 1px solid #b7c9e8; border-radius: 4px; padding: 6px;"
        )
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.problems = QLabel()
        self.problems.setObjectName("accountProblems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setStyleSheet(_PROBLEM_STYLE)
        self.problems.hide()
        self.test_result = QLabel()
        self.test_result.setObjectName("testResult")
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)  # vendors' words are data
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # The technical detail of a failed test, one click away.
        self.test_details_button = QToolButton()
        self.test_details_button.setObjectName("testDetailsButton")
        self.test_details_button.setText("Details")
        self.test_details_button.setCheckable(True)
        self.test_details_button.hide()
        self.test_details = QLabel()
        self.test_details.setObjectName("testDetails")
        self.test_details.setTextFormat(Qt.TextFormat.PlainText)
        self.test_details.setWordWrap(True)
        self.test_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_details.setStyleSheet(secondary_text_style(self))
        self.test_details.hide()
        self.test_details_button.toggled.connect(self.test_details.setVisible)
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("testConnectionButton")
        self.test_button.clicked.connect(self.test_connection)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setObjectName("revertAccountButton")
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("saveAccountButton")
        self.save_button.clicked.connect(self.save)
        form_buttons = QHBoxLayout()
        form_buttons.addWidget(self.test_button)
        form_buttons.addStretch(1)
        form_buttons.addWidget(self.revert_button)
        form_buttons.addWidget(self.save_button)
        self.empty_state = QLabel("Loading accounts…")
        self.empty_state.setObjectName("accountsEmptyState")
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_state.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_state.setStyleSheet(secondary_text_style(self))
        right = QVBoxLayout()
        right.addWidget(self.title)
        right.addWidget(self.sandbox_note)
        # The form scrolls when the window is too short for it: squeezed, its help lines
        # were cut and drawn over the next row once a problem or a test result showed.
        self.form_scroll = QScrollArea()
        self.form_scroll.setObjectName("accountFormScroll")
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.form_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to its fields
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(self.form_host)
        right.addWidget(self.form_scroll, 1)
        right.addWidget(self.problems)
        result_row = QHBoxLayout()
        result_row.addWidget(self.test_result, 1)
        result_row.addWidget(self.test_details_button, 0, Qt.AlignmentFlag.AlignTop)
        right.addLayout(result_row)
        right.addWidget(self.test_details)
        right.addLayout(form_buttons)
        self.editor = QWidget()
        self.editor.setObjectName("accountEditor")
        self.editor.setLayout(right)

        columns = QHBoxLayout()
        columns.addLayout(left, 0)
        columns.addWidget(self.editor, 1)
        columns.addWidget(self.empty_state, 1)
        close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close_box.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.keychain_bar)
        layout.addLayout(columns, 1)
        layout.addWidget(close_box)

        self.editor.hide()
        self._update_buttons()
        self.reload()

    # -- loading -------------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> Job:
        """Read the accounts (settings file and keychain, off the GUI thread)."""

        async def work(_progress: ProgressFn) -> tuple[KeychainStatus, list[AccountEntry]]:
            return await self.service.keychain(), await self.service.entries()

        self._loading = True
        self._update_buttons()
        return self.runner.start(
            "Loading accounts",
            work,
            cancellable=False,
            background=True,
            on_done=lambda job: self._loaded(job, select),
        )

    def _loaded(self, job: Job, select: str | None) -> None:
        self._loading = False
        if job.error is not None:
            self.empty_state.setText(f"Could not read the accounts: {job.error}")
            self._update_buttons()
            return
        self.keychain, self.entries = job.result
        self._show_notices()
        current = select or (self.editing.id if self.editing and not self.is_new else None)
        self.account_list.blockSignals(True)
        self.account_list.clear()
        row_to_select = 0
        for entry in self.entries:
            account = entry.account
            item = QListWidgetItem(f"{account.vendor.display_name} · {account.label}")
            item.setData(_ACCOUNT_ROLE, account.id)
            if account.sandbox:
                item.setToolTip("Built in: talks to a fake inside promodesk, no network")
            elif not entry.has_secret:
                item.setToolTip(f"No {VENDORS[account.vendor].secret_field.label.lower()} stored")
            if account.id == current:
                row_to_select = self.account_list.count()
            self.account_list.addItem(item)
        self.account_list.blockSignals(False)
        self.account_list.setCurrentRow(row_to_select)
        self._selected(self.account_list.currentItem(), None)
        self._update_buttons()

    def _show_notices(self) -> None:
        notices = []
        status = self.keychain
        if status is not None and not status.persistent:
            notices.append(
                f"Secrets cannot be stored on this computer ({status.reason}). API keys and "
                "tokens you enter are kept only until promodesk closes; nothing is written to "
                "disk."
            )
        if self.service.store.notice:
            notices.append(self.service.store.notice)
        if notices:
            self.keychain_bar.show_message("warning", " ".join(notices))
        else:
            self.keychain_bar.dismiss()

    def entry(self, account_id: str) -> AccountEntry | None:
        return next((e for e in self.entries if e.account.id == account_id), None)

    # -- the form ------------------------------------------------------------------------------

    def _selected(self, item: QListWidgetItem | None, _previous: Any) -> None:
        if item is None:
            self.editing = None
            self._show_form()
            return
        entry = self.entry(str(item.data(_ACCOUNT_ROLE)))
        if entry is not None:
            self.editing, self.is_new = entry.account, False
            self._show_form()

    def add_account(self, vendor: Vendor) -> None:
        taken = {e.account.name for e in self.entries if e.account.vendor is vendor}
        name, number = f"{vendor.display_name}", 1
        while name in taken or name == "Sandbox":
            number += 1
            name = f"{vendor.display_name} {number}"
        self.editing, self.is_new = Account(vendor=vendor, name=name), True
        self.account_list.blockSignals(True)
        self.account_list.clearSelection()
        self.account_list.setCurrentItem(None)
        self.account_list.blockSignals(False)
        self._show_form()
        self._set_dirty(True)
        name_input = self._inputs["name"]
        name_input.setFocus()
        if isinstance(name_input, QLineEdit):
            name_input.selectAll()

    def _show_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._inputs.clear()
        self.problems.hide()
        self._clear_result()
        account = self.editing
        self.editor.setVisible(account is not None)
        self.empty_state.setVisible(account is None)
        if account is None:
            if not self._loading:
                self.empty_state.setText("Choose an account, or add one with Add account.")
            self._set_dirty(False)
            return
        info = VENDORS[account.vendor]
        vendor_name = account.vendor.display_name
        if self.is_new:
            self.title.setText(f"New {vendor_name} account")
        else:
            self.title.setText(f"{vendor_name} · {account.label}")
        self.sandbox_note.setVisible(account.sandbox)
        self.sandbox_note.setText(
            f"The built-in sandbox talks to a fake {vendor_name} inside promodesk: no network, "
            "no credentials, nothing leaves this computer. Its data lasts until promodesk "
            "closes. Use it to try every operation safely."
        )
        read_only = account.sandbox
        name = QLineEdit(account.name)
        name.textEdited.connect(lambda _text: self._set_dirty(True))
        name.returnPressed.connect(self.save)
        self._add_row("name", "Name", name, "How this account is shown in promodesk.", read_only)
        entry = self.entry(account.id)
        for field in info.fields:
            widget = self._input_for(field, account, entry)
            label, help_text = FIELD_WORDS.get(field.key, (field.label, field.help))
            self._add_row(field.key, label, widget, help_text, read_only)
        self._set_dirty(False)

    def _input_for(
        self, field: Field, account: Account, entry: AccountEntry | None
    ) -> QLineEdit | QComboBox:
        if field.kind == "choice":
            combo = QComboBox()
            for choice in field.choices:
                combo.addItem(CHOICE_WORDS.get(choice, choice), choice)
            value = account.settings.get(field.key) or field.choices[0]
            combo.setCurrentIndex(max(0, combo.findData(value)))
            combo.currentIndexChanged.connect(lambda _index: self._set_dirty(True))
            return combo
        line = QLineEdit()
        line.setClearButtonEnabled(not account.sandbox)
        if field.secret:
            line.setEchoMode(QLineEdit.EchoMode.Password)
            line.setPlaceholderText(self._secret_placeholder(field, account, entry))
        else:
            line.setText(account.settings.get(field.key, ""))
            optional = "" if field.required else "Optional. "
            line.setPlaceholderText(f"{optional}{field.placeholder}".strip())
        line.textEdited.connect(lambda _text: self._set_dirty(True))
        line.returnPressed.connect(self.save)
        return line

    def _secret_placeholder(
        self, field: Field, account: Account, entry: AccountEntry | None
    ) -> str:
        if account.sandbox:
            return "Built in"
        if entry is not None and entry.has_secret:
            where = (
                "Stored in the keychain"
                if self.keychain and self.keychain.persistent
                else "Kept for this session only"
            )
            return f"{where} — type to replace"
        return f"Paste the {field.label.lower()}"

    def _add_row(
        self, key: str, label: str, widget: QLineEdit | QComboBox, help_text: str, read_only: bool
    ) -> None:
        widget.setObjectName(f"field_{key}")
        if isinstance(widget, QLineEdit):
            widget.setReadOnly(read_only)
        else:
            widget.setEnabled(not read_only)
        self._inputs[key] = widget
        column = QVBoxLayout()
        column.setSpacing(2)
        column.addWidget(widget)
        if help_text:
            hint = WrappedLabel(help_text)
            hint.setObjectName(f"help_{key}")
            hint.setStyleSheet(secondary_text_style(self))
            column.addWidget(hint)
        caption = QLabel(f"{label}:")
        caption.setBuddy(widget)
        self.form.addRow(caption, column)

    def _clear_result(self) -> None:
        self.test_result.clear()
        self.test_details.clear()
        self.test_details_button.setChecked(False)
        self.test_details_button.hide()

    def value(self, key: str) -> str:
        widget = self._inputs[key]
        text = str(widget.currentData()) if isinstance(widget, QComboBox) else widget.text()
        return text.strip()

    def form_account(self) -> tuple[Account, str | None]:
        """The account as typed in the form, and the secret if a new one was typed."""
        assert self.editing is not None
        info = VENDORS[self.editing.vendor]
        settings = {
            field.key: self.value(field.key)
            for field in info.fields
            if not field.secret and self.value(field.key)
        }
        if self.editing.sandbox:
            return self.editing, None
        account = self.editing.model_copy(update={"name": self.value("name"), "settings": settings})
        return account, self.value(info.secret_field.key) or None

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty and self.editing is not None and not self.editing.sandbox
        if self.dirty:
            # (what was wrong may be mended now: the next Save checks again)
            self.problems.hide()
            self._clear_result()
        self._update_buttons()

    def _update_buttons(self) -> None:
        account = self.editing
        editable = account is not None and not account.sandbox
        self.account_list.setEnabled(not self.dirty and not self._loading)
        self.list_hint.setVisible(self.dirty)
        self.add_button.setEnabled(not self.dirty and not self._loading)
        self.remove_button.setEnabled(editable and not self.is_new and not self.dirty)
        self.save_button.setEnabled(editable and self.dirty)
        self.save_button.setDefault(editable and self.dirty)
        self.revert_button.setEnabled(editable and self.dirty)
        self.revert_button.setText("Discard" if self.is_new else "Revert")
        self.test_button.setEnabled(account is not None)

    def _show_problems(self, problems: list[str]) -> None:
        self.problems.setText("Please fix: " + "; ".join(problems) + ".")
        self.problems.setVisible(bool(problems))

    # -- actions -------------------------------------------------------------------------------

    def revert(self) -> None:
        if self.is_new:
            self.editing, self.is_new = None, False
            self.account_list.setCurrentRow(0)
            self._selected(self.account_list.currentItem(), None)
        else:
            self._show_form()

    def save(self) -> Job | None:
        if not self.dirty or self.editing is None:
            return None
        account, secret = self.form_account()
        if self.is_new and not secret:
            # Every problem at once, not the missing secret alone.
            self._show_problems(account_problems(account, secret, new=True))
            return None
        self.save_button.setEnabled(False)

        async def work(_progress: ProgressFn) -> SavedAccount | AccountSettingsError:
            try:
                return await self.service.save(account, secret)
            except AccountSettingsError as problems:  # the form shows them; not a failure
                return problems

        return self.runner.start(
            f"Saving {account.name}", work, cancellable=False, on_done=self._saved
        )

    def _saved(self, job: Job) -> None:
        if isinstance(job.result, AccountSettingsError):
            self._show_problems(job.result.problems)
            self._update_buttons()
            return
        if job.error is not None:
            self._show_problems([f"could not save the account: {job.error}"])
            self._update_buttons()
            return
        saved: SavedAccount = job.result
        self.editing, self.is_new, self.dirty = saved.account, False, False
        self.changed.emit()
        self.reload(select=saved.account.id).finished.connect(lambda: self._after_save(saved))

    def _after_save(self, saved: SavedAccount) -> None:
        if saved.secret_persistent is False:
            self.test_result.setStyleSheet(_NOTE_STYLE)
            self.test_result.setText(
                "Saved. The secret is kept only until promodesk closes (no keychain)."
            )
        else:
            self.test_result.setStyleSheet(_OK_STYLE)
            self.test_result.setText("Saved.")

    def test_connection(self) -> Job | None:
        if self.editing is None:
            return None
        account, secret = self.form_account()
        self.test_button.setEnabled(False)
        self.test_result.setStyleSheet("")
        self.test_result.setText(f"Connecting to {account.vendor.display_name}…")

        async def work(_progress: ProgressFn) -> ConnectionCheck:
            return await self.service.check(account, secret)

        return self.runner.start(
            f"Testing {account.label}", work, background=True, on_done=self._tested
        )

    def _tested(self, job: Job) -> None:
        self._update_buttons()
        if job.cancelled:
            self._clear_result()
            return
        check: ConnectionCheck | None = job.result
        ok = check is not None and check.ok
        text = check.message if check is not None else f"Could not connect: {job.error}"
        self.test_result.setStyleSheet(_OK_STYLE if ok else _PROBLEM_STYLE)
        self.test_result.setText(("✓ " if ok else "✗ ") + text)
        details = check.details if check is not None else ""
        self.test_details.setText(details)
        self.test_details_button.setChecked(False)
        self.test_details_button.setVisible(bool(details) and not ok)

    def confirm_remove(self) -> QMessageBox | None:
        account = self.editing
        if account is None or account.sandbox or self.is_new:
            return None
        box = QMessageBox(self)
        box.setObjectName("confirmRemoveAccount")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove account")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(f"Remove the {account.vendor.display_name} account “{account.name}”?")
        box.setInformativeText(
            "Its settings and its stored secret are deleted from this computer. Nothing changes "
            f"in {account.vendor.display_name}."
        )
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _result: box.clickedButton() is remove and self.remove(account))
        box.open()
        return box

    def remove(self, account: Account) -> Job:
        async def work(_progress: ProgressFn) -> None:
            await self.service.remove(account)

        def removed(job: Job) -> None:
            if job.error is not None:
                self._show_problems([f"could not remove the account: {job.error}"])
                return
            self.editing = None
            self.changed.emit()
            self.reload()

        return self.runner.start(
            f"Removing {account.name}", work, cancellable=False, on_done=removed
        )

    def reject(self) -> None:
        """Close; unsaved edits are kept in the form only until then, so say so first."""
        if not self.dirty:
            super().reject()
            return
        box = QMessageBox(self)
        box.setObjectName("unsavedAccount")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Unsaved changes")
        box.setText("Save the changes to this account before closing?")
        box.setStandardButtons(
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel
        )
        box.setDefaultButton(QMessageBox.StandardButton.Save)

        def answered(_result: int) -> None:
            choice = box.standardButton(box.clickedButton())
            if choice == QMessageBox.StandardButton.Save:
                job = self.save()
                if job is not None:
                    job.finished.connect(lambda: None if self.dirty else QDialog.reject(self))
            elif choice == QMessageBox.StandardButton.Discard:
                self.dirty = False
                QDialog.reject(self)

        box.finished.connect(answered)
        box.open()
