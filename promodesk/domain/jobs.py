"""What long jobs share: a way to be cancelled from another thread and to report progress."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


class JobCancelled(Exception):
    """The user cancelled; whatever the job wrote has been rolled back."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int  # 0 when unknown
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if self.total <= 0:
            return None
        return min(1.0, self.done / self.total)


ProgressFn = Callable[[Progress], None]


def ignore_progress(_: Progress) -> None:
    """For callers that do not show progress."""


class CancelToken:
    """Set from any thread (the UI's Cancel button); checked by the job between steps.

    Callbacks registered with `on_cancel` run once, in the cancelling thread: a job uses one
    to interrupt a long SQLite statement it cannot check from the inside.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run `callback` on cancel (at once if already cancelled); returns an unregister."""
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)

                def unregister() -> None:
                    with self._lock:
                        if callback in self._callbacks:
                            self._callbacks.remove(callback)

                return unregister
        callback()
        return lambda: None

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise JobCancelled()
