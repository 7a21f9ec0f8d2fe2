"""The Accounts dialog, driven by clicks and typing: the sandbox accounts, a real impact.com
account against the sandbox served on a loopback socket, validation, removal, the keychain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest

from promodesk.domain.vendors import Vendor
from promodesk.qt import QApplication, QLineEdit, QMessageBox, Qt
from promodesk.services.accounts import Account, AccountsService, AccountStore
from promodesk.ui.dialogs.accounts import AccountsDialog
from promodesk.ui.main_window import MainWindow
from tests.integration.conftest import loopback  # noqa: F401  (a fixture)

WRONG_TOKEN = "not-the-right-token-7781"


class DictKeyring(keyring.backend.KeyringBackend):
    """A keyring backend that keeps secrets in a dict: keyring's own API, nothing of ours."""

    priority = 1  # type: ignore[assignment]
    viable = False  # keyring's discovery must not pick it up in other tests; set_keyring() only

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.values.pop((service, username), None)


@pytest.fixture
def main(qtbot: Any, windows: Any, tmp_path: Path) -> MainWindow:
    window: MainWindow = windows(tmp_path)
    window.show()
    return window


def open_accounts(qtbot: Any, window: MainWindow) -> AccountsDialog:
    dialog = window.show_accounts()
    qtbot.waitUntil(
        lambda: dialog.account_list.count() >= 3 and not dialog._loading, timeout=10_000
    )
    return dialog


def items(dialog: AccountsDialog) -> list[str]:
    return [dialog.account_list.item(row).text() for row in range(dialog.account_list.count())]


def type_into(qtbot: Any, dialog: AccountsDialog, key: str, text: str) -> None:
    field = dialog._inputs[key]
    assert isinstance(field, QLineEdit)
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClicks(field, text)


def test_the_sandbox_accounts_are_listed_read_only_and_connect(
    qtbot: Any, main: MainWindow
) -> None:
    main.accounts_action.trigger()
    dialog = main.accounts_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.account_list.count() == 3, timeout=10_000)
    assert items(dialog) == [
        "Optimove · Sandbox",
        "Altcraft · Sandbox",
        "impact.com · Sandbox",
    ]
    # In-memory keychain (tests): the dialog says secrets last for this session only.
    assert dialog.keychain_bar.isVisible()
    assert "kept only until promodesk closes" in dialog.keychain_bar.text.text()

    for row, vendor in enumerate(Vendor):
        dialog.account_list.setCurrentRow(row)
        assert dialog.sandbox_note.isVisible()
        assert "no network" in dialog.sandbox_note.text()
        base_url = dialog._inputs["base_url"]
        assert isinstance(base_url, QLineEdit) and base_url.isReadOnly()
        assert not dialog.remove_button.isEnabled()
        assert not dialog.save_button.isEnabled()
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "✓" in dialog.test_result.text(), timeout=10_000)
        assert f"Connected to {vendor.display_name} in" in dialog.test_result.text()


def test_an_impact_account_over_loopback_is_tested_saved_and_its_token_kept_out_of_files(
    qtbot: Any,
    main: MainWindow,
    tmp_path: Path,
    loopback: Any,  # noqa: F811
) -> None:
    urls, _sandbox = loopback
    impact = urls["impact"]
    dialog = open_accounts(qtbot, main)
    dialog.add_actions[Vendor.IMPACT].trigger()
    assert dialog.title.text() == "New impact.com account"
    assert not dialog.account_list.isEnabled()  # unsaved: switching is blocked until saved
    assert dialog.list_hint.isVisible()
    type_into(qtbot, dialog, "name", "Brand EU")
    type_into(qtbot, dialog, "base_url", impact["base_url"])
    type_into(qtbot, dialog, "account_sid", impact["account_sid"])
    type_into(qtbot, dialog, "auth_token", WRONG_TOKEN)

    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "✗" in dialog.test_result.text(), timeout=15_000)
    refused = dialog.test_result.text()
    assert "credentials were refused" in refused
    assert WRONG_TOKEN not in refused

    type_into(qtbot, dialog, "auth_token", impact["auth_token"])
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "✓" in dialog.test_result.text(), timeout=15_000)
    assert "Connected to impact.com" in dialog.test_result.text()

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith("Saved"), timeout=10_000)
    assert "impact.com · Brand EU" in items(dialog)
    assert dialog.account_list.currentItem().text() == "impact.com · Brand EU"
    assert dialog.account_list.isEnabled() and dialog.remove_button.isEnabled()
    secret_field = dialog._inputs["auth_token"]
    assert isinstance(secret_field, QLineEdit)
    assert secret_field.text() == ""
    assert secret_field.placeholderText() == "Kept for this session only — type to replace"

    saved = (tmp_path / "accounts.json").read_text(encoding="utf-8")
    assert impact["auth_token"] not in saved and WRONG_TOKEN not in saved
    stored = json.loads(saved)["accounts"]
    assert [a["name"] for a in stored] == ["Brand EU"]
    assert stored[0]["settings"]["base_url"] == impact["base_url"]

    # Testing again without retyping uses the stored secret and the account's one client.
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "✓" in dialog.test_result.text(), timeout=15_000)


def test_bad_settings_are_listed_in_the_form_and_nothing_is_saved(
    qtbot: Any, main: MainWindow, tmp_path: Path
) -> None:
    dialog = open_accounts(qtbot, main)
    dialog.add_actions[Vendor.ALTCRAFT].trigger()
    type_into(qtbot, dialog, "base_url", "altcraft.example.com")
    type_into(qtbot, dialog, "loyalty_id", "five")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.problems.isVisible()
    # Every problem at once, not the missing token alone.
    assert dialog.problems.text() == (
        "Please fix: API base URL must start with https://; Loyalty program ID must be a "
        "number; API token is required."
    )

    type_into(qtbot, dialog, "token", "some-token")
    assert not dialog.problems.isVisible()  # (an edit may have mended it: Save checks again)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.problems.isVisible, timeout=10_000)
    assert dialog.problems.text() == (
        "Please fix: API base URL must start with https://; Loyalty program ID must be a number."
    )
    assert not (tmp_path / "accounts.json").exists()
    assert dialog.save_button.isEnabled()  # fix and save again

    qtbot.mouseClick(dialog.revert_button, Qt.MouseButton.LeftButton)  # "Discard" for a new one
    assert dialog.account_list.isEnabled()
    assert dialog.account_list.currentRow() == 0


@pytest.fixture
def saved_account(tmp_path: Path) -> Account:
    account = Account(
        vendor=Vendor.OPTIMOVE,
        name="Casino prod",
        settings={"base_url": "https://optipromo.example.com", "tenant": "acme"},
    )
    AccountStore(tmp_path / "accounts.json").put(account)
    return account


def test_removing_an_account_asks_first_then_deletes_settings_and_secret(
    qtbot: Any, main: MainWindow, tmp_path: Path, saved_account: Account
) -> None:
    dialog = open_accounts(qtbot, main)
    assert items(dialog)[-1] == "Optimove · Casino prod"
    dialog.account_list.setCurrentRow(3)
    assert dialog._inputs["tenant"].text() == "acme"  # type: ignore[union-attr]
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    box = dialog.findChild(QMessageBox, "confirmRemoveAccount")
    assert box is not None and box.isVisible()
    assert "Casino prod" in box.text()
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert "Optimove · Casino prod" in items(dialog)

    box = dialog.confirm_remove()
    assert box is not None
    remove = next(b for b in box.buttons() if b.text() == "Remove")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Optimove · Casino prod" not in items(dialog), timeout=10_000)
    assert json.loads((tmp_path / "accounts.json").read_text())["accounts"] == []


def test_with_a_working_keychain_the_secret_goes_there_and_no_warning_shows(
    qtbot: Any,
    main: MainWindow,
    tmp_path: Path,
    saved_account: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = DictKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.delenv("PROMODESK_KEYRING")
    try:
        dialog = open_accounts(qtbot, main)
        assert not dialog.keychain_bar.isVisible()
        dialog.account_list.setCurrentRow(3)
        type_into(qtbot, dialog, "api_key", "opti-key-123456")
        qtbot.keyClick(dialog._inputs["api_key"], Qt.Key.Key_Return)  # Enter saves
        qtbot.waitUntil(lambda: dialog.test_result.text() == "Saved.", timeout=10_000)
        assert backend.values == {("promodesk", saved_account.id): "opti-key-123456"}
        secret_field = dialog._inputs["api_key"]
        assert secret_field.placeholderText() == (  # type: ignore[union-attr]
            "Stored in the keychain — type to replace"
        )
        assert "opti-key-123456" not in (tmp_path / "accounts.json").read_text()
    finally:
        keyring.set_keyring(previous)


def test_closing_with_unsaved_changes_asks_and_discard_closes(
    qtbot: Any, main: MainWindow, tmp_path: Path, saved_account: Account
) -> None:
    dialog = open_accounts(qtbot, main)
    dialog.account_list.setCurrentRow(3)
    type_into(qtbot, dialog, "name", "Casino staging")
    assert dialog.dirty and dialog.save_button.isEnabled()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    box = dialog.findChild(QMessageBox, "unsavedAccount")
    assert box is not None and box.isVisible()
    assert dialog.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Discard), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    QApplication.processEvents()
    names = [a.name for a in AccountStore(tmp_path / "accounts.json").load()]
    assert names == ["Casino prod"]


async def test_the_window_closes_each_account_client_on_shutdown(tmp_path: Path) -> None:
    service = AccountsService(AccountStore(tmp_path / "accounts.json"))
    sandbox = (await service.entries())[0].account
    client = await service.connections.client(sandbox)
    assert (await service.check(sandbox)).ok
    assert await service.connections.client(sandbox) is client  # made once, reused
    await service.aclose()
    assert client.http.client.is_closed  # type: ignore[attr-defined]


def test_a_damaged_accounts_file_is_kept_aside_and_said_so(
    qtbot: Any, main: MainWindow, tmp_path: Path
) -> None:
    damaged = '{"accounts": [{"vendor": "optimove", "name": "Casino prod",\n  "settings": {]}\n'
    (tmp_path / "accounts.json").write_text(damaged, encoding="utf-8")
    dialog = open_accounts(qtbot, main)
    notice = dialog.keychain_bar.text.text()
    assert "accounts.json could not be read (line 2:" in notice
    kept = list(tmp_path.glob("accounts.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == damaged
    assert kept[0].name in notice
    assert items(dialog) == ["Optimove · Sandbox", "Altcraft · Sandbox", "impact.com · Sandbox"]


def test_an_address_that_does_not_resolve_is_said_in_words_with_details_a_click_away(
    qtbot: Any, main: MainWindow
) -> None:
    dialog = open_accounts(qtbot, main)
    dialog.add_actions[Vendor.IMPACT].trigger()
    type_into(qtbot, dialog, "base_url", "https://api.nowhere.invalid")  # RFC 2606: never
    type_into(qtbot, dialog, "account_sid", "IRabc123")
    type_into(qtbot, dialog, "auth_token", "some-token-for-the-test")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "✗" in dialog.test_result.text(), timeout=30_000)
    assert dialog.test_result.text() == (
        "✗ Could not reach api.nowhere.invalid: the name does not resolve — check the "
        "address or your connection"
    )
    assert dialog.test_details_button.isVisible() and not dialog.test_details.isVisible()
    qtbot.mouseClick(dialog.test_details_button, Qt.MouseButton.LeftButton)
    assert dialog.test_details.isVisible()
    assert "could not connect" in dialog.test_details.text()  # what httpx said, verbatim


def test_the_form_speaks_plainly_and_can_be_read(qtbot: Any, main: MainWindow) -> None:
    from promodesk.qt import QColor, QComboBox, QLabel, QPalette
    from promodesk.ui.widgets.style import contrast

    dialog = open_accounts(qtbot, main)
    dialog.add_actions[Vendor.ALTCRAFT].trigger()
    captions = [label.text() for label in dialog.form_host.findChildren(QLabel)]
    assert "Response format:" in captions and "Answers in:" not in captions
    combo = dialog._inputs["response_format"]
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(n) for n in range(combo.count())] == ["JSON", "XML"]
    combo.setCurrentIndex(1)
    assert dialog.form_account()[0].settings["response_format"] == "xml"  # stored as before
    background = dialog.palette().color(QPalette.ColorRole.Window)
    helps = [
        label
        for label in dialog.form_host.findChildren(QLabel)
        if label.objectName().startswith("help_")
    ]
    assert helps
    for label in helps:
        color = QColor(label.styleSheet().split(":")[1].strip(" ;"))
        assert contrast(color, background) >= 4.5, label.text()


def test_saved_with_a_session_only_secret_is_not_shown_as_an_error(
    qtbot: Any, main: MainWindow
) -> None:
    from promodesk.qt import QColor

    dialog = open_accounts(qtbot, main)
    dialog.add_actions[Vendor.OPTIMOVE].trigger()
    type_into(qtbot, dialog, "base_url", "https://api.example.com")
    type_into(qtbot, dialog, "api_key", "a-key-for-the-test")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith("Saved"), timeout=10_000)
    assert "only until promodesk closes" in dialog.test_result.text()
    color = QColor(dialog.test_result.styleSheet().split(":")[1].strip(" ;"))
    assert not (color.red() > 2 * color.green()), "shown in red, as if it had failed"
