"""promodesk: promotions and promo codes on Optimove, Altcraft and impact.com in one window."""

# The one place the version is written; pyproject.toml reads it from here (hatch dynamic
# version), so the wheel, `--version` and the bundle agree without importlib.metadata at
# start-up (which costs ~50 ms).
__version__ = "0.1.0"

APP_NAME = "promodesk"
