"""What this computer has to run the networks on, found out once and put in people's words: the accelerators
PyTorch sees (:func:`probe_devices` for Settings, :func:`learn_devices` then :func:`device_label` for the jobs
panel's "where it runs" column).

Free of torch at import: the window imports this before torch is loaded, and torch is only asked (on a worker: the
first CUDA query initialises the driver) inside :func:`learn_devices` and :func:`probe_devices`.
:func:`~stylerec_desktop.core.models.device.choose_device` is where a job actually picks its device.
"""

from __future__ import annotations

from dataclasses import dataclass

_devices: dict[str, str] = {}
_ACCELERATORS = {"cuda": "GPU (CUDA)", "mps": "GPU (Apple MPS)"}  # as asked for, before or without its name


def learn_devices() -> None:
    """Find out (on a worker: the first CUDA query initialises the driver) which accelerators this machine has,
    for :func:`device_label`."""
    import torch

    if torch.cuda.is_available():
        _devices["cuda"] = f"GPU: {torch.cuda.get_device_name(0)}"
    if torch.backends.mps.is_available():
        _devices["mps"] = "GPU: Apple MPS"
    _devices["learnt"] = "yes"


def device_label(preference: str) -> str:
    """Where a model job asked to run on ``preference`` (auto, cpu, cuda, mps) runs, in the jobs panel's words
    (an absent accelerator asked for by name is shown as asked: the job then fails saying it is not there).
    Never initialises anything: before :func:`learn_devices` has run it repeats the preference."""
    if preference == "cpu":
        return "CPU"
    if preference == "auto":
        return (_devices.get("cuda") or _devices.get("mps") or "CPU") if "learnt" in _devices else ""
    return _devices.get(preference) or _ACCELERATORS.get(preference, preference)


@dataclass(frozen=True)
class DeviceSupport:
    """What PyTorch sees on this computer: a CUDA GPU (and its name), Apple's MPS, native bf16 on the CPU."""

    cuda: bool
    cuda_name: str
    mps: bool
    fast_bf16_cpu: bool
    cpu_threads: int


def probe_devices() -> DeviceSupport:
    """On a worker: ask PyTorch (loading it if the warm-up has not yet) which devices this computer has."""
    import torch

    from stylerec_desktop.core.models.device import fast_bf16_cpu

    cuda = torch.cuda.is_available()
    name = ""
    if cuda:
        properties = torch.cuda.get_device_properties(0)
        name = f"{properties.name}, {properties.total_memory / 2**30:.0f} GB"
    return DeviceSupport(cuda, name, torch.backends.mps.is_available(), fast_bf16_cpu(), torch.get_num_threads())
