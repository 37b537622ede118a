"""Export for ad teams: presets, product-aware framing, colour-managed writers with provenance, names, manifests.

The entry point is :func:`export_job`; the GUI's preview uses :func:`frame_for_preset` on its own.
"""

from stylerec_desktop.core.export.framing import FramedImage, FramingWarning, frame_for_preset, frame_product
from stylerec_desktop.core.export.job import (
    ExportFailure,
    ExportItem,
    ExportOptions,
    ExportResult,
    export_job,
    with_format,
)
from stylerec_desktop.core.export.manifest import MANIFEST_CSV, MANIFEST_JSON, ManifestRow, read_manifest
from stylerec_desktop.core.export.naming import DEFAULT_TEMPLATE, TOKENS, NameTemplate
from stylerec_desktop.core.export.presets import (
    BUILTIN_PRESETS,
    ExportPreset,
    parse_preset,
    parse_presets,
    presets_from_json,
    presets_to_json,
)
from stylerec_desktop.core.export.writers import Provenance, read_xmp

__all__ = [
    "BUILTIN_PRESETS",
    "DEFAULT_TEMPLATE",
    "MANIFEST_CSV",
    "MANIFEST_JSON",
    "TOKENS",
    "ExportFailure",
    "ExportItem",
    "ExportOptions",
    "ExportPreset",
    "ExportResult",
    "FramedImage",
    "FramingWarning",
    "ManifestRow",
    "NameTemplate",
    "Provenance",
    "export_job",
    "frame_for_preset",
    "frame_product",
    "parse_preset",
    "parse_presets",
    "presets_from_json",
    "presets_to_json",
    "read_manifest",
    "read_xmp",
    "with_format",
]
