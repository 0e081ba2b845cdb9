"""The GNN: it learns what the planted data holds, never sees the future, and scores new events.

These tests train small models on small generated graphs (no Neo4j needed: the tables are read
straight from the generator's files, as the export would give them).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_baselines import generated_tables

from gnn.evaluate import evaluate
from gnn.history import Catalog, History
from gnn.model_ranker import GNNRanker
from gnn.split import default_cutoff, truncate
from gnn.train import TrainConfig
from graph.export import GraphTables

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

SMALL = TrainConfig(epochs=10, patience=4, seed=1)


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> GraphTables:
    return generated_tables(1500, 7, tmp_path_factory.mktemp("gnn") / "synthetic")


@pytest.fixture(scope="module")
def fitted(tables: GraphTables) -> tuple[GNNRanker, Catalog, float]:
    catalog = Catalog.from_tables(tables)
    cutoff = default_cutoff(tables)
    ranker = GNNRanker(SMALL)
    ranker.fit(truncate(tables, cutoff), catalog, cutoff)
    return ranker, catalog, cutoff


def _poisoned(tables: GraphTables, cutoff: float) -> GraphTables:
    """The same graph plus a flood of going registrations after the cutoff on a few events."""
    regs = tables.registrations
    late = regs[regs["at"] > cutoff]
    target = late["event_id"].iloc[:3].tolist() or tables.events["id"].iloc[:3].tolist()
    users = tables.users["id"].to_numpy()
    flood = pd.DataFrame(
        {
            "user_id": np.repeat(users[:400], len(target)),
            "event_id": np.tile(target, 400),
            "at": cutoff + 3_600_000.0,
            "status": "going",
        }
    )
    merged = pd.concat([regs, flood]).drop_duplicates(["user_id", "event_id"], keep="first")
    return replace(tables, registrations=merged.reset_index(drop=True))


@pytest.mark.parametrize(
    "options",
    [{}, {"average_best": 1}],
    ids=["averaged-checkpoints", "best-checkpoint"],
)
def test_nothing_after_the_cutoff_reaches_training(
    tables: GraphTables, options: dict[str, object]
) -> None:
    """Training on the graph with or without a flood of post-cutoff registrations gives the very
    same model: no post-cutoff edge or feature reaches training (with the checkpoint average of
    the default, and without it)."""
    catalog = Catalog.from_tables(tables)
    cutoff = default_cutoff(tables)
    config = replace(SMALL, epochs=2, **options)
    clean, poisoned = GNNRanker(config), GNNRanker(config)
    # evaluate() hands truncated tables to fit; the trainer truncates again by itself, so even
    # the full poisoned tables must not change anything.
    clean.fit(truncate(tables, cutoff), catalog, cutoff)
    poisoned.fit(_poisoned(tables, cutoff), catalog, cutoff)
    history = History.at(truncate(tables, cutoff), catalog, cutoff)
    users = np.arange(50)
    events = np.flatnonzero(catalog.event_start > cutoff)[:40]
    np.testing.assert_allclose(
        clean.score(history, users, events), poisoned.score(history, users, events), rtol=1e-5
    )
    assert clean.result is not None and poisoned.result is not None
    assert clean.result.inner_cutoff_ms == poisoned.result.inner_cutoff_ms < cutoff


def test_gnn_beats_popularity_and_the_host_rule(
    tables: GraphTables, fitted: tuple[GNNRanker, Catalog, float]
) -> None:
    ranker, _, cutoff = fitted
    report = evaluate(tables, None, cutoff_ms=cutoff, rankers=["popularity", "host_rule", ranker])
    ndcg = {name: m["ndcg@10"] for name, m in report["models"].items()}
    assert ndcg["gnn"] > 1.5 * ndcg["popularity"], ndcg
    assert ndcg["gnn"] > 1.1 * ndcg["host_rule"], ndcg


def test_model_folder_round_trip(fitted: tuple[GNNRanker, Catalog, float], tables: GraphTables,
                                 tmp_path: Path) -> None:  # fmt: skip
    ranker, catalog, cutoff = fitted
    version = ranker.save(tmp_path / "model")
    for name in ("weights.pt", "config.json", "encoder.pkl", "feature_stats.json",
                 "training_curve.json", "training_curve.png", "VERSION"):  # fmt: skip
        assert (tmp_path / "model" / name).exists(), name
    loaded = GNNRanker.load(tmp_path / "model")
    assert loaded.meta["version"] == version
    history = History.at(truncate(tables, cutoff), catalog, cutoff)
    users, events = np.arange(30), np.flatnonzero(catalog.event_start > cutoff)[:30]
    np.testing.assert_allclose(
        loaded.score(history, users, events), ranker.score(history, users, events), rtol=1e-5
    )


def test_a_new_event_is_scored_without_retraining(
    fitted: tuple[GNNRanker, Catalog, float], tables: GraphTables
) -> None:
    """An event created after training gets a score from its features and its host, category
    and city neighbours: the host a user keeps going to lifts it above the same event elsewhere."""
    ranker, _, cutoff = fitted
    known = truncate(tables, cutoff)
    going = known.registrations[known.registrations["status"] == "going"]
    loyal = going.merge(tables.events[["id", "host_id"]], left_on="event_id", right_on="id")
    user, host = loyal.groupby(["user_id", "host_id"]).size().idxmax()
    template = tables.events[tables.events["host_id"] == host].iloc[-1]
    other_host = tables.events.loc[tables.events["host_id"] != host, "host_id"].iloc[0]
    start = cutoff + 5 * 86_400_000.0
    new = pd.DataFrame(
        [
            {**template.to_dict(), "id": "new-loyal", "start_time": start, "created_at": cutoff},
            {
                **template.to_dict(),
                "id": "new-other",
                "host_id": other_host,
                "start_time": start,
                "created_at": cutoff,
                "lat": template["lat"] + 0.5,
            },
        ]
    )
    extended = replace(known, events=pd.concat([known.events, new], ignore_index=True))
    catalog = Catalog.from_tables(extended)
    history = History.at(extended, catalog, cutoff)
    scores = ranker.score(
        history, catalog.user_rows([user]), catalog.event_rows(["new-loyal", "new-other"])
    )
    assert np.isfinite(scores).all()
    assert scores[0, 0] > scores[0, 1]


def test_local_slot_reads_the_venues_clock() -> None:
    """Slots are weekday/weekend x day/evening in the venue's local time (zone from longitude):
    the same UTC instant is a Saturday evening in Chicago and a Sunday morning in Sydney."""
    from gnn.history import local_slot

    utc = pd.Timestamp("2016-04-24T01:30:00Z").value / 1e6  # Sunday 01:30 UTC
    slots = local_slot(np.array([utc, utc, utc]), np.array([-87.6, 151.2, np.nan]))
    # Chicago 19:30 Saturday (evening), Sydney 11:30 Sunday (day), unknown: UTC Sunday night
    assert slots.tolist() == [3, 2, 2]
