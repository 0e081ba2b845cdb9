"""The GNN as a ``Ranker``: train on the past, then rank events for users at any moment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from gnn.artifacts import load_model, save_model
from gnn.data import FeatureEncoder, build_hetero_data
from gnn.history import Catalog, History
from gnn.model import EventRecommender
from gnn.train import TrainConfig, TrainResult, score_block, train
from graph.export import GraphTables


class GNNRanker:
    name = "gnn"

    def __init__(
        self,
        config: TrainConfig | None = None,
        model: EventRecommender | None = None,
        encoder: FeatureEncoder | None = None,
        meta: dict | None = None,
    ) -> None:
        self.config = config or TrainConfig()
        self.model = model
        self.encoder = encoder
        self.meta = meta or {}
        self.result: TrainResult | None = None
        self._emb_for: tuple[int, dict[str, torch.Tensor]] | None = None

    @classmethod
    def load(cls, folder: Path) -> GNNRanker:
        model, encoder, meta = load_model(folder)
        return cls(TrainConfig(**meta["train"]), model, encoder, meta)

    def fit(
        self,
        tables: GraphTables,
        catalog: Catalog,
        cutoff_ms: float,
        on_epoch: Callable[[dict[str, float]], None] | None = None,
    ) -> None:
        self.result = train(tables, catalog, cutoff_ms, self.config, on_epoch=on_epoch)
        self.model, self.encoder = self.result.model, self.result.encoder
        self._emb_for = None

    def save(self, folder: Path) -> str:
        if self.result is None:
            raise RuntimeError("save() needs a model trained by fit()")
        return save_model(self.result, folder)

    def embeddings(self, history: History) -> dict[str, torch.Tensor]:
        """Node embeddings for the graph at ``history``'s moment (cached per history)."""
        if self.model is None or self.encoder is None:
            raise RuntimeError("the GNN ranker has no model: fit() or load() first")
        torch.set_num_threads(self.config.threads)
        if self._emb_for is None or self._emb_for[0] != id(history):
            data = build_hetero_data(history, self.encoder)
            with torch.no_grad():
                emb = self.model.embed(data.x_dict, data.edge_index_dict)
            self._emb_for = (id(history), emb)
        return self._emb_for[1]

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        assert self.model is not None
        emb = self.embeddings(history)
        return score_block(self.model, emb, history, np.asarray(users), np.asarray(events))
