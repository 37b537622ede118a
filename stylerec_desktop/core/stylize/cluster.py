"""The batch render on a Ray cluster (``stylerec stylize --cluster``, the products x styles matrix).

The workstation prepares each render's typed :class:`~stylerec_desktop.core.stylize.recipe.Recipe` (the content's
sha256 and size from its header, the style, the options as asked, the device, precision and thread count as they
resolve here) and sends it to a Ray task with the content picture's bytes and, for a style picture, its bytes. When
the cluster is checked to see the workstation's files (``ClusterSession.sees_file``: same path, same sha256), only
the paths travel, and each worker checks every file's sha256 against the recipe before it renders.

A worker (:func:`render_task`) runs the very code a single-machine render runs: the doubtful-mask rule, the
engine, the fidelity measure, the PNG encoder; the networks load once per worker process (``models.loader``'s
cache). It renders with the recipe's thread count when it resolves the same device and precision as the
workstation, because float reductions are split by thread: that is what makes its pixels equal the workstation's.
It returns the PNG bytes and the final recipe; the workstation writes them (``renders.keep_render``: atomic
files and one catalog row), once per render even when Ray re-ran a task whose worker died.

Example::

    cells = [RenderCell(path, PresetBlend({7: 1.0}), options, content_sku="TEE-1")]
    batch = run_job(render_cells_job(parse_cluster("local[2]"), cells, keep=lambda i, r: r.sha256))
    batch.results[0]            # what keep returned for the first cell (None where it failed)
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
import time
from collections.abc import Callable, Collection, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from PIL import Image

from stylerec_desktop.core.cluster import ClusterSpec, open_cluster, run_tasks
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.stylize.options import StyleImage, StyleOptions, StyleSource

if TYPE_CHECKING:
    from stylerec_desktop.core.catalog import Catalog, StoredRender
    from stylerec_desktop.core.export.job import ExportItem
    from stylerec_desktop.core.stylize.matrix import MatrixContent, MatrixStyle
    from stylerec_desktop.core.stylize.recipe import Recipe

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RenderCell:
    """One render of a batch as the workstation knows it: the content file, the style, the options as asked, the
    engine (None: the natural one), what the catalog knows of it, the look the settings came from, and
    ``fallback`` (None: options as they are; else the names of the settings the user set, for the doubtful-mask
    rule, as ``renders.render_into_catalog_job`` takes it)."""

    content_path: Path
    source: StyleSource
    options: StyleOptions
    engine: str | None = None
    content_sku: str | None = None
    style_sku: str | None = None
    product_id: int | None = None
    look: str | None = None
    fallback: Collection[str] | None = None

    @property
    def name(self) -> str:
        """The sku or file stem the render's file is named after."""
        return self.content_sku or self.content_path.stem


@dataclass(frozen=True)
class RenderTask:
    """What travels to a worker: the draft recipe (JSON), the content bytes (None: read the recipe's path, on
    storage the cluster was checked to see), a style picture's bytes (None: no picture, or read from its path),
    the fallback rule's given settings (None: no rule), and the content's and style picture's paths as the user
    gave them (named in error messages, as on one machine)."""

    recipe: str
    content: bytes | None
    style_image: bytes | None
    fallback: tuple[str, ...] | None
    content_name: str
    style_name: str = ""


@dataclass(frozen=True)
class RenderedCell:
    """What a worker returns: the render as PNG bytes, the final recipe (JSON: options used, fallback, fidelity),
    the picture's (width, height), the seconds it took there; or ``error``, the sentence of a :class:`UserError`
    (a picture that is not one, a changed file), which the workstation reports as a single-machine run would."""

    png: bytes = b""
    recipe: str = ""
    size: tuple[int, int] = (0, 0)
    seconds: float = 0.0
    error: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.png).hexdigest()


@dataclass(frozen=True)
class ClusterBatch(Generic[T]):
    """``results[i]``: what ``keep`` returned for cell ``i`` (None where it failed); ``failures``: cell -> the
    sentence saying why."""

    results: tuple[T | None, ...]
    failures: dict[int, str]


# -- on the worker -------------------------------------------------------------------------------------------------


def render_task(task: RenderTask) -> RenderedCell:
    """Render one cell on a cluster worker (a module-level function: Ray ships it by reference). A
    :class:`UserError` or unreadable file comes back as ``error``; anything else is a bug and raises."""
    import torch

    from stylerec_desktop.core.jobs import run_job
    from stylerec_desktop.core.stylize import RenderCache, stylize_job
    from stylerec_desktop.core.stylize.fidelity import render_fidelity
    from stylerec_desktop.core.stylize.product_mask import doubtful_mask_fallback
    from stylerec_desktop.core.stylize.recipe import Recipe, checked_file, png_bytes, resolved_device, torch_threads
    from stylerec_desktop.core.stylize.renders import open_content

    started = time.perf_counter()
    try:
        recipe = Recipe.from_json(task.recipe)
        data = task.content
        if data is None:
            data = checked_file(recipe.content.to_dict(), "content image").read_bytes()
        content = open_content(Path(task.content_name), data)
        source = _style_source(recipe, task.style_image, task.style_name)
        here = resolved_device(recipe.engine, recipe.options)
        if here != (recipe.device, recipe.dtype):
            # Another kind of machine than the workstation (a GPU node): record what this one used.
            recipe = dataclasses.replace(recipe, device=here[0], dtype=here[1], threads=torch.get_num_threads())
        with torch_threads(recipe.threads):
            cache = RenderCache(content)
            options, note = recipe.options, ""
            if task.fallback is not None:
                options, note = doubtful_mask_fallback(content, options, task.fallback, cache)
            recipe = dataclasses.replace(recipe, options=options).with_fallback(note)
            result = run_job(stylize_job(content, source, recipe.render_options(), recipe.engine, cache=cache))
            recipe = recipe.with_fidelity(render_fidelity(content, result).to_dict())
            data = png_bytes(result)
    except (UserError, OSError) as error:
        return RenderedCell(seconds=time.perf_counter() - started, error=str(error))
    return RenderedCell(data, recipe.to_json(indent=2), result.size, time.perf_counter() - started)


def _style_source(recipe: Recipe, picture: bytes | None, name: str) -> StyleSource:
    """The recipe's style source; a style picture from the bytes sent (``name``: its path as the user gave it),
    else from its checked path."""
    from stylerec_desktop.core.stylize.recipe import ImageStyleRecord, checked_file

    style = recipe.style
    if isinstance(style, ImageStyleRecord):
        if picture is None:
            picture = checked_file(style.to_dict(), "style image").read_bytes()
        try:
            with Image.open(io.BytesIO(picture)) as opened:
                opened.load()
                return StyleImage(opened.copy(), label=style.label)
        except OSError as error:  # the same sentence StyleImage.load gives for the file itself
            raise UserError(f"Cannot read style image {name}: {error}") from None
    return recipe.style_source()


# -- on the workstation --------------------------------------------------------------------------------------------


class _Payloads(Sequence[RenderTask]):
    """The tasks, each read from disk only when it is submitted (a batch of 50,000 pictures is not held in memory).

    ``drafts[i]`` is cell i's recipe; ``reads(path, sha256)``: the workers read that file as it is here (then its
    path is sent, else its bytes), asked for the content and for a style picture each."""

    def __init__(
        self, drafts: Sequence[Recipe], cells: Sequence[RenderCell], reads: Callable[[Path, str], bool]
    ) -> None:
        self.drafts, self.cells, self.reads = drafts, cells, reads

    def __len__(self) -> int:
        return len(self.drafts)

    def __getitem__(self, index: int) -> RenderTask:  # type: ignore[override]
        from stylerec_desktop.core.stylize.recipe import ImageStyleRecord

        recipe = self.drafts[index]
        content = style = None
        if not self.reads(Path(recipe.content.path), recipe.content.sha256):
            content = Path(recipe.content.path).read_bytes()
        if isinstance(recipe.style, ImageStyleRecord) and not self.reads(Path(recipe.style.path), recipe.style.sha256):
            style = Path(recipe.style.path).read_bytes()
        cell = self.cells[index]
        fallback = None if cell.fallback is None else tuple(sorted(cell.fallback))
        style_name = str(cell.source.source) if isinstance(cell.source, StyleImage) else ""
        return RenderTask(recipe.to_json(indent=None), content, style, fallback, str(cell.content_path), style_name)


def _draft(cell: RenderCell) -> Recipe:
    """The cell's recipe before rendering (its content's size read from the header). UserError for a bad input."""
    from stylerec_desktop.core.stylize.engines import engine_for
    from stylerec_desktop.core.stylize.recipe import make_recipe
    from stylerec_desktop.core.stylize.renders import content_size

    engine = engine_for(cell.engine, cell.source).name
    size = content_size(cell.content_path)
    if isinstance(cell.source, StyleImage):
        try:  # the header only, here; the sentence StyleImage.load gives on one machine
            with Image.open(Path(str(cell.source.source))):
                pass
        except OSError as error:
            raise UserError(f"Cannot read style image {cell.source.source}: {error}") from None
    return make_recipe(engine, cell.content_path, size, cell.source, cell.options, cell.content_sku, cell.style_sku,
                       cell.look)  # fmt: skip


def render_cells_job(
    cluster: ClusterSpec,
    cells: Sequence[RenderCell],
    keep: Callable[[int, RenderedCell], T],
    *,
    labels: Sequence[str] | None = None,
    stop_on_error: bool = False,
    send: str = "auto",
) -> Job[ClusterBatch[T]]:
    """Render ``cells`` on ``cluster``; ``keep(i, rendered)`` runs here, on the workstation, once for each cell as it
    finishes (it writes the files and rows) and its result is kept in the batch.

    Yields ``Progress(0, n, cluster.describe())`` first, then one step per finished cell (``labels[i]`` names it).
    A cell whose input is bad is a failure with the same sentence as on one machine; with ``stop_on_error`` the
    first one raises it as a :class:`UserError` (what finished is kept). ``send``: ``"auto"`` sends paths when the
    cluster is checked to see this machine's files, else bytes; ``"bytes"`` always sends bytes. Closing the job
    (cancel) cancels the tasks still running; every render kept before stays, and no file is half-written (each is
    written under a temporary name and renamed).
    """
    total = len(cells)
    names = list(labels) if labels is not None else [cell.name for cell in cells]
    failures: dict[int, str] = {}
    drafts: list[Recipe] = []
    runnable: list[int] = []
    for index, cell in enumerate(cells):
        if isinstance(cell.source, StyleImage) and isinstance(cell.source.source, Image.Image):
            raise ValueError("a cluster render needs the style picture's file; save it first (renders.save_style_copy)")
        try:
            drafts.append(_draft(cell))
            runnable.append(index)
        except UserError as error:
            if stop_on_error:
                raise
            failures[index] = str(error)
    results: list[T | None] = [None] * total
    with open_cluster(cluster) as session:
        yield Progress(0, total, f"Rendering {total} pictures {session.describe()}")
        payloads = _Payloads(drafts, [cells[i] for i in runnable], session.file_check(send))
        done = len(failures)
        # On a cluster with GPUs each render takes one (unless the options ask for the CPU): the networks run there.
        gpus = 1 if session.gpus and cells and cells[0].options.device not in ("cpu", "mps") else 0
        with closing(run_tasks(session, render_task, payloads, num_gpus=gpus)) as stream:
            for position, rendered in stream:
                index = runnable[position]
                if rendered.error:
                    if stop_on_error:
                        raise UserError(rendered.error)
                    failures[index] = rendered.error
                else:
                    results[index] = keep(index, rendered)
                done += 1
                yield Progress(done, total, f"{names[index]} ({done} of {total})")
    return ClusterBatch(tuple(results), failures)


def render_matrix_on_cluster_job(
    catalog: Catalog,
    contents: Sequence[MatrixContent],
    styles: Sequence[MatrixStyle],
    options: StyleOptions,
    fallback: Collection[str] | None,
    cluster: ClusterSpec,
) -> Job[tuple[list[tuple[StoredRender | None, ...]], list[tuple[str, str, str]]]]:
    """The products x styles matrix (``stylize.matrix``) on ``cluster``: ``(rows, failed)`` as that job keeps them,
    each render kept in ``catalog`` as it arrives."""
    from stylerec_desktop.core.stylize.recipe import Recipe
    from stylerec_desktop.core.stylize.renders import keep_render, save_style_copy

    pairs = [(content, style) for content in contents for style in styles]
    cells = []
    for content, style in pairs:
        source = style.source
        if isinstance(source, StyleImage) and isinstance(source.source, Image.Image):
            source = StyleImage(save_style_copy(catalog, source.source), label=source.label)
        cells.append(RenderCell(content.path, source, options, style.engine, content.sku, style.style_sku,
                                content.product_id, fallback=fallback))  # fmt: skip

    def keep(index: int, rendered: RenderedCell) -> StoredRender:
        cell = cells[index]
        return keep_render(catalog, rendered.png, Recipe.from_json(rendered.recipe), rendered.size, cell.name,
                           cell.product_id)  # fmt: skip

    labels = [f"{content.label} in {style.label}" for content, style in pairs]
    batch = yield from render_cells_job(cluster, cells, keep, labels=labels)
    width = len(styles)
    rows = [tuple(batch.results[r * width : (r + 1) * width]) for r in range(len(contents))]
    failed = [(pairs[i][0].label, pairs[i][1].label, batch.failures[i]) for i in sorted(batch.failures)]
    return rows, failed


def restyled_on_cluster_job(
    cluster: ClusterSpec,
    items: Sequence[ExportItem],
    source: StyleSource,
    options: StyleOptions,
    engine: str,
    style_sku: str | None,
    fallback: Collection[str] | None,
) -> Job[list[tuple[Image.Image, dict[str, object]]]]:
    """Each export item's picture file restyled on ``cluster`` (``export.items.restyle_items_job``'s renders):
    ``(render, recipe dict)`` per item, in order, held in memory as that job holds them. The first picture that
    cannot be restyled raises its :class:`UserError`."""
    from stylerec_desktop.core.stylize.recipe import Recipe

    for item in items:
        if isinstance(item.image, Image.Image):
            raise ValueError("restyle_items_job needs items whose image is a file (catalog products)")
    cells = [RenderCell(Path(str(item.image)), source, options, engine, item.sku, style_sku, fallback=fallback)
             for item in items]  # fmt: skip

    def keep(_index: int, rendered: RenderedCell) -> tuple[Image.Image, dict[str, object]]:
        with Image.open(io.BytesIO(rendered.png)) as opened:  # PNG is lossless: the worker's very pixels
            opened.load()
            return opened.copy(), Recipe.from_json(rendered.recipe).to_dict()

    labels = [f"Restyling {item.sku}" for item in items]
    batch = yield from render_cells_job(cluster, cells, keep, labels=labels, stop_on_error=True)
    return [result for result in batch.results if result is not None]
