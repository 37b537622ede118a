"""The live preview: a picture rendered small, exactly as a full render of the same settings would look.

A preview is :func:`~stylerec_desktop.core.stylize.stylize` of the *original* picture at a small output size, with
the doubtful-mask rule (``stylize.product_mask.doubtful_mask_fallback``) applied as a render applies it, so it
shows the picture the render and an export will make. What makes it fast after a control change is that each
picture keeps a :class:`~stylerec_desktop.core.stylize.cache.RenderCache`: the decoded original, its working
copy, the product analysis, the backdrop plate and the network's painting are made once and reused while only
later settings (strength, colours kept, mask mode) change. A new style or stroke size runs the network again.

>>> previews = Previewer()                                                              # doctest: +SKIP
>>> picture, note = previews.preview(Path("bag.jpg"), PresetBlend({7: 1.0}), StyleOptions(size=256))  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection
from pathlib import Path

from PIL import Image

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.stylize import stylize
from stylerec_desktop.core.stylize.cache import RenderCache
from stylerec_desktop.core.stylize.options import StyleOptions, StyleSource
from stylerec_desktop.core.stylize.product_mask import doubtful_mask_fallback

# Pictures whose originals and intermediate results are kept (the one previewed, and the one before it for a
# quick switch back). A 24-megapixel original is ~70 MB decoded.
PICTURES_KEPT = 2


class Previewer:
    """Previews of picture files, each picture's work kept across control changes (see the module docstring).

    Thread-safe: previews may run on several workers at once (a newer one started before an older one ended)."""

    def __init__(self, pictures: int = PICTURES_KEPT) -> None:
        self._pictures = pictures
        self._kept: OrderedDict[tuple[str, int, int], tuple[Image.Image, RenderCache]] = OrderedDict()
        self._lock = threading.Lock()

    def _picture(self, path: Path) -> tuple[Image.Image, RenderCache]:
        """The decoded original of ``path`` and its cache, once per file version (path, size, modified time)."""
        try:
            stat = Path(path).stat()
        except OSError as error:
            raise UserError(f"Cannot read the picture {path}: {error.strerror or error}.") from None
        key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        try:
            with Image.open(path) as opened:
                opened.load()
                content = opened.copy()
        except OSError as error:
            raise UserError(f"Cannot read the picture {path}: {error}") from None
        entry = (content, RenderCache(content))
        with self._lock:
            self._kept[key] = entry
            while len(self._kept) > self._pictures:
                self._kept.popitem(last=False)
        return entry

    def preview(
        self,
        path: Path,
        source: StyleSource,
        options: StyleOptions,
        engine: str | None = None,
        given: Collection[str] = (),
    ) -> tuple[Image.Image, str]:
        """``path`` rendered with ``options`` (``options.size`` is the preview's longest side), and the sentence
        of the doubtful-mask rule when it changed the settings ("" otherwise). ``given`` names the settings the
        user chose by name, as for a render (``stylize.product_mask.doubtful_mask_fallback``)."""
        content, cache = self._picture(path)
        used, note = doubtful_mask_fallback(content, options, given, cache)
        return stylize(content, source, used, engine=engine, cache=cache), note
