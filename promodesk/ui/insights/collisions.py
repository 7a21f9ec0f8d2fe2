"""Insights ▸ Collisions: the same code live in two places (two vendors, two accounts or two
pools), look-alikes included (0/O, 1/l/I, case, invisible characters), one row per place.

Worked out by `store.collisions.find_collisions` on the view's reader; the list is
`temp.collisions`, paged like any table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from promodesk.domain.jobs import CancelToken, ProgressFn
from promodesk.domain.vendors import Vendor
from promodesk.qt import QComboBox, QLabel
from promodesk.store import collisions
from promodesk.ui.insights.base import InsightView, export_rows, with_source_names
from promodesk.ui.models.formatting import plural
from promodesk.ui.panels.table_browser import TableBrowser

if TYPE_CHECKING:
    import sqlite3

    from promodesk.ui.insights import Insights
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job

KINDS = (collisions.TWO_VENDORS, collisions.TWO_ACCOUNTS, collisions.TWO_POOLS)


class CollisionsView(InsightView):
    title = "Collisions"
    object_name = "collisionsView"
    export_name = "Collisions"

    def __init__(self, window: MainWindow, insights: Insights) -> None:
        super().__init__(window, insights)
        self.counts: list[collisions.CollisionCount] = []
        self.places = 0
        self.kind = QComboBox()
        self.kind.setObjectName("collisionKind")
        self.kind.addItem("Anywhere", None)
        for kind in KINDS:
            self.kind.addItem(f"At {kind}", kind)
        self.kind.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        label = QLabel("&Live:")
        label.setBuddy(self.kind)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.controls.addWidget(label)
        self.controls.addWidget(self.kind)
        self.controls.addStretch(1)
        self.browser = TableBrowser(
            with_source_names(collisions.COLLISIONS),
            title="Codes in two places",
            noun="place",
            search_placeholder="Find a code",
            empty_hint=(
                "No code is live in two places: every live code is at one vendor, in one "
                "account and one pool."
            ),
        )
        self.browser.model.set_value_names(
            "vendor", {vendor.value: vendor.display_name for vendor in Vendor}
        )
        names = {
            info.account_id: f"{info.name} ({info.vendor.display_name})"
            for info in (window.session.info.sources if window.session is not None else ())
        }
        self.browser.model.set_value_names("account_id", names)
        self.wire(self.browser)
        self.body.addWidget(self.browser, 1)
        self.note.setText(
            "Live: available, allocated or used. Same code: equal once case, look-alike "
            "characters (0/O, 1/l/I) and invisible characters are set aside."
        )
        self.export_button.setToolTip("Save every place of every colliding code as a CSV file")
        self.refresh()

    def browsers(self) -> list[TableBrowser]:
        return [self.browser]

    def refresh(self) -> None:
        def work(
            conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn
        ) -> tuple[list[collisions.CollisionCount], int]:
            from promodesk.store.inventory import pending_rows

            found = collisions.find_collisions(conn, cancel=token, progress=progress)
            places = int(conn.execute(f"SELECT count(*) FROM {collisions.RESULT}").fetchone()[0])
            return found, places if not pending_rows(conn) else -places - 1

        self.summary.setText("Looking for codes live in two places…")
        self.run_on_reader("Looking for collisions", work, self._computed)

    def _computed(self, job: Job) -> None:
        if job.error is not None or job.cancelled:
            return
        first = not self.computed
        self.computed = True
        if first:
            self.browser.set_reader(self.reader)
        else:
            self.browser.refresh()
        self.counts, places = job.result
        pending = places < 0
        self.places = -places - 1 if pending else places
        self.summary.setText(self.summary_text(self.counts, pending))

    @staticmethod
    def summary_text(counts: list[collisions.CollisionCount], pending: bool) -> str:
        total = sum(count.codes for count in counts)
        if not total:
            text = "No code is live in two places."
        else:
            each = ", ".join(f"{count.codes:,} at {count.collision}" for count in counts)
            text = f"{plural(total, 'code')} live in two places or more: {each}."
        if pending:
            text += " (Codes imported or refreshed a moment ago are still being added.)"
        return text

    def _kind_changed(self) -> None:
        self.browser.model.filter_on("collision", self.kind.currentData())

    def export_work(self, target: Path) -> Any:
        total = self.places

        def work(conn: sqlite3.Connection, token: CancelToken, progress: ProgressFn) -> int:
            rows = collisions.collision_rows(conn)
            return export_rows(
                target,
                collisions.EXPORT_HEADER,
                rows,
                token,
                progress,
                total,
                rows_are_safe=False,
            )

        return work
