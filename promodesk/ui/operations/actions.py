"""A panel's operations, generated from its vendor's table: one action per operation, menus
per group (the toolbar's buttons and the window's vendor menu), the rows' context menus,
and each action enabled or not with the reason in its tooltip.

An operation with a target acts on the selected row of the table it names (its inputs filled
from the row); a bulk operation on several selected rows goes through the bulk review; an
operation without a target opens its form, filled from what is selected where a field and a
column share a name (the selected program's ID, the promotion a new promocode belongs to).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from promodesk.qt import QAction, QMenu, QObject, QTimer, QToolButton
from promodesk.store.query import fetch_row
from promodesk.ui.models.formatting import plural
from promodesk.ui.operations.fields import fields_of

if TYPE_CHECKING:
    import sqlite3

    from promodesk.services.operations.base import Operation
    from promodesk.ui.panels.base import VendorPanel
    from promodesk.ui.panels.live_panel import PanelLive
    from promodesk.ui.panels.table_browser import TableBrowser
    from promodesk.ui.tasks import Job

NOT_PREFILLED = frozenset({"id", "account_id"})
TRACKED = {  # the read that fetches one thing by its ID, offered to add one the workspace lacks
    "get_promotion": ("Track existing promotion…", "Adds a promotion you know by its ID"),
    "get_promocode": ("Track existing promocode…", "Adds a promocode you know by its ID"),
}


def operations_of(panel: VendorPanel) -> list[Operation]:
    from promodesk.services.operations import OPERATIONS

    return list(OPERATIONS[panel.vendor].values())


def own_id_field(operation: Operation) -> str:
    """A create's field for the new thing's own id (never filled from a selected row):
    create_promotion -> promotion_id."""
    if operation.kind == "create" and operation.name.startswith("create_"):
        return operation.name.removeprefix("create_") + "_id"
    return ""


class PanelOperations(QObject):
    def __init__(self, panel: VendorPanel, live: PanelLive) -> None:
        super().__init__(panel)
        self.panel = panel
        self.live = live
        self.operations = operations_of(panel)
        self.by_name = {operation.name: operation for operation in self.operations}
        self.rows: dict[str, dict[str, Any] | None] = {}  # table -> its current row, whole
        self.actions: dict[str, QAction] = {}
        self.track_actions: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        self.buttons: list[QToolButton] = []
        self.dialog: Any = None  # the operation dialog on screen (tests look at it)
        self.bulk: Any = None  # the bulk dialog last opened
        self._update_soon = QTimer(self)
        self._update_soon.setSingleShot(True)
        self._update_soon.setInterval(0)
        self._update_soon.timeout.connect(self.update)
        for operation in self.operations:
            self._add(operation)
        for browser in panel.browsers:
            browser.extend_menu = lambda menu, browser=browser: self.fill_menu(menu, browser)
            browser.current_row_changed.connect(
                lambda row, browser=browser: self._current_changed(browser, row)
            )
            browser.view.selectionModel().selectionChanged.connect(self._update_soon.start)
            browser.model.rows_refreshed.connect(
                lambda _ids, browser=browser: self._current_changed(browser, browser.current_row())
            )
        self.update()

    # -- building ------------------------------------------------------------------------------

    def _add(self, operation: Operation) -> None:
        action = QAction(operation.label, self)
        action.setObjectName(f"op_{operation.name}")
        if operation.description:
            action.setStatusTip(operation.description)
        action.triggered.connect(lambda _=False, op=operation: self.trigger(op))
        self.actions[operation.name] = action
        group = operation.group or "Actions"
        menu = self.menus.get(group)
        if menu is None:
            menu = QMenu(group, self.panel)
            menu.setObjectName(f"menu_{group.lower().replace(' ', '_')}")
            menu.setToolTipsVisible(True)
            self.menus[group] = menu
            button = QToolButton()
            button.setObjectName(f"groupButton_{group.lower().replace(' ', '_')}")
            button.setText(group)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            button.setToolButtonStyle(_text_only())
            button.setMenu(menu)
            self.buttons.append(button)
        if operation.name in TRACKED:
            text, tip = TRACKED[operation.name]
            track = QAction(text, self)
            track.setObjectName(f"track_{operation.name}")
            track.setStatusTip(tip)
            track.triggered.connect(lambda _=False, op=operation: self.track(op))
            self.track_actions[operation.name] = track
            first = menu.actions()[0] if menu.actions() else None
            menu.insertAction(first, track)  # at the top of its group, then a line
            if first is not None:
                menu.insertSeparator(first)
        menu.addAction(action)

    # -- where an operation acts -----------------------------------------------------------------

    def home(self, operation: Operation) -> TableBrowser | None:
        """The table whose selected row an operation acts on."""
        if operation.target is None:
            return None
        return self.panel.browser_for(operation.target.table)

    def needs_row(self, operation: Operation) -> bool:
        """An operation with a required target field runs on a selected row only."""
        if operation.target is None:
            return False
        fields = operation.inputs.model_fields
        return any(fields[name].is_required() for name in operation.target.fields)

    def selected_count(self, browser: TableBrowser) -> int:
        rows = browser.selected_rows()
        return rows.count if rows is not None else 0

    def blocked(self, operation: Operation) -> str | None:
        """Why the operation cannot run now (None: it can), in a marketer's words."""
        reason = self.live.why_not_writable()
        if reason:
            return reason
        home = self.home(operation)
        if home is None or not self.needs_row(operation):
            return None
        noun = operation.target.noun if operation.target else "row"
        count = self.selected_count(home)
        if count == 0:
            return f"Select a {noun} in {home.title.text()} first"
        if count > 1:
            if operation.bulk:
                return None
            return f"{operation.label.rstrip('…')} works on one {noun} at a time: select just one"
        row = self.rows.get(home.spec.name)
        if row is None:
            return None  # still being read; the executor checks the state again anyway
        return operation.blocked_reason(row)

    def update(self) -> None:
        for name, action in self.actions.items():
            reason = self.blocked(self.by_name[name])
            action.setEnabled(reason is None)
            action.setToolTip(reason or self.by_name[name].description or action.text())
        reason = self.live.why_not_writable()
        for action in self.track_actions.values():
            action.setEnabled(reason is None)
            action.setToolTip(reason or action.statusTip())

    def _current_changed(self, browser: TableBrowser, row: Any) -> None:
        table = browser.spec.name
        if row is None:
            self.rows[table] = None
            self._update_soon.start()
            return
        row_id = browser.model.value(row, "id")
        spec = browser.spec
        cached = self.rows.get(table)
        if cached is None or cached.get("id") != row_id:
            self.rows[table] = None  # another row: nothing to act on until it is read

        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            return fetch_row(conn, spec, row_id)

        def arrived(found: dict[str, Any] | None) -> None:
            current = browser.current_row()
            if current is not None and browser.model.value(current, "id") == row_id:
                self.rows[table] = found
                self.update()

        self.panel.read(read, arrived)
        self._update_soon.start()

    # -- values from the selection -----------------------------------------------------------------

    def prefill(self, operation: Operation) -> dict[str, Any]:
        """Inputs from what is selected: the target row's own fields, then any field named
        like a column of a selected row (the most recently used table last, so it wins)."""
        names = {spec.name: spec for spec in fields_of(operation.inputs)}
        skipped = {own_id_field(operation)} | NOT_PREFILLED
        if operation.kind == "create":
            skipped |= {name for name, spec in names.items() if spec.code_value}
        values: dict[str, Any] = {}
        ordered = [b for b in self.panel.browsers if b is not self.panel.last_browser]
        if self.panel.last_browser is not None:
            ordered.append(self.panel.last_browser)
        home = self.home(operation)
        if home is not None and home in ordered:
            ordered.remove(home)
            ordered.append(home)
        for browser in ordered:
            row = self.rows.get(browser.spec.name)
            if not row:
                continue
            for name, spec in names.items():
                if name in skipped or spec.item_type is not None:
                    continue
                if name in row and row[name] not in ("", None):
                    values[name] = row[name]
        if operation.kind != "create":
            values.update(self._lists_from_selection(operation, names))
        if home is not None and operation.target is not None:
            row = self.rows.get(home.spec.name)
            if row:
                values.update(operation.target.inputs_from(row))
        return values

    def _lists_from_selection(self, operation: Operation, names: dict[str, Any]) -> dict[str, Any]:
        """A list field named for a column (promo_codes / promo_code) takes the values of the
        selected rows on screen (customer IDs of the selected allocations, say)."""
        browser = self.panel.last_browser
        if browser is None:
            return {}
        found: dict[str, Any] = {}
        columns = browser.spec.column_names
        for name, spec in names.items():
            if spec.item_type is not str:
                continue
            column = name[:-1] if name.endswith("s") else name
            if column not in columns:
                continue
            positions = sorted({i.row() for i in browser.view.selectionModel().selectedRows()})
            rows = browser.model.loaded_rows(positions[:10_000])
            values = [str(browser.model.value(row, column)) for row in rows.values()]
            if values:
                found[name] = list(dict.fromkeys(values))
        return found

    # -- running -----------------------------------------------------------------------------------

    def trigger(self, operation: Operation, browser: TableBrowser | None = None) -> Any:
        reason = self.blocked(operation)
        if reason:
            self.panel.show_message("info", reason)
            return None
        home = self.home(operation)
        if home is not None and operation.bulk and self.selected_count(home) > 1:
            return self.start_bulk(operation, home)
        current = home.current_row() if home is not None else None
        if home is not None and current is not None:
            # The row as it is now (an operation a moment ago may have changed it): the form
            # starts from it and the state check looks at it.
            row_id = home.model.value(current, "id")
            spec = home.spec
            self.panel.read(
                lambda conn: fetch_row(conn, spec, row_id),
                lambda row: self._run_with(operation, self.prefill_with(operation, row), row),
            )
            return None
        return self._run_with(operation, self.prefill(operation), None)

    def prefill_with(self, operation: Operation, row: dict[str, Any] | None) -> dict[str, Any]:
        if row is not None and operation.target is not None:
            self.rows[operation.target.table] = row
            self.update()
        return self.prefill(operation)

    def track(self, operation: Operation) -> Any:
        """Fetch something by an ID the workspace may not know yet."""
        reason = self.live.why_not_writable()
        if reason:
            self.panel.show_message("info", reason)
            return None
        text, _tip = TRACKED[operation.name]
        return self.open_dialog(
            operation, {}, None, title=text.rstrip("…"), note=self.live.sandbox_note(operation)
        )

    def _run_with(
        self, operation: Operation, values: dict[str, Any], target: dict[str, Any] | None
    ) -> Any:
        reason = operation.blocked_reason(target) if target is not None else None
        if reason:  # changed since it was selected
            self.panel.show_message("info", reason)
            return None
        fixed = operation.target.fields if operation.target is not None and target else {}
        shown = [spec for spec in fields_of(operation.inputs, [*operation.hidden_fields, *fixed])]
        if not shown and operation.editor not in ("validate",):
            what = self.describe(operation, target)
            if operation.confirm:
                from promodesk.ui.operations.dialog import confirmation

                self.dialog = confirmation(
                    self.panel, operation, what, lambda: self.run_now(operation, values, what)
                )
                return self.dialog
            return self.run_now(operation, values, what)
        return self.open_dialog(operation, values, target)

    def describe(self, operation: Operation, row: dict[str, Any] | None) -> str:
        """The target for people: 'SANDBOX03', 'Spring welcome (spring-welcome-2026)'."""
        if operation.target is None or not row:
            return ""
        label = str(row.get(operation.target.label_column) or "")
        ids = [str(row.get(column, "")) for column in operation.target.fields.values()]
        key = " ".join(part for part in ids if part and part != label)
        if operation.target.table == "altcraft_codes":
            key = f"in loyalty program {row.get('loyalty_id')}"
        return f"{label} ({key})" if key and label else (label or key)

    def run_now(self, operation: Operation, values: dict[str, Any], what: str) -> Job:
        return self.live.run(operation, values, what=what)

    def open_dialog(
        self,
        operation: Operation,
        values: dict[str, Any],
        target: dict[str, Any] | None,
        *,
        title: str = "",
        note: str = "",
    ) -> Any:
        from promodesk.ui.operations.dialog import OperationDialog

        what = self.describe(operation, target)
        source = self.live.source
        assert source is not None
        dialog = OperationDialog(
            operation,
            source=source,
            start=lambda inputs, done: self.live.run(operation, inputs, what=what, on_done=done),
            values=values,
            target=target,
            target_text=f"{operation.target.noun.capitalize()} {what}"
            if what and operation.target
            else "",
            title=title,
            note=note,
            parent=self.panel.window(),
        )
        dialog.setAttribute(_delete_on_close(), True)
        self.dialog = dialog
        dialog.open()
        return dialog

    def start_bulk(self, operation: Operation, browser: TableBrowser) -> Any:
        from promodesk.ui.operations.bulk import BulkDialog

        rows = browser.selected_rows()
        assert rows is not None
        dialog = BulkDialog.for_selection(
            self.live, operation, browser, rows, parent=self.panel.window()
        )
        self.bulk = dialog
        dialog.show()
        return dialog

    # -- menus -----------------------------------------------------------------------------------

    def fill_menu(self, menu: QMenu, browser: TableBrowser) -> None:
        """The row's actions in its context menu: those acting on this table (with the count
        of selected rows for bulk ones), then the ones its columns can fill in."""
        table = browser.spec.name
        count = self.selected_count(browser)
        own = [op for op in self.operations if op.target is not None and op.target.table == table]
        related = [
            op
            for op in self.operations
            if op.target is None and self._fills(op, browser.spec.column_names)
        ]
        for operation in own:
            noun = operation.target.noun if operation.target else "row"
            text = operation.label
            if count > 1 and operation.bulk:
                text = f"{operation.label.rstrip('…')} ({plural(count, noun)})…"
            self._menu_action(menu, operation, text)
        if own and related:
            menu.addSeparator()
        for operation in related:
            self._menu_action(menu, operation, operation.label)

    def _menu_action(self, menu: QMenu, operation: Operation, text: str) -> None:
        reason = self.blocked(operation)
        action = menu.addAction(text, lambda op=operation: self.trigger(op))
        action.setObjectName(f"menu_op_{operation.name}")
        action.setEnabled(reason is None)
        action.setToolTip(reason or operation.description or text)

    @staticmethod
    def _fills(operation: Operation, columns: Iterable[str]) -> bool:
        names = set(operation.inputs.model_fields) - NOT_PREFILLED - {own_id_field(operation)}
        singular = {name[:-1] for name in names if name.endswith("s")}
        return bool((names | singular) & set(columns) - NOT_PREFILLED)

    def fill_vendor_menu(self, menu: QMenu) -> None:
        """The window's vendor menu: every group as a section."""
        for group, group_menu in self.menus.items():
            menu.addSection(group)
            for action in group_menu.actions():
                menu.addAction(action)


def _text_only() -> Any:
    from promodesk.qt import Qt

    return Qt.ToolButtonStyle.ToolButtonTextOnly


def _delete_on_close() -> Any:
    from promodesk.qt import Qt

    return Qt.WidgetAttribute.WA_DeleteOnClose
