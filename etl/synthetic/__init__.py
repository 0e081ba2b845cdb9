"""Synthetic eventgraph data with planted truth.

`generate(n_users, seed, out)` writes a dataset in the ETL contract's format (users, hosts,
events, friendships, registrations, invitations, views, follows, ratings) and `out/truth/`, the
planted attributes and choice-model parameters that generated it. `load_truth(out)` gives the
oracle an evaluation can query: `PlantedTruth.probability(user_ids, event_ids, at, state)`.

Why planted truth: on real data nobody knows how good a recommender *could* be. Here every
registration is drawn from a documented choice model (`choice_model.py`), so the evaluation can
compare the GNN and the baselines with the oracle, and tests can check that each planted effect
(distance, friends, host loyalty, price, taste) is present in the files.
"""

from etl.synthetic.choice_model import (
    ChoiceParams,
    ChoiceState,
    planted_logit,
    planted_probability,
)
from etl.synthetic.generator import GenerationSummary, generate
from etl.synthetic.truth import PlantedTruth, compute_state, load_truth, read_table

__all__ = [
    "ChoiceParams",
    "ChoiceState",
    "GenerationSummary",
    "PlantedTruth",
    "compute_state",
    "generate",
    "load_truth",
    "planted_logit",
    "planted_probability",
    "read_table",
]
