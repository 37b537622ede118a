"""The gatys engine's mechanics and its weights handling.

ImageNet VGG19 is not available offline, so every optimisation here runs on a *randomly initialised VGG19* (same
architecture and layers, untrained), passed to the engine through its ``features`` factory. That checks the
mechanics a user relies on (the loss goes down, a seed repeats, cancel stops, missing weights say what to do, imports
are validated); it says nothing about how good ImageNet-VGG19 pictures look. Images are 32 px and runs a few
iterations: one VGG19 step costs ~0.5 s on the shared 2-core CPU.
"""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from _weights_server import named_for, serve
from PIL import Image
from torch import nn
from torchvision.models import vgg19

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job
from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, gatys, stylize, stylize_job
from stylerec_desktop.core.stylize.engines import ENGINES
from stylerec_desktop.core.stylize.gatys import (
    GatysEngine,
    StyleImageBlend,
    VGG19Missing,
    VGGFeatures,
    forget_vgg19,
    import_vgg19_weights,
    vgg19_cache_path,
    vgg19_status,
)
from stylerec_desktop.core.stylize.samples import painting, product_shot

SIDE = 32


@pytest.fixture(scope="module")
def randomly_initialised_vgg19() -> nn.Module:
    """torchvision's VGG19 architecture with random (untrained) weights, seeded so every run builds the same one."""
    torch.manual_seed(1234)
    return vgg19(weights=None)


@pytest.fixture(scope="module")
def random_vgg19_engine(randomly_initialised_vgg19: nn.Module) -> GatysEngine:
    features = VGGFeatures(randomly_initialised_vgg19.features)
    return GatysEngine(features=lambda device: features.to(device))


@pytest.fixture(autouse=True)
def empty_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A torch hub folder of our own: no test sees (or writes) the real cache."""
    hub = tmp_path / "torch-home" / "hub"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(hub))
    forget_vgg19()
    yield hub
    torch.hub.set_dir(previous)
    forget_vgg19()


@pytest.fixture(scope="module")
def content() -> Image.Image:
    return product_shot(SIDE, seed=4)


@pytest.fixture(scope="module")
def style() -> StyleImage:
    return StyleImage(painting(SIDE), label="painting")


def run_collecting(engine: GatysEngine, content: Image.Image, source: object, options: StyleOptions):
    """Drive the engine's job; returns (picture, the losses it reported per iteration)."""
    losses: list[float] = []
    image = run_job(
        engine.run(content, source, options),  # type: ignore[arg-type]
        on_progress=lambda p: losses.append(p.loss) if isinstance(p, gatys.GatysProgress) else None,
    )
    return image, losses


def test_loss_goes_down_and_the_picture_changes(random_vgg19_engine: GatysEngine, content, style) -> None:
    image, losses = run_collecting(random_vgg19_engine, content, style, StyleOptions(iterations=8, device="cpu"))
    assert len(losses) == 8 and all(np.isfinite(losses))
    assert losses[-1] < 0.6 * losses[0]
    assert image.size == content.size
    assert np.abs(np.asarray(image, np.int16) - np.asarray(content, np.int16)).mean() > 1.0


def test_same_seed_same_picture_other_seed_other_picture(random_vgg19_engine: GatysEngine, content, style) -> None:
    def render(seed: int) -> np.ndarray:
        return np.asarray(run_collecting(random_vgg19_engine, content, style, StyleOptions(iterations=2, seed=seed))[0])

    first = render(3)
    assert np.array_equal(first, render(3))
    assert not np.array_equal(first, render(4))


def test_cancel_mid_way_stops_cleanly(
    random_vgg19_engine: GatysEngine, content, style, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = random_vgg19_engine.run(content, style, StyleOptions(iterations=50))
    steps = [next(job) for _ in range(3)]  # loading + 2 iterations
    assert steps[-1].done == 2 and steps[-1].total == 50
    job.close()  # what the GUI adapter does on cancel: GeneratorExit at the yield, clean-up runs
    assert torch.is_grad_enabled()  # the job did not leave grad mode switched for the thread

    # The same through the public job and the CLI's driver: cancel between two iterations raises Cancelled.
    monkeypatch.setitem(ENGINES, "gatys", random_vgg19_engine)
    token = CancelToken()
    seen: list[int] = []

    def cancel_after_two(progress) -> None:
        seen.append(progress.done)
        if progress.done >= 2:
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(stylize_job(content, style, StyleOptions(iterations=50), "gatys"), cancel_after_two, token)
    assert max(seen) < 50


def test_blend_and_the_common_options_go_through_stylize(
    random_vgg19_engine: GatysEngine, content, style, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ENGINES, "gatys", random_vgg19_engine)
    blend = StyleImageBlend(((style, 0.7), (StyleImage(product_shot(SIDE, seed=9)), 0.3)))
    options = StyleOptions(iterations=2, strength=0.5, preserve_colour=True)
    out = stylize(content, blend, options)  # a blend of images picks the gatys engine by itself
    assert out.size == content.size
    assert stylize(content, blend, StyleOptions(strength=0.0)).tobytes() == content.tobytes()
    with pytest.raises(UserError, match="gatys engine takes style images"):
        stylize(content, PresetBlend({1: 1.0}), options, engine="gatys")


def test_outputs_above_the_working_side_get_the_style_upsampled_onto_the_sharp_product(
    random_vgg19_engine: GatysEngine, style, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gatys, "WORK_SIDE_CPU", SIDE)  # what 512 px is to a 4000 px render, at test size
    big = product_shot(2 * SIDE, seed=4)
    out, losses = run_collecting(random_vgg19_engine, big, style, StyleOptions(iterations=2, device="cpu"))
    assert out.size == big.size and len(losses) == 2
    change = np.abs(np.asarray(out, np.int16) - np.asarray(big, np.int16))
    assert 1.0 < change.mean() < 60.0


def test_missing_weights_say_what_to_do_and_other_engines_keep_working(content, style) -> None:
    assert vgg19_status().state == "missing"
    with pytest.raises(VGG19Missing) as caught:
        stylize(content, style, StyleOptions(iterations=1), engine="gatys")
    message = str(caught.value)
    assert isinstance(caught.value, UserError)
    assert "vgg19-dcbb9e9d.pth, 548 MB" in message and "stylerec models --fetch vgg19" in message
    assert "stylerec models --import-vgg19 FILE" in message and "\n" not in message
    assert not vgg19_cache_path().exists()  # nothing was downloaded
    assert stylize(content, style, StyleOptions(), engine="colour").size == content.size
    assert stylize(content, PresetBlend({3: 1.0}), StyleOptions(size=64)).size == (64, 64)


def test_fetch_offline_is_a_clear_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from urllib.error import URLError

    def offline(*args: object, **kwargs: object) -> None:
        raise URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(VGG19Missing, match="Could not download the VGG19 weights.*--import-vgg19"):
        gatys.fetch_vgg19(progress=False)


def test_a_download_lands_whole_and_checked_in_the_cache() -> None:
    data = bytes(range(256)) * 5000  # 1.2 MB: two progress steps of 1 MiB
    name = named_for(data)
    with serve({f"/models/{name}": data}) as base:
        steps: list[Progress] = []
        path = run_job(gatys.download_vgg19_job(f"{base}/models/{name}"), steps.append)
    assert path == vgg19_cache_path().parent / name and path.read_bytes() == data
    assert [s.done for s in steps if s.done] == [2**20, len(data)] and steps[-1].total == len(data)
    assert sorted(p.name for p in path.parent.iterdir()) == [name]  # no temporary file left


def test_a_corrupt_or_cut_download_keeps_nothing() -> None:
    data = b"weights" * 100_000
    checkpoints = vgg19_cache_path().parent
    with serve({"/vgg19-00000000.pth": data, f"/{named_for(data)}": data}, truncate=1000) as base:
        with pytest.raises(VGG19Missing, match="checksum|closed after"):
            run_job(gatys.download_vgg19_job(f"{base}/vgg19-00000000.pth"))
        with pytest.raises(VGG19Missing, match="closed after 699,000 of 700,000 bytes"):
            run_job(gatys.download_vgg19_job(f"{base}/{named_for(data)}"))
    assert list(checkpoints.iterdir()) == []


def test_cancelling_a_download_stops_it_and_keeps_nothing() -> None:
    data = b"\x01" * (4 << 20)
    token = CancelToken()

    def on_progress(step: Progress) -> None:
        if step.done >= 1 << 20:
            token.cancel()

    with serve({f"/{named_for(data)}": data}, pause=0.01) as base, pytest.raises(Cancelled):
        run_job(gatys.download_vgg19_job(f"{base}/{named_for(data)}"), on_progress, token)
    assert list(vgg19_cache_path().parent.iterdir()) == []


def test_import_refuses_files_that_are_not_vgg19(tmp_path: Path) -> None:
    text = tmp_path / "notes.pth"
    text.write_text("not weights")
    other = tmp_path / "resnet-ish.pth"
    torch.save({"conv1.weight": torch.zeros(64, 3, 7, 7)}, other)
    wrong_shape = tmp_path / "narrow-vgg19.pth"
    torch.save({k: torch.zeros(1) for k in gatys.expected_vgg19_shapes()}, wrong_shape)
    for bad, reason in ((text, "not a PyTorch weights file"), (other, "missing features.0.weight"),
                        (wrong_shape, "features.0.weight is (1,)")):  # fmt: skip
        with pytest.raises(UserError, match=re.escape(reason)):
            import_vgg19_weights(bad)
    with pytest.raises(UserError, match="not found"):
        import_vgg19_weights(tmp_path / "absent.pth")
    assert not vgg19_cache_path().parent.exists() or not any(vgg19_cache_path().parent.iterdir())
    assert vgg19_status().state == "missing"


def test_import_of_a_valid_state_dict_lands_in_the_hub_and_the_engine_uses_it(
    randomly_initialised_vgg19: nn.Module, empty_hub: Path, tmp_path: Path, content, style
) -> None:
    source = tmp_path / "downloads" / "my-vgg19.pth"
    source.parent.mkdir()
    torch.save(randomly_initialised_vgg19.state_dict(), source)
    imported = import_vgg19_weights(source)
    assert imported.path == empty_hub / "checkpoints" / "vgg19-dcbb9e9d.pth" == vgg19_cache_path()
    assert imported.path.read_bytes() == source.read_bytes()
    assert not imported.official  # random weights are not torchvision's ImageNet file
    assert [p.name for p in imported.path.parent.iterdir()] == ["vgg19-dcbb9e9d.pth"]  # no temporary left over
    assert vgg19_status().state == "present"
    # The default engine now loads it through torchvision's weights API from the cache (no download).
    loaded = gatys.imagenet_vgg19(torch.device("cpu"))
    assert torch.equal(loaded.layers[0].weight, randomly_initialised_vgg19.features[0].weight)
    assert stylize(content, style, StyleOptions(iterations=1), engine="gatys").size == content.size
