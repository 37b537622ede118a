"""Why a product was recommended, in terms a merchandiser can check side by side.

For a :class:`~.ranking.Recommendation` the explanation lists

- the per-signal terms of its score (from the ranking itself);
- ``because``: the history items that carry the signals that really make its score. A signal is named only when its
  term is *material* — positive and at least a fifth of the positive terms' sum — and then with the item that
  contributes most to it: ``style`` / ``look`` / ``palette`` (the style, visual and colour terms: the member of the
  matched taste with the largest ``history weight x cosine``, the taste being a weighted mean of its members),
  ``same product`` (the group term: the heaviest history item of the product's group, "another colour of X"),
  ``close match`` (the neighbour term: the item with the largest term inside its soft maximum) and ``bought
  together`` (the behaviour term: the largest ``weight x co-occurrence``); a material ``learned`` term is said as
  such (the model scores the whole history, not one item). One item may carry several reasons, e.g.
  "style and palette like the striped tee they bought on 3 May; looks like the tote they liked on 9 Apr";
- the palette overlap between the product and the history item behind ``palette``: matched colour pairs (CIE76
  distance under 20, greedily closest first) and the share of the product's colours they cover, 0..1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from stylerec_desktop.core.recommend.index import StyleIndex
from stylerec_desktop.core.recommend.ranking import Recommendation
from stylerec_desktop.core.recommend.signals import NEIGHBOUR_BLOCKS, neighbour_contributions
from stylerec_desktop.core.recommend.taste import CustomerTaste

_MATCH_DELTA_E = 20.0


@dataclass(frozen=True)
class Because:
    """A history item behind a recommendation: what the customer did (``kind``, ``ts``) and why it counts
    (``reasons``, each with its cosine similarity 0..1 to the recommended product in ``similarity``)."""

    sku: str
    title: str
    product_id: int
    kind: str
    ts: datetime
    reasons: tuple[str, ...]
    similarity: dict[str, float]

    def sentence(self) -> str:
        """e.g. "style and palette like Navy stripes tee they bought on 2 Mar 2026"."""
        verb = {"view": "viewed", "like": "liked", "cart": "put in their cart", "purchase": "bought"}[self.kind]
        when = f"{self.ts.day} {self.ts:%b %Y}"
        looks = [r for r in self.reasons if r in ("style", "look", "palette")]
        together = " (and often bought with it)" if "bought together" in self.reasons else ""
        if "same product" in self.reasons:
            return f"another colour of {self.title}, which they {verb} on {when}{together}"
        if looks:
            return f"{' and '.join(looks)} like {self.title} they {verb} on {when}{together}"
        if "close match" in self.reasons:
            return f"looks like {self.title} they {verb} on {when}{together}"
        return f"often bought with {self.title}, which they {verb} on {when}"


@dataclass(frozen=True)
class ColourMatch:
    """One product colour matched to a history item colour: sRGB hex of each, their shares, and the CIE76 distance."""

    product_hex: str
    history_hex: str
    product_share: float
    history_share: float
    delta_e: float


@dataclass(frozen=True)
class Explanation:
    sku: str
    score: float
    components: dict[str, float]
    taste: int
    because: tuple[Because, ...]
    palette_overlap: float
    shared_colours: tuple[ColourMatch, ...]
    palette_sku: str | None
    learned: bool = False  # the learned model's term is material (it names no single history item)

    def summary(self) -> str:
        """One line for a table or a tooltip."""
        sentences = "; ".join(b.sentence() for b in self.because)
        if self.learned:
            learned = "the model trained on this catalog's purchases ranks it high for histories like theirs"
            sentences = f"{sentences}; {learned}" if sentences else learned
        if sentences:
            return sentences
        if self.components.get("popularity", 0.0) > 0 and "popularity" in material_signals(self.components):
            return "popular with shoppers right now"
        return "a broad match to their taste (no single history item stands out)"


def lab_to_hex(lab: np.ndarray) -> str:
    """CIE Lab (D65) -> ``#rrggbb`` (clipped to the sRGB gamut)."""
    rgb = cv2.cvtColor(np.asarray(lab, np.float32).reshape(1, 1, 3), cv2.COLOR_Lab2RGB).reshape(3)
    r, g, b = (int(round(float(np.clip(v, 0.0, 1.0)) * 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def palette_matches(product: np.ndarray, history: np.ndarray) -> tuple[float, tuple[ColourMatch, ...]]:
    """Overlap of two ``(K, 4)`` palettes (Lab + share): greedy closest pairs under CIE76 20, each colour used once.
    Returns (sum over pairs of the smaller share — 0..1, the product's colours covered —, the pairs)."""
    distance = np.linalg.norm(product[:, None, :3] - history[None, :, :3], axis=-1)
    used_p, used_h, pairs = set(), set(), []
    for flat in np.argsort(distance, axis=None):
        i, j = divmod(int(flat), distance.shape[1])
        if distance[i, j] > _MATCH_DELTA_E:
            break
        if i in used_p or j in used_h or product[i, 3] < 0.02 or history[j, 3] < 0.02:
            continue
        used_p.add(i)
        used_h.add(j)
        pairs.append(
            ColourMatch(lab_to_hex(product[i, :3]), lab_to_hex(history[j, :3]), float(product[i, 3]),
                        float(history[j, 3]), float(distance[i, j]))
        )  # fmt: skip
    overlap = float(sum(min(p.product_share, p.history_share) for p in pairs))
    pairs.sort(key=lambda p: -p.product_share)
    return min(1.0, overlap), tuple(pairs)


# A signal is named in an explanation only when its term is at least this share of the positive terms' sum.
MATERIAL_SHARE = 0.2
# Reason names of the look signals that a history item can carry, by ranking signal.
_LOOK_REASONS = {"style": ("style", "style"), "visual": ("look", "visual"), "colour": ("palette", "colour")}


def material_signals(components: dict[str, float]) -> set[str]:
    """The signals whose term is positive and at least :data:`MATERIAL_SHARE` of the positive terms' sum."""
    positive = sum(v for v in components.values() if v > 0)
    return {name for name, v in components.items() if v > 0 and v >= MATERIAL_SHARE * positive}


def explain(index: StyleIndex, taste: CustomerTaste, recommendation: Recommendation, top: int = 3) -> Explanation:
    """Explain one recommendation (see the module docstring). ``top`` caps the ``because`` items."""
    row = recommendation.row
    reasons: dict[int, dict[str, float]] = {}
    palette_item = None
    material = material_signals(recommendation.components)
    if taste.items:
        rows = np.asarray([i.row for i in taste.items], np.int64)
        weight = np.asarray([i.weight for i in taste.items], np.float32)
        # A product is not its own reason (a carted product recommended again is explained by its neighbours).
        other = rows != row
        members = np.zeros(len(rows), bool)
        if taste.tastes and taste.aggregation == "best":
            members[list(taste.tastes[recommendation.taste].members)] = True
        else:
            members[:] = True
        for signal, (reason, block) in _LOOK_REASONS.items():
            if signal not in material:
                continue
            sim = index.rows(rows, block) @ index.rows(row, block)
            # Only items that resemble the product can explain it: a negative cosine is a contrast, not a reason.
            drive = np.where((sim > 0) & other & members, weight * sim, 0.0)
            if drive.max() > 0:
                best = int(np.argmax(drive))
                reasons.setdefault(best, {})[reason] = float(sim[best])
                if reason == "palette":
                    palette_item = best
        if "neighbour" in material:
            contributions = neighbour_contributions(index, taste, np.asarray([row]))[0]
            if np.isfinite(contributions).any():
                best = int(np.argmax(contributions))
                similarity = float(np.mean([index.rows(rows[best], b) @ index.rows(row, b) for b in NEIGHBOUR_BLOCKS]))
                reasons.setdefault(best, {})["close match"] = similarity
        if "group" in material:
            code = int(index.group_codes[row])
            same = np.flatnonzero((index.group_codes[rows] == code) & other) if code >= 0 else np.zeros(0, np.int64)
            if same.size:
                best = int(same[np.argmax(weight[same])])
                reasons.setdefault(best, {})["same product"] = 1.0
        if "behaviour" in material:
            together = np.asarray([index.behaviour.similarity(int(r), row) if r != row else 0.0 for r in rows])
            if together.max() > 0:
                best = int(np.argmax(weight * together))
                reasons.setdefault(best, {})["bought together"] = float(together[best])
    ranked = sorted(reasons, key=lambda i: -taste.items[i].weight)[:top]
    because = tuple(
        Because(
            taste.items[i].sku, taste.items[i].title, taste.items[i].product_id, taste.items[i].kind,
            taste.items[i].ts, tuple(reasons[i]), reasons[i],
        )
        for i in ranked
    )  # fmt: skip
    overlap = 0.0
    shared: tuple[ColourMatch, ...] = ()
    palette_sku = None
    if palette_item is None and ranked:
        # The colour comparison is shown against the palette reason's item or, without one, the main reason's.
        palette_item = ranked[0]
    if palette_item is not None:
        item = taste.items[palette_item]
        overlap, shared = palette_matches(index.palettes[row], index.palettes[item.row])
        palette_sku = item.sku
    return Explanation(
        sku=recommendation.sku,
        score=recommendation.score,
        components=recommendation.components,
        taste=recommendation.taste,
        because=because,
        palette_overlap=overlap,
        shared_colours=shared,
        palette_sku=palette_sku,
        learned="learned" in material,
    )
