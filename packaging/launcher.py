"""Entry point of the standalone bundle: the same main() as `python -m promodesk`."""

from promodesk.app import main

raise SystemExit(main())
