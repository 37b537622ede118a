"""``bench/bench_gpu.py --smoke --device cpu``: the one GPU script's issue-14 rows run end to end on the CPU, tiny, so
the script cannot rot before a GPU is lent to run it in full (about 20 s on this shared 2-core machine)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "bench_gpu.py"


@pytest.fixture
def bench_gpu():
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    threads = torch.get_num_threads()
    yield module
    torch.set_num_threads(threads)  # the smoke run sets one thread for itself


def test_smoke_run_on_the_cpu_writes_every_row(bench_gpu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYLEREC_DEVICE_PREPARE", raising=False)
    assert bench_gpu.main(["--smoke", "--device", "cpu", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "gpu.json").read_text())
    indexing = result["indexing"]
    assert indexing["images"] == 4 and indexing["cpu_prepared_failures"] == 0
    for key in ("cpu_prepare", "device_prepare"):
        assert indexing[key]["median_images_per_s"] > 0
    assert indexing["device_prepare_only_images_per_s"] > 0 and indexing["networks_only_images_per_s"] > 0
    parity = result["prepare_parity"]
    assert parity["outside_limits"] == [] and parity["measures"]["region_iou_mean"] > 0.9
    rows = {(row["engine"], row["variant"]): row for row in result["speedups"]}
    for engine in ("arbitrary", "preset"):
        for variant in ("plain", "channels_last", "fused_norm"):
            row = rows[(engine, variant)]
            assert row["images_per_s"] > 0 and row["parity_ok"], row
        assert rows[(engine, "cuda_graphs")]["skipped"] == "needs CUDA"
    table = (tmp_path / "gpu.txt").read_text()
    assert "end to end, device_prepare" in table and "fused_norm" in table and "all within limits" in table
    assert "STYLEREC_DEVICE_PREPARE" not in os.environ  # the script put the switch back


def test_without_cuda_the_full_run_says_so(bench_gpu, capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert bench_gpu.main([]) == 2
    assert "No CUDA GPU here" in capsys.readouterr().err
