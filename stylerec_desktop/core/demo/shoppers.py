"""Demo customers with hidden style tastes, and the interaction histories those tastes produce.

Each shopper likes one or two (pattern, palette) styles, sometimes a category too; the weights of two tastes
drift linearly across the history window. That is the default planted preference, ``"style"``. With
``"silhouette"`` shoppers instead like one or two product *shapes* (categories: tees, totes, mugs, ...) whatever
their pattern and colours — a catalog whose taste lives in the visual look, not in palettes or patterns, so that a
ranking fitted to one kind of store can be checked on another. With ``"pattern"`` they like one or two *patterns*
(stripes, florals, ...) in any colour and on any product: a third structure, used to check the tuner on a catalog
it was not designed around.

Every product choice mixes three sources, as real traffic does:

* taste (64%): products in proportion to the squared taste affinity, tilted gently toward popular products;
* popularity (18%): a Zipf-like global popularity per product (bestsellers, homepage placements);
* noise (18%): any product, uniformly.

Each viewed product may then be liked, carted and bought with chances that grow with its affinity, so the funnel
narrows (many views, fewer likes and carts, fewer purchases) and the strong signals follow taste more closely.
Nothing here is shown to the recommender: the truth is written to ``demo_truth.json`` for evaluation only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from stylerec_desktop.core.demo.assortment import CATEGORIES, ProductSpec

REFERENCE_TIME = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)  # end of the history; fixed so demos repeat
WINDOW = timedelta(days=182)  # about six months of history before REFERENCE_TIME
TASTE_SHARE, POPULAR_SHARE, NOISE_SHARE = 0.64, 0.18, 0.18
PREFERENCES = ("style", "silhouette", "pattern")

FIRST_NAMES = (
    "Ada", "Bram", "Celia", "Dario", "Elin", "Farah", "Gus", "Hana", "Ivo", "Jolene", "Kai", "Lena", "Milo",
    "Nadia", "Oren", "Priya", "Quinn", "Rosa", "Soren", "Talia", "Uma", "Viggo", "Wren", "Xenia", "Yusuf",
    "Zara", "Amara", "Bastian", "Cleo", "Dev", "Esme", "Felix", "Greta", "Hugo", "Ines", "Jonah",
)
LAST_NAMES = (
    "Ashdown", "Brightwater", "Calloway", "Dunmore", "Ellery", "Fairbrook", "Greystone", "Halloran", "Ivers",
    "Juniper", "Kestrel", "Linwood", "Marchetti", "Northcote", "Okafor", "Pemberly", "Quayle", "Rosales",
    "Sterling", "Thornbury", "Underhill", "Valdane", "Westbrook", "Yardley", "Zellner", "Albright", "Bexley",
    "Corran", "Delacroix", "Everly",
)
COUNTRIES = (
    ("United States", 0.34), ("United Kingdom", 0.14), ("Canada", 0.1), ("Germany", 0.1), ("France", 0.08),
    ("Australia", 0.07), ("Netherlands", 0.06), ("Sweden", 0.05), ("Spain", 0.06),
)
# Hour-of-day weights (UTC) for session starts: quiet at night, a lunchtime bump and an evening peak.
HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5, 6, 5, 4, 4, 5, 6, 8, 9, 9, 8, 5, 2], dtype=float)


@dataclass(frozen=True)
class Taste:
    """One liked style, with its weight at the start and at the end of the history window."""

    pattern: str
    palette: str
    weight_start: float
    weight_end: float

    def weight(self, progress: float) -> float:
        """The weight at ``progress`` (0 = window start, 1 = reference time)."""
        return self.weight_start + (self.weight_end - self.weight_start) * progress


@dataclass(frozen=True)
class Shopper:
    """A demo customer and their hidden tastes."""

    customer_id: str
    name: str
    email: str
    country: str
    joined: date
    tastes: tuple[Taste, ...]
    category: str | None  # a favourite category, or None
    activity: float  # relative number of visits
    shapes: tuple[str, ...] = ()  # liked categories (silhouettes), for the "silhouette" preference
    patterns: tuple[str, ...] = ()  # liked pattern names (any colour, any product), for the "pattern" preference


@dataclass(frozen=True)
class Interaction:
    """One event of a history, as written to events.csv."""

    customer_id: str
    sku: str
    kind: str
    ts: datetime
    quantity: int = 1


def invent_shoppers(
    seed: int, n_customers: int, products: list[ProductSpec], preference: str = "style"
) -> list[Shopper]:
    """``n_customers`` shoppers whose tastes are styles (or, for ``preference="silhouette"``, product shapes; for
    ``"pattern"``, patterns) that exist in ``products``."""
    rng = np.random.default_rng([seed, 3])
    names = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    picks = rng.permutation(len(names))
    countries = [c for c, _ in COUNTRIES]
    country_p = np.array([w for _, w in COUNTRIES])
    earliest = date(2023, 3, 1).toordinal()
    latest = (REFERENCE_TIME.date() - timedelta(days=45)).toordinal()
    emails: set[str] = set()
    shoppers: list[Shopper] = []
    for n in range(n_customers):
        first, last = names[picks[n % len(names)]]
        email = f"{first}.{last}".lower()
        while email + "@example.com" in emails:
            email += str(int(rng.integers(10)))  # only past 1,080 customers do names repeat
        emails.add(email + "@example.com")
        # A taste is the style of a real product, so every taste can be acted on in this catalog.
        first_style = products[int(rng.integers(len(products)))]
        tastes = [first_style]
        if rng.random() < 0.6:
            others = [p for p in products if p.pattern.name != first_style.pattern.name]
            tastes.append(others[int(rng.integers(len(others)))])
        if len(tastes) == 1:
            weights = [(1.0, 1.0)]
        else:
            start = float(rng.uniform(0.6, 0.8))
            end = float(np.clip(start + rng.uniform(-0.25, 0.05), 0.45, 0.85))  # drift, mostly toward taste 2
            weights = [(start, end), (1.0 - start, 1.0 - end)]
        category = None
        if rng.random() < 0.35:
            category = CATEGORIES[int(rng.integers(len(CATEGORIES)))].name
        shapes: tuple[str, ...] = ()
        if preference == "silhouette":
            names_present = sorted({p.category.name for p in products})
            count = 1 if rng.random() < 0.5 else min(2, len(names_present))
            shapes = tuple(str(s) for s in rng.choice(names_present, size=count, replace=False))
            category = None
        patterns: tuple[str, ...] = ()
        if preference == "pattern":
            names_present = sorted({p.pattern.name for p in products})
            count = 1 if rng.random() < 0.5 else min(2, len(names_present))
            patterns = tuple(str(s) for s in rng.choice(names_present, size=count, replace=False))
            category = None
        shoppers.append(
            Shopper(
                customer_id=f"C{n + 1:04d}",
                name=f"{first} {last}",
                email=email + "@example.com",
                country=countries[int(rng.choice(len(countries), p=country_p))],
                joined=date.fromordinal(int(rng.integers(earliest, latest))),
                tastes=()
                if shapes or patterns
                else tuple(
                    Taste(p.pattern.name, p.palette.name, round(ws, 3), round(we, 3))
                    for p, (ws, we) in zip(tastes, weights, strict=True)
                ),
                category=category,
                activity=float(np.clip(rng.lognormal(0.0, 0.45), 0.45, 2.6)),
                shapes=shapes,
                patterns=patterns,
            )
        )
    return shoppers


def affinity(shopper: Shopper, products: list[ProductSpec], progress: float) -> np.ndarray:
    """How well each product matches the shopper's taste at ``progress`` of the window, 0..1 per product."""
    if shopper.shapes:
        category = np.array([p.category.name for p in products])
        return np.where(np.isin(category, shopper.shapes), 1.0, 0.08)
    if shopper.patterns:
        pattern = np.array([p.pattern.name for p in products])
        return np.where(np.isin(pattern, shopper.patterns), 1.0, 0.08)
    score = np.zeros(len(products))
    pattern = np.array([p.pattern.name for p in products])
    palette = np.array([p.palette.name for p in products])
    for taste in shopper.tastes:
        same_pattern = pattern == taste.pattern
        same_palette = palette == taste.palette
        # A full style match counts most; the pattern alone says more about taste than the colours alone.
        match = np.where(same_pattern & same_palette, 1.0, np.where(same_pattern, 0.55, 0.3 * same_palette))
        score += taste.weight(progress) * match
    if shopper.category is not None:
        category = np.array([p.category.name for p in products])
        score *= np.where(category == shopper.category, 1.0, 0.7)
    return score / max(1e-9, float(score.max()))


def popularity(seed: int, n_products: int) -> np.ndarray:
    """Zipf-like popularity of each product (sums to 1): a few bestsellers, a long tail."""
    rng = np.random.default_rng([seed, 4])
    ranks = rng.permutation(n_products) + 1
    weights = 1.0 / ranks**0.9
    return weights / weights.sum()


def simulate_history(
    seed: int, shopper: Shopper, products: list[ProductSpec], popular: np.ndarray
) -> list[Interaction]:
    """The events of one shopper over the window, in time order."""
    rng = np.random.default_rng([seed, 5, int(shopper.customer_id[1:])])
    window_start = REFERENCE_TIME - WINDOW
    joined = datetime.combine(shopper.joined, datetime.min.time(), tzinfo=UTC)
    start = max(window_start, joined)
    active = (REFERENCE_TIME - start) / WINDOW
    n_sessions = max(3, round(shopper.activity * 11 * max(0.35, active)))
    in_stock = np.array([p.in_stock for p in products])
    uniform = np.full(len(products), 1.0 / len(products))
    span_days = (REFERENCE_TIME - start).days
    days = np.sort(rng.integers(0, max(1, span_days), size=n_sessions))
    events: list[Interaction] = []
    for day in days.tolist():
        hour = int(rng.choice(24, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()))
        t = start + timedelta(days=day, hours=hour, minutes=int(rng.integers(60)), seconds=int(rng.integers(60)))
        progress = float(np.clip((t - window_start) / WINDOW, 0.0, 1.0))
        aff = affinity(shopper, products, progress)
        taste = aff**2 * popular**0.3
        choice_p = TASTE_SHARE * taste / taste.sum() + POPULAR_SHARE * popular + NOISE_SHARE * uniform
        views = 1 + int(rng.poisson(3.2))
        for j in rng.choice(len(products), size=views, p=choice_p / choice_p.sum()).tolist():
            if t >= REFERENCE_TIME:
                break
            sku = products[j].sku
            events.append(Interaction(shopper.customer_id, sku, "view", t))
            a = float(aff[j])
            liked = rng.random() < 0.04 + 0.36 * a
            if liked:
                t += timedelta(seconds=int(rng.integers(5, 40)))
                events.append(Interaction(shopper.customer_id, sku, "like", t))
            if in_stock[j] and rng.random() < 0.02 + 0.2 * a + 0.08 * liked:
                t += timedelta(seconds=int(rng.integers(10, 90)))
                events.append(Interaction(shopper.customer_id, sku, "cart", t))
                if rng.random() < 0.5:
                    t += timedelta(seconds=int(rng.integers(60, 600)))
                    two = 0.25 if products[j].category.name == "mugs" else 0.08
                    events.append(Interaction(shopper.customer_id, sku, "purchase", t, 2 if rng.random() < two else 1))
            t += timedelta(seconds=int(rng.integers(20, 240)))
    return [e for e in events if e.ts < REFERENCE_TIME]
