"""Where promodesk keeps things, in each OS's usual places (platformdirs)."""

from __future__ import annotations

import sys
from pathlib import Path

from promodesk import APP_NAME

# platformdirs is imported in the functions that need it: the window's icon comes from
# resources_dir() before the first paint, and importing platformdirs costs ~6 ms.


def config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def workspaces_dir() -> Path:
    return data_dir() / "workspaces"


def default_workspace() -> Path:
    """Where the CLI imports when no --workspace is given."""
    return workspaces_dir() / "My workspace.promodesk"


def resources_dir() -> Path:
    """resources/ from the repo, the installed wheel, or the frozen bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "resources"
    if checkout.is_dir():
        return checkout
    return package / "_resources"
