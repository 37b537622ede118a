"""Load each network once per process, device and dtype (they are small; rebuilding them per render costs ~0.3 s)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import torch
from torch import nn

from stylerec_desktop.core.models.layers import for_inference
from stylerec_desktop.core.models.multistyle import MultiStyleNet
from stylerec_desktop.core.models.speedups import NetworkSpeedups, apply_layout_and_norm
from stylerec_desktop.core.models.style_predictor import StylePredictor
from stylerec_desktop.core.models.style_transformer import StyleTransformer

M = TypeVar("M", bound=nn.Module)

_cache: dict[tuple[str, str, torch.dtype], nn.Module] = {}
_lock = threading.Lock()


def _load(factory: Callable[[], M], device: torch.device, dtype: torch.dtype) -> M:
    key = (factory.__qualname__, str(device), dtype)
    with _lock:
        model = _cache.get(key)
        if model is None:
            model = for_inference(factory(), device, dtype)
            if device.type == "cuda":  # the speed-ups asked for in STYLEREC_NET_SPEEDUPS (all off by default)
                apply_layout_and_norm(model, NetworkSpeedups.from_environment(), device)
            _cache[key] = model
    # The cache is keyed by the factory, so its entry is what this factory makes; the dict cannot say so.
    return model  # type: ignore[return-value]


def style_predictor(device: torch.device, dtype: torch.dtype = torch.float32) -> StylePredictor:
    """The style predictor; always float32 is fine (it runs once per style image at 256x256)."""
    return _load(StylePredictor.from_package, device, dtype)


def style_transformer(device: torch.device, dtype: torch.dtype = torch.float32) -> StyleTransformer:
    return _load(StyleTransformer.from_package, device, dtype)


def multistyle(device: torch.device, dtype: torch.dtype = torch.float32) -> MultiStyleNet:
    return _load(MultiStyleNet.from_package, device, dtype)


def forget_models() -> None:
    """Drop every loaded network (the settings dialog calls this when the user switches device)."""
    with _lock:
        _cache.clear()
