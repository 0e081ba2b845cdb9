"""The evaluation report for people: ``report.md`` (the protocol next to the numbers) and plots.

``write_report(report, out_dir)`` reads the dict ``gnn.evaluate.evaluate`` returns (the content
of ``report.json``) and writes ``report.md``, ``ndcg_at_k.png``, ``recall_at_k.png``,
``segments.png`` and, when the funnel view was computed, ``funnel.png``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# Figures are drawn on Figure objects, not pyplot: no global backend switch, so a notebook that
# imports this module keeps its inline plots, and no GUI is ever needed.
from matplotlib.figure import Figure

MAIN_COLUMNS = (
    "ndcg@10",
    "recall@10",
    "map@10",
    "precision@10",
    "mrr",
    "auc",
    "coverage@10",
    "diversity@10",
)
MORE_COLUMNS = ("ndcg@5", "ndcg@20", "recall@5", "recall@20", "map@20", "mrr@10")
SEGMENT_COLUMNS = ("ndcg@10", "recall@10", "recall@20", "mrr", "auc")

DEFINITIONS = """\
Binary relevance: a test positive is a going registration made after the cutoff for an event
starting after it. Every list is the user's full candidate ranking (ties broken by a seeded
pseudo-random key per user and event). Per-user values are averaged over users with at least
one positive. |P| counts all of the user's test positives (in the funnel view too, so a positive
the stage-1 candidates missed is a miss).

| metric | definition |
|---|---|
| precision@k | hits in the top k / k (PyG `LinkPredPrecision`) |
| recall@k | hits in the top k / \\|P\\| (`LinkPredRecall`) |
| map@k | sum over hit positions i <= k of precision@i, / min(\\|P\\|, k) (`LinkPredMAP`) |
| ndcg@k | sum over hits of 1/log2(i+1), / the ideal for min(\\|P\\|, k) hits (`LinkPredNDCG`) |
| mrr@k | 1 / rank of the first hit if within k, else 0 (`LinkPredMRR`) |
| mrr | 1 / rank of the first positive over the whole ranking (0 if none ranked) |
| auc | P(score of a positive > score of a negative candidate), ties 1/2, per user then mean |
| coverage@k | share of the open events in at least one user's top k (`LinkPredCoverage`) |
| diversity@k | 1 - share of same-category pairs in the top k (`LinkPredDiversity`) |

Segments: *cold_users* = test users with no registration at or before the cutoff;
*cold_events* = only positives on events with no registration at or before the cutoff count as
relevant (the list is the user's full ranking), over users with at least one such positive.
"""


def _iso(ms: Any) -> str:
    if ms is None:
        return "–"
    return datetime.fromtimestamp(float(ms) / 1000.0, tz=UTC).isoformat()


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _table(rows: dict[str, dict[str, Any]], columns: tuple[str, ...], first: str = "model") -> str:
    if not rows:
        return "_(none)_\n"
    lines = [
        "| " + " | ".join((first, *columns)) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    best = {}
    for c in columns:
        vals = [v.get(c) for n, v in rows.items() if n != "oracle" and v.get(c) is not None]
        best[c] = max(vals) if vals else None
    for name, values in rows.items():
        cells = []
        for c in columns:
            v = values.get(c)
            text = _fmt(v)
            if v is not None and name != "oracle" and v == best[c] and len(rows) > 1:
                text = f"**{text}**"
            cells.append(text)
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return "\n".join(lines) + "\n"


def _ks(models: dict[str, dict[str, Any]], prefix: str) -> list[int]:
    ks = set()
    for values in models.values():
        for key in values:
            if key.startswith(prefix + "@"):
                ks.add(int(key.split("@")[1]))
    return sorted(ks)


def plot_metric_at_k(models: dict[str, dict[str, Any]], metric: str, path: Path) -> None:
    """Grouped bars: ``metric@k`` per model, one bar per k."""
    ks = _ks(models, metric)
    names = list(models)
    if not ks or not names:
        return
    fig = Figure(figsize=(max(6, 1.1 * len(names) + 2), 3.8))
    ax = fig.subplots()
    width = 0.8 / len(ks)
    x = np.arange(len(names))
    for i, k in enumerate(ks):
        vals = [models[n].get(f"{metric}@{k}") or 0.0 for n in names]
        ax.bar(x + (i - (len(ks) - 1) / 2) * width, vals, width, label=f"k={k}")
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric}@k per model (model view)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_curves(models: dict[str, dict[str, Any]], metric: str, path: Path) -> None:
    """One line per model: ``metric@k`` against k."""
    ks = _ks(models, metric)
    if not ks:
        return
    fig = Figure(figsize=(6, 3.8))
    ax = fig.subplots()
    for name, values in models.items():
        ax.plot(
            ks,
            [values.get(f"{metric}@{k}") or 0.0 for k in ks],
            marker="o",
            label=name,
            linestyle="--" if name == "oracle" else "-",
        )
    ax.set_xlabel("k")
    ax.set_ylabel(metric)
    ax.set_xticks(ks)
    ax.set_title(f"{metric}@k (model view)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_groups(
    groups: dict[str, dict[str, dict[str, Any]]], metric: str, path: Path, title: str
) -> None:
    """Grouped bars: ``metric`` per model for each group (segment or view)."""
    groups = {g: m for g, m in groups.items() if m}
    if not groups:
        return
    names = sorted(
        {n for m in groups.values() for n in m},
        key=lambda n: (
            list(next(iter(groups.values()))).index(n) if n in next(iter(groups.values())) else 99
        ),
    )
    fig = Figure(figsize=(max(6, 1.1 * len(names) + 2), 3.8))
    ax = fig.subplots()
    width = 0.8 / len(groups)
    x = np.arange(len(names))
    for i, (group, models) in enumerate(groups.items()):
        vals = [(models.get(n) or {}).get(metric) or 0.0 for n in names]
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, vals, width, label=group)
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_report(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write ``report.md`` and the plots; returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    models = report.get("models", {})
    funnel = report.get("funnel") or {}
    segments = report.get("segments", {})
    protocol = report.get("protocol", {})
    written = []

    plots = {
        "ndcg_at_k.png": lambda p: plot_metric_at_k(models, "ndcg", p),
        "recall_at_k.png": lambda p: plot_curves(models, "recall", p),
        "segments.png": lambda p: plot_groups(
            {"all users": models, **{s: v.get("models", {}) for s, v in segments.items()}},
            "ndcg@10",
            p,
            "nDCG@10 per segment",
        ),
    }
    if funnel:
        plots["funnel.png"] = lambda p: plot_groups(
            {"model view": models, "funnel view": funnel},
            "ndcg@10",
            p,
            "nDCG@10: full ranking vs stage-1 candidates then ranking",
        )
    for filename, draw in plots.items():
        draw(out_dir / filename)
        if (out_dir / filename).exists():
            written.append(out_dir / filename)

    md = ["# Offline evaluation\n\n"]
    md.append("## Protocol\n\n")
    rules = protocol.get("rules", {})
    md.append(
        f"- cutoff T = **{protocol.get('cutoff')}** ({protocol.get('cutoff_rule')})\n"
        f"- test users: **{protocol.get('test_users')}**"
        + (
            f" (a seeded sample of {protocol.get('test_users_total')})"
            if protocol.get("test_users_sampled")
            else ""
        )
        + f"; test positives: **{protocol.get('test_positives')}**"
        f" ({rules.get('test_positives', '')})\n"
        f"- candidates: {rules.get('candidates', '')}; {protocol.get('open_events')} events open "
        f"after T, {protocol.get('mean_candidates_per_user', 0):.1f} candidates per user on "
        "average (full ranking, no sampled negatives)\n"
        f"- training: {rules.get('training', '')}\n"
        f"- cold-start users among test users: {protocol.get('cold_start_users')}; positives on "
        f"cold events: {protocol.get('cold_event_positives')} "
        f"({protocol.get('users_with_cold_event_positive')} users)\n"
        f"- ties: {rules.get('ties', '')}; seed {protocol.get('seed')}\n"
        f"- funnel view: {protocol.get('funnel')}\n"
    )
    if protocol.get("skipped_models"):
        md.append(
            "- not evaluated: "
            + "; ".join(f"`{k}` ({v})" for k, v in protocol["skipped_models"].items())
            + "\n"
        )
    md.append("\n## Model view (every model ranks all of a user's candidates)\n\n")
    md.append(_table(models, MAIN_COLUMNS))
    md.append("\n" + _table(models, MORE_COLUMNS))
    md.append("\n![nDCG@k](ndcg_at_k.png)\n\n![recall@k](recall_at_k.png)\n")
    md.append("\n## Segments\n\n")
    for seg, values in segments.items():
        md.append(f"\n### {seg} ({values.get('users', 0)} users)\n\n")
        md.append(_table(values.get("models", {}), SEGMENT_COLUMNS))
    md.append("\n![segments](segments.png)\n")
    md.append("\n## Funnel view (stage-1 candidates at T, then the model's ranking)\n\n")
    if funnel:
        md.append(_table(funnel, MAIN_COLUMNS))
        md.append("\n![funnel](funnel.png)\n")
        md.append("\n### Stage-1 recall (share of test positives among the candidates)\n\n")
        md.append(
            _table(
                report.get("stage1_recall", {}),
                ("recall", "user_recall", "mean_candidates", "mean_valid_candidates"),
                first="source",
            )
        )
    else:
        md.append(f"_{protocol.get('funnel', 'not computed')}_\n")
    training = report.get("training", {})
    if training:
        md.append("\n## Training and scoring time\n\n")
        md.append(
            _table(
                {
                    n: {"fit s": v.get("fit_seconds"), "score s": v.get("score_seconds")}
                    for n, v in training.items()
                },
                ("fit s", "score s"),
            )
        )
        lgb = (training.get("lightgbm") or {}).get("info")
        if lgb:
            md.append(
                f"\nLightGBM: inner cutoff T_in = {_iso(lgb.get('inner_cutoff_ms'))}, "
                f"{lgb.get('train_users')} training users, {lgb.get('pairs')} pairs "
                f"({lgb.get('positive_pairs')} positive), best iteration "
                f"{lgb.get('best_iteration')}, validation nDCG@10 {_fmt(lgb.get('val_ndcg@10'))}.\n"
            )
    md.append("\n## Metric definitions\n\n" + DEFINITIONS)
    path = out_dir / "report.md"
    path.write_text("".join(md))
    written.append(path)
    return written
