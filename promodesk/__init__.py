"""promodesk: promotions and promo codes on Optimove, Altcraft and impact.com in one window."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("promodesk")
except _metadata.PackageNotFoundError:  # running from a tree that was never installed
    __version__ = "0.0.0+unknown"

APP_NAME = "promodesk"
