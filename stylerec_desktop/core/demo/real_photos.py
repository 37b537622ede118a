"""Real photographs for the gallery, benchmarks and quality tests, read from scikit-image's installed package.

Drawn demo products have no folds, shadows or reflections; these are camera pictures. They ship inside the
``scikit-image`` wheel (``skimage/data``), so nothing is copied into this repository and nothing is downloaded:
scikit-image is a test/benchmark dependency, and without it :func:`real_photo` says how to install it.

Each photograph, with its source and licence as scikit-image's own data docstrings give them:

- ``coffee``: a coffee cup on a saucer (a product on a table), courtesy of Pikolo Espresso Bar; CC0 by the
  photographer, Rachel Michetti.
- ``chelsea``: Chelsea the cat (fur, fine texture); CC0 by the photographer, Stefan van der Walt.
- ``astronaut``: Eileen Collins in her flight suit (a garment on a person), NASA Great Images; public domain.
- ``rocket``: DSCOVR's launch on a Falcon 9, SpaceX; released into the public domain by SpaceX.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from stylerec_desktop.core.errors import UserError


@dataclass(frozen=True)
class RealPhoto:
    """A photograph's name in ``skimage.data``, what it shows, who made it and under which licence."""

    name: str
    shows: str
    source: str
    licence: str


REAL_PHOTOS: tuple[RealPhoto, ...] = (
    RealPhoto("coffee", "a coffee cup on a saucer", "Rachel Michetti, courtesy of Pikolo Espresso Bar", "CC0"),
    RealPhoto("chelsea", "Chelsea the cat", "Stefan van der Walt", "CC0"),
    RealPhoto("astronaut", "Eileen Collins in a flight suit", "NASA Great Images", "public domain"),
    RealPhoto("rocket", "DSCOVR's launch on a Falcon 9", "SpaceX", "public domain"),
)


def real_photo(name: str) -> Image.Image:
    """The photograph ``name`` (one of :data:`REAL_PHOTOS`) as an RGB PIL image at scikit-image's size (about
    400 x 600 px). Raises UserError when the name is unknown or scikit-image is not installed."""
    if name not in {photo.name for photo in REAL_PHOTOS}:
        raise UserError(f"No real photograph called '{name}'; use one of: {', '.join(p.name for p in REAL_PHOTOS)}.")
    try:
        from skimage import data
    except ImportError:
        raise UserError("The real photographs come from scikit-image: pip install scikit-image.") from None
    return Image.fromarray(getattr(data, name)()).convert("RGB")
