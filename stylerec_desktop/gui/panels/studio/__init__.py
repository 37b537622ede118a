"""The stylization studio: restyle the chosen products (or picture files dropped on it) with a style from a product,
an image file, a preset blend or a customer's taste, with a live low-resolution preview and full-resolution renders
kept in the catalog.

Finished renders join the results strip, where the original and a variant are compared side by side. A variant can
be rendered again from its recipe, or its settings loaded back into the controls to make a changed copy. "Add to
batch" collects styles; "Render matrix" renders every content picture in every collected style as one job
(:mod:`stylerec_desktop.core.stylize.matrix`).

The parts, each a module: ``content`` (the pictures restyled and how they are read), ``controls`` (the settings
form), ``batch`` (the styles of the batch matrix), ``variants`` (the results strip and the comparison) and ``panel``
(:class:`StudioPanel`, which holds the content and runs the jobs). Open it alone with
``python -m stylerec_desktop.gui.panels.studio``.
"""

from stylerec_desktop.gui.panels.studio.batch import BatchStyle
from stylerec_desktop.gui.panels.studio.content import IMAGE_SUFFIXES, MAX_CONTENTS, PREVIEW_SIDE, Content, image_files
from stylerec_desktop.gui.panels.studio.controls import ENGINES, MASKS, OWN_SETTINGS, SOURCES, describe_style
from stylerec_desktop.gui.panels.studio.panel import GATYS_NO_PREVIEW, StudioPanel
from stylerec_desktop.gui.panels.studio.variants import STRIP_ICON, fidelity_text, variant_name

__all__ = [
    "ENGINES",
    "GATYS_NO_PREVIEW",
    "IMAGE_SUFFIXES",
    "MASKS",
    "MAX_CONTENTS",
    "OWN_SETTINGS",
    "PREVIEW_SIDE",
    "SOURCES",
    "STRIP_ICON",
    "BatchStyle",
    "Content",
    "StudioPanel",
    "describe_style",
    "fidelity_text",
    "image_files",
    "variant_name",
]
