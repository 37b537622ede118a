"""The Qt-free core: catalog, importers, imaging, jobs. Nothing here may import PySide6."""
