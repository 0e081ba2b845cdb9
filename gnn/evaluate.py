"""Offline evaluation: every model on the same temporal split, full ranking, one report.

``evaluate(tables, out_dir, ...)`` runs the protocol of ``gnn.split`` on whatever graph the
tables hold (synthetic or imported):

1. T = ``cutoff_ms`` (default: the 0.8 quantile of going registration times);
   ``truncate(tables, T)`` is the only thing any ranker's ``fit`` ever sees, and the ``History``
   every model scores with is the truncated graph at T.
2. **Model view**: each test user's candidates (events starting after T, minus the events the
   user answered at or before T) are ranked by each model in full; metrics in ``gnn.metrics``.
3. **Funnel view** (only when a stage-1 ``candidate_fn`` is given): the model ranks only the
   user's stage-1 candidates at T; a positive the candidates missed stays in every denominator
   and counts as missed. ``stage1_recall`` reports, per source and overall, the share of test
   positives the candidates contain.
4. Segments: ``cold_users`` (test users without any registration at or before T) and
   ``cold_events`` (per user, only the positives on events that had no registration at or
   before T count as relevant, the ranking being the user's full list; users with at least one
   such positive).

Outputs in ``out_dir``: ``report.json``, ``rankings.parquet`` (model view: per test user and
model the top ``top_n`` events and every test positive: ``user_id, model, event_id, rank, score,
label``, rank 1 = best over all of the user's candidates), ``report.md`` and PNG plots
(``gnn.report``).

``candidate_fn(history, users)`` takes the ``History`` at T and catalog user rows, and returns a
boolean (or 0/1 sparse) mask of shape (len(users), n_events) over the catalog's event rows, or a
dict ``source -> mask`` (the funnel uses their union). ``masks_from_sources`` builds that from
per-user ``{source: [event ids]}``, e.g. for Cypher candidates at T::

    def candidate_fn(history, users):
        now = datetime.fromtimestamp(history.now_ms / 1000, tz=UTC)
        ids = history.catalog.user_ids[users]
        sets = graph.candidates.candidates_for_many(driver, ids, now)
        return masks_from_sources(history.catalog, users,
                                  {u: s.by_source() for u, s in sets.items()})
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
import torch

from gnn.baselines import BASELINES, make_baseline
from gnn.history import Catalog, History
from gnn.metrics import (
    DROPPED,
    KS,
    RankingMetrics,
    auc_per_user,
    id_hashes,
    rank_candidates,
    tie_keys,
)
from gnn.ranking import Ranker
from gnn.split import make_split, truncate
from graph.export import GraphTables

log = logging.getLogger(__name__)

MODELS: tuple[str, ...] = (
    "random",
    "popularity",
    "host_rule",
    "item_knn",
    "mf",
    "lightgbm",
    "gnn",
    "oracle",
)
SEGMENTS: tuple[str, ...] = ("cold_users", "cold_events")
CandidateFn = Callable[[History, np.ndarray], Any]
RANKINGS_SCHEMA = pa.schema(
    [
        ("user_id", pa.string()),
        ("model", pa.string()),
        ("event_id", pa.string()),
        ("rank", pa.int32()),
        ("score", pa.float64()),
        ("label", pa.int8()),
    ]
)


class LeakageError(ValueError):
    """A model would see data from after the evaluation cutoff."""


def iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000.0, tz=UTC).isoformat()


def parse_time(value: str | float | int | None) -> float | None:
    """ISO 8601 (an offset is required; a bare date means 00:00 UTC) or epoch ms -> epoch ms."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    text = value.strip()
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return float(text)
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        if len(text) > 10:
            raise ValueError(f"{value!r} needs a UTC offset, e.g. 2016-01-01T00:00:00+00:00")
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp() * 1000.0


class PretrainedRanker:
    """A ranker trained elsewhere (the GNN's model folder): ``fit`` does not train again, it
    checks that the model's own training cutoff is not after the evaluation cutoff."""

    def __init__(self, inner: Any, trained_cutoff_ms: float | None, source: str = "") -> None:
        self.inner = inner
        self.name = inner.name
        self.trained_cutoff_ms = trained_cutoff_ms
        self.source = source

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        if self.trained_cutoff_ms is None:
            warnings.warn(
                f"{self.name}: the model folder does not say up to when it was trained; "
                "its numbers may include leakage",
                stacklevel=2,
            )
        elif self.trained_cutoff_ms > cutoff_ms + 1.0:
            raise LeakageError(
                f"{self.name} ({self.source}) was trained with data up to "
                f"{iso(self.trained_cutoff_ms)}, after the evaluation cutoff {iso(cutoff_ms)}: "
                "it has seen the test period. Train it with the same cutoff "
                "(or evaluate with --cutoff at or after its training cutoff)."
            )

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        return self.inner.score(history, users, events)


def load_truth(path: Path | str) -> Any:
    """The synthetic generator's planted truth (``etl.synthetic.truth``): the dataset folder or
    its ``truth/`` folder. Imported lazily: only the oracle needs it."""
    from etl.synthetic.truth import load_truth as _load_truth

    return _load_truth(path)


def load_gnn(model_dir: Path | None) -> tuple[Any | None, str | None]:
    """The GNN ranker from its model folder (imported lazily), or (None, why not)."""
    if model_dir is None:
        return None, "no model folder given (--model)"
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").exists():
        return None, f"no model in {model_dir} (config.json missing)"
    from gnn.model_ranker import GNNRanker

    ranker = GNNRanker.load(model_dir)
    cutoff = (getattr(ranker, "meta", None) or {}).get("cutoff_ms")
    return PretrainedRanker(ranker, None if cutoff is None else float(cutoff), str(model_dir)), None


def build_rankers(
    names: Iterable[str],
    seed: int = 0,
    model_dir: Path | None = None,
    truth: Any = None,
) -> tuple[list[Any], dict[str, str]]:
    """Rankers by name; the ones that cannot run here are returned in ``skipped`` with why."""
    rankers: list[Any] = []
    skipped: dict[str, str] = {}
    for name in names:
        if name == "gnn":
            ranker, why = load_gnn(model_dir)
            if ranker is None:
                skipped[name] = why or "unavailable"
                warnings.warn(f"gnn skipped: {why}", stacklevel=2)
                continue
            rankers.append(ranker)
        elif name == "oracle":
            if truth is None:
                skipped[name] = "no planted truth (synthetic data only: --truth DIR)"
                continue
            if isinstance(truth, str | Path):
                truth = load_truth(truth)
            from gnn.baselines import OracleRanker

            rankers.append(OracleRanker(truth))
        elif name in BASELINES:
            rankers.append(make_baseline(name, seed=seed))
        else:
            raise KeyError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return rankers, skipped


def masks_from_sources(
    catalog: Catalog,
    users: np.ndarray,
    per_user: Mapping[str, Mapping[str, Iterable[str]]],
) -> dict[str, sp.csr_matrix]:
    """Stage-1 output by ids -> the masks ``candidate_fn`` returns.

    ``per_user[user_id][source]`` lists the event ids that source proposed for that user (e.g.
    ``{u: s.by_source() for u, s in graph.candidates.candidates_for_many(...).items()}``).
    Returns ``source -> (len(users), n_events)`` 0/1 sparse masks over the catalog rows; unknown
    event ids are ignored, users missing from ``per_user`` get no candidates."""
    rows: dict[str, list[np.ndarray]] = {}
    cols: dict[str, list[np.ndarray]] = {}
    for i, user_id in enumerate(catalog.user_ids[np.asarray(users, np.int64)]):
        for source, event_ids in (per_user.get(user_id) or {}).items():
            e = catalog.event_rows(list(event_ids))
            e = e[e >= 0]
            rows.setdefault(source, []).append(np.full(len(e), i))
            cols.setdefault(source, []).append(e)
    shape = (len(users), catalog.n_events)
    out = {}
    for source in rows:
        r, c = np.concatenate(rows[source]), np.concatenate(cols[source])
        m = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=shape)
        m.sum_duplicates()
        m.data[:] = 1.0
        out[source] = m
    return out


def _stage1_masks(
    candidate_fn: CandidateFn, history: History, users: np.ndarray, open_events: np.ndarray
) -> dict[str, np.ndarray]:
    """``candidate_fn``'s output as dense bool masks (len(users), len(open_events)) per source."""
    raw = candidate_fn(history, users)
    if not isinstance(raw, Mapping):
        raw = {"all": raw}
    out = {}
    for source, mask in raw.items():
        if sp.issparse(mask):
            m = sp.csr_matrix(mask)[:, open_events].toarray() != 0
        else:
            arr = mask.numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
            m = arr[:, open_events] != 0
        if m.shape != (len(users), len(open_events)):
            raise ValueError(f"candidate_fn: mask of {source!r} has shape {m.shape}")
        out[str(source)] = m
    return out


def _batches(n: int, size: int) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


def _finite(obj: Any) -> Any:
    """JSON-safe copy: NaN / inf -> None, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def evaluate(
    tables: GraphTables,
    out_dir: Path | str | None,
    cutoff_ms: float | None = None,
    rankers: Sequence[str | Ranker] | None = None,
    candidate_fn: CandidateFn | None = None,
    truth: Any = None,
    model_dir: Path | None = None,
    seed: int = 0,
    ks: Sequence[int] = KS,
    top_n: int = 100,
    max_test_users: int | None = None,
    pair_budget: int = 4_000_000,
    max_batch_users: int = 2000,
    progress: bool = False,
    console: Any = None,
) -> dict[str, Any]:
    """Run the protocol (module docstring) and write the report into ``out_dir`` (``None``:
    compute only). ``rankers``: names (``MODELS``) or ``Ranker`` objects, default all models
    (``gnn`` needs ``model_dir``, ``oracle`` needs ``truth``). ``max_test_users``: evaluate a
    seeded sample of the test users (quicker on big graphs; the protocol records it).
    Returns the report as a dict (what ``report.json`` holds)."""
    started = time.perf_counter()
    ks = tuple(sorted(ks))
    catalog = Catalog.from_tables(tables)
    split = make_split(tables, catalog, cutoff_ms)
    cutoff = split.cutoff_ms
    known = truncate(tables, cutoff)
    history = History.at(known, catalog, cutoff)

    names_or_rankers = list(MODELS if rankers is None else rankers)
    resolved: list[Any] = []
    skipped: dict[str, str] = {}
    for item in names_or_rankers:
        if isinstance(item, str):
            got, why = build_rankers([item], seed=seed, model_dir=model_dir, truth=truth)
            resolved += got
            skipped.update(why)
        else:
            resolved.append(item)

    names = [r.name for r in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"two rankers share a name: {names}; give each its own .name")

    test_users = split.test_users
    sampled = False
    if max_test_users is not None and len(test_users) > max_test_users:
        rng = np.random.default_rng(seed)
        test_users = np.sort(rng.choice(test_users, size=max_test_users, replace=False))
        sampled = True
    open_events = split.open_events
    n_open = len(open_events)
    if len(test_users) == 0 or n_open == 0:
        raise ValueError(
            f"nothing to evaluate at cutoff {iso(cutoff)}: {len(test_users)} test users, "
            f"{n_open} events starting after it"
        )

    prog = _Progress(progress, console)
    training: dict[str, dict[str, Any]] = {}
    fitted: list[Any] = []
    with prog:
        for ranker in resolved:
            task = prog.add(f"fit {ranker.name}", 1)
            t0 = time.perf_counter()
            try:
                ranker.fit(known, catalog, cutoff)
            except ImportError as exc:  # an optional library (implicit) missing here
                skipped[ranker.name] = f"{type(exc).__name__}: {exc}"
                warnings.warn(f"{ranker.name} skipped: {exc}", stacklevel=2)
                prog.done(task)
                continue
            training[ranker.name] = {"fit_seconds": time.perf_counter() - t0, "score_seconds": 0.0}
            info = getattr(ranker, "info", None)
            if info:
                training[ranker.name]["info"] = info
            fitted.append(ranker)
            prog.done(task)

        categories = catalog.event_category[open_events]
        cold_event_local = split.cold_events[open_events]
        metrics = {
            (view, seg, r.name): RankingMetrics(n_open, categories, ks)
            for r in fitted
            for view, seg in [
                ("model", "all"),
                ("model", "cold_users"),
                ("model", "cold_events"),
                ("funnel", "all"),
            ]
            if view == "model" or candidate_fn is not None
        }
        stage1: dict[str, dict[str, float]] = {}
        writer = None
        if out_dir is not None:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(Path(out_dir) / "rankings.parquet", RANKINGS_SCHEMA)
        batch_users = int(np.clip(pair_budget // max(n_open, 1), 1, max_batch_users))
        n_batches = math.ceil(len(test_users) / batch_users)
        task = prog.add(f"rank {len(test_users):,} users x {n_open:,} events", n_batches)
        tie_seed = seed * 7919 + 0x7E
        user_hash, event_hash = id_hashes(catalog.user_ids), id_hashes(catalog.event_ids)
        try:
            for sl in _batches(len(test_users), batch_users):
                users = test_users[sl]
                cand = split.candidate_mask(users)
                pos = split.positive_mask(users) & cand
                pr, pc = np.nonzero(pos)
                tk = tie_keys(user_hash[users], event_hash[open_events], tie_seed)
                stage = (
                    _stage1_masks(candidate_fn, history, users, open_events)
                    if candidate_fn is not None
                    else None
                )
                if stage is not None:
                    union = np.zeros_like(cand)
                    for m in stage.values():
                        union |= m
                    _update_stage1(stage1, {**stage, "all": union}, pos, cand)
                for ranker in fitted:
                    t0 = time.perf_counter()
                    scores = np.asarray(ranker.score(history, users, open_events), np.float64)
                    training[ranker.name]["score_seconds"] += time.perf_counter() - t0
                    if scores.shape != cand.shape:
                        raise ValueError(f"{ranker.name}.score returned shape {scores.shape}")
                    order, ranks, n_cand = rank_candidates(scores, cand, tk)
                    auc = auc_per_user(scores, cand, pos)
                    pos_rank = ranks[pr, pc].numpy().astype(np.float64)
                    _update_segments(
                        metrics,
                        ranker.name,
                        order,
                        n_cand,
                        pr,
                        pc,
                        pos_rank,
                        auc,
                        split.cold_users[users],
                        cold_event_local,
                        scores,
                        cand,
                        pos,
                    )
                    if writer is not None:
                        writer.write_table(
                            _rankings_rows(
                                catalog,
                                users,
                                open_events,
                                ranker.name,
                                order,
                                ranks,
                                n_cand,
                                scores,
                                pos,
                                top_n,
                            )
                        )
                    if stage is not None:
                        cand_f = cand & union
                        order_f, ranks_f, n_f = rank_candidates(scores, cand_f, tk)
                        in_f = cand_f[pr, pc]
                        rank_f = np.where(in_f, ranks_f[pr, pc].numpy(), np.inf)
                        s_f = np.where(cand_f, scores, DROPPED)
                        acc = metrics[("funnel", "all", ranker.name)]
                        acc.update(
                            acc.pad_top(order_f, n_f), pr, pc, rank_f, auc_per_user(s_f, cand, pos)
                        )
                prog.advance(task)
        finally:
            if writer is not None:
                writer.close()

    def collect(view: str, seg: str) -> dict[str, dict[str, float]]:
        return {
            r.name: metrics[(view, seg, r.name)].compute()
            for r in fitted
            if (view, seg, r.name) in metrics
        }

    seg_counts = {
        "cold_users": int(split.cold_users[test_users].sum()),
        "cold_events": None,
    }
    models_all = collect("model", "all")
    segments = {}
    for seg in SEGMENTS:
        per_model = collect("model", seg)
        n_users = next(iter(per_model.values()), {}).get("users") if per_model else 0
        segments[seg] = {"users": int(n_users or 0), "models": per_model}
    seg_counts["cold_events"] = segments["cold_events"]["users"]
    pos_test = split.positives[test_users]
    cold_pos = int(pos_test[:, np.flatnonzero(split.cold_events)].nnz)
    stage1_out = {
        src: {
            "recall": v["covered"] / max(v["positives"], 1.0),
            "user_recall": v["user_recall_sum"] / max(v["users"], 1.0),
            "mean_candidates": v["candidates"] / max(v["users"], 1.0),
            "mean_valid_candidates": v["valid_candidates"] / max(v["users"], 1.0),
        }
        for src, v in stage1.items()
    }
    n_cand_total = int(len(test_users) * n_open - split.excluded[test_users][:, open_events].nnz)
    protocol = {
        "cutoff": iso(cutoff),
        "cutoff_ms": cutoff,
        "cutoff_rule": "given" if cutoff_ms is not None else "0.8 quantile of going `at` times",
        "test_users": len(test_users),
        "test_users_total": len(split.test_users),
        "test_users_sampled": sampled,
        "test_positives": int(pos_test.nnz),
        "positives_on_excluded": split.positives_on_excluded,
        "open_events": int(n_open),
        "mean_candidates_per_user": n_cand_total / max(len(test_users), 1),
        "cold_start_users": seg_counts["cold_users"],
        "cold_event_positives": cold_pos,
        "users_with_cold_event_positive": seg_counts["cold_events"],
        "training_rows": known.row_counts(),
        "all_rows": tables.row_counts(),
        "seed": seed,
        "ks": list(ks),
        "top_n_in_rankings": top_n,
        "funnel": "computed"
        if candidate_fn is not None
        else "not computed: no stage-1 candidate function was given",
        "skipped_models": skipped,
        "rules": {
            "test_positives": "going registrations with at > cutoff for events starting after "
            "the cutoff",
            "candidates": "every event starting after the cutoff, minus the events the user had "
            "any registration with at or before the cutoff",
            "test_users": "users with at least one test positive",
            "training": "every model is fitted on the graph truncated at the cutoff (rows "
            "without a time count as known); features read the History at the cutoff",
            "ties": "broken by a seeded pseudo-random key per (user, event)",
            "cold_users": "test users with no registration (any status) at or before the cutoff",
            "cold_events": "relevance restricted to positives on events with no registration at "
            "or before the cutoff, over each user's full list; users with at least one",
        },
        "seconds": time.perf_counter() - started,
    }
    report = {
        "models": models_all,
        "funnel": collect("funnel", "all") if candidate_fn is not None else {},
        "segments": segments,
        "stage1_recall": stage1_out,
        "training": training,
        "protocol": protocol,
    }
    report = _finite(report)
    if out_dir is not None:
        from gnn.report import write_report

        out = Path(out_dir)
        (out / "report.json").write_text(json.dumps(report, indent=2))
        write_report(report, out)
    return report


def _update_segments(
    metrics: dict[tuple[str, str, str], RankingMetrics],
    name: str,
    order: torch.Tensor,
    n_cand: torch.Tensor,
    pr: np.ndarray,
    pc: np.ndarray,
    pos_rank: np.ndarray,
    auc: np.ndarray,
    cold_user: np.ndarray,
    cold_event: np.ndarray,
    scores: np.ndarray,
    cand: np.ndarray,
    pos: np.ndarray,
) -> None:
    acc = metrics[("model", "all", name)]
    top = acc.pad_top(order, n_cand)
    acc.update(top, pr, pc, pos_rank, auc)

    rows = np.flatnonzero(cold_user)
    if len(rows):
        new = np.full(len(cold_user), -1)
        new[rows] = np.arange(len(rows))
        keep = cold_user[pr]
        metrics[("model", "cold_users", name)].update(
            top[torch.from_numpy(rows)], new[pr[keep]], pc[keep], pos_rank[keep], auc[rows]
        )

    keep = cold_event[pc]
    rows = np.unique(pr[keep])
    if len(rows):
        new = np.full(len(cold_user), -1)
        new[rows] = np.arange(len(rows))
        # AUC of the segment: cold positives against the user's negative candidates (the
        # user's other positives are neither).
        cold_pos = pos[rows] & cold_event[None, :]
        auc_cold = auc_per_user(scores[rows], cand[rows] & ~(pos[rows] & ~cold_pos), cold_pos)
        metrics[("model", "cold_events", name)].update(
            top[torch.from_numpy(rows)], new[pr[keep]], pc[keep], pos_rank[keep], auc_cold
        )


def _update_stage1(
    acc: dict[str, dict[str, float]],
    masks: Mapping[str, np.ndarray],
    pos: np.ndarray,
    cand: np.ndarray,
) -> None:
    n_pos = pos.sum(axis=1)
    has = n_pos > 0
    for source, m in masks.items():
        a = acc.setdefault(
            source,
            {
                "covered": 0.0,
                "positives": 0.0,
                "user_recall_sum": 0.0,
                "users": 0.0,
                "candidates": 0.0,
                "valid_candidates": 0.0,
            },
        )
        hit = (m & pos).sum(axis=1)
        a["covered"] += float(hit.sum())
        a["positives"] += float(n_pos.sum())
        a["user_recall_sum"] += float((hit[has] / n_pos[has]).sum())
        a["users"] += float(has.sum())
        a["candidates"] += float(m[has].sum())
        a["valid_candidates"] += float((m & cand)[has].sum())


def _rankings_rows(
    catalog: Catalog,
    users: np.ndarray,
    open_events: np.ndarray,
    model: str,
    order: torch.Tensor,
    ranks: torch.Tensor,
    n_cand: torch.Tensor,
    scores: np.ndarray,
    pos: np.ndarray,
    top_n: int,
) -> pa.Table:
    k = min(top_n, order.size(1))
    top = order[:, :k].numpy()
    slot = np.arange(k)[None, :]
    valid = slot < n_cand.numpy()[:, None]
    r_top, s_top = np.nonzero(valid)
    c_top = top[r_top, s_top]
    ranks_np = ranks.numpy()
    pr, pc = np.nonzero(pos)
    beyond = ranks_np[pr, pc] > k
    rows = np.concatenate([r_top, pr[beyond]])
    cols = np.concatenate([c_top, pc[beyond]])
    rank = ranks_np[rows, cols]
    frame = pd.DataFrame(
        {
            "user_id": catalog.user_ids[users[rows]].astype(str),
            "model": model,
            "event_id": catalog.event_ids[open_events[cols]].astype(str),
            "rank": rank.astype(np.int32),
            "score": scores[rows, cols].astype(np.float64),
            "label": pos[rows, cols].astype(np.int8),
        }
    )
    frame = frame.sort_values(["user_id", "rank"], kind="stable")
    return pa.Table.from_pandas(frame, schema=RANKINGS_SCHEMA, preserve_index=False)


class _Progress:
    """rich progress bars when asked for, silence otherwise."""

    def __init__(self, enabled: bool, console: Any = None) -> None:
        self.enabled = enabled
        self.console = console
        self._progress: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def add(self, description: str, total: int) -> int | None:
        return self._progress.add_task(description, total=total) if self._progress else None

    def advance(self, task: int | None) -> None:
        if self._progress is not None and task is not None:
            self._progress.advance(task)

    def done(self, task: int | None) -> None:
        if self._progress is not None and task is not None:
            self._progress.update(task, completed=1)
