"""Picture-agreement measures written for our own checks: CIEDE2000 colour difference and SSIM (numpy + OpenCV).

They answer two questions the app asks of every render: "does the 256 px preview look like the 1024 px render?"
(:mod:`stylerec_desktop.core.stylize.scale`) and "did the product stay true?" (:mod:`.fidelity`). scikit-image has
both, but it is only a test dependency; the tests cross-check these against it.
"""

from __future__ import annotations

import cv2
import numpy as np

from stylerec_desktop.core.stylize.colour import to_lab

# SSIM's constants (Wang et al. 2004): K1, K2 and the Gaussian window's sigma in pixels.
_K1, _K2, _SSIM_SIGMA = 0.01, 0.03, 1.5


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005; kL = kC = kH = 1) of two ``[..., 3]`` CIE Lab arrays
    (L 0..100). Returns ``[...]`` float64; about 1 is a just-noticeable difference, 0 for identical colours."""
    lab1 = np.asarray(lab1, dtype=np.float64)
    lab2 = np.asarray(lab2, dtype=np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2.0
    c7 = c_mean**7
    g = 0.5 * (1.0 - np.sqrt(c7 / (c7 + 25.0**7)))
    a1p, a2p = a1 * (1.0 + g), a2 * (1.0 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    # Hue angles in degrees 0..360; a neutral colour (C' = 0) has hue 0 by the standard's convention.
    h1p = np.where(c1p == 0, 0.0, np.degrees(np.arctan2(b1, a1p)) % 360.0)
    h2p = np.where(c2p == 0, 0.0, np.degrees(np.arctan2(b2, a2p)) % 360.0)

    d_l = l2 - l1
    d_c = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180.0, dh - 360.0, np.where(dh < -180.0, dh + 360.0, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    d_h = 2.0 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2.0))

    l_mean = (l1 + l2) / 2.0
    cp_mean = (c1p + c2p) / 2.0
    h_sum = h1p + h2p
    h_mean = np.where(
        np.abs(h1p - h2p) <= 180.0, h_sum / 2.0, np.where(h_sum < 360.0, (h_sum + 360.0) / 2.0, (h_sum - 360.0) / 2.0)
    )
    h_mean = np.where(c1p * c2p == 0, h_sum, h_mean)
    t = (
        1.0
        - 0.17 * np.cos(np.radians(h_mean - 30.0))
        + 0.24 * np.cos(np.radians(2.0 * h_mean))
        + 0.32 * np.cos(np.radians(3.0 * h_mean + 6.0))
        - 0.20 * np.cos(np.radians(4.0 * h_mean - 63.0))
    )
    d_theta = 30.0 * np.exp(-(((h_mean - 275.0) / 25.0) ** 2))
    cp7 = cp_mean**7
    r_c = 2.0 * np.sqrt(cp7 / (cp7 + 25.0**7))
    s_l = 1.0 + 0.015 * (l_mean - 50.0) ** 2 / np.sqrt(20.0 + (l_mean - 50.0) ** 2)
    s_c = 1.0 + 0.045 * cp_mean
    s_h = 1.0 + 0.015 * cp_mean * t
    r_t = -np.sin(np.radians(2.0 * d_theta)) * r_c
    return np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def delta_e_map(rgb1: np.ndarray, rgb2: np.ndarray) -> np.ndarray:
    """Per-pixel CIEDE2000 between two ``[H, W, 3]`` uint8 sRGB pictures of the same size: ``[H, W]`` float64."""
    if rgb1.shape != rgb2.shape:
        raise ValueError(f"pictures differ in size: {rgb1.shape} vs {rgb2.shape}")
    return ciede2000(to_lab(rgb1), to_lab(rgb2))


def ssim_map(x: np.ndarray, y: np.ndarray, data_range: float = 255.0) -> np.ndarray:
    """Structural similarity (Wang et al. 2004; Gaussian window, sigma 1.5 px) of two ``[H, W]`` single-channel
    pictures, per pixel: ``[H, W]`` float64 in -1..1 (1 where they agree). ``data_range`` is max - min of the
    values' scale (255 for 8-bit). Borders use reflected neighbours."""
    if x.shape != y.shape or x.ndim != 2:
        raise ValueError(f"ssim needs two [H, W] arrays of one size, got {x.shape} and {y.shape}")
    x = x.astype(np.float64)
    y = y.astype(np.float64)

    def blur(a: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(a, (11, 11), _SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx = blur(x * x) - mx * mx
    vy = blur(y * y) - my * my
    cov = blur(x * y) - mx * my
    c1, c2 = (_K1 * data_range) ** 2, (_K2 * data_range) ** 2
    return ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def luminance(rgb: np.ndarray) -> np.ndarray:
    """Rec. 601 luma of an ``[H, W, 3]`` uint8 RGB picture, ``[H, W]`` float64 in 0..255."""
    return rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim(rgb1: np.ndarray, rgb2: np.ndarray) -> float:
    """Mean SSIM of the luminance of two ``[H, W, 3]`` uint8 RGB pictures of one size (1.0 when identical)."""
    return float(ssim_map(luminance(rgb1), luminance(rgb2)).mean())


def mean_delta_e(rgb1: np.ndarray, rgb2: np.ndarray) -> float:
    """Mean CIEDE2000 between two ``[H, W, 3]`` uint8 RGB pictures of one size."""
    return float(delta_e_map(rgb1, rgb2).mean())


def banding_index(rgb: np.ndarray, region: np.ndarray) -> float:
    """How much more the picture varies from row to row than from column to column inside ``region``: the
    signature of horizontal colour bands. ``rgb`` ``[H, W, 3]`` uint8, ``region`` ``[H, W]`` bool (e.g. the
    backdrop). Slow trends (a gradient, a vignette) are removed first (luma minus a blur over 1/8 of the side),
    then the standard deviation of the row means is divided by that of the column means, each mean taken over the
    region's pixels of that row/column (rows or columns with under 16 such pixels are skipped). About 1 for an
    isotropic texture; banded backdrops score 3 and more. Returns nan when too few rows/columns are usable."""
    grey = luminance(rgb)
    sigma = max(rgb.shape[:2]) / 8.0
    detail = grey - cv2.GaussianBlur(grey, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    weight = region.astype(np.float64)

    def line_means(axis: int) -> np.ndarray:
        count = weight.sum(axis=axis)
        sums = (detail * weight).sum(axis=axis)
        usable = count >= 16
        return sums[usable] / count[usable]

    rows, cols = line_means(1), line_means(0)
    if rows.size < 8 or cols.size < 8:
        return float("nan")
    return float(rows.std() / max(cols.std(), 1e-9))
