"""The ``gatys`` engine: classic optimisation-based style transfer (Gatys, Ecker & Bethge 2016) on ImageNet VGG19.

The picture itself is optimised so that its VGG19 features keep the product's *content* (conv4_2 activations) and
take the style image's *texture statistics* (Gram matrices of conv1_1, conv2_1, conv3_1, conv4_1, conv5_1). It needs
no trained transformer, so any style image works and several blend with weights; it is slow (one VGG19 forward and
backward pass per iteration), so it reports progress every iteration and stops between two of them when cancelled.

Weights: torchvision's ``VGG19_Weights.IMAGENET1K_V1``, read from the torch hub cache
(``torch.hub.get_dir()/checkpoints/vgg19-dcbb9e9d.pth``). A render never downloads: when the file is absent the engine
raises :class:`VGG19Missing`, which says what to do, and every other engine keeps working. The file gets there with
:func:`fetch_vgg19` (``stylerec models --fetch vgg19``, on a workstation with internet) or :func:`import_vgg19_weights`
(``stylerec models --import-vgg19 FILE``, for offline workstations).

>>> from stylerec_desktop.core.stylize import stylize, StyleImage, StyleOptions  # doctest: +SKIP
>>> out = stylize(photo, StyleImage("starry.jpg"), StyleOptions(size=512, iterations=200), engine="gatys")
>>> out = stylize(photo, StyleImageBlend(((StyleImage("a.jpg"), 0.7), (StyleImage("b.jpg"), 0.3))), engine="gatys")
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import urllib.request
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Progress, run_job
from stylerec_desktop.core.models.device import choose_device, release_memory
from stylerec_desktop.core.models.weights import WeightsError
from stylerec_desktop.core.safe_files import atomic_file, sha256_file
from stylerec_desktop.core.stylize.options import StyleImage, StyleOptions, StyleSource

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_FILE = os.path.basename(urlparse(VGG19_URL).path)
# torchvision names its checkpoints after the first 8 hex digits of the file's sha256.
VGG19_SHA256_PREFIX = VGG19_FILE.rsplit("-", 1)[1].split(".")[0]

VGG19_HOW_TO = (
    f"Gatys needs ImageNet VGG19 weights ({VGG19_FILE}, 548 MB). On a computer with internet run "
    "`stylerec models --fetch vgg19` or import the file with `stylerec models --import-vgg19 FILE`"
)

# Indices into torchvision's ``vgg19().features`` (conv outputs, before their ReLU).
VGG19_CONV = {"conv1_1": 0, "conv2_1": 5, "conv3_1": 10, "conv4_1": 19, "conv4_2": 21, "conv5_1": 28}
CONTENT_LAYERS: tuple[str, ...] = ("conv4_2",)
STYLE_LAYERS: tuple[str, ...] = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")

DEFAULT_ITERATIONS = 200
# The optimisation runs at most at this longest side; a bigger output gets the style as an upsampled residual on
# top of the full-resolution product (see GatysEngine). At 512 px one CPU iteration already takes ~8 s on a 2-core
# machine (measured with a random VGG19: same cost); a GPU affords twice the side.
WORK_SIDE_CPU = 512
WORK_SIDE_GPU = 1024
# Style against content with Gram matrices normalised by C*H*W and mean-squared losses: the balance the PyTorch
# tutorial uses for torchvision's VGG19 (content 1, style 1e6). Not tuned on real renders here: the ImageNet weights
# are not available offline, so this is the published starting point, to revisit once someone has looked.
CONTENT_WEIGHT = 1.0
STYLE_WEIGHT = 1e6
LEARNING_RATE = 0.02
# Faint seeded noise mixed into the starting picture: the seed then picks the brushwork, and the same seed repeats it.
INIT_NOISE = 0.02

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Missing(WeightsError):
    """The ImageNet VGG19 weights are not in the torch hub cache (the message says how to get them)."""


VGG19State = Literal["present", "missing"]


@dataclass(frozen=True)
class VGG19Status:
    """What :func:`vgg19_status` found: ``state``, the cache ``path`` (where it is or would be) and a note."""

    name: str
    state: VGG19State
    path: Path
    message: str


@dataclass(frozen=True)
class ImportedVGG19:
    """Result of :func:`import_vgg19_weights`: where the file landed, its sha256, and whether it is torchvision's
    own ImageNet file (any other VGG19 state_dict with the right keys and shapes also works, with its own look)."""

    path: Path
    sha256: str
    official: bool


@dataclass(frozen=True)
class StyleImageBlend:
    """Several style images blended with weights ``((StyleImage, weight), ...)``; weights are normalised to sum 1.

    The gatys engine's own source: the blend is of texture statistics (weighted mean of Gram matrices), which the
    feed-forward engines cannot take from images.
    """

    styles: tuple[tuple[StyleImage, float], ...]
    label: str = ""

    def __post_init__(self) -> None:
        if not self.styles:
            raise UserError("A style blend needs at least one style image.")
        weights = [float(w) for _, w in self.styles]
        if any(not np.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
            raise UserError(f"Style blend weights must be non-negative with a positive sum, got {weights}.")


@dataclass(frozen=True)
class GatysProgress(Progress):
    """Progress of one optimisation step, with that step's total ``loss`` (weighted content + style, before its
    update)."""

    loss: float = float("nan")


# -- weights in the torch hub cache ----------------------------------------------------------------------------------


def vgg19_cache_path() -> Path:
    """Where torchvision keeps (and looks for) the ImageNet VGG19 file: ``<torch hub dir>/checkpoints/<file>``.

    Read on every call: ``TORCH_HOME`` and ``torch.hub.set_dir`` may change while the app runs.
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILE


def vgg19_status() -> VGG19Status:
    """Whether the VGG19 weights are in the cache, for ``stylerec models`` and the settings dialog.

    Only the file's presence is checked: hashing 548 MB on every listing would take seconds
    (:func:`import_vgg19_weights` checks the contents when the file comes in).
    """
    path = vgg19_cache_path()
    if path.is_file():
        return VGG19Status("vgg19-imagenet", "present", path, "ok")
    return VGG19Status("vgg19-imagenet", "missing", path, VGG19_HOW_TO)


def _fail_fetch(reason: object) -> VGG19Missing:
    return VGG19Missing(
        f"Could not download the VGG19 weights ({reason}). Run this on a computer with internet, or copy "
        f"{VGG19_FILE} here and import it with `stylerec models --import-vgg19 FILE`."
    )


def download_vgg19_job(url: str | None = None, timeout_s: float = 30.0) -> Generator[Progress, None, Path]:
    """Download the ImageNet VGG19 weights into the torch hub cache as a job: progress per MiB received, cancellable
    between chunks. Only on an explicit request (``stylerec models --fetch vgg19``, Settings > Models), never mid-job.

    The bytes go to a hidden temporary file beside the target and are checked against the sha256 prefix in the
    file's name (torchvision's own convention, e.g. ``vgg19-dcbb9e9d.pth``) before the rename that makes them the
    cached file, so a cancelled, cut-off or corrupt download leaves nothing behind. Returns the cached file's path;
    raises :class:`VGG19Missing` with a sentence when the download fails (offline, say).
    """
    url = url or VGG19_URL
    name = os.path.basename(urlparse(url).path)
    prefix = name.rsplit("-", 1)[-1].split(".")[0]
    target = Path(torch.hub.get_dir()) / "checkpoints" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, received = hashlib.sha256(), 0
    yield Progress(0, None, f"Connecting to {urlparse(url).netloc or url}")
    try:
        response = urllib.request.urlopen(url, timeout=timeout_s)
    except (OSError, ValueError) as error:  # URLError and socket timeouts are OSErrors
        raise _fail_fetch(error) from None
    # Any error below (a cut-off download, a wrong checksum, a cancel) leaves atomic_file's temporary file removed.
    with response, atomic_file(target) as writer:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        while True:
            try:
                chunk = response.read(1 << 20)
            except OSError as error:
                raise _fail_fetch(error) from None
            if not chunk:
                break
            writer.write(chunk)
            digest.update(chunk)
            received += len(chunk)
            of = f" of {total / 2**20:,.0f}" if total else ""
            yield Progress(received, total, f"Downloading VGG19: {received / 2**20:,.0f}{of} MB")
        if total is not None and received != total:
            raise _fail_fetch(f"the connection closed after {received:,} of {total:,} bytes")
        if not digest.hexdigest().startswith(prefix):
            raise _fail_fetch(f"the file received does not match its checksum ({prefix}...); nothing was kept")
    forget_vgg19()
    return target


def fetch_vgg19(progress: bool = True) -> Path:
    """:func:`download_vgg19_job` run to the end (the CLI's ``stylerec models --fetch vgg19``); with ``progress``,
    a line on stderr every 10 %. Checks first that this torchvision still expects the file StyleRec knows."""
    import sys

    from torchvision.models import VGG19_Weights

    if VGG19_Weights.IMAGENET1K_V1.url != VGG19_URL:
        # A future torchvision may point elsewhere; the cache file name everything else looks for would then differ.
        raise _fail_fetch(f"this torchvision expects {VGG19_Weights.IMAGENET1K_V1.url}, StyleRec knows {VGG19_URL}")
    shown = [-1]

    def report(step: Progress) -> None:
        tenth = int(10 * step.fraction) if step.fraction is not None else -1
        if progress and tenth > shown[0]:
            shown[0] = tenth
            print(step.message, file=sys.stderr, flush=True)

    return run_job(download_vgg19_job(), report)


def expected_vgg19_shapes() -> dict[str, tuple[int, ...]]:
    """Every key of torchvision's VGG19 state_dict and its tensor shape (built on the meta device: no memory)."""
    from torchvision.models import vgg19

    with torch.device("meta"):
        model = vgg19(weights=None)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors in a weights file, without running any code in it (``weights_only``) and, where the format allows,
    without reading 548 MB into memory (``mmap``)."""
    try:
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # legacy (non-zip) torch.save format: cannot be memory-mapped
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a pickle refused by weights_only, a truncated zip, a text file...
        raise UserError(
            f"{path} is not a PyTorch weights file ({type(error).__name__}); nothing was imported."
        ) from None
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()
    ):
        raise UserError(f"{path} does not hold a state_dict (a mapping of names to tensors); nothing was imported.")
    return loaded


def _check_vgg19_state_dict(path: Path, state: dict[str, torch.Tensor]) -> None:
    expected = expected_vgg19_shapes()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [
        f"{k} is {tuple(v.shape)}, VGG19 has {expected[k]}"
        for k, v in state.items()
        if k in expected and tuple(v.shape) != expected[k]
    ]
    problems += [f"{k} is {v.dtype}" for k, v in state.items() if not v.is_floating_point()]
    if problems:
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        raise UserError(f"{path} is not a torchvision VGG19 state_dict ({shown}); nothing was imported.")


def import_vgg19_weights(path: Path | str) -> ImportedVGG19:
    """Copy a VGG19 weights file into the torch hub cache under the name torchvision looks for.

    The file must be a state_dict with exactly torchvision VGG19's keys and shapes (checked before anything is
    written). The copy goes through a temporary file and a rename in the cache folder, so an interrupted import never
    leaves a half-written file that torchvision would then try to load. Raises a UserError for a bad file.
    """
    source = Path(path).expanduser()
    if not source.is_file():
        raise UserError(f"Weights file not found: {source}")
    _check_vgg19_state_dict(source, _read_state_dict(source))
    target = vgg19_cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as reader, atomic_file(target) as writer:
        shutil.copyfileobj(reader, writer, 1 << 22)
    forget_vgg19()
    sha256 = sha256_file(target)
    return ImportedVGG19(target, sha256, sha256.startswith(VGG19_SHA256_PREFIX))


# -- the feature network --------------------------------------------------------------------------------------------


class VGGFeatures(nn.Module):
    """VGG19's convolutional trunk up to conv5_1, returning the activations the losses compare.

    ``features`` is torchvision's ``vgg19().features`` (pretrained or not). Input ``[B, 3, H, W]`` RGB in 0..1 (ImageNet
    normalisation happens inside); output ``{layer name: [B, C, h, w]}`` for the conv layers in ``VGG19_CONV``.
    """

    # Buffers, declared for the type checker (nn.Module's __getattr__ types them Tensor | Module).
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, features: nn.Sequential) -> None:
        super().__init__()
        last = max(VGG19_CONV.values())
        layers = list(features.children())[: last + 1]
        for layer in layers:
            if isinstance(layer, nn.ReLU):
                # An in-place ReLU would overwrite the conv output we keep for the losses.
                layer.inplace = False
        self.layers = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1))
        self._names = {index: name for name, index in VGG19_CONV.items()}
        self.requires_grad_(False)
        self.eval()

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (image - self.mean) / self.std
        out: dict[str, torch.Tensor] = {}
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index in self._names:
                out[self._names[index]] = x
        return out


FeatureFactory = Callable[[torch.device], nn.Module]
"""``device -> VGGFeatures`` (or any module with the same contract); how the engine gets its network."""

_vgg_cache: dict[str, nn.Module] = {}
_vgg_lock = threading.Lock()


def imagenet_vgg19(device: torch.device) -> nn.Module:
    """The pretrained VGG19 trunk on ``device`` (loaded once per device), through torchvision's weights API.

    Raises :class:`VGG19Missing` when the cache has no file: checked first, because torchvision would otherwise start
    a 548 MB download in the middle of the user's job.
    """
    key = str(device)
    with _vgg_lock:
        model = _vgg_cache.get(key)
        if model is None:
            if not vgg19_cache_path().is_file():
                raise VGG19Missing(VGG19_HOW_TO)
            from torchvision.models import VGG19_Weights, vgg19

            try:
                full = vgg19(weights=VGG19_Weights.IMAGENET1K_V1, progress=False)
            except (RuntimeError, OSError) as error:
                raise VGG19Missing(
                    f"The VGG19 weights at {vgg19_cache_path()} cannot be read ({type(error).__name__}); import a "
                    f"good copy with `stylerec models --import-vgg19 FILE`."
                ) from None
            # Keep only the trunk: the classifier is 470 of the 548 MB and never used here.
            model = VGGFeatures(full.features).to(device)
            del full
            _vgg_cache[key] = model
    return model


def forget_vgg19() -> None:
    """Drop the loaded VGG19 (after an import, or when the user switches device)."""
    with _vgg_lock:
        _vgg_cache.clear()


# -- the optimisation -------------------------------------------------------------------------------------------------


def gram(features: torch.Tensor) -> torch.Tensor:
    """Gram matrix ``[B, C, C]`` of ``[B, C, H, W]`` activations, normalised by C*H*W so layers and picture sizes
    weigh alike (a style image need not match the content's size)."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


def style_targets(net: nn.Module, styles: Sequence[tuple[torch.Tensor, float]]) -> dict[str, torch.Tensor]:
    """Weighted mean of each style layer's Gram matrix over several style images ``[(1x3xHxW in 0..1, weight)]``."""
    total = sum(w for _, w in styles)
    targets: dict[str, torch.Tensor] = {}
    with torch.no_grad():
        for image, weight in styles:
            features = net(image)
            for name in STYLE_LAYERS:
                g = gram(features[name]) * (weight / total)
                targets[name] = targets[name] + g if name in targets else g
    return targets


def gatys_transfer(
    net: nn.Module,
    content: torch.Tensor,
    styles: Sequence[tuple[torch.Tensor, float]],
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = 0,
    content_weight: float = CONTENT_WEIGHT,
    style_weight: float = STYLE_WEIGHT,
    learning_rate: float = LEARNING_RATE,
) -> Generator[GatysProgress, None, torch.Tensor]:
    """Optimise a picture (Adam on its pixels) for ``iterations`` steps; a job yielding one GatysProgress per step.

    ``content`` ``[1, 3, H, W]`` and each style ``[1, 3, h, w]`` are RGB in 0..1 on ``net``'s device; returns the
    picture ``[1, 3, H, W]`` in 0..1. Starts from the content plus faint noise drawn from ``seed`` (on the CPU, so a
    seed gives the same start on every device). Closing the generator stops between two steps.
    """
    if iterations < 1:
        raise UserError(f"Gatys needs at least 1 iteration, got {iterations}.")
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(content.shape, generator=generator).to(content.device)
    with torch.no_grad():
        targets = style_targets(net, styles)
        content_targets = {name: f.detach() for name, f in net(content).items() if name in CONTENT_LAYERS}
    image = (content + INIT_NOISE * noise).clamp(0.0, 1.0).detach().requires_grad_(True)
    optimiser = torch.optim.Adam([image], lr=learning_rate)
    # Cosine decay: large steps find the texture, small ones at the end settle the pixel noise Adam leaves behind.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=iterations, eta_min=learning_rate * 0.1)
    for step in range(iterations):
        # Grad mode per step, not around the loop: a generator suspended inside ``enable_grad`` would leave it on in
        # whatever thread resumes it.
        with torch.enable_grad():
            optimiser.zero_grad(set_to_none=True)
            features = net(image)
            content_loss = torch.stack([F.mse_loss(features[n], content_targets[n]) for n in CONTENT_LAYERS]).sum()
            style_loss = torch.stack([F.mse_loss(gram(features[n]), targets[n]) for n in STYLE_LAYERS]).sum()
            loss = content_weight * content_loss + style_weight * style_loss
            loss.backward()
            optimiser.step()
            schedule.step()
        with torch.no_grad():
            image.clamp_(0.0, 1.0)
        value = float(loss.detach())
        yield GatysProgress(step + 1, iterations, f"gatys: iteration {step + 1}/{iterations}", loss=value)
    return image.detach()


# -- the engine -------------------------------------------------------------------------------------------------------


# Own copies of the two conversions rather than engines.image_to_tensor: engines imports this module to register the
# engine, so importing back from it would be circular.
def _to_tensor(image: Image.Image, device: torch.device) -> torch.Tensor:
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1)[None].contiguous().to(device)


def _to_image(tensor: torch.Tensor) -> Image.Image:
    array = tensor[0].permute(1, 2, 0).float().cpu().numpy()
    return Image.fromarray((np.clip(array, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))


def _fit(image: Image.Image, side: int) -> Image.Image:
    """``image`` with its longest side at most ``side`` (Lanczos), unchanged when already small enough."""
    if max(image.size) <= side:
        return image
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _style_list(source: StyleSource | StyleImageBlend) -> list[tuple[StyleImage, float]]:
    if isinstance(source, StyleImageBlend):
        return [(style, float(weight)) for style, weight in source.styles if weight > 0]
    if isinstance(source, StyleImage):
        return [(source, 1.0)]
    raise UserError("The gatys engine takes style images (one, or a blend); presets and style vectors need the "
                    "preset or arbitrary engine.")  # fmt: skip


class GatysEngine:
    """Optimisation-based transfer (see the module docstring) behind the common engine interface.

    ``features`` builds the VGG19 trunk for a device: by default the ImageNet one from the torch hub cache; tests
    pass a randomly initialised VGG19 instead. ``options.iterations`` (default 200) sets the steps, ``options.seed``
    the starting noise; ``options.strength`` blends the result with the product in pixel space. The optimisation
    always runs in float32: Gram matrices of fp16 activations overflow.

    Outputs larger than the working side (512 px on the CPU, 1024 on a GPU) are optimised at that side, and the
    change the style made is upsampled onto the full-resolution product, so its edges and print stay sharp.
    """

    name = "gatys"

    def __init__(self, features: FeatureFactory = imagenet_vgg19) -> None:
        self.features = features

    def run(
        self, content: Image.Image, source: StyleSource | StyleImageBlend, options: StyleOptions
    ) -> Generator[Progress, None, Image.Image]:
        styles = _style_list(source)
        iterations = options.iterations or DEFAULT_ITERATIONS
        device = choose_device(options.device)
        yield Progress(0, iterations, "gatys: loading VGG19")
        net = self.features(device)
        side = WORK_SIDE_CPU if device.type == "cpu" else WORK_SIDE_GPU
        full = content.convert("RGB")
        small = _fit(full, side)
        try:
            content_t = _to_tensor(small, device)
            style_t = [(_to_tensor(_fit(style.load(), max(small.size)), device), w) for style, w in styles]
            result = yield from gatys_transfer(net, content_t, style_t, iterations, options.seed)
            if small.size != full.size:
                change = F.interpolate(result - content_t, size=(full.height, full.width), mode="bicubic",
                                       align_corners=False)  # fmt: skip
                result = (_to_tensor(full, device) + change).clamp(0.0, 1.0)
            out = _to_image(result)
        finally:
            release_memory(device)
        if options.strength < 1.0:
            out = Image.blend(full, out, options.strength)
        return out
