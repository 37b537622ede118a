"""One module per panel; each can be opened alone with ``python -m stylerec_desktop.gui.panels.<name>``."""
