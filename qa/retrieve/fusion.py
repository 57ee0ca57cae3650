"""Ranking: rank lists in, one fused ranking out.  Pure arithmetic on lists: no model, no index.

Two fusion methods, both weighted, every weight a named parameter of :class:`Fusion`:

* ``"minmax"`` (the default): each list's scores are scaled to 0..1 over the list (its best
  1, its last 0: min-max normalisation), and a passage's fused score is the weighted sum
  over the lists it is in (a convex combination, Bruch et al. 2023, "An Analysis of Fusion
  Functions for Hybrid Retrieval").  Unlike rank fusion it keeps how far ahead a list's top
  passage is: a lexical list whose best match is barely better than its tenth says little.
* ``"rrf"``: weighted reciprocal rank fusion (Cormack et al. 2009): rank r of list L earns
  ``w_L / (k + r)``.

The weights the retriever uses, with the measurements that chose them, are declared with the
lists themselves (``qa/retrieve/lists.py``).  The fused score is reported *scaled*: divided by what a passage first in
every list that ran would earn, so 1.0 means "first in every list", and the score falls
with rank by construction.  Nothing re-sorts the fused ranking afterwards: a signal
worth having (a named place, term coverage) is one more list with its own weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

RankList = list[tuple[int, float]]  # (row, score), best first


@dataclass(frozen=True)
class Fused:
    row: int
    score: float  # scaled: 1.0 = first in every list that ran
    ranks: dict = field(default_factory=dict)  # list name -> 1-based rank in it


@dataclass(frozen=True)
class Fusion:
    """``weights``: list name -> weight (a list with no weight is ignored); ``method``:
    "minmax" or "rrf"; ``k``: the RRF constant (larger flattens the reward for the very top
    ranks; unused by "minmax")."""

    weights: dict
    k: int = 60
    method: str = "minmax"

    def with_weights(self, **changes: float) -> "Fusion":
        return replace(self, weights={**self.weights, **changes})

    def fuse(self, lists: dict[str, RankList]) -> list[Fused]:
        scores: dict[int, float] = {}
        ranks: dict[int, dict[str, int]] = {}
        total = 0.0
        for name, hits in lists.items():
            w = self.weights.get(name, 0.0)
            if w <= 0:
                continue
            total += w
            if self.method == "rrf":
                gains = [w / (self.k + r) for r in range(1, len(hits) + 1)]
            else:
                gains = [w * g for g in minmax([s for _, s in hits])]
            for r, ((row, _s), g) in enumerate(zip(hits, gains), 1):
                scores[row] = scores.get(row, 0.0) + g
                ranks.setdefault(row, {})[name] = r
        if not scores:
            return []
        top = total / (self.k + 1) if self.method == "rrf" else total
        order = sorted(scores.items(), key=lambda t: (-t[1], t[0]))
        return [Fused(row, sc / top, ranks[row]) for row, sc in order]


def minmax(scores: list[float]) -> list[float]:
    """Scores scaled to 0..1 over their list (best 1, worst 0); all equal -> all 1."""
    if not scores:
        return []
    hi, lo = max(scores), min(scores)
    if hi <= lo:
        return [1.0] * len(scores)
    return [(s - lo) / (hi - lo) for s in scores]


def lexical_share(covered: float, floor: float) -> float:
    """How much the lexical lists count, from the share of the query the lexical side can see
    (``covered``: 1.0 for a Chinese query, the share of an English query's content words that
    reached a corpus term).  A slope from ``floor`` (nothing reached) to 1, never a cliff."""
    covered = min(max(covered, 0.0), 1.0)
    return floor + (1.0 - floor) * covered
