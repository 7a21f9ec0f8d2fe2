"""The two editors for structured inputs:

- **Tiers** (Optimove's `set_tiers`): tiers in priority order (the first a customer qualifies
  for applies), each with its benefits and a condition tree whose branches name an earlier
  branch as their parent. The parent list only offers earlier branches, and the model checks
  the tree again before anything is sent.
- **Several changes at once** (the transactions): a list of changes, each one of the kinds
  the operation declares (`Operation.commands`), with its own form; sent all together or not
  at all.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from promodesk.qt import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from promodesk.ui.operations.editors import Editor, monospace, typed
from promodesk.ui.operations.fields import UNSET, FieldSpec, Invalid, problems_of
from promodesk.ui.operations.form import Form, FormContext
from promodesk.ui.widgets.elided_label import WrappedLabel
from promodesk.ui.widgets.style import secondary_text_style

TOP_LEVEL = "— (top level)"
BENEFITS_EXAMPLE = '[{"rewardType": "discount", "percent": 10}]'
CONDITION_COLUMNS = (
    ("parent", "Parent"),
    ("attribute", "Attribute"),
    ("operator", "Operator"),
    ("value", "Value"),
)


def tab_in_order(widgets: Sequence[QWidget]) -> None:
    """Tab goes through `widgets` in this order: the reading order (the list on the left,
    then what is on the right), whatever order they were put in the window."""
    for before, after in itertools.pairwise(widgets):
        QWidget.setTabOrder(before, after)


def tab_stops(widget: QWidget) -> list[QWidget]:
    """`widget` and its descendants that Tab stops at, in the order they were made."""
    return [
        child
        for child in [widget, *widget.findChildren(QWidget)]
        if child.focusPolicy() & Qt.FocusPolicy.TabFocus
    ]


def _list_buttons(*texts: str) -> tuple[QHBoxLayout, list[QPushButton]]:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    buttons = []
    for text in texts:
        button = QPushButton(text)
        row.addWidget(button)
        buttons.append(button)
    row.addStretch(1)
    return row, buttons


class TiersEditor(Editor):
    item_noun = "Tier"

    def __init__(self, spec: FieldSpec, context: FormContext) -> None:
        super().__init__(spec)
        self.tiers: list[dict[str, Any]] = []
        self.current = -1
        self._loading = False

        self.list = QListWidget()
        self.list.setObjectName("tiersList")
        self.list.setMinimumWidth(170)
        self.list.currentRowChanged.connect(self._select)
        buttons, (self.add_button, self.remove_button, self.up_button, self.down_button) = (
            _list_buttons("Add a tier", "Remove", "Higher", "Lower")
        )
        self.add_button.clicked.connect(self.add_tier)
        self.remove_button.clicked.connect(self.remove_tier)
        self.up_button.setToolTip(
            "Checked earlier: a customer gets the first tier they qualify for"
        )
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button.clicked.connect(lambda: self.move(1))
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.list, 1)
        left.addLayout(buttons)

        self.tier_id = QLineEdit()
        self.tier_id.setObjectName("tierId")
        self.tier_id.setPlaceholderText("e.g. gold")
        self.tier_name = QLineEdit()
        self.tier_name.setObjectName("tierName")
        self.tier_name.setPlaceholderText("Optional")
        self.benefits = QPlainTextEdit()
        self.benefits.setObjectName("tierBenefits")
        self.benefits.setTabChangesFocus(True)
        monospace(self.benefits)
        self.benefits.setPlaceholderText(BENEFITS_EXAMPLE)
        self.benefits.setFixedHeight(self.benefits.fontMetrics().height() * 4 + 12)
        self.conditions = QTableWidget(0, len(CONDITION_COLUMNS))
        self.conditions.setObjectName("tierConditions")
        self.conditions.setHorizontalHeaderLabels([title for _key, title in CONDITION_COLUMNS])
        self.conditions.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.conditions.verticalHeader().setDefaultSectionSize(
            self.conditions.fontMetrics().height() + 12
        )
        self.conditions.setMinimumHeight(self.conditions.fontMetrics().height() * 7)
        condition_buttons, (self.add_condition_button, self.remove_condition_button) = (
            _list_buttons("Add a condition", "Remove condition")
        )
        self.add_condition_button.clicked.connect(lambda: self.add_condition())
        self.remove_condition_button.clicked.connect(self.remove_condition)
        for box in (self.tier_id, self.tier_name):
            box.textEdited.connect(self.changed)
        self.benefits.textChanged.connect(self.changed)
        self.conditions.itemChanged.connect(self.changed)
        tree_help = WrappedLabel(
            "A condition with a parent applies within it (both must hold); conditions at the "
            "top level are alternatives. A parent is always an earlier condition."
        )
        tree_help.setStyleSheet(secondary_text_style(tree_help))
        self.details = QGroupBox("Tier")
        form = QFormLayout(self.details)
        form.addRow("Tier ID:", self.tier_id)
        form.addRow("Name:", self.tier_name)
        form.addRow("Benefits:", self.benefits)
        conditions = QVBoxLayout()
        conditions.setContentsMargins(0, 0, 0, 0)
        conditions.addWidget(self.conditions, 1)
        conditions.addLayout(condition_buttons)
        conditions.addWidget(tree_help)
        holder = QWidget()
        holder.setLayout(conditions)
        form.addRow("Conditions:", holder)

        order_help = WrappedLabel(
            spec.description
            or "In priority order: the first tier a customer qualifies for applies."
        )
        order_help.setStyleSheet(secondary_text_style(order_help))
        left_holder = QWidget()
        left_holder.setLayout(left)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(left_holder)
        split.addWidget(self.details)
        split.setStretchFactor(1, 3)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(order_help)
        column.addWidget(split, 1)
        self.widget = QWidget()
        self.widget.setLayout(column)
        self.set_value(_current_tiers(context.target))
        self._update_buttons()

    @property
    def focus_widget(self) -> QWidget:
        return self.list

    # -- the list of tiers --------------------------------------------------------------------

    def add_tier(self) -> None:
        self._save()
        number = len(self.tiers) + 1
        self.tiers.append({"id": f"tier-{number}", "name": "", "benefits": None, "conditions": []})
        self._refill(len(self.tiers) - 1)
        self.tier_id.setFocus()
        self.tier_id.selectAll()
        self.changed()

    def remove_tier(self) -> None:
        if self.current < 0:
            return
        del self.tiers[self.current]
        self.current = -1
        self._refill(min(len(self.tiers) - 1, self.list.currentRow()))
        self.changed()

    def move(self, step: int) -> None:
        self._save()
        at, to = self.current, self.current + step
        if at < 0 or not 0 <= to < len(self.tiers):
            return
        self.tiers[at], self.tiers[to] = self.tiers[to], self.tiers[at]
        self._refill(to)
        self.changed()

    def _refill(self, select: int) -> None:
        self._loading = True
        self.list.clear()
        for number, tier in enumerate(self.tiers, start=1):
            name = tier.get("name") or ""
            label = (
                f"{number}. {name} ({tier.get('id', '')})"
                if name
                else f"{number}. {tier.get('id', '')}"
            )
            self.list.addItem(label)
        self._loading = False
        self.current = -1
        self.list.setCurrentRow(select)
        if select < 0:
            self._load(-1)
        self._update_buttons()

    def _select(self, row: int) -> None:
        if self._loading:
            return
        self._save()
        self._load(row)
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.current >= 0
        self.details.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
        self.up_button.setEnabled(self.current > 0)
        self.down_button.setEnabled(chosen and self.current < len(self.tiers) - 1)

    # -- one tier --------------------------------------------------------------------------------

    def _load(self, row: int) -> None:
        self.current = row
        tier = self.tiers[row] if 0 <= row < len(self.tiers) else {}
        self.tier_id.setText(str(tier.get("id", "")))
        self.tier_name.setText(str(tier.get("name", "") or ""))
        benefits = tier.get("benefits")
        self.benefits.setPlainText(
            benefits
            if isinstance(benefits, str)
            else (
                ""
                if benefits in (None, [], {})
                else json.dumps(benefits, indent=2, ensure_ascii=False)
            )
        )
        self.conditions.setRowCount(0)
        for branch in tier.get("conditions") or []:
            self.add_condition(branch if isinstance(branch, dict) else {})

    def _save(self) -> None:
        """The form's tier back into the list (benefits kept as typed until sent)."""
        row = self.current
        if not 0 <= row < len(self.tiers):
            return
        tier = dict(self.tiers[row])
        tier["id"] = self.tier_id.text().strip()
        tier["name"] = self.tier_name.text().strip()
        tier["benefits"] = self.benefits.toPlainText().strip() or None
        tier["conditions"] = self._conditions()
        self.tiers[row] = tier
        item = self.list.item(row)
        if item is not None:
            name, ident = tier["name"], tier["id"]
            item.setText(f"{row + 1}. {name} ({ident})" if name else f"{row + 1}. {ident}")

    def add_condition(self, branch: dict[str, Any] | None = None) -> None:
        branch = branch or {}
        row = self.conditions.rowCount()
        self.conditions.insertRow(row)
        parent = QComboBox()
        parent.addItem(TOP_LEVEL, None)
        for earlier in range(row):
            parent.addItem(f"Condition {earlier + 1}", earlier)
        chosen = branch.get("parent")
        parent.setCurrentIndex(max(0, parent.findData(chosen)) if isinstance(chosen, int) else 0)
        parent.currentIndexChanged.connect(self.changed)
        self.conditions.setCellWidget(row, 0, parent)
        for number, (key, _title) in enumerate(CONDITION_COLUMNS[1:], start=1):
            value = branch.get(key)
            text = "" if value is None else (value if isinstance(value, str) else json.dumps(value))
            self.conditions.setItem(row, number, QTableWidgetItem(text))
        self.conditions.setVerticalHeaderItem(row, QTableWidgetItem(str(row + 1)))
        self.changed()

    def remove_condition(self) -> None:
        row = self.conditions.currentRow()
        if row < 0:
            return
        branches = self._conditions(keep_empty=True)
        del branches[row]
        for branch in branches:  # parents after the removed one move up by one
            parent = branch.get("parent")
            if parent == row:
                branch.pop("parent")
            elif isinstance(parent, int) and parent > row:
                branch["parent"] = parent - 1
        self.conditions.setRowCount(0)
        for branch in branches:
            self.add_condition(branch)
        self.changed()

    def _conditions(self, *, keep_empty: bool = False) -> list[dict[str, Any]]:
        branches = []
        for row in range(self.conditions.rowCount()):
            branch: dict[str, Any] = {}
            parent = self.conditions.cellWidget(row, 0)
            if isinstance(parent, QComboBox) and parent.currentData() is not None:
                branch["parent"] = int(parent.currentData())
            for number, (key, _title) in enumerate(CONDITION_COLUMNS[1:], start=1):
                item = self.conditions.item(row, number)
                text = item.text().strip() if item is not None else ""
                if text:
                    branch[key] = typed(text)
            if branch or keep_empty:
                branches.append(branch)
        return branches

    # -- the value -------------------------------------------------------------------------------

    def value(self) -> Any:
        self._save()
        tiers = []
        for number, tier in enumerate(self.tiers, start=1):
            benefits = tier.get("benefits")
            if isinstance(benefits, str):
                try:
                    benefits = json.loads(benefits)
                except ValueError as error:
                    return Invalid(f"Tier {number}: its benefits are not valid JSON ({error}).")
            kept = {key: value for key, value in tier.items() if key != "benefits"}
            if benefits not in (None, "", [], {}):
                kept["benefits"] = benefits
            if not kept.get("name"):
                kept.pop("name", None)
            tiers.append(kept)
        return tiers if tiers else UNSET

    def set_value(self, value: Any) -> None:
        self.tiers = (
            [dict(tier) for tier in value if isinstance(tier, dict)]
            if isinstance(value, list)
            else []
        )
        self._refill(0 if self.tiers else -1)

    def show_inner(self, where: tuple[str | int, ...], text: str) -> bool:
        if where and isinstance(where[0], int) and where[0] < len(self.tiers):
            self.list.setCurrentRow(where[0])
        return False


def _current_tiers(target: Any) -> list[dict[str, Any]]:
    """The promotion's tiers as last read from Optimove (the workspace keeps them)."""
    try:
        details = json.loads((target or {}).get("details") or "{}")
    except (TypeError, ValueError):
        return []
    tiers = details.get("promotionTiers") if isinstance(details, dict) else None
    return [tier for tier in tiers if isinstance(tier, dict)] if isinstance(tiers, list) else []


class CommandsEditor(Editor):
    """Several changes, sent together: all are made, or none."""

    item_noun = "Change"

    def __init__(self, spec: FieldSpec, context: FormContext) -> None:
        super().__init__(spec)
        self.context = context
        self.kinds = list(getattr(context.operation, "commands", ()) or ())
        self.entries: list[tuple[Any, Form | None]] = []

        self.list = QListWidget()
        self.list.setObjectName("changesList")
        self.list.setMinimumWidth(190)
        self.list.currentRowChanged.connect(self._select)
        self.add_button = QToolButton()
        self.add_button.setObjectName("addChangeButton")
        self.add_button.setText("Add a change")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        for kind in self.kinds:
            menu.addAction(kind.label, lambda kind=kind: self.add(kind))
        self.add_button.setMenu(menu)
        buttons, (self.remove_button, self.up_button, self.down_button) = _list_buttons(
            "Remove", "Earlier", "Later"
        )
        buttons.insertWidget(0, self.add_button)
        self.remove_button.clicked.connect(self.remove)
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button.clicked.connect(lambda: self.move(1))
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.list, 1)
        left.addLayout(buttons)
        self.pages = QStackedWidget()
        self.empty = QLabel(
            "Add the changes to make, in order. They are sent together:\n"
            "all of them are made, or none."
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(secondary_text_style(self.empty))
        self.pages.addWidget(self.empty)
        left_holder = QWidget()
        left_holder.setLayout(left)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(left_holder)
        split.addWidget(self.pages)
        split.setStretchFactor(1, 3)
        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        if spec.description:
            hint = WrappedLabel(spec.description)
            hint.setStyleSheet(secondary_text_style(hint))
            column.addWidget(hint)
        column.addWidget(split, 1)
        self.widget = QWidget()
        self.widget.setLayout(column)
        self._update_buttons()

    @property
    def focus_widget(self) -> QWidget:
        return self.add_button

    def add(self, kind: Any, values: dict[str, Any] | None = None) -> Form | None:
        form = None
        if kind.inputs is not None:
            hidden = [name for name in kind.inputs.model_fields if name not in kind.wire]
            form = Form(kind.inputs, self.context, hidden=hidden)
            form.changed.connect(self.changed)
            if values:
                form.set_values(values)
            page = QWidget()  # the change's fields at the top, not spread over the page
            holder = QVBoxLayout(page)
            holder.addWidget(QLabel(f"<b>{kind.label}</b>"))
            holder.addWidget(form)
            holder.addStretch(1)
        else:
            label = QLabel(f"{kind.label}: nothing more to fill in.")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            page = label
        self.pages.addWidget(page)
        if form is not None:  # its fields after the list's buttons, not after Save
            tab_in_order([self.down_button, *tab_stops(form)])
        self.entries.append((kind, form))
        self.list.addItem(f"{len(self.entries)}. {kind.label}")
        self.list.setCurrentRow(len(self.entries) - 1)
        self._update_buttons()
        self.changed()
        return form

    def remove(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        self.entries.pop(row)
        page = self.pages.widget(row + 1)
        self.pages.removeWidget(page)
        page.deleteLater()
        self._relabel(min(row, len(self.entries) - 1))
        self.changed()

    def move(self, step: int) -> None:
        row, to = self.list.currentRow(), self.list.currentRow() + step
        if row < 0 or not 0 <= to < len(self.entries):
            return
        self.entries[row], self.entries[to] = self.entries[to], self.entries[row]
        page = self.pages.widget(row + 1)
        self.pages.removeWidget(page)
        self.pages.insertWidget(to + 1, page)
        self._relabel(to)
        self.changed()

    def _relabel(self, select: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for number, (kind, _form) in enumerate(self.entries, start=1):
            self.list.addItem(f"{number}. {kind.label}")
        self.list.blockSignals(False)
        self.list.setCurrentRow(select)
        self._select(select)

    def _select(self, row: int) -> None:
        self.pages.setCurrentIndex(row + 1 if row >= 0 else 0)
        self._update_buttons()

    def _update_buttons(self) -> None:
        row = self.list.currentRow()
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < len(self.entries) - 1)

    def value(self) -> Any:
        commands = []
        for number, (kind, form) in enumerate(self.entries, start=1):
            values = form.values() if form is not None else {}
            fixed = dict(self.context.fixed)
            try:
                commands.append(kind.build({**values, **fixed}))
            except ValidationError as error:
                problems = problems_of(error)
                if form is not None:
                    form.show_problems(problems)
                self.list.setCurrentRow(number - 1)
                where = ", ".join(str(part) for part in problems[0][0]) if problems else ""
                first = problems[0][1] if problems else str(error)
                return Invalid(
                    f"Change {number} ({kind.label}): {first}"
                    + (f" ({where})" if where and form is None else "")
                )
        return commands if commands else UNSET

    def set_value(self, value: Any) -> None:
        by_name = {kind.name: kind for kind in self.kinds}
        for command in value if isinstance(value, list) else []:
            kind = by_name.get(str(command.get("command"))) if isinstance(command, dict) else None
            if kind is not None:
                wire_to_field = {wire: name for name, wire in kind.wire.items()}
                self.add(
                    kind, {wire_to_field.get(k, k): v for k, v in command.items() if k != "command"}
                )
