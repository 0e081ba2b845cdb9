"""Execute the notebooks in ``notebooks/`` against the test Neo4j server.

Each notebook needs its own world before it runs (a graph loaded, a model trained, ...), so each
one has a *preparation*: a function registered with ``@prepares("<notebook stem>")`` that sets the
world up and returns a :class:`Preparation` saying what to evaluate in the kernel afterwards and
how to check the executed notebook. ``test_notebook_runs`` is parametrized over every notebook in
the folder: one without a preparation is skipped, saying so (add one when adding a notebook).
A preparation asks for the fixtures it needs through ``request.getfixturevalue``, so a notebook
that needs, say, a trained model can prepare it without touching the others.

The kernel inherits this process's environment, so the generic test points it at the test server
with ``EVENTGRAPH_NEO4J_URI`` / ``_USER`` / ``_PASSWORD`` / ``_DATABASE`` (``monkeypatch.setenv``)
and runs it in a temporary folder (no ``.env`` of the checkout is read). Notebooks are stored
without outputs; ``test_notebooks_are_stored_without_outputs`` keeps it that way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from neo4j import Driver
from notebook_runner import ExecutedNotebook, execute_notebook, has_outputs

from etl.load import load_dataset
from etl.synthetic import generate
from graph.settings import Settings

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


@dataclass
class Preparation:
    """What a notebook's preparation hands to the generic test."""

    #: Extra environment for the kernel (on top of the test server's EVENTGRAPH_NEO4J_*).
    env: dict[str, str] = field(default_factory=dict)
    #: name -> Python expression, evaluated in the kernel after the last cell (JSON values).
    probes: dict[str, str] = field(default_factory=dict)
    #: Assertions on the executed notebook (outputs and probe values).
    check: Callable[[ExecutedNotebook], None] = lambda executed: None
    #: Seconds one cell may take.
    cell_timeout: float = 300
    #: Minimum number of inline figures (image/png outputs) the notebook must produce.
    min_figures: int = 1


Preparer = Callable[[pytest.FixtureRequest, Path], Preparation]
PREPARERS: dict[str, Preparer] = {}


def prepares(stem: str) -> Callable[[Preparer], Preparer]:
    """Register the preparation of ``notebooks/<stem>.ipynb``."""

    def register(function: Preparer) -> Preparer:
        PREPARERS[stem] = function
        return function

    return register


def neo4j_env(settings: Settings) -> dict[str, str]:
    """The variables that make ``get_settings()`` in the kernel point at ``settings``' server."""
    return {
        "EVENTGRAPH_NEO4J_URI": settings.bolt_uri,
        "EVENTGRAPH_NEO4J_USER": settings.neo4j_user,
        "EVENTGRAPH_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        "EVENTGRAPH_NEO4J_DATABASE": settings.neo4j_database,
    }


# --- shared inputs for preparations -----------------------------------------------------------

#: The small synthetic world the notebooks run on: fixed seed and `now`, so runs are identical.
SYNTHETIC_USERS = 1_500
SYNTHETIC_SEED = 11
SYNTHETIC_NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def synthetic_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated dataset folder (CSV), made once for this module's notebooks."""
    out = tmp_path_factory.mktemp("notebook-data") / f"synthetic-{SYNTHETIC_USERS}"
    generate(SYNTHETIC_USERS, SYNTHETIC_SEED, out, "csv", SYNTHETIC_NOW, progress=False)
    return out


def load_synthetic_graph(request: pytest.FixtureRequest) -> Driver:
    """Empty the test database and load ``synthetic_dataset`` into it (MERGE path)."""
    driver: Driver = request.getfixturevalue("empty_graph")
    folder: Path = request.getfixturevalue("synthetic_dataset")
    report = load_dataset(folder, driver, progress=False, allow_bulk=False)
    assert report.rows_rejected == 0, f"the generated dataset had rejects: {report}"
    return driver


# --- preparations -----------------------------------------------------------------------------


@prepares("01_explore_graph")
def prepare_explore_graph(request: pytest.FixtureRequest, workdir: Path) -> Preparation:
    load_synthetic_graph(request)

    def check(executed: ExecutedNotebook) -> None:
        values = executed.values
        assert values["node_counts"]["User"] == SYNTHETIC_USERS
        assert values["node_counts"]["Event"] > 0
        assert values["rel_counts"]["REGISTERED"] > 0
        assert values["exported_users"] == SYNTHETIC_USERS
        # The planted effects are visible: nearer is likelier, friends going is likelier.
        near, far = values["rate_near"], values["rate_far"]
        assert near > far > 0, f"registration rate near {near:.3f} vs far {far:.3f}"
        social = values["social_lift"]
        assert social is not None, "the synthetic graph has friendships"
        assert social[1] > 1.3 and social[-1] > social[1], f"rate vs 0 friends: {social}"
        assert "Traceback" not in executed.text()

    return Preparation(
        probes={
            "node_counts": "node_counts['count'].astype(int).to_dict()",
            "rel_counts": "rel_counts['count'].astype(int).to_dict()",
            "exported_users": "len(tables.users)",
            "rate_near": "float(pairs.loc[pairs['km'] < 2, 'registered'].mean())",
            "rate_far": "float(pairs.loc[pairs['km'] >= 16, 'registered'].mean())",
            "social_lift": "None if by_friends is None else "
            "by_friends['rate vs 0 friends'].astype(float).round(3).tolist()",
        },
        check=check,
        min_figures=5,
    )


NOTEBOOK_02_MODELS = {"random", "popularity", "host_rule", "item_knn", "mf", "lightgbm", "gnn"}


@prepares("02_train_and_evaluate")
def prepare_train_and_evaluate(request: pytest.FixtureRequest, workdir: Path) -> Preparation:
    load_synthetic_graph(request)
    dataset: Path = request.getfixturevalue("synthetic_dataset")
    report_dir = workdir / "report"

    def check(executed: ExecutedNotebook) -> None:
        values = executed.values
        ndcg = values["ndcg"]
        # The truth dir is set, so the oracle row is there too.
        assert set(ndcg) == NOTEBOOK_02_MODELS | {"oracle"}, sorted(ndcg)
        assert ndcg["gnn"] > ndcg["popularity"], f"nDCG@10: {ndcg}"
        curve = values["curve"]
        assert 1 <= len(curve) <= 8, curve
        assert all(np.isfinite(p["loss"]) and 0 <= p["val_ndcg@10"] <= 1 for p in curve), curve
        assert values["metric_columns"][:3] == ["ndcg@5", "ndcg@10", "ndcg@20"]
        assert values["segment_rows"] == len(ndcg)
        # The report evaluate wrote, and the plots the notebook displayed from it.
        for name in ("report.json", "report.md", "rankings.parquet"):
            assert (report_dir / name).is_file(), f"{name} missing from {report_dir}"
        assert {"ndcg_at_k.png", "recall_at_k.png", "segments.png"} <= set(values["plots"])
        assert "Traceback" not in executed.text()

    return Preparation(
        env={"EVENTGRAPH_TRUTH_DIR": str(dataset), "EVENTGRAPH_REPORT_DIR": str(report_dir)},
        probes={
            "ndcg": "metric_table['ndcg@10'].astype(float).to_dict()",
            "curve": "[{k: float(v) for k, v in p.items()} for p in curve]",
            "metric_columns": "list(metric_table.columns)",
            "segment_rows": "len(segment_table)",
            "plots": "[p.name for p in plots]",
        },
        check=check,
        # the training curve and evaluate's three plots (ndcg@k, recall@k, segments)
        min_figures=4,
    )


# --- the tests --------------------------------------------------------------------------------


def test_every_notebook_is_known() -> None:
    """Sanity of the registry: every preparation names a notebook that exists."""
    stems = {path.stem for path in NOTEBOOKS}
    assert set(PREPARERS) <= stems, f"preparations without a notebook: {set(PREPARERS) - stems}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebooks_are_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert not has_outputs(notebook), (
        f"{path.name} is stored with outputs; clear them before committing "
        f"(jupyter nbconvert --clear-output --inplace {path})"
    )


@pytest.mark.neo4j
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(
    path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    preparer = PREPARERS.get(path.stem)
    if preparer is None:
        pytest.skip(f"no preparation for {path.name}: add one with @prepares({path.stem!r})")
    settings: Settings = request.getfixturevalue("neo4j_settings")
    preparation = preparer(request, tmp_path)
    env: dict[str, Any] = {**neo4j_env(settings), **preparation.env}
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    # An inherited non-inline backend (MPLBACKEND=Agg in CI) would swallow the figures.
    monkeypatch.delenv("MPLBACKEND", raising=False)

    executed = execute_notebook(
        path, cwd=tmp_path, timeout=preparation.cell_timeout, probes=preparation.probes
    )

    figures = executed.count_mime("image/png")
    assert figures >= preparation.min_figures, (
        f"{path.name} produced {figures} figures, expected at least {preparation.min_figures}"
    )
    errors = [out for out in executed.outputs() if out.get("output_type") == "error"]
    assert not errors, errors
    preparation.check(executed)
