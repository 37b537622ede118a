"""Intermediate results of renders of one picture, kept across renders that differ only in later settings.

A live preview re-renders the same picture each time a control moves. Most controls act late in the pipeline
(strength of a preset, colours kept, the mask mode), so the expensive early steps (the working copy, the product
mask, the backdrop plate, the network's painting) can be reused. :class:`RenderCache` holds them for one content
picture; :func:`~stylerec_desktop.core.stylize.stylize_job` reads and fills it, and produces the very same pixels
with or without one (it always computes through a cache, a fresh one per call when none is given).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image

from stylerec_desktop.core.stylize.options import PresetBlend, StyleImage, StyleSource, StyleVector

T = TypeVar("T")

# Entries kept per picture: a few styles' paintings and their plates, masks at two or three sizes. At the default
# working resolution (512 px) each is at most ~1 MB.
DEFAULT_ENTRIES = 24


class RenderCache:
    """Up to ``entries`` intermediate results (least recently used dropped first) for renders of ``content``.

    The cache is bound to one PIL image object, which must not be changed while the cache is used with it;
    :func:`stylize_job` refuses a cache bound to another picture. Safe to share between threads (a value computed
    twice at the same time is simply stored twice).
    """

    def __init__(self, content: Image.Image, entries: int = DEFAULT_ENTRIES) -> None:
        self.content = content
        self._entries = entries
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> Any | None:
        """The value stored under ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._values:
                return None
            self._values.move_to_end(key)
            return self._values[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._entries:
                self._values.popitem(last=False)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value under ``key``, computed (outside the lock) and stored when missing."""
        hit = self.peek(key)
        if hit is not None:
            return hit
        value = compute()
        self.put(key, value)
        return value

    def __len__(self) -> int:
        return len(self._values)


def source_key(source: StyleSource) -> Hashable | None:
    """A key that changes whenever the style would paint differently; None when the source cannot be keyed (then
    nothing painted from it is cached). A style file is keyed by its path, size and modification time."""
    if isinstance(source, PresetBlend):
        return ("preset", tuple(sorted((int(k), float(v)) for k, v in source.weights.items())))
    if isinstance(source, StyleVector):
        return ("vector", source.vector.tobytes())
    if isinstance(source, StyleImage):
        if isinstance(source.source, Image.Image):
            picture = source.source
            return ("pixels", picture.mode, picture.size, hashlib.blake2b(picture.tobytes(), digest_size=16).digest())
        try:
            stat = Path(source.source).stat()
        except OSError:
            return None  # the engine will say the file is missing
        return ("file", str(Path(source.source).resolve()), stat.st_size, stat.st_mtime_ns)
    return None
