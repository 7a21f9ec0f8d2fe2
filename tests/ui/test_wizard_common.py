"""What the wizards share: the Create menu where a marketer looks for it, full garbage
collections held off while a wizard (or any job) works (and back on after), step lines in words, and a
wizard that refuses in words instead of crashing."""

from __future__ import annotations

import gc
from typing import Any

from promodesk.domain.jobs import JobCancelled
from promodesk.services.wizard_runs import PlanError, Step
from promodesk.ui.main_window import MainWindow
from promodesk.ui.tasks import QUIET_COLLECTOR, QuietCollector
from promodesk.ui.wizards.common import step_text
from tests.ui.conftest import wait_job
from tests.ui.wizard_support import opened


def test_the_create_menu_sits_before_help_with_every_wizard(window: MainWindow) -> None:
    titles = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert titles[-2:] == ["Create", "Help"]
    entries = [action.text().replace("&", "") for action in window.create_menu.actions()]
    assert entries == [
        "New promotion with code…",
        "Add codes to an Altcraft program…",
        "New impact.com codes…",
        "Check and upload code files…",
        "Export allocations…",
        "",
        "Resume unfinished…",
    ]
    assert all(action.statusTip() for action in window.create_menu.actions() if action.text())


def test_full_collections_are_held_off_while_a_wizard_works(qtbot: Any, window: MainWindow) -> None:
    wizard = opened(qtbot, window, window.create_menu.actions()[4].trigger)
    qtbot.waitUntil(lambda: not window.runner.jobs, timeout=60_000)
    assert gc.isenabled()
    seen: list[bool] = []

    async def work(_progress: Any) -> None:
        seen.append(gc.isenabled())
        QUIET_COLLECTOR.enter()  # a second job at the same time
        QUIET_COLLECTOR.leave()
        seen.append(gc.isenabled())

    job = wait_job(qtbot, wizard.start("Working", work, lambda _job: None))
    assert job.error is None
    assert seen == [False, False]
    qtbot.waitUntil(lambda: not window.runner.jobs, timeout=60_000)
    assert gc.isenabled()  # back on when the last job ends


def test_full_collections_are_held_off_while_any_job_runs(qtbot: Any, window: MainWindow) -> None:
    """A Refresh or a bulk run holds as many objects as a wizard: a full collection during it
    stalled the window 60-170 ms (bench/live_window.py); every job of the runner holds them off,
    and a cancelled job gives them back."""
    seen: list[bool] = []

    async def work(_progress: Any) -> None:
        seen.append(gc.isenabled())
        raise JobCancelled()  # the user pressed Cancel

    qtbot.waitUntil(
        lambda: not window.runner.jobs, timeout=60_000
    )  # the window's own start-up jobs ended
    assert gc.isenabled()
    job = wait_job(qtbot, window.runner.start("A job of any kind", work, background=True))
    assert job.cancelled
    assert seen == [False]
    assert gc.isenabled()


def test_a_refusal_in_words_ends_the_job_with_its_message(qtbot: Any, window: MainWindow) -> None:
    wizard = opened(qtbot, window, window.create_menu.actions()[0].trigger)
    ended: list[Any] = []

    async def work(_progress: Any) -> None:
        raise PlanError("the account is no longer in promodesk")

    job = wait_job(qtbot, wizard.start("Refusing", work, ended.append))
    assert ended == [job]
    assert isinstance(job.error, PlanError) and job.result is None
    qtbot.waitUntil(lambda: not window.runner.jobs, timeout=60_000)
    assert gc.isenabled()


def test_step_lines_say_what_was_done_or_what_is_left() -> None:
    def step(status: str, message: str = "") -> Step:
        return Step(2, "create_promocode", "promocode pc-9", {}, status, 1, message)

    assert step_text(step("ok", "Created promocode pc-9")) == "✓  Created promocode pc-9"
    assert step_text(step("pending")) == "○  promocode pc-9: not done yet"
    assert step_text(step("unknown", "Optimove: the service failed (HTTP 500)")) == (
        "?  promocode pc-9: not known whether it was done — Optimove: the service failed (HTTP 500)"
    )
    assert step_text(step("failed", "refused")) == "✗  promocode pc-9: failed — refused"


def test_an_account_asked_for_before_the_accounts_load_is_chosen_when_they_do(
    qtbot: Any, window: MainWindow
) -> None:
    from promodesk.domain.vendors import Vendor
    from promodesk.services.accounts import Account
    from promodesk.ui.wizards.common import AccountPicker

    shop = Account(
        vendor=Vendor.OPTIMOVE, name="Shop", settings={"base_url": "https://api.example.test"}
    )
    window.accounts.store.put(shop)
    picker = AccountPicker(window.wizards, Vendor.OPTIMOVE)
    assert not picker.ready
    picker.choose(shop.id)  # e.g. the account a resumed upload was planned with
    qtbot.waitUntil(lambda: picker.ready, timeout=10_000)
    assert [account.name for account in picker.accounts] == ["Sandbox", "Shop"]
    chosen = picker.account()
    assert chosen is not None and chosen.id == shop.id
    picker.deleteLater()


def test_what_is_left_after_the_jobs_is_frozen_and_its_garbage_collected_when_idle(
    qtbot: Any,
) -> None:
    """After the last job, the objects left are frozen (automatic full collections no longer
    walk them: 40-65 ms as a bulk run ended, bench/live_window.py); cycles among them that
    became garbage are collected by the full collection made when no job runs."""
    import weakref

    collector = QuietCollector()

    class Node:
        pass

    gc.collect()
    frozen_before = gc.get_freeze_count()
    try:
        collector.enter()
        node = Node()
        node.me = node  # type: ignore[attr-defined]
        held = weakref.ref(node)
        gc.collect()  # it is old now, like a job's state
        del node  # garbage, but only a full collection finds it (a cycle)
        collector.leave()
        assert gc.isenabled()
        qtbot.waitUntil(lambda: gc.get_freeze_count() > frozen_before)  # once the job ended
        assert collector.idle_timer.isActive()  # the full collection, when idle
        gc.collect()  # an automatic full collection: frozen objects are not walked
        assert held() is not None
        collector.enter()
        collector.collect_idle()  # a job runs: not now
        assert held() is not None
        collector.leave()
        collector.collect_idle()
        assert held() is None
        assert gc.get_freeze_count() > 0  # the rest frozen again
    finally:
        qtbot.wait(1)  # (the last leave's settling runs now, not in another test)
        gc.unfreeze()
