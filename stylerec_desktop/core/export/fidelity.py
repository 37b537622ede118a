"""Product fidelity at export: refuse, or keep and flag, renders that strayed too far from their product.

Every render records its fidelity in its recipe (``stylize.fidelity``; ``product_fidelity`` is 0..1). Given the
user's threshold, an item whose measured fidelity is below it is refused (it becomes an
:class:`~stylerec_desktop.core.export.job.ExportFailure` naming the figures, so the export lists it and exits 1),
or with ``flag_only`` kept with a ``fidelity_flag`` that the manifest carries. An untouched product image has
nothing to measure and always passes. A render without a measure (made before fidelity was recorded, or with no
product found in it) cannot be judged: it is kept, flagged "not measured", and reported as a warning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.job import ExportFailure, ExportItem, ExportResult


@dataclass(frozen=True)
class FidelityGate:
    """What the threshold did: the items to export (flags set), the refused ones, and warnings for the user."""

    kept: tuple[ExportItem, ...]
    refused: tuple[ExportFailure, ...]
    warnings: tuple[str, ...]


def _figures(item: ExportItem) -> str:
    measured = dict((item.recipe or {}).get("fidelity") or {})
    return (
        f"colour ΔE {float(measured.get('product_delta_e') or 0):.1f}, "
        f"edge SSIM {float(measured.get('product_edge_ssim') or 0):.2f}"
    )


def gate_by_fidelity(items: Sequence[ExportItem], minimum: float, flag_only: bool = False) -> FidelityGate:
    """Apply the threshold ``minimum`` (0..1) to ``items`` (see the module docstring)."""
    if not 0.0 <= minimum <= 1.0:
        raise UserError(f"The minimum product fidelity must be between 0 and 1, got {minimum:g}.")
    kept: list[ExportItem] = []
    refused: list[ExportFailure] = []
    warnings: list[str] = []
    for item in items:
        if item.recipe is None:
            kept.append(item)
            continue
        score = item.product_fidelity
        if score is None:
            flag = "not measured"
            warnings.append(f"{item.sku}: the render's product fidelity was not measured (no product found, or "
                            f"made before fidelity was recorded); kept and flagged.")  # fmt: skip
            kept.append(dataclasses.replace(item, fidelity_flag=flag))
        elif score < minimum:
            flag = f"below {minimum:g}: {score:.2f} ({_figures(item)})"
            if flag_only:
                kept.append(dataclasses.replace(item, fidelity_flag=flag))
            else:
                refused.append(ExportFailure(item.sku, f"refused: product fidelity {flag}; render it with more of "
                                             f"the product kept (lower strength, preserve colour, background only) "
                                             f"or lower --min-fidelity."))  # fmt: skip
        else:
            kept.append(item)
    return FidelityGate(tuple(kept), tuple(refused), tuple(warnings))


def with_gate(result: ExportResult, gate: FidelityGate) -> ExportResult:
    """``result`` (the export of ``gate.kept``) with the refused renders as failures and the gate's warnings."""
    return dataclasses.replace(
        result, failures=(*result.failures, *gate.refused), warnings=(*result.warnings, *gate.warnings)
    )
