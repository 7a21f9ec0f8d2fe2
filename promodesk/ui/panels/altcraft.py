"""Altcraft: loyalty programs and their promo codes, with attach/activate/expiry state."""

from __future__ import annotations

from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.qt import QWidget
from promodesk.store import tables
from promodesk.ui.panels.base import EMPTY_HINT, VendorPanel, status_choices
from promodesk.ui.panels.table_browser import TableBrowser


class AltcraftPanel(VendorPanel):
    vendor = Vendor.ALTCRAFT

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel_altcraft")
        self.programs = self.add_browser(
            TableBrowser(
                tables.ALTCRAFT_PROGRAMS,
                title="Loyalty programs",
                noun="program",
                search_placeholder="Search programs",
                search_help="Finds loyalty programs whose ID contains the text",
                empty_hint=EMPTY_HINT.format(noun="loyalty programs"),
            ),
            title_column="loyalty_id",
        )
        self.codes = self.add_browser(
            TableBrowser(
                tables.ALTCRAFT_CODES,
                title="Promo codes",
                noun="code",
                search_placeholder="Search code or profile ID",
                search_help=(
                    "Finds codes containing the text, or attached to a profile ID starting with it"
                ),
                empty_hint=EMPTY_HINT.format(noun="Altcraft promo codes")
                + "\n(Save an export_all response as JSON or XML.)",
                status_filter=(
                    "status",
                    status_choices(
                        CodeStatus.AVAILABLE,
                        CodeStatus.ATTACHED,
                        CodeStatus.ACTIVATED,
                        CodeStatus.EXPIRED,
                    ),
                ),
            ),
            title_column="code",
        )
        self.narrow(
            self.programs,
            self.codes,
            {"account_id": "account_id", "loyalty_id": "loyalty_id"},
            "in loyalty program {loyalty_id}",
        )
        self.arrange(self.programs, self.codes)
