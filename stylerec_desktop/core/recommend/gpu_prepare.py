"""Preparing the indexing job's images on the networks' device: JPEGs decoded there in batches (nvJPEG on CUDA),
then masks, palettes, patterns and the letterboxed squares as batched tensor operations (:mod:`.tensor_prepare`).

On one H100 the CPU preparation took 154-212 images/s while the networks ran 5,164 (issue 14): decoding and the
many small numpy steps per image were the bottleneck. Here the CPU only reads files, and the device does the rest.

The pipeline, one batch ahead of the networks (:meth:`DevicePreparer.submit_batch` is called for batch i+1 before the
job runs the networks on batch i):

- reader threads read each file, check its header (format, size limits, EXIF orientation) and copy JPEG bytes into
  pinned host memory, from which the device's decoder copies without staging;
- one device thread decodes and analyses each batch on its own CUDA stream, so this overlaps the networks, which run
  on the job thread's default stream; the squares it returns are marked as used by that stream, so the allocator
  cannot hand their memory out while the networks still read it;
- any image the device path cannot take, per image, goes the CPU way (:func:`.prepare.prepare_for_index`): PNG,
  WebP and other formats, CMYK JPEGs, rotated JPEGs (EXIF orientation), files that do not end like a JPEG, pictures
  under 16 px a side, and any JPEG the decoder refuses. A file that cannot be read comes back as its message, as
  on the CPU path.

When it is used: on CUDA by default; ``STYLEREC_DEVICE_PREPARE=off`` keeps the CPU preparation (for comparisons),
``on`` forces this path on any device (the CPU too, where it is slower than the CPU path and used by tests).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.imaging import _open_checked, _orientation, _read_bytes
from stylerec_desktop.core.recommend.prepare import PreparedImage, prepare_for_index
from stylerec_desktop.core.recommend.tensor_prepare import prepare_pictures

log = logging.getLogger(__name__)

#: The environment variable that switches preparation on the device: ``auto`` (default: on CUDA only), ``on``, ``off``.
SWITCH = "STYLEREC_DEVICE_PREPARE"
_ON, _OFF = {"on", "1", "yes", "true"}, {"off", "0", "no", "false"}
_MIN_SIDE = 16


def prepares_on_device(device: torch.device) -> bool:
    """Whether the indexing job prepares images on ``device`` (see the module docstring for the switch)."""
    value = os.environ.get(SWITCH, "auto").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    if value != "auto":
        raise UserError(f"{SWITCH} must be auto, on or off, not '{value}'.")
    return device.type == "cuda"


@dataclass(frozen=True)
class _Read:
    """What a reader thread found: JPEG bytes for the device (``data``), or the CPU path's result (``done``)."""

    data: torch.Tensor | None = None
    done: PreparedImage | str | None = None


def _is_plain_jpeg(path: Path, data: bytes) -> bool:
    """A JPEG the device path decodes exactly as ``load_image`` would: RGB or grey, no EXIF rotation, complete.

    Raises the same :class:`ImageError` as ``load_image`` for a file that is no image or breaks the limits.
    """
    with _open_checked(path, data) as image:
        if image.format != "JPEG" or image.mode not in ("RGB", "L") or _orientation(image) != 1:
            return False
        if min(image.size) < _MIN_SIDE:
            return False  # the CPU path's analysis has its own answers for pictures too small to analyse
    # A truncated JPEG lacks its end marker; PIL reports it as damaged, while a GPU decoder may fill in grey.
    return data.rstrip(b"\0").endswith(b"\xff\xd9")


def _read(path: Path, pin: bool) -> _Read:
    """Read one file on a reader thread: JPEG bytes (pinned for a CUDA device) or the CPU preparation's result."""
    try:
        data = _read_bytes(Path(path).resolve())
        if not _is_plain_jpeg(path, data):
            return _Read(done=prepare_for_index(path))
    except UserError as exc:
        return _Read(done=str(exc))
    except OSError as exc:
        return _Read(done=f"cannot be read: {exc}")
    tensor = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    return _Read(data=tensor.pin_memory() if pin else tensor)


def _decode(data: list[torch.Tensor], device: torch.device) -> list[torch.Tensor | None]:
    """Decode JPEG byte tensors on ``device``: ``(3, H, W)`` uint8 each, or None where the decoder refused one."""
    from torchvision.io import ImageReadMode, decode_jpeg

    try:
        return list(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))
    except RuntimeError:
        log.info("the device's JPEG decoder refused one of %d images; decoding them one by one", len(data))
    pictures: list[torch.Tensor | None] = []
    for one in data:
        try:
            pictures.append(decode_jpeg(one, mode=ImageReadMode.RGB, device=device))
        except RuntimeError:
            pictures.append(None)
    return pictures


class DevicePreparer:
    """Prepares batches of ``(sha256, path)`` on ``device``; see the module docstring for the pipeline.

    :meth:`submit_batch` returns one future per image, resolved to a :class:`PreparedImage` (``square`` a
    ``(256, 256, 3)`` uint8 tensor on ``device``) or to the message saying why the image could not be read.
    """

    def __init__(self, device: torch.device, workers: int) -> None:
        self.device = device
        self._cuda = device.type == "cuda"
        self._readers = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="index-read")
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index-device")
        self._stream = torch.cuda.Stream(device) if self._cuda else None

    def submit_batch(self, batch: Sequence[tuple[str, Path]]) -> list[Future[PreparedImage | str]]:
        reads = [self._readers.submit(_read, path, self._cuda) for _sha, path in batch]
        outs: list[Future[PreparedImage | str]] = [Future() for _ in batch]
        self._worker.submit(self._prepare, [path for _sha, path in batch], reads, outs)
        return outs

    def _prepare(self, paths: list[Path], reads: list[Future[_Read]], outs: list[Future[PreparedImage | str]]) -> None:
        try:
            self._prepare_batch(paths, [read.result() for read in reads], outs)
        except BaseException as error:  # the job thread sees it on its future, with its traceback
            for out in outs:
                if not out.done():
                    out.set_exception(error)

    def _prepare_batch(self, paths: list[Path], reads: list[_Read], outs: list[Future[PreparedImage | str]]) -> None:
        for read, out in zip(reads, outs, strict=True):
            if read.done is not None:
                out.set_result(read.done)
        waiting = [(i, read.data) for i, read in enumerate(reads) if read.data is not None]
        if not waiting:
            return
        prepared = None
        with torch.cuda.stream(self._stream) if self._stream is not None else nullcontext(), torch.inference_mode():
            decoded = _decode([data for _i, data in waiting], self.device)
            refused = [i for (i, _d), picture in zip(waiting, decoded, strict=True) if picture is None]
            kept = [(i, picture) for (i, _d), picture in zip(waiting, decoded, strict=True) if picture is not None]
            if kept:
                prepared = prepare_pictures([picture for _i, picture in kept])
                if self._stream is not None:
                    # The networks read the squares on the job thread's stream: the allocator must wait for it too.
                    prepared.squares.record_stream(torch.cuda.default_stream(self.device))
                    self._stream.synchronize()
        if prepared is not None:
            for k, (i, _picture) in enumerate(kept):
                outs[i].set_result(PreparedImage(prepared.squares[k], prepared.palettes[k], prepared.patterns[k]))
        for i in refused:
            # The CPU path decodes it, or says why it cannot.
            outs[i].set_result(prepare_for_index(paths[i]))

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        """Stop reading and preparing; with ``cancel_futures`` the batches not started are dropped."""
        self._readers.shutdown(wait=wait, cancel_futures=cancel_futures)
        self._worker.shutdown(wait=wait, cancel_futures=cancel_futures)
