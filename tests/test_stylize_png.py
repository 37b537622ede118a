"""The banded PNG encoder: any reader gets the same pixels back, and a render being saved can be cancelled between
bands (a 4096 px PNG takes seconds to compress)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from _device import options_under_test
from PIL import Image

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job
from stylerec_desktop.core.stylize import PresetBlend
from stylerec_desktop.core.stylize.png import encode_png, encode_png_job
from stylerec_desktop.core.stylize.renders import render_into_catalog_job
from stylerec_desktop.core.stylize.samples import product_shot


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "I;16"])
def test_pillow_reads_back_the_same_pixels(mode: str) -> None:
    rng = np.random.default_rng(5)
    picture = Image.fromarray(rng.integers(0, 256, (301, 517, 4), dtype=np.uint8), "RGBA").convert(mode)
    with Image.open(io.BytesIO(encode_png(picture))) as back:
        back.load()
        expected = picture if mode in ("RGB", "RGBA", "L") else picture.convert("RGB")
        assert back.mode == expected.mode and back.size == (517, 301)
        assert np.array_equal(np.asarray(back), np.asarray(expected))


def test_the_same_pixels_make_the_same_bytes_and_each_band_is_a_step() -> None:
    picture = product_shot(600)
    steps: list[Progress] = []
    data = run_job(encode_png_job(picture, band_rows=100), steps.append)
    assert data == encode_png(picture.copy())
    assert [s.done for s in steps] == [100, 200, 300, 400, 500, 600] and steps[-1].total == 600


def test_a_render_cancelled_while_it_is_saved_writes_nothing(tmp_path: Path) -> None:
    content = tmp_path / "bag.png"
    product_shot(1400).save(content)
    token, saving = CancelToken(), []

    def on_progress(progress: Progress) -> None:
        if progress.message == "saving the picture":
            saving.append(progress.done)
            token.cancel()  # at the first band: the job must stop before the next one

    with Catalog.create(tmp_path / "cat") as catalog:
        job = render_into_catalog_job(catalog, content, PresetBlend({2: 1.0}), options_under_test())
        with pytest.raises(Cancelled):
            run_job(job, on_progress, token)
        assert saving == [256]  # one band encoded of six, then stopped
        assert not list(catalog.renders_dir.glob("*")) and catalog.renders() == []
