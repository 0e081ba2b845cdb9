"""Training the GNN from what happened before a cutoff.

Protocol (nothing after ``cutoff`` is read: ``fit`` receives tables truncated at the cutoff):

1. An inner cutoff ``T_in`` splits the known past in time (``gnn.split.supervision_window``: by
   default the 65th percentile of all going registrations' times when the cutoff is the 80th).
   The message-passing graph, node features and pair features are the ``History`` at
   ``T_in``; the supervised edges are the going registrations in ``(T_in, cutoff]`` for events
   that start after ``T_in``. Edges that a step supervises are
   therefore never edges its messages pass along: the model cannot read the answer off the graph.
2. Each training user's candidates are the events starting after ``T_in`` that the user had not
   responded to by ``T_in`` (the evaluation's rule, replayed at ``T_in``).
3. Loss: sampled softmax over one positive and ``K`` negatives (a listwise ranking loss). The
   negatives are random candidates. Hard negatives (the host rule's best candidates the user did
   not register for in the window, brought in gradually as PinSage does) are available through
   ``max_hard_share`` but off by default: on both the synthetic graphs and Meetup Chicago they
   made the model worse (10 000 synthetic users, nDCG@10 0.33 with a 0.5 share vs 0.43 without;
   LightGBM shows the same). A "not in this window" on an event of a host the user loves is
   often a "later", not a "no", so those negatives teach the model to distrust loyalty.
4. Early stopping on nDCG@10 of a user-held-out validation slice, ranked over the full candidate
   set. The returned model averages the weights of the ``average_best`` checkpoints with the best
   validation nDCG: still one model, and less at the mercy of one lucky epoch on a noisy
   validation curve. Measured (10 000 synthetic users, test nDCG@10, seeds 0/1/2; each pair is
   the same training run, only the returned weights differ): best checkpoint
   0.461/0.461/0.448, the 5 best averaged 0.466/0.462/0.456. A second training window at an earlier
   inner cutoff (0.7 quantile; steps drawn from both graphs) gave 0.471/0.467/0.453 on top of
   the average: within seed noise for 1.6x the training time, so not kept (on Meetup Chicago,
   one seed, it gave 0.156 against 0.145 for the average alone: worth more seeds).

Full-graph training: every step embeds the whole graph (PyG's neighbour samplers need pyg-lib,
which PyPI lacks). Measured cost grows with edges; see the README for the sizes this handles.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch_geometric.data import HeteroData

from gnn.baselines import host_rule_scores
from gnn.data import FeatureEncoder, build_hetero_data
from gnn.features import N_FEATURES, pair_features
from gnn.history import Catalog, History
from gnn.model import EventRecommender
from gnn.split import DEFAULT_INNER_QUANTILE, SupervisionWindow, supervision_window
from graph.export import GraphTables


@dataclass
class TrainConfig:
    # Small embeddings generalise better across the temporal split (10 000 synthetic users:
    # nDCG@10 0.37 at 16 dims vs 0.33 at 64 with the same schedule).
    hidden: int = 16
    interaction_only: bool = False
    layers: int = 2
    dropout: float = 0.1
    lr: float = 3e-3
    weight_decay: float = 1e-5
    epochs: int = 60
    patience: int = 10
    batch_positives: int = 1024
    min_steps_per_epoch: int = 20
    negatives: int = 24
    max_hard_share: float = 0.0
    hard_ramp_epochs: int = 3
    hard_pool: int = 50
    inner_quantile: float = DEFAULT_INNER_QUANTILE
    max_val_users: int = 600
    val_share: float = 0.15
    seed: int = 0
    # Average the weights of the ``average_best`` checkpoints with the best validation nDCG
    # (one model; 1 = the single best checkpoint).
    average_best: int = 5
    # One thread: a full-graph step is many small scatter kernels, and with two threads on a
    # two-core machine that also runs Neo4j, the threads' spin-waiting made steps up to 20x slower
    # (measured: 0.85 s vs 16 s per forward+backward under load).
    threads: int = 1


def _graph_tensors(data: HeteroData) -> tuple[dict, dict]:
    return data.x_dict, data.edge_index_dict


def build_model(data: HeteroData, config: TrainConfig) -> EventRecommender:
    node_dims = {t: data[t].x.size(1) for t in data.node_types}
    return EventRecommender(
        node_dims,
        list(data.edge_types),
        N_FEATURES,
        config.hidden,
        config.layers,
        config.dropout,
        config.interaction_only,
    )


@torch.no_grad()
def score_block(
    model: EventRecommender,
    emb: dict[str, torch.Tensor],
    history: History,
    users: np.ndarray,
    events: np.ndarray,
) -> np.ndarray:
    """Scores (len(users), len(events)) for every pair of the block."""
    uu = np.repeat(users, len(events))
    ee = np.tile(events, len(users))
    feats = torch.from_numpy(pair_features(history, uu, ee))
    logits = model.decode(emb, torch.from_numpy(uu), torch.from_numpy(ee), feats)
    return logits.view(len(users), len(events)).numpy()


def _ndcg_at_10(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean binary nDCG@10 over rows (used only for early stopping; gnn.metrics reports)."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    gains = np.take_along_axis(labels, top, axis=1)
    discounts = 1.0 / np.log2(np.arange(2, 12))
    dcg = (gains * discounts).sum(1)
    n_pos = np.minimum(labels.sum(1), 10).astype(int)
    idcg = np.array([discounts[:n].sum() for n in n_pos])
    return float(np.mean(np.where(idcg > 0, dcg / np.maximum(idcg, 1e-9), 0.0)))


class ValidationSet:
    """Full-candidate ranking of held-out users at ``T_in``; pair features computed once.

    The history at ``T_in`` does not change during training, so neither do the validation
    pairs' features: only the model's scores do.
    """

    def __init__(self, sup: SupervisionWindow, users: np.ndarray) -> None:
        events = sup.open_events
        self.users, self.events = users, events
        self.labels = sup.positives[users][:, events].toarray() > 0
        self.blocked = ~sup.candidate_mask(users)
        uu = np.repeat(users, len(events))
        ee = np.tile(events, len(users))
        self.u, self.e = torch.from_numpy(uu), torch.from_numpy(ee)
        self.features = torch.from_numpy(pair_features(sup.history, uu, ee))

    @torch.no_grad()
    def ndcg_at_10(self, model: EventRecommender, emb: dict[str, torch.Tensor]) -> float:
        logits = torch.cat(
            [
                model.decode(emb, self.u[i : i + 500_000], self.e[i : i + 500_000],
                             self.features[i : i + 500_000])
                for i in range(0, len(self.u), 500_000)
            ]
        )  # fmt: skip
        scores = logits.view(len(self.users), len(self.events)).numpy().copy()
        scores[self.blocked] = -np.inf
        return _ndcg_at_10(scores, self.labels.astype(np.float32))


@dataclass
class TrainResult:
    model: EventRecommender
    encoder: FeatureEncoder
    config: TrainConfig
    inner_cutoff_ms: float
    cutoff_ms: float
    curve: list[dict[str, float]]
    best_val_ndcg: float
    seconds: float
    node_dims: dict[str, int]
    edge_types: list[tuple[str, str, str]]

    def summary(self) -> dict[str, object]:
        return {
            "config": asdict(self.config),
            "inner_cutoff_ms": self.inner_cutoff_ms,
            "cutoff_ms": self.cutoff_ms,
            "best_val_ndcg@10": self.best_val_ndcg,
            "epochs_run": len(self.curve),
            "seconds": self.seconds,
        }


def train(
    tables: GraphTables,
    catalog: Catalog,
    cutoff_ms: float,
    config: TrainConfig | None = None,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
) -> TrainResult:
    """Train on the inner window before ``cutoff_ms``; returns the best model by validation."""
    config = config or TrainConfig()
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)

    sup = supervision_window(tables, catalog, cutoff_ms, config.inner_quantile)
    encoder = FeatureEncoder.fit(catalog, seed=config.seed)
    data = build_hetero_data(sup.history, encoder)
    x_dict, edge_index_dict = _graph_tensors(data)
    model = build_model(data, config)

    # Standardise pair features with statistics of the training pairs (positives and randoms).
    sample_u = np.concatenate([sup.pos_user, rng.choice(sup.users, size=len(sup.pos_user))])
    sample_e = np.concatenate([sup.pos_event, rng.choice(sup.open_events, size=len(sup.pos_user))])
    sample = pair_features(sup.history, sample_u, sample_e)
    model.pair_mean.copy_(torch.from_numpy(sample.mean(0)))
    model.pair_std.copy_(torch.from_numpy(sample.std(0) + 1e-6))

    users = rng.permutation(sup.users)
    # Validation pairs are materialised once: cap them so memory stays bounded.
    max_val = max(1, min(config.max_val_users, 6_000_000 // max(len(sup.open_events), 1)))
    n_val = max(1, min(int(len(users) * config.val_share), max_val))
    val_users = np.sort(users[:n_val])
    validation = ValidationSet(sup, val_users)
    train_mask = ~np.isin(sup.pos_user, val_users)
    train_u, train_e = sup.pos_user[train_mask], sup.pos_event[train_mask]
    train_users = np.unique(train_u)

    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    hard_pool = _hard_pool(sup, train_users, config.hard_pool)
    kept: list[tuple[float, int, dict[str, torch.Tensor]]] = []
    best_val, stale = -1.0, 0
    curve: list[dict[str, float]] = []
    for epoch in range(config.epochs):
        ramp = (epoch + 1) / max(config.hard_ramp_epochs, 1)
        hard_share = min(config.max_hard_share, config.max_hard_share * ramp)
        model.train()
        order = rng.permutation(len(train_u))
        losses = []
        # Small graphs have few positives: smaller batches keep enough optimiser steps per epoch.
        batch = max(32, min(config.batch_positives, len(order) // config.min_steps_per_epoch))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            pu, pe = train_u[idx], train_e[idx]
            negs = rng.choice(sup.open_events, size=(len(idx), config.negatives))
            if hard_share > 0 and hard_pool:
                n_hard = int(config.negatives * hard_share)
                for i, user in enumerate(pu):
                    pool = hard_pool.get(int(user))
                    if pool is not None and len(pool):
                        negs[i, :n_hard] = rng.choice(pool, size=n_hard)
            all_u = np.repeat(pu, 1 + config.negatives)
            all_e = np.concatenate([pe[:, None], negs], axis=1).ravel()
            feats = torch.from_numpy(pair_features(sup.history, all_u, all_e))
            emb = model.embed(x_dict, edge_index_dict)
            logits = model.decode(emb, torch.from_numpy(all_u), torch.from_numpy(all_e), feats)
            logits = logits.view(len(idx), 1 + config.negatives)
            # A sampled "negative" that is another positive of the same user is not a negative.
            is_pos = _positive_mask(sup, pu, negs)
            logits[:, 1:] = logits[:, 1:].masked_fill(torch.from_numpy(is_pos), -1e9)
            loss = torch.nn.functional.cross_entropy(
                logits, torch.zeros(len(idx), dtype=torch.long)
            )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            losses.append(loss.item())

        model.eval()
        with torch.no_grad():
            emb = model.embed(x_dict, edge_index_dict)
        val = validation.ndcg_at_10(model, emb)
        point = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "val_ndcg@10": val}
        curve.append(point)
        if on_epoch:
            on_epoch(point)
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        kept.append((val, epoch, state))
        kept = sorted(kept, key=lambda item: (-item[0], item[1]))[: max(config.average_best, 1)]
        if val > best_val + 1e-4:
            best_val, stale = val, 0
        else:
            stale += 1
            if stale >= config.patience:
                break
    if kept:
        model.load_state_dict(_average_states([state for _, _, state in kept]))
    model.eval()
    if len(kept) > 1:  # report the validation nDCG of the model actually returned
        with torch.no_grad():
            best_val = validation.ndcg_at_10(model, model.embed(x_dict, edge_index_dict))
    return TrainResult(
        model=model,
        encoder=encoder,
        config=config,
        inner_cutoff_ms=sup.history.now_ms,
        cutoff_ms=cutoff_ms,
        curve=curve,
        best_val_ndcg=best_val,
        seconds=time.perf_counter() - started,
        node_dims={t: int(data[t].x.size(1)) for t in data.node_types},
        edge_types=list(data.edge_types),
    )


def _average_states(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Element-wise mean of checkpoints of one training run (floating-point tensors only)."""
    out = {}
    for key, value in states[0].items():
        if value.is_floating_point():
            out[key] = torch.stack([s[key] for s in states]).mean(0)
        else:
            out[key] = value
    return out


def _positive_mask(sup: SupervisionWindow, users: np.ndarray, negs: np.ndarray) -> np.ndarray:
    key_pos = sup.pos_user.astype(np.int64) * (1 << 32) + sup.pos_event
    keys = users[:, None].astype(np.int64) * (1 << 32) + negs
    return np.isin(keys, key_pos)


def _hard_pool(sup: SupervisionWindow, users: np.ndarray, size: int) -> dict[int, np.ndarray]:
    """Each user's ``size`` best non-positive candidates by the host rule at ``T_in``.

    These are the negatives a production funnel actually shows (events of the user's hosts and
    the popular ones); the model must learn to tell them from what the user chose.
    """
    pool: dict[int, np.ndarray] = {}
    for start in range(0, len(users), 512):
        block = users[start : start + 512]
        s = host_rule_scores(sup.history, block, sup.open_events)
        blocked = ~sup.candidate_mask(block) | (
            sup.positives[block][:, sup.open_events].toarray() > 0
        )
        s[blocked] = -np.inf
        k = min(size, s.shape[1])
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        for i, user in enumerate(block):
            chosen = top[i][np.isfinite(s[i, top[i]])]
            pool[int(user)] = sup.open_events[chosen]
    return pool
