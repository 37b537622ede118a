"""Measures of mask and colour quality for the tests and bench/bench_masks.py: IoU, boundary F-score, CIEDE2000."""

from __future__ import annotations

import cv2
import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two ``(H, W)`` bool masks; 1.0 when both are empty."""
    union = (a | b).sum()
    return float((a & b).sum() / union) if union else 1.0


def _boundary(mask: np.ndarray) -> np.ndarray:
    """The mask's outline: True pixels with a False 4-neighbour (the frame's edge does not count as one)."""
    m = mask.astype(np.uint8)
    eroded = cv2.erode(m, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return (m > 0) & (eroded == 0)


def boundary_f(predicted: np.ndarray, truth: np.ndarray, tolerance: float | None = None) -> float:
    """Boundary F-score (as in the DAVIS benchmark): how well the outlines agree, 0..1.

    A predicted outline pixel is correct when a true outline pixel lies within ``tolerance`` pixels (default
    0.75% of the image diagonal, at least 1.5 px), and vice versa for recall; F is their harmonic mean. 1.0 when
    both masks have no outline.
    """
    height, width = truth.shape
    tolerance = tolerance if tolerance is not None else max(1.5, 0.0075 * float(np.hypot(height, width)))
    pred_b, true_b = _boundary(predicted), _boundary(truth)
    if not pred_b.any() and not true_b.any():
        return 1.0
    if not pred_b.any() or not true_b.any():
        return 0.0
    # Distance of every pixel to the nearest outline pixel of the other mask.
    to_true = cv2.distanceTransform((~true_b).astype(np.uint8), cv2.DIST_L2, 5)
    to_pred = cv2.distanceTransform((~pred_b).astype(np.uint8), cv2.DIST_L2, 5)
    precision = float(np.mean(to_true[pred_b] <= tolerance))
    recall = float(np.mean(to_pred[true_b] <= tolerance))
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (D65) of 8-bit-scale sRGB values ``(..., 3)`` in 0..255, as float64."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    matrix = np.array([[0.4124564, 0.3575761, 0.1804375],
                       [0.2126729, 0.7151522, 0.0721750],
                       [0.0193339, 0.1191920, 0.9503041]])  # fmt: skip
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference of Lab colours ``(..., 3)`` (kL = kC = kH = 1), element-wise."""
    lab1, lab2 = np.asarray(lab1, np.float64), np.asarray(lab2, np.float64)
    l1, a1, b1 = np.moveaxis(lab1, -1, 0)
    l2, a2, b2 = np.moveaxis(lab2, -1, 0)
    c_mean = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_mean**7 / (c_mean**7 + 25.0**7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    d_l, d_c = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(
        c1p * c2p == 0,
        h_sum,
        np.where(np.abs(h1p - h2p) <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2)),
    )
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))  # fmt: skip
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = -2 * np.sqrt(cp_mean**7 / (cp_mean**7 + 25.0**7)) * np.sin(
        np.radians(60 * np.exp(-(((h_mean - 275) / 25) ** 2)))
    )
    return np.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))
