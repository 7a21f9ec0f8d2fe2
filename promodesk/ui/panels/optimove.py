"""Optimove: promotions, their promocodes, and for the selected promocode its code files and
allocations; codes from unique-code files not uploaded yet under 'Local code files'."""

from __future__ import annotations

from typing import TYPE_CHECKING

from promodesk.domain.vendors import Vendor
from promodesk.qt import QSplitter, Qt, QTabWidget, QWidget
from promodesk.store import tables
from promodesk.ui.panels.base import EMPTY_HINT, OPEN_EXPORT_HINT, VendorPanel
from promodesk.ui.panels.table_browser import TableBrowser

if TYPE_CHECKING:
    import sqlite3

    from promodesk.ui.live.sources import Source

LEGACY_HINT = (
    "Nothing from the legacy API here yet.\n\nFor accounts with a legacy API address, "
    "{how} reads {what} into the workspace."
)
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

        # The legacy function API (GetPromoCodes, GetPromotions, AddPromotions, ...): its own
        # view, since its promo codes and promotions are not OptiPromo's.
        self.legacy_promotions = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_LEGACY_PROMOTIONS,
                title="Legacy promotions",
                noun="promotion",
                search_placeholder="Search code or name",
                search_help="Finds legacy promotions whose promo code or name contains the text",
                empty_hint=LEGACY_HINT.format(
                    what="the promotions list", how="Legacy API ▸ Reload the promotions list"
                ),
            ),
            title_column="promo_code",
        )
        self.legacy_codes = self.add_browser(
            TableBrowser(
                tables.OPTIMOVE_LEGACY_CODES,
                title="Legacy promo codes",
                noun="promo code",
                search_placeholder="Search promo codes",
                search_help="Finds promo codes containing the text",
                empty_hint=LEGACY_HINT.format(
                    what="promo codes by date, campaign or target group",
                    how="Legacy API ▸ Promo codes of a day…",
                ),
            ),
            title_column="promo_code",
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
        legacy = QSplitter(Qt.Orientation.Vertical)
        legacy.setObjectName("optimoveLegacy")
        legacy.addWidget(self.legacy_promotions)
        legacy.addWidget(self.legacy_codes)
        self.tabs.addTab(legacy, "Legacy API")
        self.arrange(left, self.tabs)
        self.splitters.append(left)
        self.splitters.append(legacy)

    @property
    def main_browser(self) -> TableBrowser:
        return self.allocations

    def empty_hint_for(self, browser: TableBrowser, source: Source) -> str:
        """Optimove has no list of promotions or promocodes: the workspace is the list."""
        if source.imported:
            return super().empty_hint_for(browser, source)
        if browser is self.allocations:
            return (
                f"No allocations from {source.name} in this workspace yet.\n\nOptimove gives "
                "allocations as an export: Promocodes ▸ Export allocations… saves one, and "
                "File ▸ Open saved export… (Ctrl+O) brings it in."
            )
        if browser not in (self.promotions, self.promocodes):
            return super().empty_hint_for(browser, source)
        noun = browser.noun
        return (
            f"No {noun}s from {source.name} in this workspace yet.\n\n"
            f"Optimove cannot list its {noun}s: create one ({browser.title.text()} ▸ New "
            f"{noun}…) or add one you know by its ID ({browser.title.text()} ▸ Track existing "
            f"{noun}…). Refresh (F5) then keeps them up to date. " + OPEN_EXPORT_HINT
        )

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
