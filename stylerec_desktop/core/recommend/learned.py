"""The learned signal: a multimodal model trained on this catalog's own interactions (VBPR-style, BPR loss).

Why: the hand-set blend only knows the similarities we chose; on a real catalog the visual signal alone beat it
(issue 10). This model *learns* which parts of the looks and which attributes predict what customers take next.

**Items.** Every product ``i`` gets a vector ``q_i`` ``(d,)`` and a bias ``b_i``, both sums of three parts:

- a learned linear map of its content ``x_i`` ``(373,)``: the index's visual block (EfficientNet on its top
  principal axes), its style vector (centred), its colour histogram and its pattern descriptor, each unit length;
- learned embeddings of its attribute tokens: ``category=..``, ``brand=..``, ``price=<band>`` (price quintiles of the
  catalog), ``group=..`` (its ``item_group_id``: the variants of one product share it), ``tag=..`` and
  ``attr:<key>=<value>``, keeping only tokens that at least two products share (a token one product owns says
  nothing about any other);
- a free factor and free bias, only for products with training events. A cold-start product (no events) has none,
  so its score comes from its looks and attributes alone — the reason VBPR exists.

**Customers.** ``p = M h``, ``h`` the weighted mean of the customer's history item vectors (weights as in
:mod:`.taste`: kind weight x (1 + ln quantity) x recency decay) and ``M`` ``(d, d)`` learned. There is no per-customer
parameter, so a customer unseen at training time is scored from their history like anyone else, and an empty
history gives the biases alone (what the catalog's buyers take in general).

**Score** ``s(u, i) = p_u . q_i + b_i`` — a ranking score, not a probability; only its order matters.

**Training** (:func:`train_model_job`; the loop is in :mod:`.learned_fit`): BPR (Rendle et al. 2009; He & McAuley
2016 for the visual part) over every (customer, product) pair with ``negatives`` products sampled uniformly per pair;
the loss of a pair is weighted by its strongest event kind (a purchase counts more than a view). The customer's
vector for a pair is built from their *other* history items (leave-one-out), because at recommendation time the
products to rank are not in the history. Free factors are dropped at random in training, so that looks and
attributes alone must also rank (what cold-start products rely on). Early stopping on NDCG@k of the purchases in a
held-out validation window (the last ``validation_days`` of the training events, in time, not at random), then — by
default — a refit on all the events for the best number of epochs, so the newest events also shape the item
factors. Deterministic given the seed on CPU.

**Scoring** (:meth:`LearnedModel.scores`): the model keeps the final item vectors of the products it was trained
with, by product id. Products added since (in a newer index) are scored through their content and attributes; their
visual block is carried into the training index's principal axes (the PCA is refitted whenever the product set
changes, so the raw block would not be comparable). One customer over 100,000 products is one gather and one
``(N, d)`` matrix-vector product.
"""

from __future__ import annotations

import io
import math
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stylerec_desktop.core.catalog import Catalog, ProductAttributeRow, format_ts, parse_ts
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.recommend.features import PATTERN_DIM, extractor_version
from stylerec_desktop.core.recommend.index import COLOUR_BINS, StyleIndex, _unit, load_index
from stylerec_desktop.core.recommend.learned_fit import (
    Events,
    LearnedSettings,
    ValidationFigures,
    ValidationSet,
    fit,
    histories,
    validation_set,
)
from stylerec_desktop.core.recommend.learned_location import MODEL_FILE, MODELS_DIR, model_path  # noqa: F401
from stylerec_desktop.core.recommend.taste import CustomerTaste

FORMAT_VERSION = 1
_MAX_TOKENS = 24  # attribute tokens kept per product (most shared first): long free-text tag lists add noise
_MIN_EVENTS = 20
_GROUP = "group="  # the prefix of a product group's token


@dataclass(frozen=True)
class LearnedInfo:
    """What a stored model was trained on: when, how many events/customers/products, up to which event time,
    with which settings, seed and extractor, how many epochs, and how it did on the validation window (None when
    no customer had purchases there: then the epoch count was not chosen on data)."""

    trained_at: str
    data_until: str
    events: int
    customers: int
    products: int
    cold_products: int
    epochs: int  # run in the validated fit (early stopping ends it)
    best_epoch: int  # the one kept (and the length of the refit)
    seed: int
    device: str
    seconds: float
    extractor: str
    settings: dict[str, Any]
    validation: ValidationFigures | None


# -- attribute tokens ------------------------------------------------------------------------------------------


def _raw_tokens(row: ProductAttributeRow, price_edges: np.ndarray) -> list[str]:
    tokens = []
    if row.group:
        tokens.append(f"{_GROUP}{row.group.strip().lower()}")
    if row.category:
        tokens.append(f"category={row.category.strip().lower()}")
    if row.brand:
        tokens.append(f"brand={row.brand.strip().lower()}")
    if row.price is not None and row.price > 0 and len(price_edges):
        tokens.append(f"price={int(np.searchsorted(price_edges, row.price, side='right'))}")
    tokens += [f"tag={t.strip().lower()}" for t in row.tags if t.strip()]
    tokens += [f"attr:{k.strip().lower()}={str(v).strip().lower()}" for k, v in sorted(row.attributes.items())
               if str(v).strip()]  # fmt: skip
    return list(dict.fromkeys(tokens))


def _price_edges(rows: Sequence[ProductAttributeRow], bands: int) -> np.ndarray:
    prices = np.asarray([r.price for r in rows if r.price is not None and r.price > 0], np.float64)
    if len(prices) < 2 * bands:
        return np.zeros(0, np.float64)
    return np.unique(np.quantile(prices, np.arange(1, bands) / bands))


def _vocabulary(rows: Sequence[ProductAttributeRow], price_edges: np.ndarray, groups: bool = True) -> list[str]:
    """Tokens at least two products share, most shared first (ties by name: deterministic); without ``groups``,
    no product group tokens."""
    counts: dict[str, int] = {}
    for row in rows:
        for token in _raw_tokens(row, price_edges):
            counts[token] = counts.get(token, 0) + 1
    kept = (t for t, c in counts.items() if c >= 2 and (groups or not t.startswith(_GROUP)))
    return sorted(kept, key=lambda t: (-counts[t], t))


def _tokens_by_product(
    rows: Iterable[ProductAttributeRow], vocabulary: Sequence[str], price_edges: np.ndarray
) -> dict[int, tuple[int, ...]]:
    """Product id -> ids of its tokens in ``vocabulary`` (at most ``_MAX_TOKENS``: its group first, then the most
    shared; a group has few members, so by sharing alone it would be the first cut from a long tag list)."""
    position = {t: i for i, t in enumerate(vocabulary)}
    out = {}
    for row in rows:
        out[row.product_id] = _ordered_ids(_raw_tokens(row, price_edges), position)
    return out


def _ordered_ids(tokens: Iterable[str], position: Mapping[str, int]) -> tuple[int, ...]:
    known = [t for t in tokens if t in position]
    ordered = sorted(known, key=lambda t: (not t.startswith(_GROUP), position[t]))
    return tuple(position[t] for t in ordered[:_MAX_TOKENS])


def _token_matrix(
    index: StyleIndex, rows: np.ndarray, tokens_of: Mapping[int, tuple[int, ...]], vocabulary: Sequence[str],
    price_edges: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """``(len(rows), _MAX_TOKENS)`` int64 token ids per index row, padded with ``len(vocabulary)`` (a zero vector).

    A product the attribute table does not know (added after the model was loaded) falls back to what the index
    itself carries: its category, price band and group.
    """
    pad = len(vocabulary)
    out = np.full((len(rows), _MAX_TOKENS), pad, np.int64)
    position = {t: i for i, t in enumerate(vocabulary)}
    for n, row in enumerate(np.asarray(rows, np.int64)):
        ids = tokens_of.get(int(index.product_ids[row]))
        if ids is None:
            price = float(index.prices[row])
            code = int(index.group_codes[row])
            fallback = ProductAttributeRow(
                int(index.product_ids[row]), index.category_names[index.category_codes[row]], "",
                None if math.isnan(price) else price, (), {}, index.group_names[code] if code >= 0 else "",
            )  # fmt: skip
            ids = _ordered_ids(_raw_tokens(fallback, price_edges), position)
        out[n, : len(ids)] = ids[:_MAX_TOKENS]
    return out


# -- content ---------------------------------------------------------------------------------------------------


def _content(index: StyleIndex, rows: np.ndarray, visual_basis: np.ndarray, style_mean: np.ndarray) -> np.ndarray:
    """``(len(rows), 373)`` float32 content of index rows in the *model's* frame (see the module docstring).

    The visual block is unit((x - mean) @ B_index); ``@ B_index.T @ visual_basis`` carries it onto the model's
    principal axes (the identity, up to float error, when the index is the one the model was trained on).
    """
    rows = np.asarray(rows, np.int64)
    visual = index.rows(rows, "visual")
    basis = index.projections["visual"].basis
    if basis is not None and not (basis.shape == visual_basis.shape and np.array_equal(basis, visual_basis)):
        visual = _unit(visual @ (basis.T @ visual_basis))
    style = _unit(index.style_raw[rows] - style_mean)
    return np.concatenate([visual, style, index.rows(rows, "colour"), index.rows(rows, "pattern")], axis=1)


# -- the model -------------------------------------------------------------------------------------------------


class LearnedModel:
    """A trained model, ready to score (see the module docstring). Arrays are numpy float32.

    ``product_ids`` ``(M,)`` sorted, with ``item_vectors`` ``(M, d)`` and ``item_bias`` ``(M,)``: the final item
    vectors of the products it was trained with. ``content_map`` ``(373, d + 1)``, ``token_table`` ``(T + 1, d + 1)``
    (last row the zero padding) and ``vocabulary`` score products it has not seen; ``user_map`` ``(d, d)`` is ``M``.
    ``tokens_of`` (product id -> token ids) is rebuilt from the catalog on load.
    """

    def __init__(
        self,
        info: LearnedInfo,
        product_ids: np.ndarray,
        item_vectors: np.ndarray,
        item_bias: np.ndarray,
        user_map: np.ndarray,
        content_map: np.ndarray,
        token_table: np.ndarray,
        vocabulary: list[str],
        price_edges: np.ndarray,
        visual_basis: np.ndarray,
        style_mean: np.ndarray,
        tokens_of: dict[int, tuple[int, ...]] | None = None,
    ) -> None:
        self.info = info
        self.product_ids = np.asarray(product_ids, np.int64)
        self.item_vectors = np.ascontiguousarray(item_vectors, np.float32)
        self.item_bias = np.asarray(item_bias, np.float32)
        self.user_map = np.asarray(user_map, np.float32)
        self.content_map = np.asarray(content_map, np.float32)
        self.token_table = np.asarray(token_table, np.float32)
        self.vocabulary = list(vocabulary)
        self.price_edges = np.asarray(price_edges, np.float64)
        self.visual_basis = np.asarray(visual_basis, np.float32)
        self.style_mean = np.asarray(style_mean, np.float32)
        self.tokens_of = tokens_of or {}
        self._prepared: tuple[weakref.ref[StyleIndex], np.ndarray, np.ndarray] | None = None

    @property
    def factors(self) -> int:
        return self.item_vectors.shape[1]

    def item_table(self, index: StyleIndex) -> tuple[np.ndarray, np.ndarray]:
        """``(N, d)`` item vectors and ``(N,)`` biases aligned with ``index``'s rows (kept for the last index asked,
        so scoring many customers against one index pays this once). Products the model was trained with keep
        their trained vectors; the others get content + attribute vectors (no free factor)."""
        prepared = self._prepared
        if prepared is not None and prepared[0]() is index:
            return prepared[1], prepared[2]
        n = len(index)
        vectors = np.zeros((n, self.factors), np.float32)
        bias = np.zeros(n, np.float32)
        pos = np.minimum(np.searchsorted(self.product_ids, index.product_ids), max(len(self.product_ids) - 1, 0))
        known = (self.product_ids[pos] == index.product_ids) if len(self.product_ids) else np.zeros(n, bool)
        vectors[known] = self.item_vectors[pos[known]]
        bias[known] = self.item_bias[pos[known]]
        new = np.flatnonzero(~known)
        for start in range(0, len(new), 8192):  # chunks: the content of 100,000 products is 150 MB
            rows = new[start : start + 8192]
            mixed = _content(index, rows, self.visual_basis, self.style_mean) @ self.content_map
            tokens = _token_matrix(index, rows, self.tokens_of, self.vocabulary, self.price_edges)
            mixed += self.token_table[tokens].sum(axis=1)
            vectors[rows], bias[rows] = mixed[:, :-1], mixed[:, -1]
        self._prepared = (weakref.ref(index), vectors, bias)
        return vectors, bias

    def customer_vector(self, index: StyleIndex, taste: CustomerTaste) -> np.ndarray | None:
        """``(d,)`` the customer's vector ``M h`` from their history rows and weights; None for an empty history."""
        vectors, _ = self.item_table(index)
        rows = np.asarray([item.row for item in taste.items], np.int64)
        weights = np.asarray([item.weight for item in taste.items], np.float32)
        if rows.size == 0 or weights.sum() <= 0:
            return None
        mean = weights @ vectors[rows] / weights.sum()
        return self.user_map @ mean

    def scores(self, index: StyleIndex, taste: CustomerTaste) -> np.ndarray:
        """``(len(index),)`` float32 scores of every index row for one customer (higher = more likely next)."""
        vectors, bias = self.item_table(index)
        user = self.customer_vector(index, taste)
        if user is None:
            return bias.copy()
        return vectors @ user + bias


# -- training --------------------------------------------------------------------------------------------------


def train_model_job(
    catalog: Catalog,
    *,
    before: datetime | None = None,
    settings: LearnedSettings = LearnedSettings(),  # noqa: B008 - frozen, never mutated
    seed: int = 0,
    device: str = "auto",
) -> Job[LearnedModel]:
    """Train the model on the catalog's events (only those before ``before`` when given: an evaluation's training
    window) and return it (not stored: see :func:`save_model`). Yields progress per step, with the epoch and the
    validation NDCG in the message; cancelling between steps leaves nothing behind.
    """
    from stylerec_desktop.core.models.device import choose_device

    settings = settings.checked()
    torch_device = choose_device(device)
    started = time.perf_counter()
    yield Progress(0, 1000, "Loading the style index and the events")
    index = load_index(catalog, events_before=before)
    n = len(index)
    attribute_rows = catalog.product_attribute_rows()
    price_edges = _price_edges(attribute_rows, settings.price_bands)
    vocabulary = _vocabulary(attribute_rows, price_edges, settings.groups)
    tokens_of = _tokens_by_product(attribute_rows, vocabulary, price_edges)
    events = _indexed_events(catalog, index, before, settings)
    if len(events.row) < _MIN_EVENTS or len(np.unique(events.customer)) < 2:
        when = f" before {format_ts(before)}" if before is not None else ""
        raise UserError(
            f"The learned model needs at least {_MIN_EVENTS} events of 2 or more customers with indexed products"
            f"{when}; the catalog has {len(events.row)}. Import more customer events first."
        )
    end_day = _day(before) if before is not None else float(events.day.max()) + 1e-6
    # The validation window: the last validation_days, but never more than the last quarter of the events.
    val_day = max(end_day - settings.validation_days, float(np.quantile(events.day, 0.75)))
    visual_basis = index.projections["visual"].basis
    assert visual_basis is not None  # the index always fits a PCA for the visual block
    style_mean = index.projections["style"].mean
    content = torch.from_numpy(_content(index, np.arange(n), visual_basis, style_mean))
    tokens = torch.from_numpy(_token_matrix(index, np.arange(n), tokens_of, vocabulary, price_edges))
    early = events.where(events.day < val_day)
    history = histories(early, n, val_day, settings)
    validation: ValidationSet | None = validation_set(
        history, events.where(events.day >= val_day), _from_day(val_day), n
    )
    if validation is not None and not len(validation.customers):
        # Nobody with an earlier history bought in the window: nothing to choose the epoch count on, so one fit on
        # all the events for the configured epochs (and the report says the count was not chosen on data).
        validation, history = None, histories(events, n, end_day, settings)
    refit = settings.refit and validation is not None
    scale = 700 if refit else 1000  # progress units (of 1000) for the first fit
    net, best_epoch, figures, epochs_run = yield from fit(
        history, content, tokens, len(vocabulary), settings, seed, torch_device, validation, settings.epochs,
        (0, scale), "Training",
    )  # fmt: skip
    final_history = history
    if refit:
        final_history = histories(events, n, end_day, settings)
        net = (yield from fit(
            final_history, content, tokens, len(vocabulary), settings, seed, torch_device, None, best_epoch,
            (scale, 1000), "Refitting on all events",
        ))[0]  # fmt: skip
    warm = np.zeros(n, bool)
    warm[final_history.rows] = True
    with torch.no_grad():
        net.items.warm.copy_(torch.from_numpy(warm.astype(np.float32))[:, None].to(torch_device))
        table = net.items(torch.arange(n, device=torch_device)).cpu().numpy()
    info = LearnedInfo(
        trained_at=format_ts(datetime.now(UTC)),
        data_until=format_ts(_from_day(end_day)) if before is None else format_ts(before),
        events=len(events.row),
        customers=len(final_history.customers),
        products=n,
        cold_products=int((~warm).sum()),
        epochs=epochs_run,
        best_epoch=best_epoch,
        seed=seed,
        device=str(torch_device),
        seconds=time.perf_counter() - started,
        extractor=index.extractor,
        settings=_settings_dict(settings),
        validation=figures,
    )
    order = np.argsort(index.product_ids, kind="stable")
    params = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    yield Progress(1000, 1000, "Trained")
    return LearnedModel(
        info=info,
        product_ids=index.product_ids[order],
        item_vectors=table[order, :-1],
        item_bias=table[order, -1],
        user_map=params["user_map.weight"],
        content_map=params["items.content.weight"].T,
        token_table=params["items.token.weight"],
        vocabulary=vocabulary,
        price_edges=price_edges,
        visual_basis=visual_basis,
        style_mean=style_mean,
        tokens_of=tokens_of,
    )


def _day(ts: datetime) -> float:
    return ts.timestamp() / 86400.0


def _settings_dict(settings: LearnedSettings) -> dict[str, Any]:
    return {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in asdict(settings).items()}


def _from_day(day: float) -> datetime:
    return datetime.fromtimestamp(day * 86400.0, UTC).replace(microsecond=0)


def _indexed_events(catalog: Catalog, index: StyleIndex, before: datetime | None, settings: LearnedSettings) -> Events:
    customers, rows, kinds, days, quantities, purchases = [], [], [], [], [], []
    for event in catalog.interactions(before=format_ts(before) if before is not None else None):
        row = index.row_of.get(event.product_id)
        weight = settings.kind_weights.get(event.kind, 0.0)
        if row is None or weight <= 0:
            continue
        customers.append(event.customer_id)
        rows.append(row)
        kinds.append(weight)
        days.append(_day(parse_ts(event.ts)))
        quantities.append(event.quantity)
        purchases.append(event.kind == "purchase")
    return Events(
        np.asarray(customers, np.int64), np.asarray(rows, np.int64), np.asarray(kinds, np.float64),
        np.asarray(days, np.float64), np.asarray(quantities, np.float64), np.asarray(purchases, bool),
    )  # fmt: skip


# -- storage ---------------------------------------------------------------------------------------------------


_ARRAYS = ("product_ids", "item_vectors", "item_bias", "user_map", "content_map", "token_table", "price_edges",
           "visual_basis", "style_mean")  # fmt: skip


def save_model(model: LearnedModel, catalog: Catalog) -> Path:
    """Store ``model`` in the catalog folder (one file, written atomically: a crash leaves the old model whole).
    Returns the path."""
    from stylerec_desktop.core.export.writers import write_atomic

    payload = {
        "format": FORMAT_VERSION,
        "info": _info_dict(model.info),
        "vocabulary": list(model.vocabulary),
        **{name: torch.from_numpy(np.ascontiguousarray(getattr(model, name))) for name in _ARRAYS},
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path = model_path(catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buffer.getvalue())
    return path


def load_model(catalog: Catalog) -> LearnedModel | None:
    """The catalog's stored model (None when it has none), with the attribute tokens of its current products.

    Raises UserError naming the file when it is unreadable, from another format, or trained on features of another
    extractor than the catalog's current one.
    """
    path = model_path(catalog)
    if not path.is_file():
        return None
    retrain = "run `stylerec learn` to train it again"
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
            found = payload.get("format") if isinstance(payload, dict) else None
            raise UserError(
                f"The learned model {path} is of format {found!r}, this version reads format {FORMAT_VERSION}: "
                f"{retrain}."
            )
        arrays = {name: payload[name].numpy() for name in _ARRAYS}
        info = _info_from(payload["info"])
        vocabulary = [str(t) for t in payload["vocabulary"]]
    except UserError:
        raise
    except Exception as exc:  # any damage: truncated, not a torch file, missing keys, wrong types
        reason = (str(exc).strip().splitlines() or [""])[0][:120]
        raise UserError(
            f"The learned model {path} cannot be read ({type(exc).__name__}: {reason}); {retrain}."
        ) from None
    _check_shapes(arrays, len(vocabulary), path, retrain)
    if info.extractor != extractor_version():
        raise UserError(
            f"The learned model {path} was trained on image features of another version ({info.extractor}); {retrain}."
        )
    tokens_of = _tokens_by_product(catalog.product_attribute_rows(), vocabulary, arrays["price_edges"])
    return LearnedModel(info=info, vocabulary=vocabulary, tokens_of=tokens_of, **arrays)


def _check_shapes(arrays: Mapping[str, np.ndarray], n_tokens: int, path: Path, retrain: str) -> None:
    m, d = arrays["item_vectors"].shape if arrays["item_vectors"].ndim == 2 else (-1, -1)
    expected = {
        "product_ids": (m,),
        "item_bias": (m,),
        "user_map": (d, d),
        "content_map": (arrays["content_map"].shape[0], d + 1),
        "token_table": (n_tokens + 1, d + 1),
        "visual_basis": (arrays["visual_basis"].shape[0], arrays["visual_basis"].shape[-1]),
        "style_mean": (arrays["style_mean"].shape[0],),
    }
    # visual (the model's principal axes) + style + colour histogram + pattern: what _content() builds
    content_dim = arrays["visual_basis"].shape[-1] + len(arrays["style_mean"]) + len(COLOUR_BINS) + PATTERN_DIM
    bad = [name for name, shape in expected.items() if arrays[name].shape != shape]
    if m < 0 or bad or arrays["content_map"].shape[0] != content_dim:
        raise UserError(f"The learned model {path} is inconsistent ({', '.join(bad) or 'content size'}); {retrain}.")


def _info_dict(info: LearnedInfo) -> dict[str, Any]:
    return asdict(info)


def _info_from(data: Mapping[str, Any]) -> LearnedInfo:
    values = dict(data)
    if values.get("validation") is not None:
        values["validation"] = ValidationFigures(**values["validation"])
    return LearnedInfo(**values)


def settings_with(settings: LearnedSettings, **changes: Any) -> LearnedSettings:
    """``settings`` with some fields changed (for the CLI's flags), checked."""
    return replace(settings, **changes).checked()
