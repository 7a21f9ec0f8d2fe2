"""Which Altcraft loyalty program a saved export is from (Altcraft's export does not say).

Asked before the import, so the codes land under the right program instead of "? <file>".
Opened with `open()`; `program_id()` is the answer once it is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from promodesk.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QRegularExpression,
    QRegularExpressionValidator,
    Qt,
    QVBoxLayout,
    QWidget,
)
from promodesk.ui.widgets.style import secondary_text_style


class LoyaltyProgramDialog(QDialog):
    def __init__(self, path: Path, known: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loyaltyProgramDialog")
        self.setWindowTitle("Which loyalty program?")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        question = QLabel(f"Which Altcraft loyalty program is “{Path(path).name}” from?")
        question.setTextFormat(Qt.TextFormat.PlainText)
        question.setWordWrap(True)
        font = question.font()
        font.setBold(True)
        question.setFont(font)
        why = QLabel(
            "Altcraft's export does not say, and without it the codes would be filed under "
            "an unnamed program. Type the program's ID (a number, e.g. 5: Altcraft shows it "
            "under Loyalty ▸ Programs) or pick one already in this workspace."
        )
        why.setWordWrap(True)
        why.setStyleSheet(secondary_text_style(self))
        self.program = QComboBox()
        self.program.setObjectName("loyaltyProgram")
        self.program.setEditable(True)
        self.program.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.program.addItems(list(known))
        self.program.setCurrentText("")
        self.program.lineEdit().setPlaceholderText("Loyalty program ID, e.g. 5")
        self.program.setValidator(
            QRegularExpressionValidator(QRegularExpression(r"\d{1,18}"), self.program)
        )
        buttons = QDialogButtonBox()
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setObjectName("importWithProgram")
        skip = buttons.addButton("Leave this file out", QDialogButtonBox.ButtonRole.RejectRole)
        skip.setObjectName("skipFile")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.program.editTextChanged.connect(self._update)
        layout = QVBoxLayout(self)
        layout.addWidget(question)
        layout.addWidget(why)
        layout.addWidget(self.program)
        layout.addWidget(buttons)
        self.resize(460, self.sizeHint().height())
        self._update()

    def program_id(self) -> str:
        return self.program.currentText().strip()

    def _update(self) -> None:
        self.import_button.setEnabled(self.program_id().isdigit())
