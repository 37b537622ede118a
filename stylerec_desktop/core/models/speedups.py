"""Switches that run the two style networks closer to a GPU's limit, each on its own so each can be measured.

``bench/bench_gpu.py`` times the style transformer and the 26-style network at 1024 px fp16 with each switch on and
off and checks every variant's pictures against the plain network (the parity tests' thresholds). A switch is meant to
be on by default only where that script shows it faster *and* within the thresholds; until a GPU has been lent to
measure, every default is off and the networks run as before.

- ``channels_last``: activations and weights in NHWC, the layout the GPU's tensor-core convolutions use natively.
  CUDA's group-norm kernel does not take NHWC input, so on CUDA this brings in ``fused_norm`` as well.
- ``fused_norm``: instance norm as one statistics pass (``var_mean``) and one ``addcmul`` that applies the mean,
  variance, gamma and beta together, in any memory layout (see :class:`~.layers.SharedStatsNorm`).
- ``cudnn_benchmark``: cuDNN times its algorithms for each new input shape and keeps the fastest: worth it for the
  fixed shapes of a batch job, a cost for the app's ever-changing picture sizes.
- ``compile``: ``torch.compile`` (TorchInductor) fuses the norms, ReLUs and residual sums into few kernels.
- ``cuda_graphs``: one fixed-shape batch recorded once as a CUDA graph and replayed: no per-kernel launch cost.

Set them for the app with ``STYLEREC_NET_SPEEDUPS`` (``channels_last,fused_norm,cudnn_benchmark``, ``all`` or
``none``); :func:`fixed_shape_runner` applies ``compile`` and ``cuda_graphs`` to a batch job's fixed-shape batches.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.models.layers import SharedStatsNorm

SWITCH = "STYLEREC_NET_SPEEDUPS"
Runner = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class NetworkSpeedups:
    """Which speed-ups a style network runs with (see the module docstring for each)."""

    channels_last: bool = False
    fused_norm: bool = False
    cudnn_benchmark: bool = False
    compile: bool = False
    cuda_graphs: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in dataclasses.fields(cls))

    @classmethod
    def parse(cls, text: str) -> NetworkSpeedups:
        """From a comma-separated list of switch names, ``all`` or ``none`` (empty is ``none``)."""
        words = {word.strip().lower() for word in text.split(",") if word.strip()}
        if words <= {"none"}:
            return cls()
        if words == {"all"}:
            return cls(**dict.fromkeys(cls.names(), True))
        unknown = sorted(words - set(cls.names()))
        if unknown:
            raise UserError(
                f"{SWITCH} names unknown speed-ups ({', '.join(unknown)}); use a comma-separated list of "
                f"{', '.join(cls.names())}, or all, or none."
            )
        return cls(**{name: name in words for name in cls.names()})

    @classmethod
    def from_environment(cls) -> NetworkSpeedups:
        return cls.parse(os.environ.get(SWITCH, "none"))

    def describe(self) -> str:
        on = [name for name in self.names() if getattr(self, name)]
        return "+".join(on) if on else "none"


def apply_layout_and_norm(net: nn.Module, speedups: NetworkSpeedups, device: torch.device) -> nn.Module:
    """Put ``net`` (a loaded style network) in the layout and norm mode ``speedups`` asks for, in place; returns it.

    On CUDA the default is NCHW with CUDA's group-norm kernel; ``channels_last`` there needs ``fused_norm``, which
    it switches on. On the CPU the networks are channels-last already (see :func:`~.layers.for_inference`).
    """
    fused = speedups.fused_norm or (speedups.channels_last and device.type == "cuda")
    for module in net.modules():
        if isinstance(module, SharedStatsNorm):
            module.fused = fused
    if speedups.channels_last:
        net.to(memory_format=torch.channels_last)  # 4-d weights only; forward() lays its input out to match
    elif device.type == "cuda":
        net.to(memory_format=torch.contiguous_format)
    if speedups.cudnn_benchmark and device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    return net


def fixed_shape_runner(net: nn.Module, condition: torch.Tensor, example: torch.Tensor,
                       speedups: NetworkSpeedups) -> Runner:  # fmt: skip
    """A function ``images -> stylized`` for batches shaped like ``example`` ``[B, 3, H, W]``, with one style
    ``condition`` (``[D]`` or ``[1, D]``), using ``compile`` and ``cuda_graphs`` as asked.

    With ``cuda_graphs`` the result is a view of the graph's own output buffer, overwritten by the next call: copy
    what you keep. Raises UserError when ``cuda_graphs`` is asked for off CUDA.
    """
    forward: Callable[..., torch.Tensor] = net
    if speedups.compile:
        # The graphs are recorded by hand below; compile's own cudagraph mode would record them a second time.
        forward = torch.compile(net, dynamic=False)
    if not speedups.cuda_graphs:
        return lambda images: forward(images, condition)
    if example.device.type != "cuda":
        raise UserError("CUDA graphs need a CUDA device; leave cuda_graphs out on this machine.")
    static_in = example.clone()
    side = torch.cuda.Stream(example.device)
    side.wait_stream(torch.cuda.current_stream(example.device))
    with torch.cuda.stream(side):
        for _ in range(3):  # warm-up off the capture: cuDNN's algorithm choice, compile's autotuning, the allocator
            forward(static_in, condition)
    torch.cuda.current_stream(example.device).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = forward(static_in, condition)

    def replay(images: torch.Tensor) -> torch.Tensor:
        static_in.copy_(images)
        graph.replay()
        return static_out

    return replay
