"""Training the learned model (:mod:`.learned`): its network, the BPR steps, validation and early stopping.

Nothing here reads the catalog: :func:`fit` gets the customers' histories as arrays and the products' content and
attribute tokens as tensors, and yields progress between steps (a job step of ``train_model_job``).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import torch
from torch import nn

from stylerec_desktop.core.catalog import format_ts
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress, Throttle
from stylerec_desktop.core.recommend.behaviour import DEFAULT_KIND_WEIGHTS
from stylerec_desktop.core.stylize.recipe import torch_threads

_VALIDATION_CHUNK = 256  # customers scored at once in validation: 256 x 100,000 float32 = 100 MB
_CPU_THREADS = 1  # see fit()


@dataclass(frozen=True)
class LearnedSettings:
    """How the model is trained.

    ``factors``: size ``d`` of item/customer vectors. ``epochs``: most passes over the pairs (early stopping usually
    ends sooner). ``batch_size``: pairs per step. ``negatives``: sampled products per pair. ``learning_rate``:
    Adam's, for the free factors and the customer map; ``content_learning_rate``: SGD's, for the content and
    attribute maps (see ``fit``).
    ``l2``: weight of the squared norms of the vectors in a step (keeps rare products' factors small).
    ``free_dropout``: share of products whose free factor is left out of each step (0..1; see ``_step``).
    ``validation_days``: the last days of the training events held out to choose the epoch count (at most the last
    quarter of the events). ``patience``: epochs without a better validation NDCG before stopping. ``k``: NDCG@k.
    ``half_life_days``/``kind_weights``: history weights, as :class:`~.taste.TasteSettings`. ``price_bands``: price
    quantile bands. ``refit``: retrain on all events for the best epoch count after validation. ``groups``: a
    product's group (``item_group_id``) is one of its attribute tokens, so that the variants of one product share what
    is learned about any of them (a new colour of a bestseller starts from its siblings' token).
    """

    factors: int = 32
    epochs: int = 40
    batch_size: int = 1024
    negatives: int = 4
    learning_rate: float = 0.01
    content_learning_rate: float = 1.0
    l2: float = 1e-4
    free_dropout: float = 0.5
    validation_days: float = 14.0
    patience: int = 3
    k: int = 10
    half_life_days: float = 90.0
    kind_weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))
    price_bands: int = 5
    refit: bool = True
    groups: bool = True

    def checked(self) -> LearnedSettings:
        """Self, or a UserError naming the first setting out of range."""
        for name in ("factors", "epochs", "batch_size", "negatives", "patience", "k", "price_bands"):
            if int(getattr(self, name)) < 1:
                raise UserError(f"The learned model's {name} must be at least 1, got {getattr(self, name)}.")
        for name in ("learning_rate", "content_learning_rate", "validation_days", "half_life_days"):
            if not float(getattr(self, name)) > 0:
                raise UserError(f"The learned model's {name} must be above 0, got {getattr(self, name)}.")
        if not 0.0 <= self.free_dropout < 1.0:
            raise UserError(f"The learned model's free_dropout must be in 0..1 (below 1), got {self.free_dropout}.")
        if self.l2 < 0:
            raise UserError(f"The learned model's l2 must be 0 or more, got {self.l2}.")
        return self


@dataclass(frozen=True)
class ValidationFigures:
    """NDCG@k and recall@k of the model and of popularity (training-window interaction counts) on the purchases
    of the validation window, over ``customers`` customers and ``purchases`` (customer, product) purchases."""

    since: str
    k: int
    customers: int
    purchases: int
    ndcg: float
    recall: float
    popularity_ndcg: float
    popularity_recall: float


# -- the network -----------------------------------------------------------------------------------------------


class ItemTower(nn.Module):
    """Item vectors and biases, ``(n, d + 1)`` (bias in the last column), from content, tokens and free factors."""

    # Buffers, declared for the type checker (nn.Module's __getattr__ types them Tensor | Module).
    content_x: torch.Tensor
    token_ids: torch.Tensor
    warm: torch.Tensor

    def __init__(
        self, content: torch.Tensor, tokens: torch.Tensor, n_tokens: int, factors: int, generator: torch.Generator
    ) -> None:
        super().__init__()
        self.register_buffer("content_x", content)  # (N, 373)
        self.register_buffer("token_ids", tokens)  # (N, _MAX_TOKENS), padded with n_tokens
        self.register_buffer("warm", torch.zeros(len(content), 1))  # 1 for products with training events
        width = factors + 1
        self.content = nn.Linear(content.shape[1], width, bias=False)
        self.token = nn.Embedding(n_tokens + 1, width, padding_idx=n_tokens)
        self.free = nn.Embedding(len(content), width)
        # Small starts: the score begins near 0 for all, and whatever grows is what the data asked for.
        for weight in (self.content.weight, self.token.weight, self.free.weight):
            nn.init.normal_(weight, std=0.05, generator=generator)
        with torch.no_grad():
            self.token.weight[n_tokens].zero_()

    def forward(self, rows: torch.Tensor, keep_free: torch.Tensor | None = None) -> torch.Tensor:
        """``(len(rows), d + 1)``; ``keep_free`` ``(len(rows), 1)`` 0/1 drops some free factors (training only)."""
        x = self.content(self.content_x[rows]) + self.token(self.token_ids[rows]).sum(dim=1)
        keep = self.warm[rows] if keep_free is None else self.warm[rows] * keep_free
        return x + self.free(rows) * keep


class LearnedNet(nn.Module):
    """The item tower and the customer map ``M`` ``(d, d)`` (starts as the identity: a customer is first the plain
    mean of their history's vectors)."""

    def __init__(self, items: ItemTower, factors: int) -> None:
        super().__init__()
        self.items = items
        self.user_map = nn.Linear(factors, factors, bias=False)
        with torch.no_grad():
            self.user_map.weight.copy_(torch.eye(factors))


# -- training data ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Events:
    """Indexed events as parallel arrays: customer (internal id), index row, kind weight, time (days since the
    epoch), quantity, purchase flag; oldest first."""

    customer: np.ndarray
    row: np.ndarray
    kind_weight: np.ndarray
    day: np.ndarray
    quantity: np.ndarray
    purchase: np.ndarray

    def where(self, keep: np.ndarray) -> Events:
        """The events where ``keep`` (a boolean mask) is set."""
        return Events(*(getattr(self, f)[keep] for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class Histories:
    """Per customer (``customers[c]``, internal ids sorted) the weighted history as CSR (``indptr``, ``rows``,
    ``weights``); ``pair_weight`` the strongest kind weight of each (customer, product) pair (loss weights)."""

    customers: np.ndarray
    indptr: np.ndarray
    rows: np.ndarray
    weights: np.ndarray
    pair_weight: np.ndarray
    purchased: np.ndarray  # per pair: bought at least once

    @property
    def pair_customer(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.customers)), np.diff(self.indptr))


def histories(events: Events, n_items: int, as_of_day: float, settings: LearnedSettings) -> Histories:
    """Weights as :func:`~.taste.customer_taste`: sum over events of kind x (1 + ln q) x 0.5^(age / half-life)."""
    w = (events.kind_weight * (1.0 + np.log(np.maximum(events.quantity, 1)))
         * np.power(0.5, np.maximum(as_of_day - events.day, 0.0) / settings.half_life_days))  # fmt: skip
    customers, local = np.unique(events.customer, return_inverse=True)
    pair = local.astype(np.int64) * n_items + events.row
    keys, inverse = np.unique(pair, return_inverse=True)
    weights = np.bincount(inverse, weights=w, minlength=len(keys))
    strongest = np.zeros(len(keys))
    np.maximum.at(strongest, inverse, events.kind_weight)
    bought = np.zeros(len(keys), bool)
    bought[inverse[events.purchase]] = True
    keep = weights > 0
    keys, weights, strongest, bought = keys[keep], weights[keep], strongest[keep], bought[keep]
    owner = keys // n_items
    indptr = np.zeros(len(customers) + 1, np.int64)
    np.cumsum(np.bincount(owner, minlength=len(customers)), out=indptr[1:])
    return Histories(customers, indptr, keys % n_items, weights.astype(np.float32), strongest.astype(np.float32),
                      bought)  # fmt: skip


@dataclass(frozen=True)
class ValidationSet:
    """Customers (positions in the training histories) with purchases in the window, and those purchases' rows."""

    since: str
    customers: np.ndarray
    relevant: list[set[int]]
    popularity: np.ndarray  # (N,) training interactions per row, for the baseline


def validation_set(history: Histories, window: Events, since: datetime, n_items: int) -> ValidationSet:
    position = {int(c): i for i, c in enumerate(history.customers)}
    relevant: dict[int, set[int]] = {}
    for customer, row in zip(window.customer[window.purchase], window.row[window.purchase], strict=True):
        pos = position.get(int(customer))
        if pos is None:  # no history before the window: nothing to build a customer vector from
            continue
        relevant.setdefault(pos, set()).add(int(row))
    customers, sets = [], []
    for pos in sorted(relevant):
        start, end = history.indptr[pos], history.indptr[pos + 1]
        already = set(history.rows[start:end][history.purchased[start:end]].tolist())
        new = relevant[pos] - already
        if new:
            customers.append(pos)
            sets.append(new)
    popularity = np.bincount(history.rows, minlength=n_items).astype(np.float64)
    return ValidationSet(format_ts(since), np.asarray(customers, np.int64), sets, popularity)


def fit(
    history: Histories,
    content: torch.Tensor,
    tokens: torch.Tensor,
    n_tokens: int,
    settings: LearnedSettings,
    seed: int,
    device: torch.device,
    validation: ValidationSet | None,
    epochs: int,
    span: tuple[int, int],
    label: str,
) -> Job[tuple[LearnedNet, int, ValidationFigures | None, int]]:
    """Train from scratch for at most ``epochs``; with ``validation``, stop after ``patience`` epochs without a
    better NDCG and keep the best epoch's weights. Returns (net, best epoch, its figures, epochs run). Progress goes
    from ``span[0]`` to ``span[1]`` (of 1000)."""
    n = len(content)
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = LearnedNet(ItemTower(content, tokens, n_tokens, settings.factors, generator), settings.factors).to(device)
    warm = np.zeros(n, np.float32)
    warm[history.rows] = 1.0
    net.items.warm.copy_(torch.from_numpy(warm)[:, None].to(device))
    # Two optimisers: Adam for the free factors and the customer map; plain SGD with momentum for the content and
    # attribute maps. Adam scales every weight's step to the same size, so the weights of feature dimensions that
    # carry no taste move as fast as the informative ones and the content map memorises the warm products through
    # noise (cold-start products then score at random: 5 of 32 right on the test catalog, 20 with SGD). SGD moves
    # each weight in proportion to its consistent gradient, which favours the directions shared by many products.
    shared = [net.items.content.weight, net.items.token.weight]
    own = [p for p in net.parameters() if all(p is not q for q in shared)]
    optimisers = (
        torch.optim.SGD(shared, lr=settings.content_learning_rate, momentum=0.9),
        torch.optim.Adam(own, lr=settings.learning_rate),
    )
    pairs = len(history.rows)
    pair_customer = history.pair_customer
    pair_keys = pair_customer.astype(np.int64) * n + history.rows  # sorted: histories are sorted by (customer, row)
    loss_weight = history.pair_weight / history.pair_weight.mean()
    batches = max(1, math.ceil(pairs / settings.batch_size))
    throttle = Throttle(0.2)

    # One CPU thread per step: a step is ~100 small operations, and waking torch's thread pool for each costs more
    # than it saves; on the 2-core machine at load ~8, 15 steps took 27 s with 2 threads and 0.7 s with 1. Per step,
    # not across the job's yields, so other work between the steps keeps its threads.
    def threads() -> contextlib.AbstractContextManager[None]:
        return torch_threads(_CPU_THREADS) if device.type == "cpu" else contextlib.nullcontext()

    best: tuple[float, int, dict[str, torch.Tensor], ValidationFigures | None] | None = None
    stale = 0
    epoch = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(pairs)
        net.train()
        for b in range(batches):
            batch = order[b * settings.batch_size : (b + 1) * settings.batch_size]
            negatives = rng.integers(0, n, (len(batch), settings.negatives))
            # A "negative" the customer did interact with would teach the opposite of the truth: it does not count.
            keys = pair_customer[batch, None].astype(np.int64) * n + negatives
            found = np.searchsorted(pair_keys, keys).clip(max=pairs - 1)
            valid = pair_keys[found] != keys
            with threads():
                _step(net, optimisers, history, batch, negatives, valid, loss_weight[batch], settings.l2,
                      settings.free_dropout, rng, device)  # fmt: skip
            if throttle.ready():
                done = span[0] + (span[1] - span[0]) * ((epoch - 1) * batches + b + 1) / (epochs * batches)
                yield Progress(int(done), 1000, f"{label}: epoch {epoch}/{epochs}")
        done = int(span[0] + (span[1] - span[0]) * epoch / epochs)
        if validation is None:
            yield Progress(done, 1000, f"{label}: epoch {epoch}/{epochs} done")
            continue
        with threads():
            figures = _validate(net, history, validation, settings.k, device)
        if best is None or figures.ndcg > best[0] + 1e-6:
            # Parameters only: the buffers (content, tokens, warm flags) do not change during a fit.
            state = {k: v.detach().clone() for k, v in net.named_parameters()}
            best, stale = (figures.ndcg, epoch, state, figures), 0
        else:
            stale += 1
        yield Progress(done, 1000, f"{label}: epoch {epoch}/{epochs}, validation NDCG@{settings.k} "
                                   f"{figures.ndcg:.4f} (best {best[0]:.4f} at epoch {best[1]})")  # fmt: skip
        if stale >= settings.patience:
            break
    if best is None:
        return net, epoch, None, epoch
    net.load_state_dict(best[2], strict=False)
    return net, best[1], best[3], epoch


def _step(
    net: LearnedNet,
    optimisers: Sequence[torch.optim.Optimizer],
    history: Histories,
    batch: np.ndarray,
    negatives: np.ndarray,
    valid: np.ndarray,
    loss_weight: np.ndarray,
    l2: float,
    free_dropout: float,
    rng: np.random.Generator,
    device: torch.device,
) -> None:
    """One BPR step over ``batch`` (pair positions) with ``negatives`` ``(B, m)`` rows (``valid`` marks those that
    count)."""
    d = net.user_map.in_features
    customer = history.pair_customer[batch]
    users, local = np.unique(customer, return_inverse=True)
    starts, ends = history.indptr[users], history.indptr[users + 1]
    counts = ends - starts
    flat = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(counts.sum())
    hist_rows, hist_w = history.rows[flat], history.weights[flat]
    hist_owner = np.repeat(np.arange(len(users)), counts)
    positives = history.rows[batch]
    needed, inverse = np.unique(np.concatenate([hist_rows, positives, negatives.ravel()]), return_inverse=True)
    inv_hist = inverse[: len(hist_rows)]
    inv_pos = inverse[len(hist_rows) : len(hist_rows) + len(batch)]
    inv_neg = inverse[len(hist_rows) + len(batch) :].reshape(negatives.shape)

    def t(a: np.ndarray, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(a)).to(device=device, dtype=dtype)

    # Free factors dropped at random (DropoutNet, Volkovs et al. 2017): otherwise they explain every warm product
    # alone, the content and attribute maps learn little, and cold-start products get near-random scores.
    keep_free = t((rng.random(len(needed)) >= free_dropout).astype(np.float32))[:, None]
    table = net.items(t(needed, torch.int64), keep_free)  # (U, d + 1): vector | bias
    owner = t(hist_owner, torch.int64)
    w_hist = t(hist_w)
    sums = torch.zeros(len(users), d + 1, device=device).index_add_(
        0, owner, _take(table, t(inv_hist, torch.int64)) * w_hist[:, None]
    )
    mass = torch.zeros(len(users), device=device).index_add_(0, owner, w_hist)
    pair_user = t(local, torch.int64)
    own_w = t(history.weights[batch])
    pos = _take(table, t(inv_pos, torch.int64))  # (B, d + 1)
    neg = _take(table, t(inv_neg, torch.int64))  # (B, m, d + 1)
    # Leave-one-out: the customer's vector for this pair is built from their *other* history items.
    rest = _take(mass, pair_user) - own_w
    mean = (_take(sums, pair_user)[:, :d] - own_w[:, None] * pos[:, :d]) / rest.clamp(min=1e-6)[:, None]
    mean = torch.where((rest > 1e-6)[:, None], mean, torch.zeros_like(mean))
    user = net.user_map(mean)
    pos_score = (user * pos[:, :d]).sum(-1) + pos[:, d]
    neg_score = torch.einsum("bd,bmd->bm", user, neg[..., :d]) + neg[..., d]
    mask = t(valid.astype(np.float32))
    per_pair = (nn.functional.softplus(neg_score - pos_score[:, None]) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    weights = t(loss_weight.astype(np.float32))
    loss = (weights * per_pair).sum() / weights.sum()
    norms = pos[:, :d].square().sum() + (neg[..., :d].square().sum(-1) * mask).sum() + user.square().sum()
    loss = loss + l2 * norms / len(batch)
    if not torch.isfinite(loss):
        raise UserError(
            "Training the learned model diverged (its loss is no longer a number): lower the learning rates in "
            "its settings, or train with another seed."
        )
    for optimiser in optimisers:
        optimiser.zero_grad(set_to_none=True)
    loss.backward()
    for optimiser in optimisers:
        optimiser.step()


def _take(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[index]`` for an integer tensor of any shape, through ``index_select``: its gradient is summed by
    ``index_add_``, which is deterministic on CPU, where indexing's (``index_put_`` with accumulate) is not; the
    same seed must give the same model."""
    return values.index_select(0, index.reshape(-1)).reshape(*index.shape, *values.shape[1:])


@torch.no_grad()
def _validate(
    net: LearnedNet, history: Histories, validation: ValidationSet, k: int, device: torch.device
) -> ValidationFigures:
    """NDCG@k and recall@k on the validation purchases, earlier purchases left out of each list (as ``evaluate``)."""
    from stylerec_desktop.core.recommend.evaluate import ranking_metrics  # here: evaluate will import this module

    net.eval()
    n = len(validation.popularity)
    d = net.user_map.in_features
    table = net.items(torch.arange(n, device=device))
    vectors, bias = table[:, :d], table[:, d]
    ours, popular = [], []
    pop_scores = validation.popularity
    for start in range(0, len(validation.customers), _VALIDATION_CHUNK):
        chunk = validation.customers[start : start + _VALIDATION_CHUNK]
        means = []
        for c in chunk:
            lo, hi = history.indptr[c], history.indptr[c + 1]
            w = torch.from_numpy(history.weights[lo:hi]).to(device)
            means.append(w @ vectors[torch.from_numpy(history.rows[lo:hi]).to(device)] / w.sum())
        scores = (net.user_map(torch.stack(means)) @ vectors.T + bias).cpu().numpy().astype(np.float64)
        for j, c in enumerate(chunk):
            lo, hi = history.indptr[c], history.indptr[c + 1]
            bought = history.rows[lo:hi][history.purchased[lo:hi]]
            relevant = validation.relevant[start + j]
            ours.append(ranking_metrics(_top(scores[j], bought, k), relevant, k))
            popular.append(ranking_metrics(_top(pop_scores, bought, k), relevant, k))
    a, p = np.asarray(ours), np.asarray(popular)
    return ValidationFigures(
        since=validation.since, k=k, customers=len(ours), purchases=sum(len(r) for r in validation.relevant),
        ndcg=float(a[:, 0].mean()), recall=float(a[:, 1].mean()),
        popularity_ndcg=float(p[:, 0].mean()), popularity_recall=float(p[:, 1].mean()),
    )  # fmt: skip


def _top(scores: np.ndarray, excluded: np.ndarray, k: int) -> list[int]:
    scores = scores.copy()
    scores[excluded] = -np.inf
    take = min(k, len(scores))
    top = np.argpartition(-scores, take - 1)[:take]
    return top[np.argsort(-scores[top], kind="stable")].tolist()
