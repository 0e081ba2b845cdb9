"""Serving-side model code (gnn/inference.py) without Neo4j: the layer-by-layer embedding equals
the encoder's forward pass, and a node embedded on its own (inductively) gets the embedding the
full graph would give it."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from test_baselines import generated_tables

from gnn.data import build_hetero_data
from gnn.history import Catalog, History
from gnn.inference import ServingModel, layer_states
from gnn.model_ranker import GNNRanker
from gnn.train import TrainConfig
from graph.export import GraphTables

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> tuple[ServingModel, GraphTables, float]:
    tables = generated_tables(600, 3, tmp_path_factory.mktemp("inference") / "synthetic")
    catalog = Catalog.from_tables(tables)
    now = float(np.nanmax(tables.registrations["at"]))
    ranker = GNNRanker(TrainConfig(epochs=2, patience=1, seed=0))
    ranker.fit(tables, catalog, now)
    assert ranker.model is not None and ranker.encoder is not None
    # Five upcoming events that nobody has touched yet (their interactions taken out).
    upcoming = tables.events.loc[tables.events["start_time"] > now, "id"].head(5)
    untouched = {
        name: getattr(tables, name)[~getattr(tables, name)["event_id"].isin(upcoming)]
        for name in ("registrations", "views", "invitations", "ratings")
    }
    tables = replace(tables, **untouched)
    model = ServingModel(
        ranker.model, ranker.encoder, {"version": "test", "train": {}}, tables, now
    )
    return model, tables, now


def test_layer_states_end_in_the_encoders_embeddings(
    serving: tuple[ServingModel, GraphTables, float],
) -> None:
    model, tables, now = serving
    history = History.at(tables, Catalog.from_tables(tables), now)
    data = build_hetero_data(history, model.encoder)
    states = layer_states(model.model, data.x_dict, data.edge_index_dict)
    assert len(states) == len(model.model.encoder.convs) + 1
    with torch.no_grad():
        emb = model.model.embed(data.x_dict, data.edge_index_dict)
    for node_type, h in emb.items():
        torch.testing.assert_close(states[-1][node_type], h)


def test_an_event_embedded_on_its_own_equals_its_full_graph_embedding(
    serving: tuple[ServingModel, GraphTables, float],
) -> None:
    """Upcoming events that no user has touched yet have only host, category and city links:
    embedding one from its attributes and those neighbours is the full forward pass for it."""
    model, tables, now = serving
    touched = (
        set(tables.registrations["event_id"])
        | set(tables.views["event_id"])
        | set(tables.invitations["event_id"])
        | set(tables.ratings["event_id"])
    )
    events = tables.events
    fresh = events[(events["start_time"] > now) & ~events["id"].isin(touched)].head(5)
    assert len(fresh) > 0
    alone = model._embed_events(fresh.reset_index(drop=True))
    for event_id in fresh["id"]:
        torch.testing.assert_close(
            alone[event_id], model._event_emb[event_id], rtol=1e-4, atol=1e-5
        )


def test_a_newcomer_and_a_new_user_get_finite_embeddings(
    serving: tuple[ServingModel, GraphTables, float],
) -> None:
    model, tables, _ = serving
    h = model.newcomer_embedding(41.88, -87.63)
    assert h.shape == (model.model.encoder.hidden,) and torch.isfinite(h).all()
    row = tables.users.iloc[[0]].assign(id="brand-new")
    h_new = model._embed_users(row.reset_index(drop=True))["brand-new"]
    assert torch.isfinite(h_new).all()


def test_model_folder_must_match_the_pair_features(tmp_path: Path) -> None:
    import json

    from gnn.artifacts import load_model

    (tmp_path / "config.json").write_text(json.dumps({"format": 1, "feature_names": ["old"]}))
    with pytest.raises(ValueError, match="train it again"):
        load_model(tmp_path)
