"""The desktop GUI (PySide6). Everything here is a thin layer over :mod:`stylerec_desktop.core`."""
