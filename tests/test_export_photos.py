"""Export framing on photograph-like product shots: padding that continues the backdrop, frame lines left out,
close-ups cropped within the photo, the enlargement reported, and every warning in the result, log and manifest."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import numpy as np
import pytest
from _measures import ciede2000, srgb_to_lab
from PIL import Image

from stylerec_desktop.core.demo.photos import photo_shot
from stylerec_desktop.core.export import ExportOptions, export_job, frame_for_preset, parse_presets
from stylerec_desktop.core.export.presets import BUILTIN_PRESETS
from stylerec_desktop.core.jobs import run_job


def _padding_differences(pixels: np.ndarray, box: tuple[int, int, int, int], backdrop: np.ndarray) -> list[float]:
    """CIEDE2000 between each padded side's mean colour and the clean backdrop's mean along the photo's edge there
    (inside the frame line)."""
    left, top, right, bottom = box
    height, width = pixels.shape[:2]
    sides = []
    if top > 4:
        sides.append((pixels[: top - 3, left:right], backdrop[1:4]))
    if bottom < height - 4:
        sides.append((pixels[bottom + 3 :, left:right], backdrop[-4:-1]))
    if left > 4:
        sides.append((pixels[top:bottom, : left - 3], backdrop[:, 1:4]))
    if right < width - 4:
        sides.append((pixels[top:bottom, right + 3 :], backdrop[:, -4:-1]))
    return [
        float(ciede2000(srgb_to_lab(pad.reshape(-1, 3).mean(0)), srgb_to_lab(ref.reshape(-1, 3).mean(0))))
        for pad, ref in sides
    ]


@pytest.mark.parametrize("kind", ["garment", "white", "small", "bag", "strappy"])
def test_padding_matches_the_backdrop_within_3_de2000_in_every_exported_file(kind: str, tmp_path: Path) -> None:
    shots = [photo_shot(seed, kind) for seed in (11, 12)]
    sources = []
    for i, shot in enumerate(shots):
        path = tmp_path / f"P{i}.png"
        Image.fromarray(shot.image).save(path)
        sources.append((f"P{i}", "", "", path))
    presets = parse_presets("landscape,web")  # a 360 x 540 photo in 2000 x 2000 is padded even at 4x
    result = run_job(export_job(sources, presets, tmp_path / "out", ExportOptions(workers=1)))
    padded = 0
    for row in result.files:
        shot = shots[int(row.sku[1:])]
        pixels = np.asarray(Image.open(tmp_path / "out" / row.path).convert("RGB")).astype(np.float64)
        # Where the photo lies in the file: the same (deterministic) framing the export did.
        box = frame_for_preset(shot.image, next(p for p in presets if p.name == row.preset)).content_box
        differences = _padding_differences(pixels, box, shot.backdrop)
        padded += bool(differences)
        assert max(differences, default=0.0) <= 3.0, (row.path, differences)
    assert padded >= 2  # the web frame of a 360 x 540 photo is always padded: the test measured something


def test_the_frame_line_is_cropped_and_the_edge_pixel_is_not_repeated() -> None:
    shot = photo_shot(5, "garment", quality=90)
    assert shot.border
    framed = frame_for_preset(shot.image, BUILTIN_PRESETS["landscape"])
    pixels = np.asarray(framed.image).astype(int)
    left, top, right, bottom = framed.content_box
    assert left > 50 and right < 1200 - 50  # padded left and right
    row = (top + bottom) // 2
    # Across the seam the colour steps by no more than noise: no dark line (the photo's 17-levels-darker border),
    # and the padding is smooth (no streaks from a repeated noisy edge pixel).
    across = pixels[row, left - 6 : left + 6].mean(axis=1)
    assert np.abs(np.diff(across)).max() < 6
    padding = pixels[top:bottom, 10 : left - 5].mean(axis=2)
    assert np.abs(np.diff(padding, axis=0)).max() <= 1  # a smooth gradient down the side, no streaks


def test_a_close_up_is_cropped_within_the_photo_not_padded() -> None:
    shot = photo_shot(3, "close_up")
    for name in ("square", "story", "landscape"):
        preset = BUILTIN_PRESETS[name]
        framed = frame_for_preset(shot.image, preset)
        assert framed.content_box == (0, 0, preset.width, preset.height), name
        assert "close_up" in [w.code for w in framed.warnings]
        # The garment fills the bottom of the frame: no backdrop-coloured band below it.
        bottom = np.asarray(framed.image)[-10:].reshape(-1, 3).astype(int)
        assert np.abs(bottom - shot.backdrop[-20:-2].reshape(-1, 3).mean(0)).sum(axis=1).mean() > 30


def test_the_product_fills_the_frame_and_the_enlargement_is_reported() -> None:
    shot = photo_shot(8, "strappy")  # 360 x 540: a story needs more than 1.5x
    preset = BUILTIN_PRESETS["story"]
    framed = frame_for_preset(shot.image, preset)
    left, top, right, bottom = framed.product_box
    assert max((right - left) / (preset.width * 0.84), (bottom - top) / (preset.height * 0.84)) > 0.97
    assert framed.scale > 1.5
    upscaled = [w for w in framed.warnings if w.code == "upscaled"]
    assert upscaled and f"{framed.scale:.2f}x" in upscaled[0].message


def test_warnings_reach_the_result_the_log_and_both_manifests(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sources = []
    for i, kind in enumerate(("close_up", "garment")):
        path = tmp_path / f"P{i}.png"
        Image.fromarray(photo_shot(20 + i, kind).image).save(path)
        sources.append((f"P{i}", "", "", path))
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="stylerec_desktop.core.export"):
        result = run_job(export_job(sources, parse_presets("story"), out, ExportOptions(workers=1)))
    assert any("P0 (story)" in w and "close-up" in w for w in result.warnings)
    assert any("P1 (story)" in w and "Enlarged" in w for w in result.warnings)
    logged = [r.getMessage() for r in caplog.records]
    assert all(any(w in line for line in logged) for w in result.warnings)
    document = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    by_sku = {row["sku"]: row for row in document["files"]}
    assert any("close-up" in w for w in by_sku["P0"]["warnings"]) and by_sku["P1"]["upscale"] > 1.5
    with open(out / "manifest.csv", encoding="utf-8-sig", newline="") as stream:
        rows = {row["sku"]: row for row in csv.DictReader(stream)}
    assert "close-up" in rows["P0"]["warnings"] and float(rows["P1"]["upscale"]) == by_sku["P1"]["upscale"]
    # A resumed export skips the finished files and still reports what they were warned about.
    again = run_job(export_job(sources, parse_presets("story"), out, ExportOptions(workers=1)))
    assert again.skipped == 2 and again.warnings == result.warnings
