"""What a user sets for a ranking: the blend weights, the filters, the workspace query. Plain data with no numpy
or torch, so the GUI can build its controls without loading the networks (start-up time)."""

from __future__ import annotations

from dataclasses import dataclass, fields

# Representative products shown per taste cluster.
REPRESENTATIVES = 4


@dataclass(frozen=True)
class RankingWeights:
    """Weight of each signal in the blend (>= 0; only their ratios matter).

    These defaults are a starting point, not a fit: the first ones were chosen on the generated demo catalog, whose
    shoppers' tastes are built from palettes and patterns, and on a real retailer's photos and purchases they lost
    to a plain visual nearest-neighbour ranking. ``stylerec tune`` fits them (and the taste settings) to a catalog's
    own history and stores the result in the catalog; without that, these apply. They favour the signals that held
    up on real data as well as on the demo: the look of specific history items (``neighbour``) and of the taste as a
    whole (``visual``, ``style``), with co-purchases (``behaviour``) as added evidence once a product has co-buyers.
    """

    style: float = 1.0
    visual: float = 1.0
    colour: float = 0.3
    pattern: float = 0.1
    neighbour: float = 1.0
    group: float = 1.0  # counts only in a catalog with product groups (item_group_id)
    behaviour: float = 6.0
    popularity: float = 0.2
    learned: float = 1.0  # counts only once a model is trained (stylerec learn)

    def as_dict(self) -> dict[str, float]:
        # Not dataclasses.asdict: its deep copy is slow, and a tuning search asks tens of thousands of times.
        return {name: getattr(self, name) for name in _WEIGHT_NAMES}


_WEIGHT_NAMES = tuple(f.name for f in fields(RankingWeights))


@dataclass(frozen=True)
class Filters:
    """Which products may be recommended. Prices are in the catalog's currency; products without a price pass a
    price filter only when no bound is set. Purchased products are left out unless ``include_purchased``."""

    categories: tuple[str, ...] = ()
    min_price: float | None = None
    max_price: float | None = None
    in_stock_only: bool = False
    include_purchased: bool = False
    exclude_skus: tuple[str, ...] = ()


@dataclass(frozen=True)
class WorkspaceQuery:
    """The controls of the recommendations panel. ``catalog_taste``: turn histories into tastes with the catalog's
    tuned taste settings when it has applied ones (``stylerec tune``); False: with the built-in defaults."""

    customer_id: str
    k: int = 24
    weights: RankingWeights = RankingWeights()
    diversity: float = 0.0
    filters: Filters = Filters()
    catalog_taste: bool = True
