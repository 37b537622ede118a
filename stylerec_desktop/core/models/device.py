"""Which device and precision the networks run on: CUDA, then Apple MPS, then CPU, overridable by the user."""

from __future__ import annotations

import ctypes
import gc
import logging
import sys
from typing import Literal

import torch

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.models.precision import PRECISIONS

DeviceName = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["auto", "fp32", "fp16", "bf16"]

log = logging.getLogger(__name__)
_told_cpu = False  # the CPU fallback is said once per process at INFO (then at DEBUG): every job asks


def choose_device(preference: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU. Asking for an absent accelerator is a UserError, not a silent CPU run,
    so a batch job someone sized for a GPU does not quietly take hours."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        global _told_cpu
        level = logging.DEBUG if _told_cpu else logging.INFO
        log.log(level, "no GPU available to PyTorch: the networks run on the CPU")
        _told_cpu = True
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


def fast_bf16_cpu() -> bool:
    """True when this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX) through oneDNN.

    Without those instructions bfloat16 is emulated and several times *slower* than float32.
    """
    return bool(
        torch.backends.mkldnn.is_available()
        and torch.ops.mkldnn._is_mkldnn_bf16_supported()
        and (torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    )


def choose_dtype(device: torch.device, precision: str = "auto", auto_cpu_bf16: bool = True) -> torch.dtype:
    """The dtype a network computes in on ``device`` for the user's ``precision``.

    - ``auto``: float16 on CUDA; on CPUs with native bf16 (AMX or AVX512-BF16), bfloat16 when ``auto_cpu_bf16``
      (the caller says whether its network keeps its quality in bf16: PSNR to float32 above 35 dB), else float32.
    - ``fp16``: CUDA only; CPU kernels for half precision are slow or missing, and MPS fp16 instance norm drifts.
    - ``bf16``: CPUs with native bf16 and CUDA.
    - ``fp32``: always.

    A reduced precision the device cannot run well quietly means float32 (the picture is the same, just computed
    more exactly and more slowly).
    """
    if precision not in PRECISIONS:
        raise UserError(f"Unknown precision '{precision}'; use {', '.join(PRECISIONS)}.")
    if precision == "fp32":
        return torch.float32
    if device.type == "cuda":
        return torch.bfloat16 if precision == "bf16" else torch.float16
    wants_bf16 = precision == "bf16" or (precision == "auto" and auto_cpu_bf16)
    if device.type == "cpu" and wants_bf16 and fast_bf16_cpu():
        return torch.bfloat16
    return torch.float32


def release_memory(device: torch.device) -> None:
    """Give memory back after a job, so a long-running app does not sit on gigabytes between renders.

    GPU: collect reference cycles, then return the caching allocator's blocks to the driver. CPU: hand the C heap's
    free pages back to the OS (see :func:`reuse_cpu_memory_during_jobs`). No ``gc.collect()`` on the CPU: tensors
    are freed by reference counting the moment a job drops them, and a full collection in a process with torch and
    Qt loaded costs ~0.1 s, as much as a 512 px render.
    """
    if device.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()
    elif device.type == "mps":
        gc.collect()
        torch.mps.empty_cache()
    else:
        _trim_c_heap()


_libc: ctypes.CDLL | None = None
_heap_tuned = False
# glibc mallopt parameters (malloc.h): M_TRIM_THRESHOLD, M_MMAP_MAX.
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4


def _glibc() -> ctypes.CDLL | None:
    global _libc
    if _libc is None and sys.platform.startswith("linux"):
        try:
            _libc = ctypes.CDLL("libc.so.6")
            _libc.mallopt  # noqa: B018  (musl and other C libraries have no mallopt: leave them alone)
            _libc.malloc_trim  # noqa: B018
        except (OSError, AttributeError):
            _libc = None
    return _libc


def reuse_cpu_memory_during_jobs() -> None:
    """Let freed tensor memory be reused within a CPU job instead of being unmapped and faulted in again.

    glibc serves every allocation above 32 MB with a fresh ``mmap`` and unmaps it on free, so each full-resolution
    activation of a style network (32-128 MB at 1024 px) costs a page fault per 4 KB page when it is first
    written: measured 2.5-4.5x on instance norm and padding at 1024 px. Keeping large blocks in the heap makes the
    next layer reuse the pages; :func:`release_memory` trims the heap after each job so the memory still goes back.
    Linux/glibc only, idempotent, process-wide (it only changes where malloc gets pages from). Threads other than
    the main one allocate such blocks from their own arenas, which still use mmap for them: no gain, no harm.
    """
    global _heap_tuned
    libc = _glibc()
    if libc is None or _heap_tuned:
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    _heap_tuned = True


def _trim_c_heap() -> None:
    libc = _glibc()
    if libc is not None and _heap_tuned:
        libc.malloc_trim(0)


def is_out_of_memory(error: BaseException) -> bool:
    """True for a CUDA/MPS out-of-memory error (the tiler then retries with smaller tiles)."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "out of memory" in str(error).lower()
