"""Which device and precision the networks run on: CUDA, then Apple MPS, then CPU, overridable by the user."""

from __future__ import annotations

import gc
from typing import Literal

import torch

from stylerec_desktop.core.errors import UserError

DeviceName = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["fp32", "fp16"]


def choose_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU. Asking for an absent accelerator is a UserError, not a silent CPU run,
    so a batch job someone sized for a GPU does not quietly take hours."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if preference == "cpu":
        return torch.device("cpu")
    if preference == "cuda":
        if not torch.cuda.is_available():
            raise UserError("No CUDA GPU is available to PyTorch here; use --device cpu (or auto).")
        return torch.device("cuda")
    if preference == "mps":
        if not torch.backends.mps.is_available():
            raise UserError("Apple MPS is not available here; use --device cpu (or auto).")
        return torch.device("mps")
    raise UserError(f"Unknown device '{preference}'; use auto, cpu, cuda or mps.")


def choose_dtype(device: torch.device, precision: str = "fp32") -> torch.dtype:
    """fp16 only on CUDA: CPU kernels for half precision are slow or missing, and MPS fp16 instance norm drifts.
    On other devices ``fp16`` quietly means fp32 (the picture is the same, just computed more exactly)."""
    if precision not in ("fp32", "fp16"):
        raise UserError(f"Unknown precision '{precision}'; use fp32 or fp16.")
    return torch.float16 if precision == "fp16" and device.type == "cuda" else torch.float32


def release_memory(device: torch.device) -> None:
    """Give cached GPU memory back after a job, so a long-running app does not sit on gigabytes between renders."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps":
        torch.mps.empty_cache()


def is_out_of_memory(error: BaseException) -> bool:
    """True for a CUDA/MPS out-of-memory error (the tiler then retries with smaller tiles)."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
