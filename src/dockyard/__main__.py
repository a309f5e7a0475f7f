"""``python -m dockyard``."""

from dockyard.cli import main

raise SystemExit(main())
