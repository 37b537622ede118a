"""Style scale: the same look at every output size.

The feed-forward networks (``arbitrary``, ``preset``) paint strokes of a fixed size *in pixels*, so run on a 256 px
preview they paint strokes a quarter of the picture wide, and on a 1024 px render fine streaks: two different
pictures from one recipe. We fix the stroke size relative to the picture instead:

1. The network runs at a *working resolution* set only by the style scale (:func:`working_side`), on the original
   picture resized to it, whatever the output size. A preview and a render of one recipe therefore get the very
   same network output.
2. That output is brought to the output size (:func:`to_output_size`): a downscale (area average) for a preview;
   for a larger render, an upscale plus the original's own fine detail, the band of frequencies the working
   resolution cannot hold, restored from the full-resolution original with a locally fitted gain (a "guided detail
   transfer", after He et al.'s guided filter): in every small window of the working picture we fit how the
   stylized output varies with the original's luminance (``gain = cov(I, S) / (var(I) + eps)``), and add the
   original's missing detail times that gain. Where the style kept the product's edges the edges come back crisp
   and with the sign the style gave them; where the style painted over a flat area (gain ~0) no photographic
   texture is added, so the style's own strokes are left alone.

Downscaled to the preview's size, the restored band is (almost) removed again, which is why a render and its
preview agree (measured in ``bench/bench_scale.py`` and ``tests/test_stylize_scale.py``).
"""

from __future__ import annotations

import cv2
import numpy as np

# Style scale 1 means the network sees the picture with its longest side at this many pixels; scale 2 doubles the
# strokes (the network runs at 256 px), 0.5 halves them (1024 px).
REFERENCE_SIDE = 512
MIN_STYLE_SCALE, MAX_STYLE_SCALE = 0.125, 4.0
# The default: strokes as the networks paint them on a 512 px picture, clearly a painting at preview size but not so
# coarse that a product's print dissolves (chosen by looking at the demo products; see BENCHMARKS.md).
DEFAULT_STYLE_SCALE = 1.0
# Half-width of the window (working pixels) in which the detail gain is fitted, and the regulariser: a luminance
# variance below ~ (0.03)^2 (flat backdrop, JPEG noise) gives a gain near 0 rather than amplified noise.
_GAIN_RADIUS = 2
_GAIN_EPS = 0.03**2
# The gain is clamped: a steep local fit on a faint edge would otherwise multiply the original's detail many times.
_GAIN_LIMIT = 2.0


def working_side(style_scale: float) -> int:
    """Longest side in pixels at which the network runs for ``style_scale`` (a multiple of 4, the networks'
    stride): 512 at scale 1, 256 at 2, 1024 at 0.5."""
    return max(32, int(round(REFERENCE_SIDE / style_scale / 4.0)) * 4)


def _luma(rgb: np.ndarray) -> np.ndarray:
    """``[H, W, 3]`` uint8 RGB -> ``[H, W]`` float32 Rec. 601 luma in 0..1."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0


def detail_gain(guide: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Per-window regression slope of ``stylized`` on ``guide``: how much each output channel moves per unit of the
    original's luminance, locally. ``guide [h, w]`` float32 0..1, ``stylized [h, w, 3]`` float32 0..1 ->
    ``[h, w, 3]`` float32, clamped to +-2."""
    size = (2 * _GAIN_RADIUS + 1, 2 * _GAIN_RADIUS + 1)

    def box(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, -1, size, borderType=cv2.BORDER_REFLECT)

    mean_i = box(guide)
    var_i = box(guide * guide) - mean_i * mean_i
    mean_s = box(stylized)
    cov = box(stylized * guide[..., None]) - mean_s * mean_i[..., None]
    gain = cov / (var_i[..., None] + _GAIN_EPS)
    # Average the per-window fits (as the guided filter does) so the gain varies smoothly between windows.
    return np.clip(box(gain), -_GAIN_LIMIT, _GAIN_LIMIT)


def to_output_size(stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
    """Bring the network's output to the output size.

    ``stylized``: ``[h, w, 3]`` uint8, the network's output at the working resolution. ``original``: ``[H, W, 3]``
    uint8, the content at the output size (same aspect). Returns ``[H, W, 3]`` uint8. Smaller or equal outputs are
    an area-averaged downscale; larger ones get the guided detail transfer described in the module docstring.
    """
    height, width = original.shape[:2]
    h, w = stylized.shape[:2]
    if (h, w) == (height, width):
        return stylized.copy()
    if height * width <= h * w:
        return cv2.resize(stylized, (width, height), interpolation=cv2.INTER_AREA)
    # Everything at the output size is done in place, in float32, with OpenCV where it can: at 4096 px each
    # full-size RGB float array is 200 MB and each numpy temporary costs a pass over it.
    guide = _luma(original)
    guide_small = cv2.resize(guide, (w, h), interpolation=cv2.INTER_AREA)
    # The same (cubic) upsampling for the picture and the guide, so the detail band lines up with what is missing.
    detail = np.subtract(guide, cv2.resize(guide_small, (width, height), interpolation=cv2.INTER_CUBIC), out=guide)
    small = stylized.astype(np.float32) / 255.0
    gain = cv2.resize(detail_gain(guide_small, small), (width, height), interpolation=cv2.INTER_LINEAR)
    out = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    np.multiply(gain, detail[..., None], out=gain)
    np.add(out, gain, out=out)
    del gain
    np.maximum(out, 0.0, out=out)
    # Scales by 255, rounds and saturates to uint8 in one pass (values are >= 0 here, so the "abs" is a no-op).
    return cv2.convertScaleAbs(out, alpha=255.0)
