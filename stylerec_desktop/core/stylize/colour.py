"""Classical colour operations on RGB uint8 arrays (numpy + OpenCV, no networks): Reinhard transfer, histogram
matching, and "keep the original colours" (luminance-only transfer).

All functions take and return ``[H, W, 3]`` uint8 RGB arrays unless stated otherwise.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 CIE Lab (L 0..100, a/b roughly -128..127), via OpenCV's float path (no 8-bit rounding)."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """float32 Lab -> uint8 RGB, clipped."""
    rgb = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def lab_stats(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation in Lab, each ``[3]``."""
    lab = to_lab(rgb).reshape(-1, 3)
    return lab.mean(axis=0), lab.std(axis=0)


def reinhard_transfer(content: np.ndarray, style: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Reinhard et al. (2001): move each Lab channel of ``content`` to the mean/std of ``style``.

    Lab rather than RGB because its channels are nearly decorrelated for natural images, so matching them one by one
    does not create colour casts. ``strength`` interpolates the target statistics between the content's own (0) and
    the style's (1), which keeps intermediate results photographic instead of a cross-fade.
    """
    lab = to_lab(content)
    c_mean, c_std = lab.reshape(-1, 3).mean(0), lab.reshape(-1, 3).std(0)
    s_mean, s_std = lab_stats(style)
    t_mean = c_mean + strength * (s_mean - c_mean)
    t_std = c_std + strength * (s_std - c_std)
    # A flat channel (a grey product shot has std ~0 in a/b) would explode when divided; leave it centred instead.
    ratio = np.where(c_std > 1e-3, t_std / np.maximum(c_std, 1e-3), 1.0)
    out = (lab - c_mean) * ratio + t_mean
    out[..., 0] = np.clip(out[..., 0], 0.0, 100.0)
    return from_lab(out)


def match_histograms(content: np.ndarray, style: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Per-channel histogram matching in Lab (exact CDF matching on 256 bins per channel), blended by ``strength``.

    Goes further than Reinhard (it matches the whole distribution, not two moments), at the risk of banding on
    smooth gradients, so the colour engine offers it as an option on top of Reinhard.
    """
    src, ref = to_lab(content), to_lab(style)
    out = np.empty_like(src)
    for ch in range(3):
        s, r = src[..., ch].ravel(), ref[..., ch].ravel()
        lo, hi = float(min(s.min(), r.min())), float(max(s.max(), r.max()) + 1e-6)
        s_hist, edges = np.histogram(s, bins=256, range=(lo, hi))
        r_hist, _ = np.histogram(r, bins=256, range=(lo, hi))
        s_cdf = np.cumsum(s_hist) / s.size
        r_cdf = np.cumsum(r_hist) / r.size
        centres = (edges[:-1] + edges[1:]) / 2
        mapped = np.interp(s_cdf, r_cdf, centres)
        values = np.interp(s, centres, mapped).reshape(src.shape[:2])
        out[..., ch] = src[..., ch] + strength * (values - src[..., ch])
    return from_lab(out)


def keep_content_colour(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Luminance-only transfer: the stylized image's Y with the content's chroma (Cr, Cb), same size arrays.

    YCrCb rather than Lab: Y is what the eye reads as brushwork, and the chroma channels of YCrCb are linear in RGB,
    so recombining never produces out-of-gamut hues (Lab a/b on a new L can).
    """
    if stylized.shape != content.shape:
        raise ValueError(f"shapes differ: {stylized.shape} vs {content.shape}")
    y = cv2.cvtColor(stylized, cv2.COLOR_RGB2YCrCb)[..., 0]
    ycrcb = cv2.cvtColor(content, cv2.COLOR_RGB2YCrCb)
    ycrcb[..., 0] = y
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)
