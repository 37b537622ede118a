"""GPU checks and figures for the style engine: throughput at 1024x1024 in fp16, batched, on CUDA; end-to-end
latency of one render; the out-of-memory fallback to smaller tiles; GPU memory released after a job; fp16 and
channels-last pictures against fp32.

    python bench/bench_gpu.py [--batches 1,8,16,32,64] [--size 1024] [--seconds 3] [--out DIR]

Needs a CUDA GPU (exits with a message otherwise). Rows:

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
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.models import loader
from stylerec_desktop.core.models.multistyle import preset_weights
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", default="1,8,16,32,64")
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path, default=None, help="folder for gpu.json")
    parser.add_argument("--skip", default="", help="comma-separated sections to skip")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("No CUDA GPU here; this benchmark needs one.", file=sys.stderr)
        return 2
    skip = set(filter(None, args.skip.split(",")))
    result: dict[str, object] = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "python": platform.python_version(),
        "size": args.size,
    }

    def save() -> None:
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "gpu.json").write_text(json.dumps(result, indent=2))

    sections = {
        "precision": lambda: bench_precision(args.size),
        "render": lambda: bench_render(args.size),
        "oom_fallback": bench_oom_fallback,
    }
    for name, fn in sections.items():
        if name in skip:
            continue
        t0 = time.perf_counter()
        try:
            result[name] = fn()
        except Exception as error:  # a failing section is reported, and the others still run
            result[name] = {"error": f"{type(error).__name__}: {error}"}
        print(f"{name} ({time.perf_counter() - t0:.1f} s): {json.dumps(result[name])}", flush=True)
        save()

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
