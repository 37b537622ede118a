"""Campaign sets: customers grouped by style taste, and per group a product set restyled in the group's taste.

Each customer's taste is a 100-d style vector (the weighted mean style of what they interacted with; see
:mod:`stylerec_desktop.core.recommend.taste`). :func:`segment_customers` clusters those vectors with seeded
k-means (k-means++ start, cosine geometry: tastes differ by *which* style, not by how strongly a history expresses
it) into N segments; when N is not given it is chosen by the best silhouette over 2..6 among the splits whose every
segment has at least two customers. Each segment's taste is the mean raw style vector of its members, a valid Style
engine input.

:func:`campaign_job` then, per segment, restyles the chosen products (default: the segment's top recommended
products, ranked by reciprocal rank over its members' own recommendations) in that taste and exports them into
``segment-<n>/`` with its own manifest, and writes ``campaign.json`` (segments, sizes, products) beside. Members'
customer ids are listed in it only when the user includes customer ids; an audience file per segment (hashed
emails, see :mod:`stylerec_desktop.core.privacy`) is written only when asked for.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.cluster import ClusterSpec, open_cluster
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.items import product_items, restyle_items_job
from stylerec_desktop.core.export.job import ExportItem, ExportOptions, ExportResult, export_job
from stylerec_desktop.core.export.presets import ExportPreset
from stylerec_desktop.core.jobs import Job, Progress, map_progress
from stylerec_desktop.core.safe_files import refuse_link

CAMPAIGN_FILE = "campaign.json"
AUTO_SEGMENTS = range(2, 7)
MIN_AUTO_SEGMENT = 2
MAX_SEGMENTS = 20


@dataclass(frozen=True, eq=False)
class Segment:
    """One group of customers. ``number`` counts from 1 (biggest segment first); ``style_vector`` ``(100,)`` is the
    members' mean taste."""

    number: int
    customers: tuple[str, ...]
    style_vector: np.ndarray

    @property
    def name(self) -> str:
        """``segment-<n>``: the subfolder, the manifest's segment column and the ``{segment}`` name token."""
        return f"segment-{self.number}"

    @property
    def label(self) -> str:
        """The style's name in file metadata and manifests."""
        return f"{self.name} taste ({len(self.customers)} customers)"

    @property
    def size(self) -> int:
        return len(self.customers)


@dataclass(frozen=True)
class Segmentation:
    """Customers grouped by taste. ``silhouette`` (-1..1, cosine) of the chosen N, None for a single segment;
    ``automatic``: N was chosen by silhouette; ``without_taste``: customers with no indexed history (left out)."""

    segments: tuple[Segment, ...]
    silhouette: float | None
    automatic: bool
    without_taste: tuple[str, ...] = ()
    scores: dict[int, float] = field(default_factory=dict)  # silhouette per N tried

    @property
    def sizes(self) -> list[int]:
        return [s.size for s in self.segments]


@dataclass(frozen=True)
class CampaignResult:
    """What a campaign export did: the segmentation, the products of each segment and each segment's export."""

    out_dir: Path
    segmentation: Segmentation
    products: dict[str, tuple[str, ...]]  # segment name -> skus
    exports: dict[str, ExportResult]  # segment name -> its export
    campaign_file: Path
    include_customer_ids: bool = False
    audience_files: dict[str, Path] = field(default_factory=dict)  # segment name -> its audience file
    audience_skipped: dict[str, int] = field(default_factory=dict)  # segment name -> members without an email

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary; members' and left-out customers' ids only when they were included."""
        seg = self.segmentation
        ids = self.include_customer_ids
        return {
            "out_dir": str(self.out_dir),
            "campaign_file": str(self.campaign_file),
            "segments": len(seg.segments),
            "sizes": seg.sizes,
            "automatic": seg.automatic,
            "silhouette": seg.silhouette,
            "without_taste": list(seg.without_taste) if ids else len(seg.without_taste),
            "results": {
                s.name: {
                    **({"customers": list(s.customers)} if ids else {}),
                    "products": list(self.products[s.name]),
                    "export": self.exports[s.name].to_dict(),
                    **({"audience_file": str(self.audience_files[s.name]),
                        "audience_without_email": self.audience_skipped[s.name]}
                       if s.name in self.audience_files else {}),  # fmt: skip
                }
                for s in seg.segments
            },  # fmt: skip
        }


# -- clustering ---------------------------------------------------------------------------------------------


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def kmeans(x: np.ndarray, k: int, seed: int = 0, restarts: int = 8, iterations: int = 50) -> np.ndarray:
    """Labels ``(n,)`` in 0..k-1 of seeded k-means (k-means++ start, best of ``restarts`` by inertia) on ``x``
    ``(n, d)``. The same ``x``, ``k`` and ``seed`` always give the same labels."""
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    best, best_inertia = np.zeros(n, np.int64), np.inf
    for _ in range(restarts):
        centres = [x[rng.integers(n)]]
        for _ in range(1, k):
            d2 = np.min(((x[:, None, :] - np.array(centres)[None]) ** 2).sum(-1), axis=1)
            total = d2.sum()
            pick = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
            centres.append(x[pick])
        c = np.array(centres)
        labels = np.zeros(n, np.int64)
        for _ in range(iterations):
            d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
            new = d2.argmin(1)
            for j in range(k):
                members = x[new == j]
                # An emptied cluster restarts at the point farthest from its centre, so k clusters always remain.
                c[j] = members.mean(0) if len(members) else x[d2.min(1).argmax()]
            if np.array_equal(new, labels):
                break
            labels = new
        inertia = float(((x - c[labels]) ** 2).sum())
        if inertia < best_inertia - 1e-9 and len(np.unique(labels)) == k:
            best, best_inertia = labels.copy(), inertia
    return best


def silhouette(x: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette (-1..1) of ``labels`` on ``x`` ``(n, d)`` with cosine distance; 0 for a single cluster."""
    groups = np.unique(labels)
    if len(groups) < 2:
        return 0.0
    unit = _unit_rows(x)
    dist = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)
    scores = np.zeros(len(x))
    for i in range(len(x)):
        own = labels == labels[i]
        if own.sum() <= 1:
            continue  # a singleton's silhouette is 0 by convention
        a = dist[i, own].sum() / (own.sum() - 1)
        b = min(dist[i, labels == g].mean() for g in groups if g != labels[i])
        scores[i] = (b - a) / max(a, b, 1e-12)
    return float(scores.mean())


def cluster_tastes(
    customer_ids: Sequence[str], vectors: np.ndarray, n: int | None = None, seed: int = 0
) -> Segmentation:
    """Group customers by their taste ``vectors`` ``(C, 100)`` into ``n`` segments (None: best silhouette over
    2..6). Segments are numbered biggest first (ties: by first member id)."""
    vectors = np.asarray(vectors, np.float64)
    count = len(customer_ids)
    if count == 0:
        raise UserError("No customer has a style taste yet: run `stylerec index` so their histories count.")
    if n is not None and not 1 <= n <= min(count, MAX_SEGMENTS):
        raise UserError(f"Choose from 1 to {min(count, MAX_SEGMENTS)} segments: {count} customers have a style taste.")
    unit = _unit_rows(vectors)
    scores: dict[int, float] = {}
    if n is None:
        candidates = [k for k in AUTO_SEGMENTS if k < count]
        best_labels, best_k, best_key = np.zeros(count, np.int64), 1, (False, -np.inf)
        for k in candidates:
            labels = kmeans(unit, k, seed)
            scores[k] = silhouette(unit, labels)
            # A segment of one customer is a portrait, not a campaign audience: prefer splits without one.
            key = (int(np.bincount(labels).min()) >= MIN_AUTO_SEGMENT, scores[k])
            if key > best_key:
                best_labels, best_k, best_key = labels, k, key
        labels, chosen = best_labels, best_k
    else:
        labels, chosen = kmeans(unit, n, seed), n
        if chosen > 1:
            scores[chosen] = silhouette(unit, labels)
    groups = [np.flatnonzero(labels == j) for j in range(chosen)]
    groups = [g for g in groups if len(g)]
    groups.sort(key=lambda g: (-len(g), sorted(customer_ids[int(i)] for i in g)[0]))
    segments = tuple(
        Segment(number, tuple(sorted(customer_ids[int(i)] for i in g)), vectors[g].mean(0).astype(np.float32))
        for number, g in enumerate(groups, start=1)
    )
    return Segmentation(segments, scores.get(chosen), n is None, scores=scores)


def customer_tastes(catalog: Catalog) -> tuple[list[Any], list[str]]:
    """The taste of every customer with an indexed history, and the ids of those without one."""
    from stylerec_desktop.core.recommend.service import INDEX_CACHE, taste_of

    index = INDEX_CACHE.get(catalog)
    tastes, without = [], []
    for customer in catalog.customers("", limit=None):
        taste = taste_of(catalog, index, customer.customer_id)
        if taste.is_empty:
            without.append(customer.customer_id)
        else:
            tastes.append(taste)
    return tastes, without


def segment_customers(catalog: Catalog, n: int | None = None, seed: int = 0) -> Segmentation:
    """Cluster the customers of ``catalog`` by taste (needs the style index: ``stylerec index``)."""
    tastes, without = customer_tastes(catalog)
    if not tastes:
        raise UserError(
            "No customer has a style taste yet: it is built from the style index of the products they "
            f"interacted with. Run `stylerec --catalog {catalog.folder} index` first."
        )
    vectors = np.stack([t.style_vector for t in tastes])
    result = cluster_tastes([t.customer_id for t in tastes], vectors, n, seed)
    return Segmentation(result.segments, result.silhouette, result.automatic, tuple(without), result.scores)


def segment_top_products(catalog: Catalog, segment: Segment, k: int) -> list[str]:
    """The ``k`` products the segment's members are recommended most: reciprocal-rank sum over their own top
    lists (ties by sku, so the choice is repeatable)."""
    from stylerec_desktop.core.recommend.ranking import recommend
    from stylerec_desktop.core.recommend.service import INDEX_CACHE, taste_of

    index = INDEX_CACHE.get(catalog)
    votes: dict[str, float] = {}
    for customer_id in segment.customers:
        taste = taste_of(catalog, index, customer_id)
        for rank, rec in enumerate(recommend(index, taste, k=max(k, 10))):
            votes[rec.sku] = votes.get(rec.sku, 0.0) + 1.0 / (rank + 1)
    return [sku for sku, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


# -- the job --------------------------------------------------------------------------------------------------


def campaign_job(
    catalog: Catalog,
    presets: Sequence[ExportPreset],
    out_dir: Path | str,
    segments: int | None = None,
    skus: Sequence[str] | None = None,
    top: int = 4,
    style_options: Any = None,
    export_options: ExportOptions | None = None,
    seed: int = 0,
    engine: str | None = None,
    min_fidelity: float | None = None,
    flag_only: bool = False,
    include_customer_ids: bool = False,
    audience_files: bool = False,
    style_given: Collection[str] = (),
    cluster: ClusterSpec | None = None,
) -> Job[CampaignResult]:
    """Segment the customers, then per segment restyle its products in its mean taste and export them into
    ``out_dir/segment-<n>/`` (its own manifest). ``skus``: the same products for every segment (default: each
    segment's ``top`` recommended). ``min_fidelity``: renders whose product fidelity is below it are refused
    (listed in that segment's failures) or, with ``flag_only``, exported and flagged (see ``export.fidelity``).
    Yields per-item Progress (restyle and export); closing it cancels: files in progress are removed, finished ones
    kept for a resume (run the same campaign again).

    ``campaign.json`` lists the members' customer ids only when ``include_customer_ids``. ``audience_files``
    writes ``segment-<n>-audience.csv`` per segment: the SHA-256 of each member's normalised email, the form ad
    platforms take for customer-match uploads (members without an email are counted, not listed).
    ``style_given`` names the restyle settings the user set, which a doubtful product mask does not override (see
    ``export.items.restyle_items_job``). ``cluster``: every segment's renders and files are made on that Ray cluster
    (one session for the whole campaign: a ``local[N]`` cluster starts once) and written here, as ``export
    --cluster`` writes them: the same files as on one machine."""
    from stylerec_desktop.core.export.fidelity import gate_by_fidelity, with_gate
    from stylerec_desktop.core.stylize import StyleVector

    if top < 1:
        raise UserError(f"--top must be at least 1, got {top}.")
    out_dir = Path(out_dir).expanduser().absolute()
    export_options = export_options or ExportOptions()
    yield Progress(0, None, "Grouping customers by taste")
    segmentation = segment_customers(catalog, segments, seed)
    chosen: dict[str, list[ExportItem]] = {}
    for segment in segmentation.segments:
        wanted = list(skus) if skus else segment_top_products(catalog, segment, top)
        chosen[segment.name] = [
            ExportItem(i.sku, i.title, i.category, i.image, segment=segment.name)
            for i in product_items(catalog, wanted)
        ]
    # Each segment's folder is handed to export_job as a chosen folder, which it would follow if it were a link:
    # the campaign's own sub-folders must not be (see safe_files). Checked before any rendering starts.
    audience_names = {s.name: f"{s.name}-audience.csv" for s in segmentation.segments} if audience_files else {}
    for name in (*(segment.name for segment in segmentation.segments), CAMPAIGN_FILE, *audience_names.values()):
        refuse_link(out_dir / name)
    total = 2 * sum(len(items) for items in chosen.values())
    done = 0
    exports: dict[str, ExportResult] = {}
    with nullcontext() if cluster is None else open_cluster(cluster):
        for segment in segmentation.segments:
            items = chosen[segment.name]
            source = StyleVector(segment.style_vector, label=segment.label)
            restyle = restyle_items_job(items, source, style_options, engine, segment.name, segment.name,
                                        include_customer_ids=include_customer_ids, fallback=style_given,
                                        cluster=cluster)  # fmt: skip
            rendered = yield from _offset(restyle, done, total)
            done += len(items)
            gate = None if min_fidelity is None else gate_by_fidelity(rendered, min_fidelity, flag_only)
            job = export_job(gate.kept if gate else rendered, presets, out_dir / segment.name, export_options,
                             cluster=cluster)  # fmt: skip
            exported = yield from _offset(job, done, total)
            exports[segment.name] = with_gate(exported, gate) if gate else exported
            done += len(items)
    audiences, skipped = _write_audience_files(catalog, out_dir, segmentation, audience_names)
    campaign_file = out_dir / CAMPAIGN_FILE
    _write_campaign_file(campaign_file, segmentation, chosen, include_customer_ids, audience_names)
    yield Progress(total, total, f"Campaign exported: {len(segmentation.segments)} segments")
    products = {k: tuple(i.sku for i in v) for k, v in chosen.items()}
    return CampaignResult(out_dir, segmentation, products, exports, campaign_file, include_customer_ids,
                          audiences, skipped)  # fmt: skip


def _offset(job: Job[Any], start: int, total: int) -> Job[Any]:
    """``job``'s item progress shifted to ``start`` of the campaign's ``total``."""
    return map_progress(job, lambda step: Progress(min(total, start + step.done), total, step.message))


def _write_audience_files(
    catalog: Catalog, out_dir: Path, segmentation: Segmentation, names: dict[str, str]
) -> tuple[dict[str, Path], dict[str, int]]:
    """Each segment's audience file (see :func:`~stylerec_desktop.core.privacy.audience_csv_bytes`); the files
    written and, per segment, how many members had no email to hash."""
    from stylerec_desktop.core.export.writers import write_atomic
    from stylerec_desktop.core.privacy import audience_csv_bytes

    if not names:
        return {}, {}
    emails = {c.customer_id: c.email for c in catalog.customers("", limit=None)}
    written, skipped = {}, {}
    for segment in segmentation.segments:
        data, skipped[segment.name] = audience_csv_bytes(emails.get(c, "") for c in segment.customers)
        written[segment.name] = out_dir / names[segment.name]
        write_atomic(written[segment.name], data)
    return written, skipped


def _write_campaign_file(
    path: Path,
    segmentation: Segmentation,
    chosen: dict[str, list[ExportItem]],
    include_customer_ids: bool,
    audience_names: dict[str, str],
) -> None:
    from stylerec_desktop.core.export.writers import write_atomic

    ids = include_customer_ids
    document = {
        "version": 1,
        "automatic": segmentation.automatic,
        "silhouette": segmentation.silhouette,
        "silhouette_by_n": {str(k): v for k, v in segmentation.scores.items()},
        # Without the user's opt-in only counts: campaign files travel to ad teams and agencies.
        "without_taste": list(segmentation.without_taste) if ids else len(segmentation.without_taste),
        "customer_ids_included": ids,
        "segments": [
            {
                "segment": s.name,
                "size": s.size,
                **({"customers": list(s.customers)} if ids else {}),
                **({"audience_file": audience_names[s.name]} if s.name in audience_names else {}),
                "label": s.label,
                "products": [i.sku for i in chosen[s.name]],
                "manifest": f"{s.name}/manifest.json",
                "style_vector": [float(v) for v in s.style_vector],
            }
            for s in segmentation.segments
        ],  # fmt: skip
    }
    write_atomic(path, json.dumps(document, indent=2).encode("utf-8"))
