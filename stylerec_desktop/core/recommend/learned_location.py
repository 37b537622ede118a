"""Where a catalog's learned model lives, without loading torch (the model's own module does): opening a catalog
asks whether there is one before anything needs the network."""

from __future__ import annotations

from pathlib import Path

from stylerec_desktop.core.catalog import Catalog

MODELS_DIR = "models"
MODEL_FILE = "learned.pt"


def model_path(catalog: Catalog) -> Path:
    """Where the catalog's learned model lives: ``<catalog>/models/learned.pt``."""
    return Path(catalog.folder) / MODELS_DIR / MODEL_FILE
