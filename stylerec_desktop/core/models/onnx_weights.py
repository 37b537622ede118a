"""Read the weights out of an ONNX file as float32 numpy arrays, dequantizing int8 QDQ weights.

The arbitrary-stylization graphs are int8 "QDQ" graphs: each weight is an int8 initializer fed through a
``DequantizeLinear`` node with a (per-channel or per-tensor) scale and zero point. The float value the graph computes
with is exactly ``(q - zero_point) * scale``, so we do that once here and our modules hold plain float tensors. Only the
*weights* are dequantized: the graphs also fake-quantize every activation to int8, which we deliberately do not
reproduce (see ``tests/test_models_parity.py`` for what that costs in agreement).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


def _dequantize(q: np.ndarray, scale: np.ndarray, zero_point: np.ndarray | None, axis: int) -> np.ndarray:
    """``(q - zero_point) * scale`` with ONNX DequantizeLinear's broadcasting (per-axis when scale is 1-d)."""
    q = q.astype(np.float64)
    zp = np.zeros_like(scale, dtype=np.float64) if zero_point is None else zero_point.astype(np.float64)
    scale = scale.astype(np.float64)
    if scale.ndim == 1 and q.ndim > 0:
        shape = [1] * q.ndim
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    return ((q - zp) * scale).astype(np.float32)


def read_onnx_weights(path: Path) -> dict[str, np.ndarray]:
    """Every weight of an ONNX graph by initializer name, as float32 (int8/int32 ones dequantized).

    Returns ``{name: array}``. A quantized initializer appears under its own name with the dequantized value; float
    initializers appear unchanged. Small non-weight initializers (shapes, pads) are included as-is and ignored by
    the callers.
    """
    model = onnx.load(str(path))
    raw = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    out: dict[str, np.ndarray] = {}
    for node in model.graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in raw:
            continue
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        zero_point = raw[node.input[2]] if len(node.input) > 2 and node.input[2] else None
        out[node.input[0]] = _dequantize(raw[node.input[0]], raw[node.input[1]], zero_point, axis)
    for name, value in raw.items():
        if name not in out and value.dtype == np.float32:
            out[name] = value
    return out


def conv_params(model_path: Path) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Weights and bias of every Conv node, keyed by the name of the weight initializer minus ``/weights``.

    The QDQ graphs feed each Conv with ``DequantizeLinear`` outputs, so this follows the Conv's inputs back to the
    initializers. Returns ``{prefix: (weight [O, I/groups, kh, kw], bias [O] or None)}``.
    """
    model = onnx.load(str(model_path))
    weights = read_onnx_weights(model_path)
    producer = {out: node for node in model.graph.node for out in node.output}

    def source(name: str) -> np.ndarray | None:
        if name in weights:
            return weights[name]
        node = producer.get(name)
        if node is not None and node.op_type == "DequantizeLinear" and node.input[0] in weights:
            return weights[node.input[0]]
        return None

    result: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        w_name = node.input[1]
        w_node = producer.get(w_name)
        key = w_node.input[0] if w_node is not None and w_node.op_type == "DequantizeLinear" else w_name
        key = key.rsplit("/", 1)[0]
        w = source(w_name)
        b = source(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if w is None:
            raise ValueError(f"conv {node.name} in {model_path.name} has no constant weight")
        result[key] = (w, b)
    return result
