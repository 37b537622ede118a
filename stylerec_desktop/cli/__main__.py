"""`python -m stylerec_desktop.cli` runs `stylerec`."""

from stylerec_desktop.cli import main

raise SystemExit(main())
