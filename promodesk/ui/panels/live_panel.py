"""A vendor panel's live side: the source it shows (its tables filtered to that account's
rows), Refresh with progress and "as of", its busy indicator, its message bar, the
operations (generated from the vendor's table), and refreshing what an operation changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promodesk.qt import QObject
from promodesk.ui.live.sources import Source, why_not_writable

if TYPE_CHECKING:
    from promodesk.services.operations.base import Operation
    from promodesk.ui.live.session import LiveSession, WriteNotice
    from promodesk.ui.operations.actions import PanelOperations
    from promodesk.ui.panels.base import VendorPanel
    from promodesk.ui.tasks import Job

SANDBOX_IDS = {  # what the Optimove sandbox holds, for "Track existing…"
    "get_promotion": "promotion_id",
    "get_promocode": "promocode_id",
}


def as_of_text(as_of: str) -> str:
    from promodesk.store.tables import Column
    from promodesk.ui.models.formatting import display

    return display(Column("as_of", "As of", "datetime"), as_of)


class PanelLive(QObject):
    def __init__(self, panel: VendorPanel, live: LiveSession) -> None:
        super().__init__(panel)
        self.panel = panel
        self.session = live
        self.source: Source | None = None
        self.sources: list[Source] = []
        self._imported_seen: tuple[int | None, str] = (None, "")  # the imported files' rows
        bar = panel.account_bar
        bar.picked.connect(self.pick)
        bar.refresh_requested.connect(self.refresh)
        live.sources_changed.connect(self.update_sources)
        live.online_changed.connect(lambda _key: self._state_changed())
        live.wrote.connect(self.apply_write)
        live.went_offline.connect(self._went_offline)
        live.runner.job_started.connect(self._jobs_changed)
        live.runner.job_finished.connect(self._jobs_changed)
        from promodesk.ui.operations.actions import PanelOperations

        self.operations: PanelOperations = PanelOperations(panel, self)
        for button in self.operations.buttons:
            bar.groups.addWidget(button)
        self.update_sources(apply=False)

    # -- the source ----------------------------------------------------------------------------

    def update_sources(self, *, apply: bool = True) -> None:
        """The accounts or the workspace's sources changed: keep the pick (its rows may now
        be in the workspace); newly imported files are shown at once."""
        live = self.session
        vendor = self.panel.vendor
        self.sources = live.sources(vendor)
        by_key = {source.key: source for source in self.sources}
        imported = by_key.get("imported")
        seen = (imported.workspace_id, imported.as_of) if imported is not None else (None, "")
        newly_imported = (
            self.source is not None
            and not self.source.imported
            and seen[0] is not None
            and (self._imported_seen[0] is None or seen[1] > self._imported_seen[1])
        )
        self._imported_seen = seen
        current = live.chosen(vendor) if self.source is None else by_key.get(self.source.key)
        if newly_imported and imported is not None:
            current = imported
            self.panel.show_message(
                "info", f"Showing the {vendor.display_name} rows of the files you imported."
            )
        if current is None:
            current = live.chosen(vendor)
        self.panel.account_bar.set_sources(self.sources, current)
        self.use(current, run=apply)

    def pick(self, source: Source) -> None:
        self.session.remember(source)
        self.use(source)

    def use(self, source: Source, *, run: bool = True) -> None:
        changed = self.source is None or (self.source.key, self.source.filter_id) != (
            source.key,
            source.filter_id,
        )
        self.source = source
        if changed:
            for browser in self.panel.browsers:
                hint = self.panel.empty_hint_for(browser, source)
                browser.set_base_filter({"account_id": source.filter_id}, hint, run=run)
        self._state_changed()

    def why_not_writable(self) -> str | None:
        if self.source is None:
            return "Open a workspace first"
        return why_not_writable(self.source, self.session.is_online(self.source))

    def _state_changed(self) -> None:
        source = self.source
        bar = self.panel.account_bar
        if source is None:
            return
        online = self.session.is_online(source)
        bar.as_of.setText(self.as_of_line())
        if source.imported:
            bar.refresh_button.setToolTip("Read the workspace again (F5)")
        else:
            reason = why_not_writable(source, online)
            bar.refresh_button.setToolTip(
                reason or f"Read everything {source.name} has at {source.vendor.display_name} (F5)"
            )
        self.operations.update()
        self.panel.source_changed.emit(source)

    def as_of_line(self) -> str:
        source = self.source
        if source is None:
            return ""
        if source.as_of:
            return f"as of {as_of_text(source.as_of)}"
        return "nothing yet" if source.imported else "never refreshed"

    def status(self) -> tuple[str, str]:
        """The status bar's words for this panel: where its rows come from, and whether
        its account is online."""
        source = self.source
        if source is None:
            return "", ""
        vendor = source.vendor.display_name
        when = f"data as of {as_of_text(source.as_of)}" if source.as_of else f"no {vendor} data yet"
        if source.imported:
            return (
                f"Offline · {when}",
                "Imported files are kept on this computer; no network is used.",
            )
        state = "online" if self.session.is_online(source) else "offline"
        return f"{source.name} · {state} · {when}", source.tooltip

    # -- refresh ---------------------------------------------------------------------------------

    def refresh(self) -> Job | None:
        """F5: sync the account; imported files (or an account offline) read the workspace
        again."""
        source = self.source
        if source is None:
            return None
        reason = why_not_writable(source, self.session.is_online(source))
        if reason:
            self.panel.refresh()
            if not source.imported:
                self.panel.show_message("info", f"Read the workspace again. {reason}.")
            return None
        return self.session.sync(self.panel, source, self._synced)

    def _synced(self, job: Job) -> None:
        from promodesk.services.live import never_connected

        if job.replaced or never_connected(job.error):
            return  # (a newer refresh runs; or the network is gone, and that is said)
        if job.cancelled:
            self.panel.show_message("info", "Refresh cancelled; the workspace is as it was.")
            return
        if job.error is not None:
            self.panel.show_message(
                "error",
                f"Could not refresh {self.source.name if self.source else ''}: {job.error}",
                getattr(job.error, "details", "") or "",
            )
            return
        self.panel.show_message("info", job.result.summary())

    def _went_offline(self, source: Source, what: str) -> None:
        if source.vendor is not self.panel.vendor:
            return
        self.panel.show_message(
            "warning",
            f"Could not reach {source.vendor.display_name}, so {source.name} is offline now: "
            "the tables show what the workspace holds, and changes wait until it is online "
            "again.",
            what,
            action=("Go online and refresh", lambda: self.back_online(source)),
        )

    def back_online(self, source: Source) -> Job | None:
        self.session.set_online(source, True)
        return self.refresh() if self.source is not None and self.source.key == source.key else None

    # -- operations --------------------------------------------------------------------------------

    def run(
        self,
        operation: Operation,
        values: dict[str, Any],
        *,
        what: str = "",
        on_done: Any = None,
    ) -> Job:
        source = self.source
        assert source is not None
        label = operation.label.rstrip("…")
        title = f"{label}: {what}" if what else label

        def done(job: Job) -> None:
            self._report(operation, job, title)
            if on_done is not None:
                on_done(job)

        return self.session.run_operation(
            self.panel, source, operation, values, title=title, on_done=done
        )

    def _report(self, operation: Operation, job: Job, title: str) -> None:
        """Every outcome in the panel's message bar (details a click away)."""
        from promodesk.services.live import never_connected
        from promodesk.ui.live.session import Refused

        result = job.result
        if job.replaced or never_connected(getattr(result, "error", None) or job.error):
            return  # a newer one runs; or the network is gone, and the warning says so
        if job.cancelled:
            if operation.changes_vendor:
                self.panel.show_message(
                    "warning",
                    f"{title}: stopped while waiting for the answer; it may or may not have "
                    "been made. Reload the row to see.",
                )
            return
        if job.error is not None:
            self.panel.show_message(
                "error", f"{title}: {job.error}", getattr(job.error, "details", "") or ""
            )
            return
        if isinstance(result, Refused):
            text = result.reason or "; ".join(
                f"{name}: {problem}" if name else problem for name, problem in result.problems
            )
            self.panel.show_message("warning", f"{title}: {text}")
            return
        if result.status == "ok":
            self.panel.show_message("info", result.message)
        elif result.status == "unknown":
            self.panel.show_message(
                "warning",
                f"{result.message}. It may or may not have been made; promodesk noted it in "
                "the history. Reload to see which.",
                result.details,
            )
        else:
            self.panel.show_message("error", result.message, result.details)

    def apply_write(self, notice: WriteNotice) -> None:
        """The workspace changed: the rows that changed show their new values where they
        are (selection and scroll kept); tables with new or removed rows read again, their
        selection kept."""
        if notice.vendor is not self.panel.vendor:
            return
        for browser in self.panel.browsers:
            if notice.in_place and browser.spec.name == notice.table:
                browser.refresh_rows(notice.changed_ids)
            else:
                browser.refresh_keeping_selection()
        self.panel.workspace_changed()
        self.panel.refresh_details()

    def _jobs_changed(self, _job: Job) -> None:
        jobs = self.session.runner.owned(self.panel)
        self.panel.account_bar.set_busy([job for job in jobs if not job.done])

    def sandbox_note(self, operation: Operation) -> str:
        """For the sandbox's Track existing…: the IDs its fake holds, to try it with."""
        source = self.source
        if source is None or not source.sandbox or operation.name not in SANDBOX_IDS:
            return ""
        try:
            fake = self.session.window.accounts.connections.fake(source.vendor)
            state = fake.state
            known = list(
                state.promotions if operation.name == "get_promotion" else state.promocodes
            )
        except AttributeError:
            return ""
        return f"The sandbox has: {', '.join(known)}."
