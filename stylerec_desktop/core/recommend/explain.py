"""Why a product was recommended, in terms a merchandiser can check side by side.

For a :class:`~.ranking.Recommendation` the explanation lists

- the per-signal terms of its score (from the ranking itself);
- ``because``: the customer's history items that drive it most, each with its event kind and date and the reason —
  ``style`` (largest ``history weight x style cosine``), ``palette`` (largest ``weight x colour cosine``) and, when the
  behaviour term is positive, ``bought together`` (largest ``weight x co-occurrence``); one item may carry several
  reasons, e.g. "style like the striped tee they bought on 3 May; palette like the tote they liked";
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
        looks = [r for r in self.reasons if r != "bought together"]
        if not looks:
            return f"often bought with {self.title}, which they {verb} on {when}"
        text = f"{' and '.join(looks)} like {self.title} they {verb} on {when}"
        return text + (" (and often bought with it)" if "bought together" in self.reasons else "")


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

    def summary(self) -> str:
        """One line for a table or a tooltip."""
        sentences = "; ".join(b.sentence() for b in self.because)
        return sentences or "popular with shoppers right now (no history item resembles it)"


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


def explain(index: StyleIndex, taste: CustomerTaste, recommendation: Recommendation, top: int = 3) -> Explanation:
    """Explain one recommendation (see the module docstring). ``top`` caps the ``because`` items."""
    row = recommendation.row
    reasons: dict[int, dict[str, float]] = {}
    palette_item = None
    if taste.items:
        rows = np.asarray([i.row for i in taste.items], np.int64)
        weight = np.asarray([i.weight for i in taste.items], np.float32)
        sims = {
            "style": index.rows(rows, "style") @ index.rows(row, "style"),
            "palette": index.rows(rows, "colour") @ index.rows(row, "colour"),
        }
        # A product is not its own reason (a carted product recommended again is explained by its neighbours).
        other = rows != row
        for reason, sim in sims.items():
            # Only items that resemble the product can explain it: a negative cosine is a contrast, not a reason.
            drive = np.where((sim > 0) & other, weight * sim, 0.0)
            if drive.max() > 0:
                best = int(np.argmax(drive))
                reasons.setdefault(best, {})[reason] = float(sim[best])
                if reason == "palette":
                    palette_item = best
        if recommendation.components.get("behaviour", 0.0) > 0:
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
    overlap, shared = 0.0, ()
    palette_sku = None
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
    )
