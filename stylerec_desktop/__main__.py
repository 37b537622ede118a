"""`python -m stylerec_desktop` starts the desktop app."""

from stylerec_desktop.gui.app import main

raise SystemExit(main())
