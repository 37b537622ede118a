"""Restyle product images: one entry point over every engine.

>>> from stylerec_desktop.core.stylize import stylize, StyleImage, PresetBlend, StyleOptions  # doctest: +SKIP
>>> out = stylize(photo, StyleImage("starry.jpg"), StyleOptions(strength=0.8, preserve_colour=True))
>>> out = stylize(photo, PresetBlend({3: 0.5, 12: 0.5}), StyleOptions(size=2048))

:func:`stylize_job` is the same work as a generator that yields :class:`~stylerec_desktop.core.jobs.Progress`
(drive it with :func:`~stylerec_desktop.core.jobs.run_job`; closing it cancels between tiles).

The options and style sources are plain data and load at once; the pipeline (:mod:`.pipeline`, which loads torch
and the networks, ~2 s) loads on the first use of a name that needs it. So the settings-only modules (``options``,
``looks``, ``recipe``'s records) can be imported without torch: the app's window opens before torch is loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from stylerec_desktop.core.stylize.options import PresetBlend, StyleImage, StyleOptions, StyleSource, StyleVector

if TYPE_CHECKING:
    from stylerec_desktop.core.stylize.cache import RenderCache
    from stylerec_desktop.core.stylize.engines import ENGINES, Engine
    from stylerec_desktop.core.stylize.pipeline import default_product_mask, prepare_content, stylize, stylize_job

__all__ = [
    "ENGINES",
    "Engine",
    "PresetBlend",
    "RenderCache",
    "StyleImage",
    "StyleOptions",
    "StyleSource",
    "StyleVector",
    "default_product_mask",
    "prepare_content",
    "stylize",
    "stylize_job",
]

# Names that live in a module loading torch, and that module (relative to this package).
_LAZY = {"ENGINES": ".engines", "Engine": ".engines", "RenderCache": ".cache"}


def __getattr__(name: str) -> Any:
    """The pipeline's names, loaded on first use (PEP 562). An unknown name is an AttributeError, so that
    ``from stylerec_desktop.core.stylize import gatys`` still finds the submodule."""
    module = importlib.import_module(_LAZY.get(name, ".pipeline"), __name__)
    try:
        value = getattr(module, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value  # found once; later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
