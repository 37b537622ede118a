"""GPU checks and figures for the style engine: throughput at 1024x1024 in fp16, batched, on CUDA; end-to-end
latency of one render; the out-of-memory fallback to smaller tiles; GPU memory released after a job; fp16 and
channels-last pictures against fp32.

    python bench/bench_gpu.py --out DIR          # everything, about 8 minutes on one H100
    python bench/bench_gpu.py --smoke --device cpu --out DIR

Needs a CUDA GPU unless ``--device cpu`` (exits with a message otherwise). Rows:

- ``network``: the network alone on images already on the GPU, fp16, per batch size. CUDA events around ``--seconds``
  worth of batches after a warm-up; images/s = batch * batches / elapsed. Inputs rotate over 4 distinct batches of
  drawn product shots (each 1024x1024 fp16 image is 6 MB, so the 50 MB L2 cannot hold them).
- ``pipeline``: what a batch job pays per image besides the network: 8-bit pixels from pinned host memory to the
  GPU, network, back to 8-bit on the host, synchronised per batch (no overlap of copies with compute).
- ``render``: one ``stylize()`` call, PIL in, PIL out, as the app makes it (median of 10 after a warm-up).
- ``oom_fallback``: renders 4096x4096 with this process's CUDA allocator capped at 4096, 1024, 512 and 256 MB above
  what the networks hold; a cap too small for 2048 px tiles must end in a finished render with smaller tiles
  (PSNR against an uncapped render with those tiles), not an error.
- ``memory``: CUDA memory reserved after a render job returns (the engine releases its cache).

Issue 14's rows (the same command; the figures are pending a lent GPU):

- ``indexing``: end-to-end ``index_catalog`` from JPEG files on disk into a new catalog, images/s, with the CPU
  preparation (``STYLEREC_DEVICE_PREPARE=off``) and with the device preparation (``on``: nvJPEG decode, masks,
  palettes, patterns on the GPU); plus each half alone (preparing only, networks only). Goal: >= 2,000 images/s.
- ``prepare_parity``: the device preparation against the CPU path on real photographs and demo product photos,
  with the limits of ``core/recommend/prepare_parity.py`` (the test checks the same on CPU tensors).
- ``speedups``: both style networks at ``--size`` fp16, batch ``--speed-batch``, with each switch of
  ``core/models/speedups.py`` alone and all together; every variant's pictures against the fp32 network (PSNR,
  the parity tests' 35 dB for fp16) and against the plain fp16 network. Goal: >= 1,000 images/s.

``--smoke --device cpu`` runs those three rows tiny on the CPU in seconds (CI runs it, so the script cannot rot);
the CUDA-only rows and switches are skipped there, each with its reason. Writes ``gpu.json`` and ``gpu.txt``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core.catalog import Catalog, ProductRecord
from stylerec_desktop.core.demo.photos import photo_set
from stylerec_desktop.core.imaging import inspect_image
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.models import loader
from stylerec_desktop.core.models.layers import for_inference
from stylerec_desktop.core.models.multistyle import MultiStyleNet, preset_weights
from stylerec_desktop.core.models.speedups import NetworkSpeedups, apply_layout_and_norm, fixed_shape_runner
from stylerec_desktop.core.models.style_transformer import StyleTransformer
from stylerec_desktop.core.recommend import prepare_parity as parity
from stylerec_desktop.core.recommend.features import FeatureExtractor
from stylerec_desktop.core.recommend.gpu_prepare import SWITCH, DevicePreparer
from stylerec_desktop.core.recommend.indexing import (
    PROCESS_POOL_ABOVE,
    default_workers,
    index_catalog,
    preparation_pool,
)
from stylerec_desktop.core.recommend.prepare import prepare_for_index
from stylerec_desktop.core.recommend.tensor_prepare import prepare_pictures
from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, stylize, stylize_job
from stylerec_desktop.core.stylize.engines import image_to_tensor, style_vector_of
from stylerec_desktop.core.stylize.samples import painting, product_shot

CUDA = torch.device("cuda")


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.double() - b.double()) ** 2).mean())
    return float("inf") if mse == 0 else 10.0 * float(np.log10(1.0 / mse))


def networks(layout: torch.memory_format) -> dict[str, tuple[torch.nn.Module, torch.Tensor]]:
    """Both feed-forward networks in fp16 on CUDA with a style each, in ``layout``."""
    transformer = loader.style_transformer(CUDA, torch.float16)
    multistyle = loader.multistyle(CUDA, torch.float16)
    for net in (transformer, multistyle):
        net.to(memory_format=layout)  # 4-d weights only; the forward then lays its input out to match
    style = style_vector_of(painting(256), CUDA)
    return {"arbitrary": (transformer, style), "preset": (multistyle, preset_weights({7: 1.0}).to(CUDA))}


def content_batches(size: int, batch: int, sets: int = 4) -> list[torch.Tensor]:
    shots = [image_to_tensor(product_shot(size, seed=s)) for s in range(8)]
    pool = torch.cat(shots)
    out = []
    for k in range(sets):
        index = torch.arange(k * batch, (k + 1) * batch) % len(shots)
        out.append(pool[index].to(CUDA, torch.float16))
    return out


def time_network(net: torch.nn.Module, style: torch.Tensor, batches: list[torch.Tensor], seconds: float) -> dict:
    layout_last = net_layout_is_channels_last(net)
    if layout_last:
        batches = [b.contiguous(memory_format=torch.channels_last) for b in batches]
    with torch.inference_mode():
        for b in batches:  # warm-up: cuDNN algorithm choice, allocator
            net(b, style)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        # Size the timed run from one measured round.
        t0 = time.perf_counter()
        for b in batches:
            net(b, style)
        torch.cuda.synchronize()
        per_round = (time.perf_counter() - t0) / len(batches)
        iterations = max(len(batches), int(seconds / max(per_round, 1e-4)))
        start.record()
        for i in range(iterations):
            net(batches[i % len(batches)], style)
        stop.record()
        torch.cuda.synchronize()
    elapsed = start.elapsed_time(stop) / 1000.0
    images = iterations * batches[0].shape[0]
    return {
        "images_per_s": images / elapsed,
        "ms_per_batch": 1000.0 * elapsed / iterations,
        "iterations": iterations,
        "peak_mb": torch.cuda.max_memory_allocated() / 2**20,
    }


def net_layout_is_channels_last(net: torch.nn.Module) -> bool:
    for p in net.parameters():
        if p.dim() == 4:
            return p.is_contiguous(memory_format=torch.channels_last) and not p.is_contiguous()
    return False


def time_pipeline(net: torch.nn.Module, style: torch.Tensor, size: int, batch: int, seconds: float) -> dict:
    """uint8 NHWC pinned host -> GPU -> fp16 NCHW -> network -> uint8 -> pinned host, per batch, synchronised."""
    shots = np.stack([np.asarray(product_shot(size, seed=s)) for s in range(batch)])
    host_in = torch.from_numpy(shots).pin_memory()
    host_out = torch.empty_like(host_in).pin_memory()
    last = net_layout_is_channels_last(net)

    def one() -> None:
        x = host_in.to(CUDA, non_blocking=True).permute(0, 3, 1, 2).to(torch.float16).div_(255.0)
        if not last:
            x = x.contiguous()
        y = net(x, style)
        host_out.copy_(y.mul(255.0).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1), non_blocking=True)
        torch.cuda.synchronize()

    with torch.inference_mode():
        for _ in range(3):
            one()
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < seconds:
            one()
            n += 1
        elapsed = time.perf_counter() - t0
    return {"images_per_s": n * batch / elapsed, "ms_per_batch": 1000.0 * elapsed / n}


def bench_render(size: int) -> dict:
    content, style = product_shot(size, seed=3), StyleImage(painting(256))
    rows = {}
    for engine, source in (("arbitrary", style), ("preset", PresetBlend({7: 1.0}))):
        options = StyleOptions(device="cuda", precision="fp16")
        stylize(content, source, options, engine=engine)
        times = []
        for _ in range(10):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            stylize(content, source, options, engine=engine)
            times.append((time.perf_counter() - t0) * 1000.0)
        rows[engine] = {"median_ms": statistics.median(times), "min_ms": min(times)}
    rows["reserved_mb_after_job"] = torch.cuda.memory_reserved() / 2**20
    rows["allocated_mb_after_job"] = torch.cuda.memory_allocated() / 2**20
    return rows


def bench_oom_fallback() -> dict:
    """4096x4096 arbitrary renders with this process's CUDA allocator capped at decreasing sizes above what the
    loaded networks hold: a cap below a 2048 px tile's needs must end in a finished render with smaller tiles."""
    content, style = product_shot(4096, seed=7), StyleImage(painting(256))
    options = StyleOptions(device="cuda", precision="fp16")
    stylize(product_shot(512), style, options)  # networks loaded before the caps
    total = torch.cuda.get_device_properties(0).total_memory
    rows: list[dict] = []
    fallback: tuple[Image.Image, int] | None = None
    for cap_mb in (4096, 1024, 512, 256):
        messages: list[str] = []
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.set_per_process_memory_fraction(min(1.0, (base + cap_mb * 2**20) / total), 0)
        row: dict = {"cap_mb_above_networks": cap_mb}
        try:
            t0 = time.perf_counter()
            out = run_job(stylize_job(content, style, options), lambda p, seen=messages: seen.append(p.message))
            retries = [m for m in messages if "out of GPU memory" in m]
            row.update(completed=out.size == (4096, 4096), seconds=time.perf_counter() - t0, retries=retries)
            if retries:
                fallback = (out, int(retries[-1].split(" with ")[1].split("px")[0]))
        except Exception as error:  # the row says how it failed
            row["error"] = f"{type(error).__name__}: {error}"[:300]
        finally:
            torch.cuda.set_per_process_memory_fraction(1.0, 0)
            torch.cuda.empty_cache()
        rows.append(row)
        print(json.dumps(row), flush=True)
    result: dict = {"runs": rows}
    if fallback is not None:
        out, tile = fallback
        reference = stylize(content, style, StyleOptions(device="cuda", precision="fp16", tile=tile))
        a = torch.from_numpy(np.array(out)).float() / 255
        b = torch.from_numpy(np.array(reference)).float() / 255
        result["psnr_vs_uncapped_render_with_the_same_tiles_db"] = psnr(a, b)
    return result


def bench_precision(size: int) -> dict:
    """fp16 and channels-last pictures against fp32 (contiguous) on the same GPU, same input."""
    x = image_to_tensor(product_shot(size, seed=5)).to(CUDA)
    style = style_vector_of(painting(256), CUDA)
    rows = {}
    with torch.inference_mode():
        for name, factory, cond in (
            ("arbitrary", loader.style_transformer, style[None]),
            ("preset", loader.multistyle, preset_weights({7: 1.0}).to(CUDA)[None]),
        ):
            ref = factory(CUDA, torch.float32)(x, cond).float()
            half = factory(CUDA, torch.float16)(x.half(), cond).float()
            rows[f"{name}_fp16_vs_fp32_db"] = psnr(half, ref)
            cpu = factory(torch.device("cpu"), torch.float32)(x.cpu(), cond.cpu()).float()
            rows[f"{name}_cuda_fp32_vs_cpu_fp32_db"] = psnr(ref.cpu(), cpu)
    return rows


# -- issue 14: indexing with the device preparation, its parity, the networks' speed switches --------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def write_index_jpegs(folder: Path, count: int, size: tuple[int, int], distinct: int = 48) -> list[Path]:
    """``count`` JPEG product photos (``size`` = width, height) in ``folder``: ``distinct`` drawn demo photos, each
    file made unique (a different sha256, so the catalog indexes every one) by a JPEG comment with its number."""
    folder.mkdir(parents=True, exist_ok=True)
    encoded = []
    for shot in photo_set(min(count, distinct), seed=11, size=size):
        buffer = io.BytesIO()
        Image.fromarray(shot.image).save(buffer, "JPEG", quality=90)
        encoded.append(buffer.getvalue())
    paths = []
    for number in range(count):
        data = encoded[number % len(encoded)]
        text = f"stylerec bench copy {number}".encode()
        # A COM segment (FF FE, 2-byte length) right after the start-of-image marker: pixels unchanged.
        path = folder / f"i{number:05d}.jpg"
        path.write_bytes(data[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + data[2:])
        paths.append(path)
    return paths


def bench_indexing(device: torch.device, count: int, size: tuple[int, int], batch: int, repeats: int,
                   workers: int | None, folder: Path) -> dict:  # fmt: skip
    """``index_catalog`` from JPEG files into a new catalog, CPU preparation against device preparation."""
    paths = write_index_jpegs(folder / "images", count, size)
    infos = [inspect_image(path) for path in paths]
    records = [ProductRecord(f"P{i}", f"Product {i}", "tees", images=(info,)) for i, info in enumerate(infos)]
    extractor = FeatureExtractor(device)
    threads = workers or default_workers()
    result: dict = {"images": count, "image_size": list(size), "batch_size": batch, "workers": threads,
                    "device": str(device), "dtype": str(extractor.dtype).removeprefix("torch.")}  # fmt: skip
    previous = os.environ.get(SWITCH)
    try:
        for mode, label in (("off", "cpu_prepare"), ("on", "device_prepare")):
            os.environ[SWITCH] = mode
            rates = []
            # Run 0 warms up (nvJPEG, cuDNN, kernels) on the first two batches; a smoke run (repeats 0) times it.
            for run in range(max(1, repeats + 1)):
                catalog = Catalog.create(folder / f"catalog-{mode}-{run}")
                catalog.upsert_products(records[: 2 * batch] if run == 0 and repeats else records)
                report = run_job(index_catalog(catalog, batch_size=batch, extractor=extractor, workers=threads))
                catalog.close()
                if report.failed:
                    raise RuntimeError(f"{len(report.failed)} images failed: {report.failed[:2]}")
                if run or not repeats:
                    rates.append(report.images_per_second)
            result[label] = {"runs_images_per_s": rates, "median_images_per_s": statistics.median(rates)}
    finally:
        if previous is None:
            os.environ.pop(SWITCH, None)
        else:
            os.environ[SWITCH] = previous

    # Each half alone: preparing (CPU pool, then the device pipeline) and the networks on prepared batches.
    with preparation_pool(threads, processes=threads > PROCESS_POOL_ABOVE) as pool:
        list(pool.map(abs, range(threads)))  # workers started: the steady rate
        start = time.perf_counter()
        on_cpu = list(pool.map(prepare_for_index, paths))
        result["cpu_prepare_only_images_per_s"] = count / (time.perf_counter() - start)
    preparer = DevicePreparer(device, threads)
    batches = [[(str(i), p) for i, p in enumerate(paths[k : k + batch])] for k in range(0, count, batch)]
    try:
        start = time.perf_counter()
        futures = [preparer.submit_batch(b) for b in batches]
        on_device = [f.result() for fs in futures for f in fs]
        _sync(device)
        result["device_prepare_only_images_per_s"] = count / (time.perf_counter() - start)
    finally:
        preparer.shutdown()
    ready = [p for p in on_device if not isinstance(p, str)]
    start = time.perf_counter()
    for k in range(0, len(ready), batch):
        extractor.extract(ready[k : k + batch])  # returns numpy arrays: the device has finished
    result["networks_only_images_per_s"] = len(ready) / (time.perf_counter() - start)
    result["cpu_prepared_failures"] = sum(isinstance(p, str) for p in on_cpu)
    return result


def bench_prepare_parity(device: torch.device, folder: Path, demo_count: int) -> dict:
    """The device preparation against the CPU path (core/recommend/prepare_parity.py), on ``device``."""
    paths = parity.write_parity_jpegs(folder, demo_count)
    cpu, regions = parity.cpu_reference(paths)
    with torch.inference_mode():
        batch = prepare_pictures(parity.decode_files(paths, device))
    measures = parity.compare(cpu, regions, batch, FeatureExtractor(device))
    return {"images": len(paths), "measures": measures, "outside_limits": parity.outside_limits(measures),
            "limits": {name: f"{kind} {bound}" for name, (kind, bound) in parity.LIMITS.items()}}  # fmt: skip


def _speed_variants(compile_too: bool) -> list[tuple[str, NetworkSpeedups]]:
    names = ["channels_last", "fused_norm", "cudnn_benchmark", "cuda_graphs"] + (["compile"] if compile_too else [])
    variants = [("plain", NetworkSpeedups())] + [(name, NetworkSpeedups.parse(name)) for name in names]
    variants.append(("channels_last+cudnn_benchmark+cuda_graphs",
                     NetworkSpeedups.parse("channels_last,cudnn_benchmark,cuda_graphs")))  # fmt: skip
    if compile_too:
        variants.append(("all", NetworkSpeedups.parse("all")))
    return variants


def _fresh_net(engine: str, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
    # Not the loader's shared networks: each variant changes its network's layout and norm mode.
    factory = StyleTransformer.from_package if engine == "arbitrary" else MultiStyleNet.from_package
    return for_inference(factory(), device, dtype)


def bench_speedups(device: torch.device, size: int, batch: int, seconds: float, compile_too: bool) -> list[dict]:
    """Both style networks with each speed switch: images/s and pictures against fp32 and the plain fp16 net."""
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    shots = torch.cat([image_to_tensor(product_shot(size, seed=s)) for s in range(batch)])
    conditions = {"arbitrary": style_vector_of(painting(256), device)[None],
                  "preset": preset_weights({7: 1.0}).to(device)[None]}  # fmt: skip
    rows = []
    for engine, condition in conditions.items():
        with torch.inference_mode():
            full = _fresh_net(engine, device, torch.float32)
            reference = torch.cat([full(shots[k : k + 2].to(device), condition) for k in range(0, batch, 2)]).float()
            del full
        plain_out: torch.Tensor | None = None
        for name, speedups in _speed_variants(compile_too):
            # On CUDA channels-last brings the fused norm with it (the group-norm kernel refuses NHWC input).
            fused = speedups.fused_norm or (speedups.channels_last and device.type == "cuda")
            row: dict = {"engine": engine, "variant": name, "batch": batch, "size": size,
                         "dtype": str(dtype).removeprefix("torch."),
                         "norm": "fused" if fused else "group_norm"}  # fmt: skip
            needs_cuda = speedups.cuda_graphs or speedups.cudnn_benchmark
            if needs_cuda and device.type != "cuda":
                row["skipped"] = "needs CUDA"
                rows.append(row)
                continue
            try:
                torch.backends.cudnn.benchmark = False  # each variant starts from the default
                net = apply_layout_and_norm(_fresh_net(engine, device, dtype), speedups, device)
                images = shots.to(device, dtype)
                if speedups.channels_last:
                    images = images.contiguous(memory_format=torch.channels_last)
                with torch.inference_mode():
                    started = time.perf_counter()
                    run = fixed_shape_runner(net, condition, images, speedups)
                    out = run(images).float()  # the compiling / recording call
                    _sync(device)
                    row["setup_s"] = time.perf_counter() - started
                    started = time.perf_counter()
                    run(images)
                    _sync(device)
                    per_batch = time.perf_counter() - started
                    iterations = max(3, int(seconds / max(per_batch, 1e-4)))
                    started = time.perf_counter()
                    for _ in range(iterations):
                        run(images)
                    _sync(device)
                    elapsed = time.perf_counter() - started
                row.update(images_per_s=batch * iterations / elapsed, ms_per_batch=1000 * elapsed / iterations,
                           psnr_vs_fp32_db=psnr(out, reference))  # fmt: skip
                if plain_out is None:
                    plain_out = out
                row["psnr_vs_plain_db"] = psnr(out, plain_out)
                row["max_abs_diff_vs_plain"] = float((out - plain_out).abs().max())
                # The parity tests' thresholds: fp16 against fp32 over 35 dB (test_fp16_cuda_matches_fp32); in
                # float32 (the CPU smoke run) the port's own 70 dB.
                row["parity_ok"] = row["psnr_vs_fp32_db"] > (35.0 if dtype == torch.float16 else 70.0)
                del net, run, out
            except Exception as error:  # the row says how it failed; the other variants still run
                row["error"] = f"{type(error).__name__}: {error}"[:300]
            finally:
                torch.backends.cudnn.benchmark = False
                if device.type == "cuda":
                    torch.cuda.empty_cache()
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def text_table(result: dict) -> str:
    """The figures of issue 14's rows as a plain-text table."""
    lines = [f"{result.get('gpu') or result.get('device')}, torch {result['torch']}"]
    indexing = result.get("indexing")
    if isinstance(indexing, dict) and "error" not in indexing:
        width, height = indexing["image_size"]
        lines.append(f"indexing {indexing['images']} JPEGs {width}x{height} batch {indexing['batch_size']}, "
                     f"{indexing['workers']} workers, {indexing['dtype']}:")  # fmt: skip
        for label in ("cpu_prepare", "device_prepare"):
            runs = ", ".join(f"{r:.0f}" for r in indexing[label]["runs_images_per_s"])
            lines.append(f"  end to end, {label:14}: {indexing[label]['median_images_per_s']:8.1f} images/s ({runs})")
        for key in ("cpu_prepare_only_images_per_s", "device_prepare_only_images_per_s", "networks_only_images_per_s"):
            lines.append(f"  {key.removesuffix('_images_per_s'):28}: {indexing[key]:8.1f} images/s")
    elif indexing:
        lines.append(f"indexing: {indexing}")
    parity_row = result.get("prepare_parity")
    if isinstance(parity_row, dict) and "measures" in parity_row:
        lines.append(f"prepare parity on {parity_row['images']} photos (limits in core/recommend/prepare_parity.py): "
                     + ("all within limits" if not parity_row["outside_limits"] else
                        "OUTSIDE: " + "; ".join(parity_row["outside_limits"])))  # fmt: skip
        lines += [f"  {name:30} {value:8.4f}  ({parity_row['limits'][name]})"
                  for name, value in parity_row["measures"].items()]  # fmt: skip
    elif parity_row:
        lines.append(f"prepare parity: {parity_row}")
    speed_rows = result.get("speedups")
    if isinstance(speed_rows, list):
        lines.append("style networks, speed switches (images/s, PSNR vs fp32, vs plain):")
        for row in speed_rows:
            head = f"  {row['engine']:9} {row['variant']:42}"
            if "images_per_s" in row:
                lines.append(f"{head} {row['images_per_s']:8.1f} img/s  {row['psnr_vs_fp32_db']:6.1f} dB  "
                             f"{row['psnr_vs_plain_db']:6.1f} dB  parity {'ok' if row['parity_ok'] else 'FAILED'}")
            else:
                lines.append(f"{head} {row.get('skipped') or row.get('error')}")
    elif speed_rows:
        lines.append(f"speedups: {speed_rows}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,8,16,32,64")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=None, help="folder for gpu.json and gpu.txt")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip")
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (issue 14's rows only)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that every row runs, in seconds")
    parser.add_argument("--index-images", type=int, default=4096, help="JPEG files for the indexing row")
    parser.add_argument("--index-size", default="800x1000", help="their width x height")
    parser.add_argument("--index-batch", type=int, default=128)
    parser.add_argument("--speed-batch", type=int, default=16, help="batch of the speed-switch rows")
    parser.add_argument("--no-compile", action="store_true", help="leave torch.compile out (it compiles for minutes)")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("No CUDA GPU here; this benchmark needs one (or --device cpu for issue 14's rows).", file=sys.stderr)
        return 2
    if device.type not in ("cuda", "cpu"):
        print(f"--device must be cuda or cpu, not {args.device}.", file=sys.stderr)
        return 2
    if args.smoke:
        args.size, args.seconds, args.index_images, args.index_batch, args.speed_batch = 32, 0.05, 4, 2, 2
        args.index_size, args.no_compile = "96x128", True
        # The smoke run checks that every row runs, not speed: one torch thread, since on a shared CPU torch's pool
        # spins against the other processes and slows these many small operations 10x.
        torch.set_num_threads(1)
    width, height = (int(v) for v in args.index_size.lower().split("x"))
    skip = set(filter(None, args.skip.split(",")))
    result: dict[str, object] = {
        "gpu": torch.cuda.get_device_name(0) if device.type == "cuda" else None,
        "device": str(device),
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version() if device.type == "cuda" else None,
        "python": platform.python_version(),
        "size": args.size,
        "smoke": args.smoke,
    }

    def save() -> None:
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "gpu.json").write_text(json.dumps(result, indent=2))
            (args.out / "gpu.txt").write_text(text_table(result))

    work = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    sections: dict[str, Callable[[], object]] = {
        "prepare_parity": lambda: bench_prepare_parity(device, work / "parity", 2 if args.smoke else 16),
        "indexing": lambda: bench_indexing(device, args.index_images, (width, height), args.index_batch,
                                           0 if args.smoke else 2, None, work / "indexing"),  # fmt: skip
        # 2 s a row at most: 16 rows (with compile's minutes) must leave the whole run within about 8 minutes.
        "speedups": lambda: bench_speedups(device, args.size, args.speed_batch, min(args.seconds, 2.0),
                                           not args.no_compile),
    }
    # The style engine's own rows need CUDA and full sizes.
    if device.type == "cuda" and not args.smoke:
        sections |= {
            "precision": lambda: bench_precision(args.size),
            "render": lambda: bench_render(args.size),
            "oom_fallback": bench_oom_fallback,
        }
    try:
        for name, fn in sections.items():
            if name in skip:
                continue
            t0 = time.perf_counter()
            try:
                result[name] = fn()
            except Exception as error:  # a failing section is reported, and the others still run
                result[name] = {"error": f"{type(error).__name__}: {error}"}
            print(f"{name} ({time.perf_counter() - t0:.1f} s): {json.dumps(result[name])[:2000]}", flush=True)
            save()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if device.type != "cuda" or args.smoke:
        print(text_table(result))
        save()
        return 0

    batches = [int(b) for b in args.batches.split(",")]
    # Throughput rows let cuDNN time its algorithms per shape (fixed shapes, many batches). The app leaves this off:
    # each new picture size would pay the search again, and the search's workspaces would count in memory figures.
    torch.backends.cudnn.benchmark = True
    if "network" not in skip:
        rows = []
        # Contiguous (NCHW) only: CUDA's group-norm kernel, which the instance norms use, refuses channels-last input.
        for layout_name, layout in (("contiguous", torch.contiguous_format),):
            loader.forget_models()
            nets = networks(layout)
            for engine, (net, style) in nets.items():
                for batch in batches:
                    try:
                        data = content_batches(args.size, batch)
                        row = time_network(net, style, data, args.seconds)
                        del data
                    except Exception as error:
                        row = {"error": f"{type(error).__name__}: {error}"}
                    row.update(engine=engine, layout=layout_name, batch=batch)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
                    torch.cuda.empty_cache()
            result["network"] = rows
            save()
    if "pipeline" not in skip:
        rows = []
        loader.forget_models()
        nets = networks(torch.contiguous_format)
        for engine, (net, style) in nets.items():
            for batch in (8, 32):
                try:
                    row = time_pipeline(net, style, args.size, batch, args.seconds)
                except Exception as error:
                    row = {"error": f"{type(error).__name__}: {error}"}
                row.update(engine=engine, batch=batch)
                rows.append(row)
                print(json.dumps(row), flush=True)
        result["pipeline"] = rows
        save()

    print(f"\n{result['gpu']}, torch {result['torch']}, {args.size}x{args.size}, fp16")
    for row in result.get("network", []):
        if "error" not in row:
            print(
                f"network  {row['engine']:9} {row['layout']:13} batch {row['batch']:3}: "
                f"{row['images_per_s']:8.1f} img/s  {row['ms_per_batch']:8.2f} ms/batch  {row['peak_mb']:.0f} MB"
            )
    for row in result.get("pipeline", []):
        if "error" not in row:
            print(f"pipeline {row['engine']:9} batch {row['batch']:3}: {row['images_per_s']:8.1f} img/s")
    print(text_table(result))
    save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
