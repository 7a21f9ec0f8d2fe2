"""Insights: what changed, collisions, pool runway and reconciliation, across every vendor.

`install_insight_views(window)` adds the Insights menu and two watches: pools about to run
dry (when a workspace opens, and after each refresh: a warning in the vendor's panel with the
action that fixes it) and collisions found by a refresh (a warning in that panel). It is
called while the window's frame is built, so this module imports nothing but the menu's own
Qt names: each view (and the store code behind it) loads when it is first opened.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from promodesk.qt import QAction, QKeySequence, QMenu, QObject

if TYPE_CHECKING:
    from promodesk.domain.vendors import Vendor
    from promodesk.store.runway import Runway
    from promodesk.ui.insights.base import InsightView
    from promodesk.ui.main_window import MainWindow
    from promodesk.ui.tasks import Job

THRESHOLD_KEY = "insights/runway_threshold_days"

# (view, menu text, shortcut, tip)
VIEWS = (
    (
        "changes",
        "What &changed…",
        "Ctrl+Shift+C",
        "Codes and promotions added, removed or changed between two snapshots or since a date",
    ),
    (
        "collisions",
        "Co&llisions…",  # (Alt+C is What &changed)
        "Ctrl+Shift+L",
        "The same code live at two vendors, two accounts or two pools",
    ),
    (
        "runway",
        "Pool &runway…",
        "Ctrl+Shift+R",
        "How long each pool of unique codes lasts at the pace codes are handed out",
    ),
    (
        "reconcile",
        "R&econciliation…",
        "Ctrl+Shift+M",
        "Your shop's redemptions against the codes handed out: what does not add up",
    ),
)


def _view_type(name: str) -> type[InsightView]:
    if name == "changes":
        from promodesk.ui.insights.changes import ChangesView

        return ChangesView
    if name == "collisions":
        from promodesk.ui.insights.collisions import CollisionsView

        return CollisionsView
    if name == "runway":
        from promodesk.ui.insights.runway import RunwayView

        return RunwayView
    from promodesk.ui.insights.reconcile import ReconcileView

    return ReconcileView


class Insights(QObject):
    """The window's Insights views (one of each, non-modal) and its warnings."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.views: dict[str, InsightView] = {}
        self.runways: list[Runway] = []  # the last runway worked out
        self.warned: set[tuple[int, str]] = set()  # pools warned about (account, pool)
        window.workspace_opened.connect(lambda _session: self.workspace_opened())
        window.info_refreshed.connect(self.workspace_changed)
        window.runner.job_finished.connect(self._job_finished)
        window.closed.connect(self.close_all)

    # -- the views -----------------------------------------------------------------------------

    def open(self, name: str) -> InsightView | None:
        if self.window.session is None:
            self.window.show_message("info", "Open a workspace first: Insights read it.")
            return None
        view = self.views.get(name)
        if view is None:
            view = _view_type(name)(self.window, self)
            view.finished.connect(lambda _result, n=name: self._closed(n))
            self.views[name] = view
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def _closed(self, name: str) -> None:
        view = self.views.pop(name, None)
        if view is not None:
            view.close_reader()
            view.deleteLater()

    def close_all(self) -> None:
        for name in list(self.views):
            self.views[name].close()
            self._closed(name)

    def workspace_opened(self) -> None:
        for name in list(self.views):  # views of the previous workspace
            self.views[name].close()
            self._closed(name)
        self.warned.clear()
        self.check_runway()

    def workspace_changed(self) -> None:
        """The workspace changed (an import, a refresh, an operation): open views work their
        report out again."""
        for view in list(self.views.values()):
            view.workspace_changed()

    # -- pool runway ---------------------------------------------------------------------------

    @property
    def threshold_days(self) -> int:
        from promodesk.store.runway import DEFAULT_THRESHOLD_DAYS

        value = self.window.settings.value(THRESHOLD_KEY, DEFAULT_THRESHOLD_DAYS)
        try:
            return max(1, int(value))
        except (TypeError, ValueError):
            return DEFAULT_THRESHOLD_DAYS

    def set_threshold_days(self, days: int) -> None:
        self.window.settings.setValue(THRESHOLD_KEY, int(days))

    def check_runway(self) -> Job | None:
        """Work out every pool's runway (in the background) and warn about those under the
        threshold, in their vendor's panel."""
        session = self.window.session
        if session is None:
            return None
        threshold = self.threshold_days
        path = session.path

        async def work(progress: Any) -> list[Runway]:
            from promodesk.services.reports import runway_report_async

            return await runway_report_async(path, threshold_days=threshold, progress=progress)

        def done(job: Job) -> None:
            if job.error is not None or job.cancelled or self.window.session is not session:
                return
            self.runways = list(job.result)
            self.warn_runway(self.runways)

        return self.window.runner.start(
            "Working out pool runway",
            work,
            cancellable=False,
            background=True,
            owner=self,
            key="runway",
            on_done=done,
        )

    def warn_runway(self, runways: list[Runway]) -> None:
        """In each vendor's panel, the pools under the threshold not warned about yet (a
        refresh warns again only when another pool falls under it)."""
        from promodesk.domain.vendors import Vendor
        from promodesk.store.runway import under_threshold

        short = under_threshold(runways)
        if {(runway.account_id, runway.pool) for runway in short} <= self.warned:
            return
        self.warned |= {(runway.account_id, runway.pool) for runway in short}
        for vendor in (Vendor.OPTIMOVE, Vendor.ALTCRAFT):
            mine = [runway for runway in short if runway.vendor is vendor]
            if not mine:
                continue
            first = mine[0]
            text = (
                f"{len(mine)} pools of codes run dry within {self.threshold_days} days. "
                f"The first: {first.message}."
                if len(mine) > 1
                else f"Pool running dry: {first.message}."
            )
            action = ("Add codes…", lambda r=first: self.fix_runway(r))
            self.window.panel_of(vendor).show_message("warning", text, "", action)

    def fix_runway(self, runway: Runway) -> None:
        """The action that fixes a pool running dry: more codes for it (Optimove: the code
        file wizard for that promocode; Altcraft: codes added to the program)."""
        from promodesk.domain.vendors import Vendor

        wizards = getattr(self.window, "wizards", None)
        if wizards is None:
            return
        if runway.vendor is Vendor.OPTIMOVE:
            wizards.open_code_files(
                account_id=self.settings_account(runway.account_id), promocode_id=runway.pool
            )
        else:
            wizards.open_altcraft()

    def settings_account(self, account_id: int) -> str | None:
        """The accounts-settings id of a workspace source (None: imported files)."""
        session = self.window.session
        for info in session.info.sources if session is not None else ():
            if info.account_id == account_id and info.key and info.key != "imported":
                return info.key
        return None

    # -- after a refresh -----------------------------------------------------------------------

    def _job_finished(self, job: Job) -> None:
        # Not imported here: the sync module (and the vendor clients behind it) would load on
        # the GUI thread after the first job of any kind. No sync ran if it is not loaded.
        sync = sys.modules.get("promodesk.services.sync")
        if sync is None or job.error is not None or job.cancelled:
            return
        if isinstance(job.result, sync.SyncOutcome):
            self.after_sync(job.result)

    def after_sync(self, outcome: Any) -> Job | None:
        """A refresh landed: once the inventory has its codes, look for collisions of that
        account's codes, and work the runway out again."""
        session = self.window.session
        if session is None:
            return None
        path, run_id, vendor = session.path, outcome.run_id, outcome.vendor

        async def work(progress: Any) -> tuple[int | None, Any]:
            from promodesk.services.jobs import run_blocking
            from promodesk.services.reading import reading
            from promodesk.services.reports import collisions_report

            await session.wait_for_indexes()  # the inventory is fed with the indexes

            def account_of(token: Any, _p: Any) -> int | None:
                with reading(path, token) as conn:
                    row = conn.execute(
                        "SELECT account_id FROM runs WHERE id = ?", (run_id,)
                    ).fetchone()
                return int(row[0]) if row and row[0] is not None else None

            account_id = await run_blocking(account_of)
            if account_id is None:
                return None, None
            report = await run_blocking(
                lambda t, p: collisions_report(path, account_id=account_id, cancel=t, progress=p),
                progress=progress,
            )
            return account_id, report

        def done(job: Job) -> None:
            if job.error is not None or job.cancelled or self.window.session is not session:
                return
            _account_id, report = job.result
            if report is not None:
                self.warn_collisions(vendor, report)
            self.check_runway()

        return self.window.runner.start(
            "Looking for collisions",
            work,
            cancellable=False,
            background=True,
            owner=self,
            key=f"collisions:{run_id}",
            on_done=done,
        )

    def warn_collisions(self, vendor: Vendor, report: Any) -> None:
        total = sum(count.codes for count in report.counts)
        if not total:
            return
        where = ", ".join(f"{count.codes:,} at {count.collision}" for count in report.counts)
        self.window.panel_of(vendor).show_message(
            "warning",
            f"{total:,} code{'s' if total != 1 else ''} of this account "
            f"{'are' if total != 1 else 'is'} also live elsewhere ({where}): a customer could "
            "get one code twice, or a code that belongs to another promotion.",
            "",
            ("Show collisions", lambda: self.open("collisions")),
        )


def _help_menu_action(window: MainWindow) -> QAction | None:
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == "Help":
            return action
    return None


def install_insight_views(window: MainWindow) -> Insights:
    """The Insights menu (after View) and the runway and collision warnings."""
    insights = Insights(window)
    menu = QMenu("&Insights", window)
    menu.setObjectName("insightsMenu")
    for name, text, shortcut, tip in VIEWS:
        action = QAction(text, window)
        action.setObjectName(f"insight_{name}")
        action.setShortcuts([QKeySequence(shortcut)])  # (not setShortcut: see DEVELOPERS.md)
        action.setStatusTip(tip)
        action.setToolTip(tip)
        action.triggered.connect(lambda _=False, n=name: insights.open(n))
        window.addAction(action)
        menu.addAction(action)
    # Beside View (what the workspace holds), before Create (what changes it) and Help.
    create = getattr(window, "create_menu", None)
    before = create.menuAction() if create is not None else _help_menu_action(window)
    if before is not None:
        window.menuBar().insertMenu(before, menu)
    else:
        window.menuBar().addMenu(menu)
    window.insights_menu = menu  # type: ignore[attr-defined]
    window.insights = insights  # type: ignore[attr-defined]
    return insights
