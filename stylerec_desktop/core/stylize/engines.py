"""The stylize engines behind one interface: each turns (content, style source, options) into a job that yields
progress and returns the stylized picture at the content's size.

- ``arbitrary``: Magenta's style predictor + transformer. Style from any image or any 100-d vector (so a blend of
  vectors, e.g. a customer's taste, is a valid style).
- ``preset``: the 26-style network, with blends.
- ``colour``: Reinhard Lab statistics (+ optional histogram matching); no network, photographic, instant.
- ``gatys``: optimisation on ImageNet VGG19 features (``stylize.gatys``); slow, any style image or a blend of them.

Common finishing (strength 0 short-cut, preserve colour, product mask) lives in ``stylerec_desktop.core.stylize``, and
so does the style scale: ``arbitrary`` and ``preset`` are handed the picture at the style scale's working resolution
and their output is brought to the output size there (``stylize.scale``); an engine itself just paints what it gets.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Protocol

import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Progress
from stylerec_desktop.core.models import loader
from stylerec_desktop.core.models.device import (
    choose_device,
    choose_dtype,
    release_memory,
    reuse_cpu_memory_during_jobs,
)
from stylerec_desktop.core.models.multistyle import preset_weights
from stylerec_desktop.core.models.style_predictor import style_image_tensor
from stylerec_desktop.core.stylize.colour import match_histograms, reinhard_transfer
from stylerec_desktop.core.stylize.gatys import GatysEngine, StyleImageBlend
from stylerec_desktop.core.stylize.options import PresetBlend, StyleImage, StyleOptions, StyleSource, StyleVector
from stylerec_desktop.core.stylize.tiling import render_tiled

DEFAULT_TILE = 2048


class Engine(Protocol):
    """Turns a content image (RGB, already at the output size) into a stylized one of the same size."""

    name: str

    def run(
        self, content: Image.Image, source: StyleSource, options: StyleOptions
    ) -> Generator[Progress, None, Image.Image]: ...


def image_to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL -> ``[1, 3, H, W]`` float32 in 0..1."""
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous()


def tensor_to_image(tensor: torch.Tensor) -> Image.Image:
    """``[1, 3, H, W]`` (or ``[3, H, W]``) in 0..1 -> RGB PIL, rounded."""
    array = tensor.reshape(-1, *tensor.shape[-2:]).permute(1, 2, 0).float().cpu().numpy()
    return Image.fromarray((np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def _inference(net: torch.nn.Module, style: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x -> net(x, style)`` under inference mode. The mode is entered per call, not around the generator: a
    generator suspended inside ``inference_mode`` would leave it switched on in whatever thread resumes it."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return net(x, style)

    return forward


def _render(
    net: torch.nn.Module,
    condition: torch.Tensor,
    content: Image.Image,
    device: torch.device,
    dtype: torch.dtype,
    options: StyleOptions,
) -> Generator[Progress, None, Image.Image]:
    """``net`` conditioned on ``condition`` (a style vector or preset weights, batch of 1) over ``content``, tiled;
    the device's cached memory is released afterwards, whatever happens."""
    try:
        out = yield from render_tiled(
            net, _inference(net, condition), image_to_tensor(content), device, dtype, options.tile or DEFAULT_TILE
        )
    finally:
        release_memory(device)
    return tensor_to_image(out)


def network_device(options: StyleOptions) -> torch.device:
    """The device a network engine runs on for ``options`` (and, on the CPU, the allocator set up for it)."""
    device = choose_device(options.device)
    if device.type == "cpu":
        reuse_cpu_memory_during_jobs()
    return device


def style_vector_of(image: Image.Image, device: torch.device) -> torch.Tensor:
    """The 100-d style vector ``[100]`` of any picture (centre crop, 256x256), float32 on ``device``."""
    predictor = loader.style_predictor(device)
    with torch.inference_mode():
        return predictor(style_image_tensor(image).to(device))[0]


class ArbitraryEngine:
    """Any image or style vector as the style, at the resolution of the picture it is given.

    Strength interpolates between the content's *own* style vector and the target's (as Magenta's demo does), so a
    half-strength render is a milder painting of the product rather than a ghosted double exposure.
    """

    name = "arbitrary"

    def run(
        self, content: Image.Image, source: StyleSource, options: StyleOptions
    ) -> Generator[Progress, None, Image.Image]:
        device = network_device(options)
        dtype = choose_dtype(device, options.precision)
        yield Progress(0, None, "computing the style")
        if isinstance(source, StyleVector):
            target = torch.from_numpy(source.vector).to(device)
        elif isinstance(source, StyleImage):
            target = style_vector_of(source.load(), device)
        else:
            raise UserError("The arbitrary engine takes a style image or a style vector; use the preset engine.")
        if options.strength < 1.0:
            own = style_vector_of(content, device)
            target = own + options.strength * (target - own)
        net = loader.style_transformer(device, dtype)
        return (yield from _render(net, target[None].to(dtype), content, device, dtype, options))


class PresetEngine:
    """The 26 built-in styles and blends of them.

    Strength blends the rendered picture with the content in pixel space. The network has no identity style (all 26
    are paintings; none reproduces its input) and its conditional norms were trained only at the 26 points and their
    convex blends, so moving the norm parameters towards "no style" would leave the space it was trained on.
    """

    name = "preset"

    def run(
        self, content: Image.Image, source: StyleSource, options: StyleOptions
    ) -> Generator[Progress, None, Image.Image]:
        if not isinstance(source, PresetBlend):
            raise UserError("The preset engine takes preset styles (e.g. --preset 7 or 3:0.5,12:0.5).")
        try:
            weights = preset_weights(source.weights)
        except ValueError as error:
            raise UserError(f"Bad preset blend: {error}.") from None
        device = network_device(options)
        # Not bf16 on the CPU unless asked: this network amplifies faint gradients (a soft shadow) into texture, and
        # bf16 rounding redraws that texture differently (PSNR to float32 29-44 dB by style, below our 35 dB bar).
        dtype = choose_dtype(device, options.precision, auto_cpu_bf16=False)
        net = loader.multistyle(device, dtype)
        stylized = yield from _render(net, weights[None].to(device), content, device, dtype, options)
        if options.strength < 1.0:
            stylized = Image.blend(content.convert("RGB"), stylized, options.strength)
        return stylized


class ColourEngine:
    """Colour statistics of a style image moved onto the content (Reinhard in Lab, optional histogram matching)."""

    name = "colour"

    def run(
        self, content: Image.Image, source: StyleSource, options: StyleOptions
    ) -> Generator[Progress, None, Image.Image]:
        if not isinstance(source, StyleImage):
            raise UserError("The colour engine takes a style image.")
        yield Progress(0, 1, "matching colours")
        style = np.asarray(source.load())
        array = np.asarray(content.convert("RGB"))
        out = reinhard_transfer(array, style, options.strength)
        if options.histogram:
            out = match_histograms(out, style, options.strength)
        yield Progress(1, 1, "colours matched")
        return Image.fromarray(out)


ENGINES: dict[str, Engine] = {e.name: e for e in (ArbitraryEngine(), PresetEngine(), ColourEngine(), GatysEngine())}


def engine_for(name: str | None, source: StyleSource) -> Engine:
    """The engine called ``name``, or the natural one for the source (preset blend -> preset, blend of style images
    -> gatys, else arbitrary)."""
    if name is None:
        if isinstance(source, PresetBlend):
            name = "preset"
        elif isinstance(source, StyleImageBlend):
            name = "gatys"
        else:
            name = "arbitrary"
    try:
        return ENGINES[name]
    except KeyError:
        raise UserError(f"Unknown engine '{name}'; use one of: {', '.join(ENGINES)}.") from None
