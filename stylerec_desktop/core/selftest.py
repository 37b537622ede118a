"""The self-test: does this installation work end to end? Qt-free steps and the report; the window's steps are in
``gui/selftest.py``, which runs these too.

Each check prints one line as it finishes (``ok``/``FAILED``/``skipped``, its time in seconds, what it found), so a
hanging step is visible. The whole test passes only when no check failed; a check is skipped only when what it
needs is optional and absent (the Gatys engine without ImageNet VGG19), and the line says so.
Everything is written into a temporary folder; nothing of the user's (catalog, settings, log) is read or touched.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO, TypeVar

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.jobs import run_job

T = TypeVar("T")
Outcome = Literal["ok", "FAILED", "skipped"]

# Small enough to build, index and export in seconds on a 2-core CPU, big enough that every category is there and
# every customer has a history to recommend from.
DEMO_PRODUCTS = 12
DEMO_CUSTOMERS = 20
PREVIEW_SIDE = 256


class CheckFailed(Exception):
    """A check found something wrong; the message is what the report line says."""


@dataclass(frozen=True)
class Check:
    """One line of the report. ``seconds`` is wall time; ``detail`` what was found (or why it failed)."""

    name: str
    outcome: Outcome
    seconds: float
    detail: str

    def line(self) -> str:
        return f"{self.outcome:<7} {self.name:<26} {self.seconds:6.2f} s  {self.detail}"


@dataclass
class SelfTest:
    """Runs checks one after another and keeps their results; prints each line to ``out`` as it ends."""

    out: TextIO | None = None
    checks: list[Check] = field(default_factory=list)

    def run(self, name: str, check: Callable[[], tuple[T, str]]) -> T | None:
        """Run ``check`` (returns ``(value, detail)``); any exception makes it FAILED with its message. Returns the
        value, or None when it failed."""
        started = time.perf_counter()
        try:
            value, detail = check()
        except Exception as exc:  # every failure is a report line, never a traceback that ends the test
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if not isinstance(exc, CheckFailed):
                message = f"{type(exc).__name__}: {message}"
                self._debug(traceback.format_exc())
            self._add(Check(name, "FAILED", time.perf_counter() - started, message))
            return None
        self._add(Check(name, "ok", time.perf_counter() - started, detail))
        return value

    def skip(self, name: str, why: str) -> None:
        self._add(Check(name, "skipped", 0.0, why))

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.outcome != "FAILED" for c in self.checks)

    def summary(self) -> str:
        failed = [c.name for c in self.checks if c.outcome == "FAILED"]
        total = sum(c.seconds for c in self.checks)
        if failed:
            return f"self-test FAILED: {len(failed)} of {len(self.checks)} checks ({', '.join(failed)}), {total:.1f} s"
        return f"self-test passed: {len(self.checks)} checks in {total:.1f} s"

    def _add(self, check: Check) -> None:
        self.checks.append(check)
        if self.out is not None:
            print(check.line(), file=self.out, flush=True)

    def _debug(self, text: str) -> None:
        # A programmer error's traceback goes to the log (not the report), where `-v` or the log file shows it.
        import logging

        logging.getLogger(__name__).debug("self-test check raised:\n%s", text)


# -- the checks ------------------------------------------------------------------------------------------------


def check_weights() -> tuple[None, str]:
    """Every pretrained weights file is installed and has the sha256 this version was built against."""
    from stylerec_desktop.core.models.weights import model_status

    status = model_status()
    bad = [f"{s.weights.name}: {s.state} ({s.message})" for s in status if s.state != "present"]
    if bad:
        raise CheckFailed("; ".join(bad))
    return None, f"{len(status)} files, sha256 verified"


def check_demo(folder: Path) -> tuple[Catalog, str]:
    """A fresh small demo catalog in ``folder`` (drawn, then imported with the regular importers)."""
    from stylerec_desktop.core.demo import build_demo_catalog

    catalog = run_job(build_demo_catalog(folder, seed=7, n_products=DEMO_PRODUCTS, n_customers=DEMO_CUSTOMERS))
    counts = catalog.counts()
    if counts.products != DEMO_PRODUCTS or counts.customers == 0 or counts.events == 0:
        catalog.close()
        raise CheckFailed(f"the demo has {counts.products} products, {counts.customers} customers, {counts.events} "
                          "events")  # fmt: skip
    return catalog, f"{counts.products} products, {counts.customers} customers, {counts.events} events"


def check_index(catalog: Catalog, device: str = "auto") -> tuple[None, str]:
    """Every product image gets style features (EfficientNet-Lite0 and the style predictor run)."""
    from stylerec_desktop.core.recommend.indexing import index_catalog

    report = run_job(index_catalog(catalog, device=device))
    if report.failed or report.indexed != DEMO_PRODUCTS:
        raise CheckFailed(f"indexed {report.indexed} of {DEMO_PRODUCTS} images; failed: {report.failed[:3]}")
    return None, f"{report.indexed} images, {report.images_per_second:.1f} images/s"


def first_customer(catalog: Catalog) -> str:
    customers = sorted(catalog.customer_external_ids().values())
    if not customers:
        raise CheckFailed("the demo catalog has no customers")
    return customers[0]


def check_recommend(catalog: Catalog) -> tuple[list[str], str]:
    """Five explained recommendations for the first customer; returns their SKUs."""
    from stylerec_desktop.core.recommend.service import recommend_for_customer

    customer = first_customer(catalog)
    result = recommend_for_customer(catalog, customer, k=5)
    skus = [rec.sku for rec, _why in result.items]
    if not skus:
        raise CheckFailed(f"no recommendation for {customer}")
    if result.taste.is_empty:
        raise CheckFailed(f"{customer} has history, yet their taste came out empty")
    return skus, f"{customer}: {', '.join(skus)}"


def installed_engines() -> Iterator[tuple[str, str | None]]:
    """``(engine, None)`` for each style engine whose weights are installed; ``(engine, why)`` for the others."""
    from stylerec_desktop.core.models.weights import model_status
    from stylerec_desktop.core.stylize.gatys import vgg19_status
    from stylerec_desktop.core.stylize.recipe import ENGINE_WEIGHTS

    present = {s.weights.name for s in model_status() if s.state == "present"}
    for engine, needed in ENGINE_WEIGHTS.items():
        missing = [w.name for w in needed if w.name not in present]
        yield engine, (f"weights missing: {', '.join(missing)}" if missing else None)
    vgg = vgg19_status()
    yield "gatys", (None if vgg.state == "present" else "ImageNet VGG19 is not installed (optional: "
                    "`stylerec models --fetch vgg19`)")  # fmt: skip


def check_engines() -> tuple[list[tuple[str, str | None]], str]:
    """The style engines load (torch, the networks' code) and which of them have their weights."""
    engines = list(installed_engines())
    ready = [name for name, missing in engines if missing is None]
    if not ready:
        raise CheckFailed("no style engine has its weights")
    return engines, f"ready: {', '.join(ready)}"


def check_core_preview(engine: str, content: Path, style: Path) -> tuple[None, str]:
    """One small render with ``engine`` straight through the core (the Gatys engine, which the Studio does not
    preview; a handful of iterations proves the network and the optimiser run)."""
    import numpy as np
    from PIL import Image

    from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, stylize

    source = PresetBlend({7: 1.0}) if engine == "preset" else StyleImage(style)
    options = StyleOptions(size=PREVIEW_SIDE if engine != "gatys" else 96, iterations=3 if engine == "gatys" else None)
    with Image.open(content) as opened:
        picture = opened.convert("RGB")
    result = stylize(picture, source, options, engine=engine)
    resized = np.asarray(picture.resize(result.size))
    change = float(np.abs(np.asarray(result, dtype=np.float32) - resized).mean())
    if change < 0.5:
        raise CheckFailed(f"the {engine} render is the picture unchanged (mean change {change:.2f} levels)")
    return None, f"{result.width}x{result.height}, mean change {change:.1f} levels"


def check_export(catalog: Catalog, sku: str, folder: Path) -> tuple[Path, str]:
    """One product exported as a 400x500 JPEG ad image, with its manifest."""
    from PIL import Image

    from stylerec_desktop.core.export.job import ExportItem, export_job
    from stylerec_desktop.core.export.presets import ExportPreset

    product = catalog.product_by_sku(sku)
    if product.primary_image is None:
        raise CheckFailed(f"{sku} has no image")
    preset = ExportPreset("self-test", 400, 500, "jpeg")
    item = ExportItem(product.sku, product.title, product.category, product.primary_image.path)
    result = run_job(export_job([item], [preset], folder))
    if result.failures or result.written != 1:
        raise CheckFailed(f"wrote {result.written} files; failures: {[f.message for f in result.failures]}")
    path = folder / result.files[0].path
    with Image.open(path) as written:
        size, kind = written.size, written.format
    if size != (400, 500) or kind != "JPEG":
        raise CheckFailed(f"{path.name} is a {size[0]}x{size[1]} {kind}, not a 400x500 JPEG")
    if not result.manifest_csv.is_file():
        raise CheckFailed("no manifest.csv beside the export")
    return path, f"{path.name} 400x500 JPEG + manifest"
