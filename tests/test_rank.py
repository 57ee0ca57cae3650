"""qa/retrieve/fusion.py on made-up rank lists: pure arithmetic, no model, no index."""

from __future__ import annotations

import pytest

from qa.retrieve.fusion import Fusion, lexical_share
from qa.retrieve.lists import DEFAULT

METHODS = ["minmax", "rrf"]

# three lists over rows 1..6, best first; row 1 is first in all of them
LISTS = {
    "dense": [(1, 0.91), (2, 0.88), (3, 0.80), (4, 0.71)],
    "lexical": [(1, 12.0), (3, 9.5), (5, 4.0), (2, 1.0)],
    "names": [(1, 2.0), (4, 1.0), (6, 1.0)],
}
WEIGHTS = {"dense": 1.0, "lexical": 0.5, "names": 1.0}


def fuse(lists, weights=WEIGHTS, method="minmax"):
    return Fusion(dict(weights), method=method).fuse(lists)


@pytest.mark.parametrize("method", METHODS)
def test_first_in_every_list_scores_one(method):
    out = fuse(LISTS, method=method)
    assert out[0].row == 1 and out[0].score == pytest.approx(1.0)
    assert out[0].ranks == {"dense": 1, "lexical": 1, "names": 1}
    assert all(f.score < 1.0 for f in out[1:])


@pytest.mark.parametrize("method", METHODS)
def test_one_list_alone_first_is_one(method):
    # the dense and lexical modes fuse a single list: 1.0 = first in that list
    out = Fusion({"dense": 1.0}, method=method).fuse({"dense": LISTS["dense"]})
    assert [f.row for f in out] == [1, 2, 3, 4]
    assert out[0].score == pytest.approx(1.0)


@pytest.mark.parametrize("method", METHODS)
def test_scores_fall_with_rank(method):
    out = fuse(LISTS, method=method)
    scores = [f.score for f in out]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 + 1e-9 for s in scores)
    single = Fusion({"dense": 1.0}, method=method).fuse({"dense": LISTS["dense"]})
    s = [f.score for f in single]
    assert all(a > b for a, b in zip(s, s[1:])), s  # distinct input scores: strictly falling


@pytest.mark.parametrize("method", METHODS)
def test_first_in_some_lists_earns_their_weight_share(method):
    # row 9 first in dense only, absent elsewhere; row 1 first in the others
    lists = {"dense": [(9, 0.9), (1, 0.5)], "lexical": [(1, 3.0), (2, 1.0)], "names": [(1, 1.0), (2, 0.5)]}
    out = {f.row: f for f in fuse(lists, method=method)}
    if method == "minmax":
        assert out[9].score == pytest.approx(1.0 / 2.5)  # dense's weight over all weights
    else:
        assert out[9].score == pytest.approx((1.0 / 61) / (2.5 / 61))
    assert out[1].score > out[9].score


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("weight", [0.0, -1.0, None])
def test_a_list_without_weight_is_ignored(method, weight):
    weights = dict(WEIGHTS)
    extra = {"ignored": [(7, 100.0), (2, 50.0)]}
    if weight is not None:
        weights["ignored"] = weight
    base = fuse(LISTS, WEIGHTS, method)
    with_extra = fuse({**LISTS, **extra}, weights, method)
    assert [(f.row, f.score, f.ranks) for f in with_extra] == [(f.row, f.score, f.ranks) for f in base]
    assert 7 not in {f.row for f in with_extra}
    assert all("ignored" not in f.ranks for f in with_extra)


def test_no_weighted_list_fuses_to_nothing():
    assert Fusion({"dense": 0.0}).fuse({"dense": [(1, 1.0)]}) == []
    assert Fusion({"dense": 1.0}).fuse({}) == []
    assert Fusion({"dense": 1.0}).fuse({"dense": []}) == []


@pytest.mark.parametrize("method", METHODS)
def test_ties_are_broken_by_row(method):
    # rows 8 and 3 mirror each other: each first in one list of equal weight, second in the other
    lists = {"dense": [(8, 1.0), (3, 0.0)], "lexical": [(3, 1.0), (8, 0.0)]}
    out = Fusion({"dense": 1.0, "lexical": 1.0}, method=method).fuse(lists)
    assert [f.row for f in out] == [3, 8]
    assert out[0].score == pytest.approx(out[1].score)


def test_with_weights_returns_a_new_fusion():
    f = Fusion({"dense": 1.0, "lexical": 1.0})
    g = f.with_weights(lexical=0.25)
    assert g.weights == {"dense": 1.0, "lexical": 0.25} and f.weights == {"dense": 1.0, "lexical": 1.0}
    assert g.method == f.method and g.k == f.k


def test_lexical_share_is_a_slope_from_the_floor_to_one():
    floor = 0.2
    assert lexical_share(0.0, floor) == pytest.approx(floor)
    assert lexical_share(1.0, floor) == pytest.approx(1.0)
    assert lexical_share(0.5, floor) == pytest.approx(floor + 0.5 * (1 - floor))
    grid = [lexical_share(c / 20, floor) for c in range(21)]
    assert all(b > a for a, b in zip(grid, grid[1:]))  # monotone, no cliff
    steps = [b - a for a, b in zip(grid, grid[1:])]
    assert max(steps) - min(steps) < 1e-9  # a straight slope
    assert lexical_share(-3.0, floor) == pytest.approx(floor) and lexical_share(7.0, floor) == pytest.approx(1.0)


def test_default_fusion_weights_the_retrievers_lists():
    assert DEFAULT.weights["dense"] > 0 and DEFAULT.weights["lexical"] > 0
    assert all(w >= 0 for w in DEFAULT.weights.values())


def test_every_list_is_declared_once_and_fusion_reads_the_table():
    from qa.retrieve import lists

    names = [x.name for x in lists.LISTS]
    assert len(names) == len(set(names)) and set(DEFAULT.weights) == set(names)
    assert all(DEFAULT.weights[x.name] == x.weight and x.serves and x.when for x in lists.LISTS)


def test_docs_ranking_holds_the_generated_table_and_an_ablation_row_each():
    from pathlib import Path

    from qa.retrieve import lists

    text = (Path(__file__).resolve().parents[1] / "docs" / "ranking.md").read_text(encoding="utf-8")
    assert lists.lists_markdown() in text, "docs/ranking.md: paste qa.retrieve.lists.lists_markdown()"
    ablation = text[text.index("## Ablation"):]
    for name in [p for p in lists.PARTS if p != "second"]:
        assert f"| `{name}` |" in ablation, f"docs/ranking.md has no ablation row for {name}"
    doc = (Path(__file__).resolve().parents[1] / "qa" / "retrieve" / "retriever.py").read_text(encoding="utf-8")
    assert "reciprocal rank fusion" not in doc.lower()
