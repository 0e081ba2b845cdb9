"""Every metric of gnn.metrics on cases computed by hand."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gnn.metrics import (
    DROPPED,
    RankingMetrics,
    auc_per_user,
    rank_candidates,
    tie_keys,
)

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)


def _run(scores, cand, pos, categories, ks=(2, 3), seed=0) -> dict[str, float]:
    scores, cand, pos = np.asarray(scores, float), np.asarray(cand, bool), np.asarray(pos, bool)
    order, ranks, n_cand = rank_candidates(
        scores, cand, tie_keys(np.arange(len(scores)), np.arange(scores.shape[1]), seed)
    )
    m = RankingMetrics(scores.shape[1], np.asarray(categories), ks)
    pr, pc = np.nonzero(pos)
    rank = np.where(cand[pr, pc], ranks[pr, pc].numpy(), np.inf)
    m.update(m.pad_top(order, n_cand), pr, pc, rank, auc_per_user(scores, cand, pos))
    return m.compute()


# Two users, five items; user 0 has item 4 excluded (not a candidate).
SCORES = [[0.9, 0.6, 0.5, 0.1, 0.3], [1.0, 2.0, 3.0, 4.0, 5.0]]
CAND = [[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]]
POS = [[0, 1, 0, 1, 0], [1, 0, 0, 0, 0]]
CATS = [0, 0, 1, -1, 1]
# user 0 ranks 0, 1, 2, 3 (positives 1, 3 at ranks 2 and 4); user 1 ranks 4, 3, 2, 1, 0
# (positive 0 at rank 5).


def test_top_k_metrics_by_hand() -> None:
    out = _run(SCORES, CAND, POS, CATS)
    ln = math.log2
    # precision@k: hits / k
    assert out["precision@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert out["precision@3"] == pytest.approx((1 / 3 + 0) / 2)
    # recall@k: hits / all positives
    assert out["recall@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert out["recall@3"] == pytest.approx((1 / 2 + 0) / 2)
    # map@k: sum of precision@i at hits / min(|P|, k) -> user 0: (1/2) / 2
    assert out["map@2"] == pytest.approx((0.25 + 0) / 2)
    # ndcg@k: user 0 hit at rank 2 -> (1/log2 3) / (1 + 1/log2 3)
    u0 = (1 / ln(3)) / (1 + 1 / ln(3))
    assert out["ndcg@2"] == pytest.approx(u0 / 2, rel=1e-5)
    assert out["ndcg@3"] == pytest.approx(u0 / 2, rel=1e-5)
    # mrr@k (truncated): 1/2 for user 0, 0 for user 1 (first positive at rank 5 > k)
    assert out["mrr@2"] == pytest.approx(0.25)
    # mrr over the full ranking: (1/2 + 1/5) / 2
    assert out["mrr"] == pytest.approx((0.5 + 0.2) / 2)


def test_auc_by_hand_with_ties_counting_half() -> None:
    # user 0: positives 1 (0.6), 3 (0.1); negatives 0 (0.9), 2 (0.5)
    # pairs: (1>0)=0, (1>2)=1, (3>0)=0, (3>2)=0 -> 1/4. user 1: positive lowest -> 0.
    auc = auc_per_user(np.array(SCORES), np.array(CAND, bool), np.array(POS, bool))
    np.testing.assert_allclose(auc, [0.25, 0.0])
    # ties count 1/2: one positive tied with one of two negatives, above the other
    auc = auc_per_user(
        np.array([[1.0, 1.0, 0.0]]), np.ones((1, 3), bool), np.array([[True, False, False]])
    )
    assert auc[0] == pytest.approx(0.75)
    # undefined without a negative (or a positive): NaN, left out of the mean
    auc = auc_per_user(
        np.array([[1.0, 2.0], [1.0, 2.0]]),
        np.ones((2, 2), bool),
        np.array([[True, True], [False, False]]),
    )
    assert np.isnan(auc).all()
    # the excluded item's score (item 4 of user 0) plays no part
    s = np.array(SCORES)
    s[0, 4] = 100.0
    np.testing.assert_allclose(
        auc_per_user(s, np.array(CAND, bool), np.array(POS, bool)), [0.25, 0.0]
    )


def test_auc_mean_ignores_undefined_users() -> None:
    out = _run([[1.0, 0.0], [0.5, 0.4]], [[1, 1], [1, 1]], [[1, 1], [1, 0]], [0, 1], ks=(2,))
    assert out["auc"] == pytest.approx(1.0)  # user 0 undefined (no negative)


def test_coverage_and_diversity_by_hand() -> None:
    out = _run(SCORES, CAND, POS, CATS)
    # top 2: user 0 {0, 1}, user 1 {4, 3} -> 4 of 5 items
    assert out["coverage@2"] == pytest.approx(4 / 5)
    assert out["coverage@3"] == pytest.approx(5 / 5)
    # diversity@2: user 0 items 0, 1 same category -> 0; user 1 items 4 (cat 1), 3 (unknown) -> 1
    assert out["diversity@2"] == pytest.approx(0.5)
    # diversity@3: user 0 cats 0, 0, 1 -> 1 - 2/6; user 1 cats 1, unknown, 1 -> 1 - 2/6
    assert out["diversity@3"] == pytest.approx(2 / 3, rel=1e-6)


def test_fewer_candidates_than_k_pads_with_irrelevant_distinct_items() -> None:
    # one candidate, which is the positive
    out = _run([[0.3, 0.2, 0.1]], [[1, 0, 0]], [[1, 0, 0]], [0, 0, 0], ks=(3,))
    assert out["precision@3"] == pytest.approx(1 / 3)  # PyG divides by k
    assert out["recall@3"] == pytest.approx(1.0)
    assert out["ndcg@3"] == pytest.approx(1.0)
    assert out["map@3"] == pytest.approx(1.0)
    assert out["coverage@3"] == pytest.approx(1 / 3)  # padding is not catalogue
    assert out["diversity@3"] == pytest.approx(1.0)  # padding slots are distinct


def test_positive_that_is_not_ranked_counts_as_missed() -> None:
    # funnel view: the positive (item 2) is not among the ranked candidates
    out = _run([[0.9, 0.8, 0.7]], [[1, 1, 0]], [[0, 0, 1]], [0, 1, 2], ks=(2,))
    assert out["recall@2"] == 0.0 and out["ndcg@2"] == 0.0 and out["mrr"] == 0.0
    assert out["users"] == 1.0  # still in the denominator
    # and one hit of two positives: recall 1/2, ideal DCG over both
    out = _run([[0.9, 0.8, 0.7]], [[1, 1, 0]], [[1, 0, 1]], [0, 1, 2], ks=(2,))
    assert out["recall@2"] == pytest.approx(0.5)
    assert out["ndcg@2"] == pytest.approx(1 / (1 + 1 / math.log2(3)), rel=1e-5)


def test_ties_are_broken_by_a_seeded_key_not_by_item_order() -> None:
    n = 200
    scores = np.zeros((3, n))
    cand = np.ones((3, n), bool)
    keys = tie_keys(np.arange(3), np.arange(n), seed=0)
    order, ranks, _n_cand = rank_candidates(scores, cand, keys)
    assert not np.array_equal(order[0].numpy(), np.arange(n))  # not storage order
    assert not np.array_equal(order[0].numpy(), order[1].numpy())  # per user
    np.testing.assert_array_equal(order.numpy(), np.argsort(keys, axis=1, kind="stable"))
    again, _, _ = rank_candidates(scores, cand, tie_keys(np.arange(3), np.arange(n), seed=0))
    np.testing.assert_array_equal(order.numpy(), again.numpy())
    other, _, _ = rank_candidates(scores, cand, tie_keys(np.arange(3), np.arange(n), seed=1))
    assert not np.array_equal(order.numpy(), other.numpy())
    # ranks are the inverse permutation, 1-based
    r = ranks.numpy()
    np.testing.assert_array_equal(
        np.take_along_axis(r, order.numpy(), 1), np.tile(np.arange(1, n + 1), (3, 1))
    )


def test_scores_order_before_ties_and_non_candidates_come_last() -> None:
    scores = np.array([[np.nan, 5.0, -np.inf, 5.0, 1.0, 9.0]])
    cand = np.array([[1, 1, 1, 1, 1, 0]], bool)
    order, _ranks, n_cand = rank_candidates(scores, cand, tie_keys([0], np.arange(6), 0))
    o = order[0].numpy().tolist()
    assert set(o[:2]) == {1, 3} and o[2] == 4 and set(o[3:5]) == {0, 2} and o[5] == 5
    assert n_cand.tolist() == [5]


def test_funnel_dropped_candidates_tie_at_the_bottom_in_auc() -> None:
    # positive 0 dropped by stage 1 ties with negative 2 (also dropped), below negative 1
    s = np.array([[DROPPED, 0.5, DROPPED]])
    auc = auc_per_user(s, np.ones((1, 3), bool), np.array([[True, False, False]]))
    assert auc[0] == pytest.approx(0.25)
