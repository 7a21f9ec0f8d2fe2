"""Optimove: promotions, their promocodes, and for the selected promocode its code files and
allocations; codes from unique-code files not uploaded yet under 'Local code files'."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promodesk.domain.vendors import Vendor
from promodesk.qt import QSplitter, Qt, QTabWidget, QWidget
from promodesk.store import tables
from promodesk.ui.panels.base import EMPTY_HINT, VendorPanel
from promodesk.ui.panels.table_browser import TableBrowser

if TYPE_CHECKING:
    import sqlite3

LOCAL_FILE = "local-"  # the id the importer gives a unique-code file Optimove has not seen
PROMOTION_STATES = [
    ("Draft", "draft"),
    ("Active", "active"),
    ("Deactivated", "deactivated"),
    ("Archived", "archived"),
]


class OptimovePanel(VendorPanel):
    vendor = Vendor.OPTIMOVE

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel_optimove")
        self.promotions = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_PROMOTIONS,
                title="Promotions",
                noun="promotion",
                search_placeholder="Search promotions",
                search_help="Finds promotions whose ID, name or promotion code contains the text",
                empty_hint=EMPTY_HINT.format(noun="promotions"),
                status_filter=("state", PROMOTION_STATES),
                status_unknown=(
                    "Saved Optimove exports do not include promotion states, so the state "
                    "is unknown offline"
                ),
            ),
            title_column="promotion_id",
        )
        self.promocodes = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_PROMOCODES,
                title="Promocodes",
                noun="promocode",
                search_placeholder="Search promocodes",
                search_help="Finds promocodes whose ID or global code contains the text",
                empty_hint=EMPTY_HINT.format(noun="promocodes"),
            ),
            title_column="promocode_id",
        )
        self.allocations = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_ALLOCATIONS,
                title="Allocations",
                noun="allocation",
                search_placeholder="Search code or customer ID",
                search_help=(
                    "Finds allocations whose code contains the text, or whose customer ID "
                    "starts with it"
                ),
                empty_hint=EMPTY_HINT.format(noun="allocations")
                + "\n(An Optimove allocation export is a CSV with customerId, uniqueCode, … "
                "columns.)",
            ),
            title_column="unique_code",
        )
        self.code_files = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_CODE_FILES,
                title="Code files",
                noun="file",
                search_placeholder="Search files",
                search_help="Finds code files whose ID or file name contains the text",
                empty_hint=EMPTY_HINT.format(noun="code files"),
            ),
            title_column=("file_name", "file_id"),
        )
        self.pool_codes = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_POOL_CODES,
                title="Codes in local files",
                noun="code",
                search_placeholder="Search codes",
                search_help="Finds codes containing the text",
                empty_hint=(
                    "No unique-code files imported.\n\nOpen a unique-code file (one code "
                    "per line) to check it against the workspace."
                ),
            ),
            title_column="code",
        )

        self.narrow(
            self.promotions,
            self.promocodes,
            {"account_id": "account_id", "promotion_id": "promotion_id"},
            "in {promotion_id}",
        )
        self.narrow(
            self.promocodes,
            self.allocations,
            {"account_id": "account_id", "promocode_id": "promocode_id"},
            "of {promocode_id}",
        )
        self.narrow(
            self.promocodes,
            self.code_files,
            {"account_id": "account_id", "promocode_id": "promocode_id"},
            "of {promocode_id}",
        )
        self.narrow(
            self.code_files,
            self.pool_codes,
            {"account_id": "account_id", "file_id": "file_id"},
            lambda shown: f"in {shown['file_name'] or shown['file_id']}",
        )

        left = QSplitter(Qt.Orientation.Vertical)
        left.setObjectName("optimoveLeft")
        left.addWidget(self.promotions)
        left.addWidget(self.promocodes)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("optimoveTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.allocations, "Allocations")
        self.tabs.addTab(self.code_files, "Code files")
        self.tabs.addTab(self.pool_codes, "Codes in local files")
        self.arrange(left, self.tabs)
        self.splitters.append(left)

    @property
    def main_browser(self) -> TableBrowser:
        return self.allocations

    def workspace_changed(self) -> None:
        """Codes from a unique-code file not uploaded yet carry an internal file id
        ("local-e2a8…"): their tables show the file's name, or that it is not uploaded."""

        def file_names(conn: sqlite3.Connection) -> dict[str, str]:
            return dict(
                conn.execute(
                    "SELECT file_id, file_name FROM optimove_code_files WHERE file_name != ''"
                ).fetchall()
            )

        def show(names: dict[str, str]) -> None:
            self.pool_codes.model.set_value_names("file_id", names)
            self.code_files.model.set_value_names(
                "file_id",
                {file_id: "Not uploaded" for file_id in names if file_id.startswith(LOCAL_FILE)},
            )

        self.read(file_names, show)
