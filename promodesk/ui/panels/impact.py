"""impact.com: programs (campaigns) and their partner promo codes."""

from __future__ import annotations

from promodesk.domain.vendors import CodeStatus, Vendor
from promodesk.qt import QWidget
from promodesk.store import tables
from promodesk.ui.panels.base import EMPTY_HINT, VendorPanel, status_choices
from promodesk.ui.panels.table_browser import TableBrowser


class ImpactPanel(VendorPanel):
    vendor = Vendor.IMPACT

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel_impact")
        self.programs = self.add_browser(
            TableBrowser(
                tables.IMPACT_PROGRAMS,
                title="Programs",
                noun="program",
                search_placeholder="Search programs",
                search_help="Finds programs whose ID or name contains the text",
                empty_hint=EMPTY_HINT.format(noun="programs"),
            ),
            title_column="name",
        )
        self.codes = self.add_browser(
            TableBrowser(
                tables.IMPACT_CODES,
                title="Promo codes",
                noun="code",
                search_placeholder="Search code or partner",
                search_help=(
                    "Finds codes containing the text, or of a partner whose name or ID starts "
                    "with it"
                ),
                empty_hint=EMPTY_HINT.format(noun="impact.com promo codes")
                + "\n(Save a PromoCodes list response as JSON or XML.)",
                status_filter=("status", status_choices(CodeStatus.ACTIVE, CodeStatus.INACTIVE)),
            ),
            title_column="code",
        )
        self.narrow(
            self.programs,
            self.codes,
            {"account_id": "account_id", "campaign_id": "campaign_id"},
            "in {name}",
        )
        self.arrange(self.programs, self.codes, stretch=(3, 7, 2))
