"""The indexing job: compute and store the style features of every product image that lacks them.

Resumable by construction: the work list is "image files (by sha256) with no row from this extractor", each batch is
written in one transaction *before* the job yields, and the generator is only ever suspended at a ``yield``. Closing
it (cancel) or killing the process therefore leaves whole batches or nothing; the next run picks up the rest. A
product whose image file changed has a new sha256 and so is simply "not indexed" again.

Images are decoded and analysed (mask, palette, pattern) in a pool of threads, or of processes on machines with many
cores, one batch ahead of the networks, so on a GPU the decoding of batch i+1 overlaps the inference of batch i.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import torch

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.models.device import choose_device
from stylerec_desktop.core.recommend.features import FeatureExtractor, PreparedImage
from stylerec_desktop.core.recommend.gpu_prepare import DevicePreparer, prepares_on_device
from stylerec_desktop.core.recommend.prepare import prepare_for_index

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexReport:
    """What an indexing run did. ``failed`` lists ``(path, reason)`` of images that could not be read; they stay
    unindexed (and are retried next run) while everything else is indexed."""

    extractor: str
    indexed: int
    already_indexed: int
    total_images: int
    seconds: float
    failed: tuple[tuple[str, str], ...] = field(default=())

    @property
    def images_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        text = (
            f"Indexed {self.indexed} images in {self.seconds:.1f} s ({self.images_per_second:.1f} images/s); "
            f"{self.already_indexed} were already indexed, {self.total_images} in the catalog."
        )
        if self.failed:
            text += f" {len(self.failed)} could not be read: " + "; ".join(f"{p}: {r}" for p, r in self.failed[:5])
        return text


#: Images are prepared in worker *processes* rather than threads when more than this many workers run and at least
#: ``PROCESS_POOL_MIN_IMAGES`` images wait. Measured on a 16-core machine with an H100 (``bench/bench_recommend.py
#: --device cuda``): 8 threads prepared 212 images/s and 16 threads 183 — the many small numpy steps hold the GIL —
#: while the networks took 5,000 images/s. Starting processes costs a second or more (each imports the program's
#: main module once, through a fork server), which only pays off on a large batch of images.
PROCESS_POOL_ABOVE = 4
PROCESS_POOL_MIN_IMAGES = 256


def default_workers() -> int:
    """How many images are prepared at once: one per core, up to 32, but one core is left to the job thread that
    feeds the networks and writes the catalog once there are enough cores for processes."""
    cores = os.cpu_count() or 1
    return cores if cores <= PROCESS_POOL_ABOVE else min(32, cores - 1)


def _single_threaded_worker() -> None:
    cv2.setNumThreads(1)  # the pool already runs one image per core; OpenCV's own threads would oversubscribe


def preparation_pool(workers: int, processes: bool = False) -> Executor:
    """The pool :func:`prepare_for_index` runs in: ``workers`` threads, or processes when ``processes``."""
    if not processes:
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="index-decode")
    # forkserver (spawn where there is none): forking a process that runs Qt, torch and CUDA threads is unsafe.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    try:
        return ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context(method), initializer=_single_threaded_worker
        )
    except (OSError, ImportError, NotImplementedError) as error:  # no POSIX semaphores in some sandboxes
        log.warning("indexing prepares images in threads: worker processes are not available here (%s)", error)
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="index-decode")


def _submit(pool: Executor | DevicePreparer, batch: Sequence[tuple[str, Path]]) -> list[Future[PreparedImage | str]]:
    if isinstance(pool, DevicePreparer):
        return pool.submit_batch(batch)
    return [pool.submit(prepare_for_index, path) for _sha, path in batch]


def index_catalog(
    catalog: Catalog,
    device: str = "auto",
    batch_size: int = 16,
    extractor: FeatureExtractor | None = None,
    workers: int | None = None,
    processes: bool | None = None,
) -> Job[IndexReport]:
    """Index every product image of ``catalog`` not yet indexed by the extractor's current recipe.

    ``device`` is ``auto``, ``cpu``, ``cuda`` or ``mps`` (ignored when ``extractor`` is given); the networks run in
    the device's fast precision (``features.fast_dtype``). ``batch_size`` images go through the networks at once
    and are committed together.
    ``workers`` images are decoded and analysed at once (default :func:`default_workers`), in threads or, when
    ``processes`` is true, in processes (default: processes for more than ``PROCESS_POOL_ABOVE`` workers and at
    least ``PROCESS_POOL_MIN_IMAGES`` images).
    """
    if batch_size < 1:
        raise UserError(f"--batch-size must be at least 1, got {batch_size}.")
    if extractor is None:
        extractor = FeatureExtractor(choose_device(device))
    version = extractor.version
    started = time.perf_counter()
    pending = catalog.images_to_index(version)
    indexed_before, total = catalog.image_feature_counts(version)
    batches = [pending[i : i + batch_size] for i in range(0, len(pending), batch_size)]
    yield Progress(0, len(pending), f"{len(pending)} images to index ({indexed_before} already indexed)")

    failed: list[tuple[str, str]] = []
    done = 0
    workers = workers or default_workers()
    if processes is None:
        processes = workers > PROCESS_POOL_ABOVE and len(pending) >= PROCESS_POOL_MIN_IMAGES
    # On CUDA the images are decoded and analysed on the GPU (gpu_prepare; STYLEREC_DEVICE_PREPARE switches it).
    net_device = getattr(extractor, "device", torch.device("cpu"))  # stand-in extractors (tests) may not say
    on_device = prepares_on_device(net_device)
    pool = DevicePreparer(net_device, workers) if on_device else preparation_pool(workers, processes)
    try:
        upcoming = _submit(pool, batches[0]) if batches else []
        for number, batch in enumerate(batches):
            current = upcoming
            upcoming = _submit(pool, batches[number + 1]) if number + 1 < len(batches) else []
            ready: list[tuple[str, PreparedImage]] = []
            for (sha, path), future in zip(batch, current, strict=True):
                result = future.result()
                if isinstance(result, str):
                    failed.append((str(path), result))
                else:
                    ready.append((sha, result))
            features = extractor.extract([prepared for _sha, prepared in ready])
            # One transaction per batch, committed before the yield: a cancel lands between batches, never in one.
            catalog.store_image_features(
                [f.to_blobs(sha, version) for (sha, _p), f in zip(ready, features, strict=True)]
            )
            done += len(batch)
            yield Progress(done, len(pending), f"Indexed {done} of {len(pending)} images")
    finally:
        # On cancel the generator is closed at a yield: drop queued decodes and wait for the running ones.
        pool.shutdown(wait=True, cancel_futures=True)
    report = IndexReport(
        extractor=version,
        indexed=done - len(failed),
        already_indexed=indexed_before,
        total_images=total,
        seconds=time.perf_counter() - started,
        failed=tuple(failed),
    )
    log.info("index of %s: %d images indexed, %d failed, %d already indexed, in %.1f s", catalog.folder,
             report.indexed, len(failed), indexed_before, report.seconds)  # fmt: skip
    return report
