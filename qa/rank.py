"""Ranking: rank lists in, one fused ranking out.  Pure arithmetic on lists: no model, no index.

Weighted reciprocal rank fusion (Cormack et al. 2009): a passage at rank r of list L earns
``w_L / (k + r)``; its fused score is the sum over the lists it is in.  Every weight is a
named parameter of :class:`Fusion`; the values used by the retriever, with the measurements
that chose them, are in :data:`DEFAULT`.

The fused score is reported *scaled*: divided by what a passage first in every list that
ran would earn (``sum(w_L) / (k + 1)``), so 1.0 means "first in every list", and the score
falls with rank by construction.  Nothing re-sorts the fused ranking afterwards: a signal
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
    """Weighted RRF.  ``weights``: list name -> weight (a list with no weight is ignored);
    ``k``: the RRF constant (larger flattens the reward for the very top ranks)."""

    weights: dict
    k: int = 60

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
            for r, (row, _s) in enumerate(hits, 1):
                scores[row] = scores.get(row, 0.0) + w / (self.k + r)
                ranks.setdefault(row, {})[name] = r
        if not scores:
            return []
        top = total / (self.k + 1)
        order = sorted(scores.items(), key=lambda t: (-t[1], t[0]))
        return [Fused(row, sc / top, ranks[row]) for row, sc in order]


def lexical_share(covered: float, floor: float) -> float:
    """How much the lexical lists count, from the share of the query the lexical side can see
    (``covered``: 1.0 for a Chinese query, the share of an English query's content words that
    reached a corpus term).  A slope from ``floor`` (nothing reached) to 1, never a cliff."""
    covered = min(max(covered, 0.0), 1.0)
    return floor + (1.0 - floor) * covered


# Weights measured on the dev sets (`bulletin-qa eval` over ../shared/eval/dev.jsonl,
# benchmarks/extra_questions.jsonl and both languages of xquad-dev, one run per value);
# see README "Figures" for the table.
DEFAULT = Fusion(weights={"dense": 1.0, "lexical": 1.0, "sentence_terms": 1.0, "names": 1.0,
                          "use": 0.67, "sentence": 0.67}, k=60)
LEXICAL_FLOOR = 0.2
