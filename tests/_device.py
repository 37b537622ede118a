"""Where the engine tests run: the CPU unless ``STYLEREC_TEST_DEVICE`` says otherwise.

CI has no GPU, so it runs them on the CPU. On a workstation or GPU machine the same quality assertions run on CUDA::

    STYLEREC_TEST_DEVICE=cuda STYLEREC_TEST_PRECISION=fp16 pytest tests/test_stylize.py tests/test_stylize_renders.py

Measurements that judge a result (style distances, edge maps) stay on the CPU whatever the device under test is.
"""

from __future__ import annotations

import os

import torch

from stylerec_desktop.core.stylize import StyleOptions

TEST_DEVICE = os.environ.get("STYLEREC_TEST_DEVICE", "cpu")
TEST_PRECISION = os.environ.get("STYLEREC_TEST_PRECISION", "auto")
DEVICE = torch.device(TEST_DEVICE)


def options_under_test(**kwargs: object) -> StyleOptions:
    """StyleOptions on the device and precision under test."""
    return StyleOptions(device=TEST_DEVICE, precision=TEST_PRECISION, **kwargs)  # type: ignore[arg-type]
