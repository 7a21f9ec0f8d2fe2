"""The one form builder: a pydantic input model in, a form out.

Each field becomes a row: its title as the label, an editor chosen from its type (and the
table's `editor` hint), its description as help below, and a line for its problem, shown
right there, whether pydantic found it before sending or the executor's InputError did.
Nested models become groups (ticked to use, when optional); lists of small records become
tables; the tiers and transaction editors come from `structured`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from promodesk.qt import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from promodesk.ui.operations.editors import (
    CheckEditor,
    ChoiceEditor,
    DateEditor,
    DateTimeEditor,
    Editor,
    JsonEditor,
    LinesEditor,
    MaybeEditor,
    NumberEditor,
    PathEditor,
    PropertiesEditor,
    RecordsEditor,
    TextEditor,
)
from promodesk.ui.operations.fields import (
    UNSET,
    FieldSpec,
    Invalid,
    Problem,
    fields_of,
    problems_of,
)
from promodesk.ui.widgets.elided_label import WrappedLabel
from promodesk.ui.widgets.style import secondary_text_style

PROBLEM_STYLE = "color: #a11a1a;"
WHOLE_WIDTH = frozenset({"tiers", "commands"})  # editors with labels of their own


@dataclass
class FormContext:
    """What editors may need beyond their own field."""

    parent: Callable[[], QWidget]  # dialogs (file choosers) open over this
    operation: Any = None  # the Operation the form is for (a transaction's kinds of change)
    target: Mapping[str, Any] = field(default_factory=dict)  # the row it acts on, every column
    fixed: Mapping[str, Any] = field(default_factory=dict)  # values the context decides


def editor_for(spec: FieldSpec, context: FormContext) -> Editor:
    """The editor for one field: the table's hint first, then the field's type."""
    hint = spec.editor
    if hint in ("tiers", "commands"):
        from promodesk.ui.operations.structured import CommandsEditor, TiersEditor

        return TiersEditor(spec, context) if hint == "tiers" else CommandsEditor(spec, context)
    if hint == "lines" or (spec.item_type is str):
        return LinesEditor(spec, parent=context.parent)
    if hint in ("file", "save_file") or spec.is_path:
        return PathEditor(spec, save=hint == "save_file", parent=context.parent)
    if hint == "properties":
        return PropertiesEditor(spec)
    if spec.literal_values:
        return ChoiceEditor(spec)
    if spec.annotation is bool:
        return MaybeEditor(spec) if spec.optional else CheckEditor(spec)
    if spec.annotation in (int, float):
        return NumberEditor(spec, whole=spec.annotation is int)
    if spec.is_datetime:
        return DateTimeEditor(spec)
    if spec.is_date_text:
        return DateEditor(spec)
    if spec.nested_model is not None:
        return ModelEditor(spec, context)
    if spec.item_model is not None:
        return RecordsEditor(spec)
    if spec.annotation is str:
        return TextEditor(spec)
    return JsonEditor(spec)  # dicts, lists of dicts, anything the vendor shapes


class Form(QWidget):
    """A form for one model's fields (all, or those not `hidden`)."""

    changed = Signal()

    def __init__(
        self,
        model: type[BaseModel],
        context: FormContext,
        *,
        hidden: Iterable[str] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.context = context
        self.specs = fields_of(model, hidden)
        self.editors: dict[str, Editor] = {}
        self._problems: dict[str, QLabel] = {}
        self.layout_ = QFormLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.layout_.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.top_problem = QLabel()
        self.top_problem.setObjectName("formProblem")
        self.top_problem.setWordWrap(True)
        self.top_problem.setTextFormat(Qt.TextFormat.PlainText)
        self.top_problem.setStyleSheet(PROBLEM_STYLE)
        self.top_problem.hide()
        self.layout_.addRow(self.top_problem)
        for spec in self.specs:
            self._add_row(spec)

    def _add_row(self, spec: FieldSpec) -> None:
        editor = editor_for(spec, self.context)
        editor.widget.setObjectName(f"field_{spec.name}")
        self.editors[spec.name] = editor
        problem = QLabel()
        problem.setObjectName(f"problem_{spec.name}")
        problem.setWordWrap(True)
        problem.setTextFormat(Qt.TextFormat.PlainText)
        problem.setStyleSheet(PROBLEM_STYLE)
        problem.hide()
        self._problems[spec.name] = problem
        editor.on_change(lambda name=spec.name: self._edited(name))
        column = QVBoxLayout()
        column.setSpacing(2)
        # Groups and the big editors show their own help; the rest has it below the field.
        whole_width = isinstance(editor, ModelEditor) or spec.editor in WHOLE_WIDTH
        if spec.description and not whole_width:
            # The help as wide as the form (under a short choice it otherwise wraps after
            # two words); the field itself keeps its own width.
            grows = editor.widget.sizePolicy().horizontalPolicy() in (
                QSizePolicy.Policy.Expanding,
                QSizePolicy.Policy.MinimumExpanding,
            )
            if grows:
                column.addWidget(editor.widget)
            else:
                column.addWidget(editor.widget, 0, Qt.AlignmentFlag.AlignLeft)
            hint = WrappedLabel(spec.description)
            hint.setObjectName(f"help_{spec.name}")
            hint.setStyleSheet(secondary_text_style(self))
            hint.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            column.addWidget(hint)
        else:
            column.addWidget(editor.widget)
        column.addWidget(problem)
        if whole_width:
            self.layout_.addRow(_holder(column))  # as wide as the form: it has its own labels
            return
        caption = QLabel(f"{spec.title}:")
        caption.setObjectName(f"label_{spec.name}")
        caption.setBuddy(editor.focus_widget)
        self.layout_.addRow(caption, column)

    def _edited(self, name: str) -> None:
        label = self._problems.get(name)
        if label is not None and label.isVisible():
            label.hide()
        self.changed.emit()

    # -- values ------------------------------------------------------------------------------

    def values(self) -> dict[str, Any]:
        """What is filled in (empty fields left out; Invalid where nothing can be sent)."""
        found = {}
        for name, editor in self.editors.items():
            value = editor.value()
            if value is not UNSET:
                found[name] = value
        return found

    def set_values(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            editor = self.editors.get(name)
            if editor is not None and value is not None:
                editor.set_value(value)

    def check(
        self, extra: Mapping[str, Any] | None = None
    ) -> tuple[BaseModel | None, list[Problem]]:
        """The model built from the form (and `extra`, e.g. the target's id), or the
        problems: first what cannot be a value at all, then what pydantic refuses."""
        values = self.values()
        local = [
            ((name,), value.problem) for name, value in values.items() if isinstance(value, Invalid)
        ]
        if local:
            return None, local
        try:
            return self.model.model_validate({**values, **(extra or {})}), []
        except ValidationError as error:
            return None, problems_of(error)

    # -- problems ----------------------------------------------------------------------------

    def clear_problems(self) -> None:
        self.top_problem.hide()
        for label in self._problems.values():
            label.hide()
        for editor in self.editors.values():
            editor.clear_inner()

    def show_problems(self, problems: Iterable[Problem]) -> list[Problem]:
        """Each problem beside its field; returns those about no field of this form."""
        self.clear_problems()
        elsewhere: list[Problem] = []
        top: list[str] = []
        first: QWidget | None = None
        for where, text in problems:
            name = where[0] if where else None
            editor = self.editors.get(name) if isinstance(name, str) else None
            if editor is None:
                if where and isinstance(name, str) and name not in self.model.model_fields:
                    elsewhere.append((where, text))
                else:
                    top.append(text if not where else f"{_title(self.model, name)}: {text}")
                continue
            rest = where[1:]
            placed = editor.show_inner(rest, text)
            if not placed:
                label = self._problems[name]
                shown = f"{_position(editor, rest)}{text}"
                label.setText(f"{label.text()}\n{shown}" if label.isVisible() else shown)
                label.show()
            if first is None:
                first = editor.focus_widget
        if top:
            self.top_problem.setText("\n".join(top))
            self.top_problem.show()
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
        return elsewhere

    def problem_text(self, name: str) -> str:
        label = self._problems.get(name)
        return label.text() if label is not None and not label.isHidden() else ""

    def focus_first(self) -> None:
        for editor in self.editors.values():
            if editor.focus_widget.isEnabled():
                editor.focus_widget.setFocus(Qt.FocusReason.OtherFocusReason)
                return


def _holder(layout: QVBoxLayout) -> QWidget:
    widget = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    widget.setLayout(layout)
    return widget


def _title(model: type[BaseModel], name: Any) -> str:
    info = model.model_fields.get(str(name))
    return (info.title if info is not None and info.title else str(name)).strip()


def _position(editor: Editor, rest: tuple[str | int, ...]) -> str:
    """Where in a list or a nested record a problem is: 'Row 2, At most: '."""
    words = []
    item = editor.spec.item_model or editor.spec.nested_model
    for part in rest:
        if isinstance(part, int):
            words.append(f"{getattr(editor, 'item_noun', 'Row')} {part + 1}")
        elif item is not None and part in item.model_fields:
            words.append(_title(item, part))
        elif item is not None:
            alias = {info.alias: name for name, info in item.model_fields.items() if info.alias}
            words.append(_title(item, alias.get(part, part)))
    return ", ".join(words) + ": " if words else ""


class ModelEditor(Editor):
    """A nested record (an audience cap, a reward budget) as a group with its own fields;
    an optional one is ticked to be used."""

    def __init__(self, spec: FieldSpec, context: FormContext) -> None:
        super().__init__(spec)
        model = spec.nested_model
        assert model is not None
        self.group = QGroupBox(spec.title)
        self.group.setObjectName(f"group_{spec.name}")
        optional = spec.optional or not spec.required
        self.group.setCheckable(optional)
        self.group.setChecked(not optional)
        self.group.toggled.connect(self.changed)
        self.inner = Form(model, context)
        self.inner.changed.connect(self.changed)
        column = QVBoxLayout(self.group)
        if spec.description:
            hint = WrappedLabel(spec.description)
            hint.setStyleSheet(secondary_text_style(self.group))
            column.addWidget(hint)
        column.addWidget(self.inner)
        self.widget = self.group

    @property
    def focus_widget(self) -> QWidget:
        return self.group if self.group.isCheckable() else self.inner

    def value(self) -> Any:
        if self.group.isCheckable() and not self.group.isChecked():
            return UNSET
        values = self.inner.values()
        for item in values.values():
            if isinstance(item, Invalid):
                return item
        return values

    def set_value(self, value: Any) -> None:
        if isinstance(value, BaseModel):
            value = value.model_dump()
        if isinstance(value, dict):
            self.inner.set_values(value)
            if self.group.isCheckable():
                self.group.setChecked(True)

    def show_inner(self, where: tuple[str | int, ...], text: str) -> bool:
        if self.group.isCheckable():
            self.group.setChecked(True)
        left = self.inner.show_problems([(where, text)])
        return not left

    def clear_inner(self) -> None:
        self.inner.clear_problems()
