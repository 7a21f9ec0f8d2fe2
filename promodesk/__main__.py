"""`python -m promodesk` starts the app (or a CLI command, see promodesk.app)."""

from promodesk.app import main

raise SystemExit(main())
