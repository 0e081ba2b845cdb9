"""The model folder: everything needed to score with a trained model, and to trust it.

Layout::

    config.json          training configuration, node dims, edge types, cutoffs, feature names
    weights.pt           the model's state dict
    encoder.pkl          fitted node-feature vocabularies (locales, categories, text TF-IDF + SVD)
    feature_stats.json   mean / std of every pair feature (the decoder's standardisation)
    training_curve.json  loss and validation nDCG@10 per epoch (and training_curve.png)
    VERSION              the model version the API reports
"""

from __future__ import annotations

import hashlib
import json
import pickle
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import torch

# Figures are drawn on Figure objects, not pyplot: no global backend switch, so a notebook that
# imports this module keeps its inline plots, and no GUI is ever needed.
from matplotlib.figure import Figure

from gnn.data import FeatureEncoder
from gnn.features import FEATURE_NAMES
from gnn.model import EventRecommender
from gnn.train import TrainConfig, TrainResult

FORMAT_VERSION = 1


def _iso(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def save_model(result: TrainResult, out: Path) -> str:
    """Write the model folder; returns the version string."""
    out.mkdir(parents=True, exist_ok=True)
    weights = out / "weights.pt"
    torch.save(result.model.state_dict(), weights)
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:10]
    version = f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{digest}"
    config = {
        "format": FORMAT_VERSION,
        "version": version,
        "train": asdict(result.config),
        "node_dims": result.node_dims,
        "edge_types": [list(et) for et in result.edge_types],
        "feature_names": list(FEATURE_NAMES),
        "cutoff": _iso(result.cutoff_ms),
        "cutoff_ms": result.cutoff_ms,
        "inner_cutoff": _iso(result.inner_cutoff_ms),
        "best_val_ndcg@10": result.best_val_ndcg,
        "train_seconds": result.seconds,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    with (out / "encoder.pkl").open("wb") as fh:
        pickle.dump(result.encoder, fh)
    stats = {
        name: {"mean": float(m), "std": float(s)}
        for name, m, s in zip(
            FEATURE_NAMES,
            result.model.pair_mean.tolist(),
            result.model.pair_std.tolist(),
            strict=True,
        )
    }
    (out / "feature_stats.json").write_text(json.dumps(stats, indent=2))
    (out / "training_curve.json").write_text(json.dumps(result.curve, indent=2))
    _plot_curve(result.curve, out / "training_curve.png")
    (out / "VERSION").write_text(version + "\n")
    return version


def _plot_curve(curve: list[dict[str, float]], path: Path) -> None:
    if not curve:
        return
    epochs = [p["epoch"] for p in curve]
    fig = Figure(figsize=(6, 3.5))
    ax1 = fig.subplots()
    ax1.plot(epochs, [p["loss"] for p in curve], color="tab:blue", label="training loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss", color="tab:blue")
    ax2 = ax1.twinx()
    ax2.plot(epochs, [p["val_ndcg@10"] for p in curve], color="tab:orange", label="val nDCG@10")
    ax2.set_ylabel("validation nDCG@10", color="tab:orange")
    ax1.set_title("GNN training")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def load_model(folder: Path) -> tuple[EventRecommender, FeatureEncoder, dict]:
    """The model (eval mode), its feature encoder and its config."""
    config = json.loads((folder / "config.json").read_text())
    if config.get("format") != FORMAT_VERSION:
        raise ValueError(f"{folder}: model format {config.get('format')} is not supported")
    if list(config["feature_names"]) != list(FEATURE_NAMES):
        raise ValueError(
            f"{folder}: the model was trained on the pair features {config['feature_names']}, "
            f"this version computes {list(FEATURE_NAMES)}: train it again (eventgraph train)"
        )
    train_cfg = TrainConfig(**config["train"])
    model = EventRecommender(
        config["node_dims"],
        [tuple(et) for et in config["edge_types"]],
        len(config["feature_names"]),
        train_cfg.hidden,
        train_cfg.layers,
        train_cfg.dropout,
        train_cfg.interaction_only,
    )
    model.load_state_dict(torch.load(folder / "weights.pt", weights_only=True))
    model.eval()
    with (folder / "encoder.pkl").open("rb") as fh:
        encoder = pickle.load(fh)  # our own file, written by save_model
    return model, encoder, config
