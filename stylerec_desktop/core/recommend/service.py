"""One-call entry points over a catalog, shared by the CLI and the GUI panels.

Loading the index opens the copy kept on disk beside the catalog (:mod:`.index_store`: rebuilt there only for
what changed) and reads all events, so :class:`IndexCache` keeps the last one per catalog in memory and loads it
again only when the catalog's features or events or product rows changed (told by three revision numbers that
triggers keep in the catalog). :class:`LearnedCache`
does the same for the catalog's learned model, by its file's time and size.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.recommend.explain import Explanation, explain
from stylerec_desktop.core.recommend.features import extractor_version
from stylerec_desktop.core.recommend.index import StyleIndex, load_index
from stylerec_desktop.core.recommend.ranking import Filters, RankingWeights, Recommendation, recommend
from stylerec_desktop.core.recommend.taste import CustomerTaste, TasteSettings, customer_taste, events_from_history
from stylerec_desktop.core.recommend.tune import ranking_settings
from stylerec_desktop.core.stylize.options import StyleVector

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from stylerec_desktop.core.recommend.learned import LearnedModel


class IndexCache:
    """The style index of each open catalog, rebuilt when its indexed images, its events or its products change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[str, int, int, int], StyleIndex]] = {}
        # One load at a time per catalog: a customer picked while the index warms up waits for that load (a second
        # one would take as long again and share the CPU with the first).
        self._loading: dict[str, threading.Lock] = {}

    def get(self, catalog: Catalog) -> StyleIndex:
        version = extractor_version()
        # Features, events and product rows (prices, stock and categories feed the filters) each change the stamp.
        revisions = catalog.revisions()
        stamp = (version, revisions["image_features"], revisions["events"], revisions["products"])
        key = str(catalog.db_path)
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry[0] == stamp:
                    return entry[1]
            started = time.perf_counter()
            index = load_index(catalog, extractor=version)
            log.info("style index of %s loaded in %.2f s", catalog.folder, time.perf_counter() - started)
            with self._lock:
                self._entries[key] = (stamp, index)
            return index

    def cached(self, catalog: Catalog) -> bool:
        """Whether ``catalog``'s index, as its tables are now, is in memory (the next :meth:`get` is instant)."""
        revisions = catalog.revisions()
        stamp = (extractor_version(), revisions["image_features"], revisions["events"], revisions["products"])
        with self._lock:
            entry = self._entries.get(str(catalog.db_path))
        return entry is not None and entry[0] == stamp

    def warm_job(self, catalog: Catalog) -> Job[bool]:
        """Load ``catalog``'s style index into the cache ahead of the first customer (a job, for the GUI's
        read lane: one step before and one after the load, which cannot be split). Returns False, quietly, when
        nothing is indexed yet: there is nothing to load."""
        yield Progress(0, 1, "reading the style features")
        try:
            self.get(catalog)
        except UserError:
            return False  # no features yet: the recommendations panel says what to do
        yield Progress(1, 1, "style index ready")
        return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


INDEX_CACHE = IndexCache()


class LearnedCache:
    """The stored learned model of each open catalog, read again when its file changes (``stylerec learn``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[tuple[int, int], LearnedModel | None]] = {}

    def get(self, catalog: Catalog) -> LearnedModel | None:
        from stylerec_desktop.core.recommend.learned_location import model_path

        path = model_path(catalog)
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            return None
        key = str(path)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == stamp:
                return entry[1]
        try:
            from stylerec_desktop.core.recommend.learned import load_model  # torch: only when there is a model

            model = load_model(catalog)
        except UserError as exc:
            # A damaged or outdated model must not stop every recommendation: rank without it, and say why in the
            # log (``stylerec learn --show`` says it too).
            log.warning("Ranking without the learned model: %s", exc)
            model = None
        with self._lock:
            self._entries[key] = (stamp, model)
        return model

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


LEARNED_CACHE = LearnedCache()


@dataclass(frozen=True)
class CustomerRecommendations:
    """A customer's taste and their explained recommendations, best first."""

    taste: CustomerTaste
    items: tuple[tuple[Recommendation, Explanation], ...]


def taste_of(
    catalog: Catalog, index: StyleIndex, customer_id: str, settings: TasteSettings | None = None
) -> CustomerTaste:
    """The taste of ``customer_id`` (raises NotFound for an unknown customer)."""
    customer = catalog.customer(customer_id)
    history = catalog.customer_history(customer_id)
    return customer_taste(index, customer.customer_id, events_from_history(history), customer.id, settings)


def ranking_for(
    catalog: Catalog, weights: RankingWeights | None, settings: TasteSettings | None
) -> tuple[RankingWeights, TasteSettings]:
    """``weights`` and ``settings`` as given, with what is left out (None) taken from the catalog's tuned ranking
    (``stylerec tune``), or the defaults when it has none."""
    if weights is not None and settings is not None:
        return weights, settings
    tuned_weights, tuned_settings = ranking_settings(catalog)
    return weights or tuned_weights, settings or tuned_settings


def recommend_for_customer(
    catalog: Catalog,
    customer_id: str,
    k: int = 10,
    filters: Filters | None = None,
    weights: RankingWeights | None = None,
    diversity: float = 0.0,
    settings: TasteSettings | None = None,
    cache: IndexCache = INDEX_CACHE,
) -> CustomerRecommendations:
    """Recommend ``k`` products to a customer of ``catalog``, each with its explanation. ``weights`` and
    ``settings`` left out are the catalog's tuned ones (``stylerec tune``), or the defaults when it has none."""
    index = cache.get(catalog)
    return recommend_in_index(
        catalog, index, customer_id, k=k, filters=filters, weights=weights, diversity=diversity, settings=settings
    )


def recommend_in_index(
    catalog: Catalog,
    index: StyleIndex,
    customer_id: str,
    k: int = 10,
    filters: Filters | None = None,
    weights: RankingWeights | None = None,
    diversity: float = 0.0,
    settings: TasteSettings | None = None,
) -> CustomerRecommendations:
    """:func:`recommend_for_customer` with the index already loaded: everything after the load, so that batch
    recommendations (:mod:`.batch`, one index for a thousand customers) rank and explain exactly as a single
    ``recommend`` does. Ranking settings belong here, not in the load."""
    weights, settings = ranking_for(catalog, weights, settings)
    taste = taste_of(catalog, index, customer_id, settings)
    return recommend_for_taste(index, taste, k, filters, weights, diversity, LEARNED_CACHE.get(catalog))


def recommend_for_taste(
    index: StyleIndex,
    taste: CustomerTaste,
    k: int,
    filters: Filters | None,
    weights: RankingWeights,
    diversity: float,
    learned: LearnedModel | None,
) -> CustomerRecommendations:
    """Rank and explain for a taste already built: the part of :func:`recommend_in_index` that needs no catalog,
    which a Ray worker runs with the index and the history the workstation sent it (:mod:`.batch_cluster`)."""
    ranked = recommend(index, taste, k=k, weights=weights, filters=filters, diversity=diversity, learned=learned)
    return CustomerRecommendations(taste, tuple((r, explain(index, taste, r)) for r in ranked))


def taste_as_style(taste: CustomerTaste, which: int | None = None) -> StyleVector:
    """A customer's taste as a Style engine input ("restyle this product in their taste"): the whole history's
    mean style vector, or taste number ``which`` of :attr:`CustomerTaste.tastes`."""
    if which is None:
        return StyleVector(taste.style_vector, label=f"{taste.customer_id}'s taste", customer_id=taste.customer_id)
    chosen = taste.tastes[which]
    label = f"{taste.customer_id}'s taste {which + 1} ({chosen.share:.0%})"
    return StyleVector(chosen.style_vector, label=label, customer_id=taste.customer_id)
