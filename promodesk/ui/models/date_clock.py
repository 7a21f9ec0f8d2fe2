"""View ▸ Dates: the clock every date is shown on, chosen once for every table and pane.

`formatting.CLOCK` holds the choice and each account's time zone; this module changes them
and tells every table model (`date_clock_changed`), which repaints its date cells without
reading the workspace again. The choice is kept in the settings (DATES_KEY).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from promodesk.domain.dates import DateView
from promodesk.qt import QObject, Signal
from promodesk.ui.models.formatting import CLOCK

if TYPE_CHECKING:
    from promodesk.services.dates import DateRenderer

DATES_KEY = "view/dates"


class _Notifier(QObject):
    changed = Signal()


_notifier: _Notifier | None = None


def date_clock_changed() -> Any:
    """The signal emitted when the clock or the accounts' zones change."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier.changed


def set_date_view(view: DateView) -> None:
    if view is not CLOCK.view:
        CLOCK.view = view
        date_clock_changed().emit()


def set_zones(renderer: DateRenderer) -> None:
    """Each account's vendor time zone (read off the GUI thread: services.dates)."""
    if CLOCK.renderer is None or dict(CLOCK.renderer.zones) != dict(renderer.zones):
        CLOCK.renderer = renderer
        date_clock_changed().emit()


def saved_view(value: Any) -> DateView:
    try:
        return DateView(str(value or ""))
    except ValueError:
        return DateView.LOCAL
