r"""Ranking metrics of the offline evaluation (binary relevance), on top of PyG's own.

Every user's list is the ranking of *all* of that user's candidates (``rank_candidates``); the
top-k metrics come from ``torch_geometric.metrics`` and are used as they are defined there
(torch-geometric 2.8). For a user with test positives :math:`P` (:math:`|P|` = *all* the user's
test positives, also those a funnel's candidates missed) and top-k list :math:`L_k`, with
:math:`rel_i = 1` when the i-th item of the list is a positive:

* ``precision@k`` (``LinkPredPrecision``) :math:`= |L_k \cap P| / k` — divided by k even when
  the user has fewer than k candidates (the list is padded with never-relevant items).
* ``recall@k`` (``LinkPredRecall``) :math:`= |L_k \cap P| / |P|`.
* ``map@k`` (``LinkPredMAP``) :math:`= \frac{1}{\min(|P|, k)} \sum_{i \le k} rel_i \cdot
  \text{precision@}i`.
* ``ndcg@k`` (``LinkPredNDCG``) :math:`= \sum_{i \le k} rel_i / \log_2(i + 1)` divided by the
  ideal :math:`\sum_{i \le \min(|P|, k)} 1 / \log_2(i + 1)`.
* ``mrr@k`` (``LinkPredMRR``) :math:`= 1 / \text{rank of the first positive}` if that rank is
  :math:`\le k`, else 0.
* ``coverage@k`` (``LinkPredCoverage``): the share of the catalogue (the events open at the
  cutoff) that appears in at least one test user's top k.
* ``diversity@k`` (``LinkPredDiversity``) :math:`= 1 - \frac{1}{k(k-1)} \sum_{i \ne j \le k}
  [cat_i = cat_j]`, averaged over users; an event without a category counts as a category of
  its own (unknown is not "the same"), padding items too.

Computed here from the full ranking (vectorised over a batch of users):

* ``mrr``: :math:`1 / \text{rank of the first positive}` over the whole ranking (no cut-off);
  0 when no positive is ranked at all (a funnel that missed them all).
* ``auc``: per user, the probability that a positive candidate scores above a negative candidate,
  ties counting 1/2 (Mann-Whitney U / (|P| |N|) with mid-ranks), averaged over users that have
  at least one positive and one negative candidate. Computed from the raw scores, so it does
  not depend on the tie-breaking of the lists.

All per-user metrics are averaged over the users that have at least one positive (PyG's
convention). Ties in the lists are broken by a per-(user, event) pseudo-random key derived from
a seed and the ids (``tie_keys`` of ``id_hashes``), never by event order, so the order the events
happen to be stored or exported in cannot leak into a metric.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch_geometric.metrics import (
    LinkPredCoverage,
    LinkPredDiversity,
    LinkPredMAP,
    LinkPredMetricCollection,
    LinkPredMRR,
    LinkPredNDCG,
    LinkPredPrecision,
    LinkPredRecall,
)

KS: tuple[int, ...] = (5, 10, 20)
#: Finite floor for candidate scores (NaN and -inf map here); a funnel's dropped candidates sit
#: below it at ``DROPPED`` and non-candidates at -inf.
FLOOR = -1e300
DROPPED = -1.7e308


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def id_hashes(ids: object) -> np.ndarray:
    """A stable 64-bit hash per id (pandas' SipHash with its fixed key): ties and the random
    baseline depend on the ids, not on the order the export happened to return the rows in."""
    return pd.util.hash_array(np.asarray(ids, dtype=object).astype(str).astype(object))


def tie_keys(users: np.ndarray, items: np.ndarray, seed: int) -> np.ndarray:
    """A pseudo-random float in [0, 1) per (user, item, seed), shape (len(users), len(items)).
    ``users`` / ``items`` are non-negative integers: row numbers or ``id_hashes``."""
    u = np.asarray(users).astype(np.uint64)[:, None]
    e = np.asarray(items).astype(np.uint64)[None, :]
    salt = _splitmix64(np.array([seed], np.uint64) + np.uint64(0x5EED))
    with np.errstate(over="ignore"):
        key = _splitmix64(u ^ _splitmix64(e ^ salt))
    return (key >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def clean_scores(scores: np.ndarray) -> np.ndarray:
    """Scores as finite float64 in [FLOOR, -FLOOR] (NaN and -inf -> FLOOR, +inf -> -FLOOR)."""
    s = np.asarray(scores, np.float64)
    return np.clip(np.nan_to_num(s, nan=FLOOR, neginf=FLOOR, posinf=-FLOOR), FLOOR, -FLOOR)


def rank_candidates(
    scores: np.ndarray, candidates: np.ndarray, tie_key: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Order each row's candidates by score (descending), ties by ``tie_key`` (ascending).

    Returns ``order`` (b, n): column indices best first, non-candidates last; ``ranks`` (b, n):
    1-based position of every column in ``order``; ``n_cand`` (b,).
    """
    s = np.where(candidates, clean_scores(scores), -np.inf)
    key = torch.from_numpy(np.ascontiguousarray(tie_key, np.float64))
    perm = torch.argsort(key, dim=1, stable=True)
    s_perm = torch.from_numpy(s).gather(1, perm)
    idx = torch.sort(s_perm, dim=1, descending=True, stable=True).indices
    order = perm.gather(1, idx)
    ranks = torch.empty_like(order)
    ar = torch.arange(1, order.size(1) + 1).expand_as(order)
    ranks.scatter_(1, order, ar)
    n_cand = torch.from_numpy(np.asarray(candidates, bool).sum(axis=1))
    return order, ranks, n_cand


def auc_per_user(scores: np.ndarray, candidates: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Mann-Whitney AUC per row over the candidate columns (ties 1/2); NaN where a row has no
    positive or no negative candidate. ``scores`` may hold ``DROPPED`` for candidates a funnel
    left out: they tie with each other at the bottom."""
    cand = np.asarray(candidates, bool)
    pos = np.asarray(positives, bool) & cand
    raw = np.asarray(scores, np.float64)
    s = np.where(raw == DROPPED, DROPPED, clean_scores(raw))
    s = torch.from_numpy(np.where(cand, s, -np.inf))
    srt = torch.sort(s, dim=1).values
    left = torch.searchsorted(srt, s, right=False)
    right = torch.searchsorted(srt, s, right=True)
    n_non = torch.from_numpy((~cand).sum(axis=1)).unsqueeze(1)
    midrank = (left + right + 1).double() / 2.0 - n_non  # 1-based among candidates
    pos_t = torch.from_numpy(pos)
    n_pos = pos_t.sum(1).double()
    n_neg = torch.from_numpy(cand.sum(axis=1)).double() - n_pos
    rank_sum = (midrank * pos_t).sum(1)
    auc = (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
    auc[(n_pos == 0) | (n_neg == 0)] = float("nan")
    return auc.numpy()


class RankingMetrics:
    """Accumulates the metrics of one (model, view, segment) over batches of users.

    ``n_items``: catalogue size (the open events); ``categories``: category id per item (-1
    unknown). Items are local indices in [0, n_items).
    """

    def __init__(self, n_items: int, categories: np.ndarray, ks: Sequence[int] = KS) -> None:
        self.ks = tuple(sorted(ks))
        self.max_k = max(self.ks)
        self.n_items = n_items
        cat = np.asarray(categories, np.int64).copy()
        # Unknown categories and padding slots each get a category of their own.
        n_known = int(cat.max(initial=-1)) + 1
        unknown = np.flatnonzero(cat < 0)
        cat[unknown] = n_known + np.arange(len(unknown))
        pad = n_known + len(unknown) + np.arange(self.max_k)
        self._category = torch.from_numpy(np.concatenate([cat, pad]))
        metrics = []
        for k in self.ks:
            metrics += [
                LinkPredPrecision(k),
                LinkPredRecall(k),
                LinkPredMAP(k),
                LinkPredNDCG(k),
                LinkPredMRR(k),
                LinkPredCoverage(k, n_items + self.max_k),
                LinkPredDiversity(k, self._category),
            ]
        self.collection = LinkPredMetricCollection(metrics)
        self.mrr_sum = 0.0
        self.auc_sum = 0.0
        self.auc_users = 0
        self.users = 0
        self.users_with_positive = 0

    def pad_top(self, order: torch.Tensor, n_cand: torch.Tensor) -> torch.Tensor:
        """The first ``max_k`` columns of ``order``; slots past a row's candidates become
        padding items (indices ``n_items + slot``), which are never relevant."""
        k = self.max_k
        top = order[:, :k]
        if top.size(1) < k:
            top = torch.cat([top, torch.zeros(top.size(0), k - top.size(1), dtype=top.dtype)], 1)
        slot = torch.arange(k).expand_as(top)
        return torch.where(slot < n_cand.unsqueeze(1), top, self.n_items + slot)

    def update(
        self,
        top: torch.Tensor,
        pos_row: np.ndarray,
        pos_item: np.ndarray,
        pos_rank: np.ndarray,
        auc: np.ndarray,
    ) -> None:
        """One batch: ``top`` (b, max_k) padded item indices; positives as (row, item) pairs with
        their 1-based rank in the full list (``inf`` when not ranked); ``auc`` (b,) per row."""
        b = top.size(0)
        if b == 0:
            return
        index = torch.stack(
            [
                torch.as_tensor(pos_row, dtype=torch.long),
                torch.as_tensor(pos_item, dtype=torch.long),
            ]
        )
        self.collection.update(top, index)
        first = np.full(b, np.inf)
        np.minimum.at(first, np.asarray(pos_row, np.int64), np.asarray(pos_rank, np.float64))
        has_pos = np.bincount(np.asarray(pos_row, np.int64), minlength=b) > 0
        self.mrr_sum += float(np.where(np.isfinite(first), 1.0 / first, 0.0)[has_pos].sum())
        ok = ~np.isnan(auc)
        self.auc_sum += float(auc[ok].sum())
        self.auc_users += int(ok.sum())
        self.users += b
        self.users_with_positive += int(has_pos.sum())

    def compute(self) -> dict[str, float]:
        out: dict[str, float] = {}
        values = self.collection.compute()
        names = {
            "LinkPredPrecision": "precision",
            "LinkPredRecall": "recall",
            "LinkPredMAP": "map",
            "LinkPredNDCG": "ndcg",
            "LinkPredMRR": "mrr",
            "LinkPredDiversity": "diversity",
        }
        for key, metric in self.collection.items():
            cls, k = key.split("@")
            if cls == "LinkPredCoverage":
                mask = metric.mask[: self.n_items]
                out[f"coverage@{k}"] = float(mask.double().mean()) if self.n_items else 0.0
            else:
                out[f"{names[cls]}@{k}"] = float(values[key])
        n = max(self.users_with_positive, 1)
        out["mrr"] = self.mrr_sum / n
        out["auc"] = self.auc_sum / self.auc_users if self.auc_users else float("nan")
        out["users"] = float(self.users_with_positive)
        return dict(sorted(out.items()))
