"""Optimove: promotions, their promocodes, and for the selected promocode its code files and
allocations; codes from unique-code files not uploaded yet under 'Local code files'."""

from __future__ import annotations

from promodesk.domain.vendors import Vendor
from promodesk.qt import QSplitter, Qt, QTabWidget, QWidget
from promodesk.store import tables
from promodesk.ui.panels.base import EMPTY_HINT, VendorPanel
from promodesk.ui.panels.table_browser import TableBrowser

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
                noun="promotions",
                search_placeholder="Search promotions",
                empty_hint=EMPTY_HINT.format(noun="promotions"),
                status_filter=("state", PROMOTION_STATES),
            ),
            title_column="promotion_id",
        )
        self.promocodes = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_PROMOCODES,
                title="Promocodes",
                noun="promocodes",
                search_placeholder="Search promocodes",
                empty_hint=EMPTY_HINT.format(noun="promocodes"),
            ),
            title_column="promocode_id",
        )
        self.allocations = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_ALLOCATIONS,
                title="Allocations",
                noun="allocations",
                search_placeholder="Code contains… or customer ID starts with…",
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
                noun="files",
                search_placeholder="Search files",
                empty_hint=EMPTY_HINT.format(noun="code files"),
            ),
            title_column="file_id",
        )
        self.pool_codes = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_POOL_CODES,
                title="Codes in local files",
                noun="codes",
                search_placeholder="Code contains…",
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
            "in {file_id}",
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
