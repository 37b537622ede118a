"""What a user sets for a ranking: the blend weights, the filters, the workspace query. Plain data with no numpy
or torch, so the GUI can build its controls without loading the networks (start-up time)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Representative products shown per taste cluster.
REPRESENTATIVES = 4


@dataclass(frozen=True)
class RankingWeights:
    """Weight of each signal in the blend (>= 0; only their ratios matter). Defaults were chosen on the demo
    catalog's evaluation (``stylerec evaluate``; seed 7 with 160 and 240 products, seed 11 with 240, 14- and 28-day
    windows): the looks together (2.6) carry every product, cold-start ones included; co-occurrence, once a product
    has co-buyers, is the strongest single signal (its values are small: a mean cosine, typically 0.02-0.3). Raising
    ``behaviour`` from 0.6 to 12 lifted NDCG@10 from about 0.19 to 0.22-0.34 and made the blend beat item-to-item CF
    in all six runs; more visual or pattern weight lowered it."""

    style: float = 1.0
    visual: float = 0.5
    colour: float = 0.8
    pattern: float = 0.3
    behaviour: float = 12.0
    popularity: float = 0.2

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


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
    """The controls of the recommendations panel."""

    customer_id: str
    k: int = 24
    weights: RankingWeights = RankingWeights()
    diversity: float = 0.0
    filters: Filters = Filters()
