"""Shared test set-up: every test gets its own config/data/cache dirs and an in-memory keyring."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_API", "pyside6")
# Dates show in local time; tests pin it so the expected text is the same on every machine.
os.environ["TZ"] = "UTC"
time.tzset()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
DEMO_DIR = REPO / "resources" / "demo"


@pytest.fixture(autouse=True)
def isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Nothing a test does touches the real user's settings, workspaces or keychain."""
    home = tmp_path_factory.mktemp("home")
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(home / name.lower()))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PROMODESK_KEYRING", "memory")
    yield home
    gc.unfreeze()  # (what the window froze after its jobs: QuietCollector)
    gc.collect()


@pytest.fixture
def demo_dir() -> Path:
    return DEMO_DIR
