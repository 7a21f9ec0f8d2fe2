"""The results of "Check customers": one row per customer, whether they qualify, the tier
and the reward they would get (optimove.validation_rows)."""

from __future__ import annotations

import json
from typing import Any

from promodesk.codefiles.spreadsheet import to_clipboard_text
from promodesk.qt import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QWidget

AnyIndex = QModelIndex | QPersistentModelIndex
COLUMNS = (
    ("customer_id", "Customer ID"),
    ("eligible", "Qualifies"),
    ("tier", "Tier"),
    ("reward", "Reward"),
)


def cell_text(key: str, value: Any) -> str:
    if key == "eligible":
        return "Yes" if value else "No"
    if value is None:
        return "—"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class ValidationModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        key = COLUMNS[index.column()][0]
        value = self.rows[index.row()].get(key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return cell_text(key, value)
        if role == Qt.ItemDataRole.ForegroundRole and key == "eligible" and not value:
            from promodesk.qt import QBrush, QColor

            return QBrush(QColor("#a11a1a"))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section][1]
        return None

    def as_text(self) -> str:
        """The results as tab-separated text with a header (spreadsheet-safe)."""
        return to_clipboard_text(
            [title for _key, title in COLUMNS],
            [[cell_text(key, row.get(key)) for key, _title in COLUMNS] for row in self.rows],
        )
