"""The style networks' speed switches (core/models/speedups.py) give the plain networks' pictures on the CPU.

CUDA-only switches (cuDNN benchmark mode, CUDA graphs, channels-last with the fused norm on CUDA) and
``torch.compile`` are checked on a GPU by ``bench/bench_gpu.py``, which compares every variant with the plain
network at 1024 px; here the same thresholds as tests/test_models_parity.py hold for what runs on a CPU: max |diff|
under 1e-2 (instance norm amplifies summation-order differences on flat backgrounds) and PSNR over 70 dB.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.models.layers import for_inference, record_norm_stats, replay_norm_stats
from stylerec_desktop.core.models.multistyle import MultiStyleNet, preset_weights
from stylerec_desktop.core.models.speedups import NetworkSpeedups, apply_layout_and_norm, fixed_shape_runner
from stylerec_desktop.core.models.style_transformer import StyleTransformer
from stylerec_desktop.core.stylize.engines import image_to_tensor
from stylerec_desktop.core.stylize.samples import product_shot

CPU = torch.device("cpu")
NORM_AMPLIFIED_TOL = 1e-2  # as in tests/test_models_parity.py


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.double() - b.double()) ** 2).mean())
    return float("inf") if mse == 0 else 10.0 * float(np.log10(1.0 / mse))


@pytest.fixture(scope="module")
def content() -> torch.Tensor:
    return torch.cat([image_to_tensor(product_shot(128, seed=s)) for s in (1, 2)])


def _net(engine: str) -> tuple[torch.nn.Module, torch.Tensor]:
    """A fresh network and a style for it: not loader's shared ones, since these tests change layout and norm mode."""
    if engine == "arbitrary":
        style = torch.randn(1, 100, generator=torch.Generator().manual_seed(3)) * 0.5
        return for_inference(StyleTransformer.from_package(), CPU, torch.float32), style
    return for_inference(MultiStyleNet.from_package(), CPU, torch.float32), preset_weights({7: 1.0})[None]


@pytest.mark.parametrize("engine", ["arbitrary", "preset"])
def test_fused_norm_and_layouts_keep_the_pictures(engine: str, content: torch.Tensor) -> None:
    net, condition = _net(engine)
    with torch.inference_mode():
        reference = net(content, condition)
        results = {}
        for speedups in (NetworkSpeedups(fused_norm=True), NetworkSpeedups(channels_last=True, fused_norm=True)):
            apply_layout_and_norm(net, speedups, CPU)
            results[speedups.describe()] = net(content, condition)
        apply_layout_and_norm(net, NetworkSpeedups(), CPU)
        net.to(memory_format=torch.contiguous_format)
        results["contiguous"] = net(content, condition)
    for name, out in results.items():
        worst = float((out - reference).abs().max())
        print(f"{engine} {name}: max |diff| {worst:.2e}, PSNR {psnr(out, reference):.1f} dB")
        assert out.shape == reference.shape
        assert worst < NORM_AMPLIFIED_TOL
        assert psnr(out, reference) > 70.0


def test_fused_norm_records_the_same_statistics_for_seamless_tiles(content: torch.Tensor) -> None:
    net, style = _net("arbitrary")
    with torch.inference_mode():
        with record_norm_stats(net) as plain:
            net(content[:1], style)
        apply_layout_and_norm(net, NetworkSpeedups(fused_norm=True), CPU)
        with record_norm_stats(net) as fused:
            net(content[:1], style)
        for (mean_a, var_a), (mean_b, var_b) in zip(plain, fused, strict=True):
            torch.testing.assert_close(mean_b, mean_a, atol=1e-4, rtol=1e-4)
            torch.testing.assert_close(var_b, var_a, atol=1e-3, rtol=1e-3)
        # Replayed statistics give the same picture whichever norm recorded them.
        tile = content[:1, :, :64, :64]
        with replay_norm_stats(net, fused):
            a = net(tile, style)
        with replay_norm_stats(net, plain):
            b = net(tile, style)
    assert psnr(a, b) > 70.0


def test_fixed_shape_runner_and_what_needs_cuda(content: torch.Tensor) -> None:
    net, style = _net("preset")
    with torch.inference_mode():
        run = fixed_shape_runner(net, style, content, NetworkSpeedups())
        torch.testing.assert_close(run(content), net(content, style))
    with pytest.raises(UserError, match="CUDA graphs need a CUDA device"):
        fixed_shape_runner(net, style, content, NetworkSpeedups(cuda_graphs=True))


def test_switches_parse_and_bad_names_say_what_exists() -> None:
    assert NetworkSpeedups.parse("") == NetworkSpeedups.parse("none") == NetworkSpeedups()
    assert NetworkSpeedups.parse("channels_last, cudnn_benchmark") == NetworkSpeedups(True, False, True)
    assert NetworkSpeedups.parse("all").describe() == "channels_last+fused_norm+cudnn_benchmark+compile+cuda_graphs"
    with pytest.raises(UserError, match=r"unknown speed-ups \(turbo\).*channels_last, fused_norm"):
        NetworkSpeedups.parse("turbo")
