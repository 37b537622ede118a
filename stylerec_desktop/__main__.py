"""`python -m stylerec_desktop` starts the desktop app."""

from stylerec_desktop.gui.app import main

# Guarded: worker processes (the indexing pool on many-core machines) import the main module under another name.
if __name__ == "__main__":
    raise SystemExit(main())
