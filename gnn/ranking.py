"""What every recommender in the evaluation is: something that scores (user, event) pairs.

Baselines, the GNN and the oracle all implement ``Ranker``. ``fit`` may read only what happened
at or before ``cutoff_ms`` (the evaluation hands it a ``History`` at the cutoff and the tables, and
the leakage tests check that rankers keep to it); ``score`` ranks events for users given the
state of the graph at the moment of the ranking.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from gnn.history import Catalog, History
from graph.export import GraphTables


@runtime_checkable
class Ranker(Protocol):
    name: str

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        """Learn from what happened at or before ``cutoff_ms`` (no-op for rule baselines)."""
        ...

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        """Scores of shape (len(users), len(events)) for catalog rows; higher ranks first."""
        ...
