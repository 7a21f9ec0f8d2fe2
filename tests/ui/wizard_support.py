"""Driving the wizards in GUI tests: vendor fakes owned by the test (no rate limit, fast
retries with their delays recorded, not slept), handed to the window's wizards as their
clients, and small helpers to press the wizard's buttons like a user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from promodesk.domain.vendors import Vendor
from promodesk.qt import Qt, QWizard
from promodesk.vendors.altcraft.client import AltcraftClient
from promodesk.vendors.altcraft.fake import SANDBOX_DB_ID, FakeAltcraft
from promodesk.vendors.altcraft.fake import SANDBOX_TOKEN as ALTCRAFT_TOKEN
from promodesk.vendors.fake_support import SandboxTransport
from promodesk.vendors.impact.client import ImpactClient
from promodesk.vendors.impact.fake import SANDBOX_SID, FakeImpact
from promodesk.vendors.impact.fake import SANDBOX_TOKEN as IMPACT_TOKEN
from promodesk.vendors.optimove.client import OptimoveClient
from promodesk.vendors.optimove.fake import SANDBOX_API_KEY, FakeOptimove
from tests.integration.conftest import SleepRecorder, fast


@dataclass
class Sandbox:
    fakes: dict[Vendor, Any]
    clients: dict[Vendor, Any]

    async def client(self, account: Any) -> Any:
        return self.clients[account.vendor]

    @property
    def optimove(self) -> FakeOptimove:
        return self.fakes[Vendor.OPTIMOVE]

    @property
    def altcraft(self) -> FakeAltcraft:
        return self.fakes[Vendor.ALTCRAFT]

    @property
    def impact(self) -> FakeImpact:
        return self.fakes[Vendor.IMPACT]

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()


def make_sandbox() -> Sandbox:
    sleeps = SleepRecorder()
    fakes: dict[Vendor, Any] = {
        Vendor.OPTIMOVE: FakeOptimove(rate_limit=None),
        Vendor.ALTCRAFT: FakeAltcraft(rate_limit=None),
        Vendor.IMPACT: FakeImpact(rate_limit=None),
    }
    clients: dict[Vendor, Any] = {
        Vendor.OPTIMOVE: OptimoveClient.connect(
            "http://optimove.test",
            SANDBOX_API_KEY,
            transport=SandboxTransport(fakes[Vendor.OPTIMOVE]),
            **fast(sleeps),
        ),
        Vendor.ALTCRAFT: AltcraftClient.connect(
            "http://altcraft.test",
            ALTCRAFT_TOKEN,
            5,
            db_id=SANDBOX_DB_ID,
            transport=SandboxTransport(fakes[Vendor.ALTCRAFT]),
            **fast(sleeps),
        ),
        Vendor.IMPACT: ImpactClient.connect(
            "http://impact.test",
            SANDBOX_SID,
            IMPACT_TOKEN,
            transport=SandboxTransport(fakes[Vendor.IMPACT]),
            **fast(sleeps),
        ),
    }
    return Sandbox(fakes, clients)


def press(qtbot: Any, wizard: QWizard, which: QWizard.WizardButton) -> None:
    button = wizard.button(which)
    assert button.isVisible() and button.isEnabled(), (which, button.text())
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def next_page(qtbot: Any, wizard: QWizard) -> None:
    """Next (or Create/Upload/Export on a commit page), as a user clicks it."""
    page = wizard.currentPage()
    which = (
        QWizard.WizardButton.CommitButton
        if page.isCommitPage()
        else QWizard.WizardButton.NextButton
    )
    before = wizard.currentId()
    press(qtbot, wizard, which)
    qtbot.waitUntil(lambda: wizard.currentId() != before, timeout=10_000)


def wait_idle(qtbot: Any, wizard: Any, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: not wizard.busy, timeout=timeout)


def wait_for(qtbot: Any, check: Callable[[], Any], timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: bool(check()), timeout=timeout)


def type_text(qtbot: Any, widget: Any, text: str) -> None:
    widget.setFocus()
    widget.clear()
    qtbot.keyClicks(widget, text)


def drop_on(widget: Any, paths: list[Any]) -> None:
    """Drag files from a file manager and drop them on `widget`."""
    from promodesk.qt import QApplication, QDragEnterEvent, QDropEvent, QMimeData, QUrl

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    point = widget.rect().center()
    enter = QDragEnterEvent(
        point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        point.toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()


def sandbox_fixture(qtbot: Any, window: Any) -> Any:
    """The body of each wizard test module's `sandbox` fixture (a generator)."""
    import asyncio

    box = make_sandbox()
    window.wizards.clients = box.client
    yield box
    closing = asyncio.ensure_future(box.aclose())
    qtbot.waitUntil(closing.done, timeout=10_000)


def opened(qtbot: Any, window: Any, action: Callable[[], Any]) -> Any:
    """Do what opens a wizard (a menu, a button), and the wizard once it shows: the modules
    behind it load off the GUI thread first."""
    with qtbot.waitSignal(window.wizards.opened, timeout=15_000) as blocker:
        action()
    wizard = blocker.args[0]
    assert wizard.isVisible() and wizard in window.wizards.open_wizards
    return wizard
