"""Tests of the synthetic data generator with planted truth (`etl.synthetic`).

Pure Python, no database. One small world (2 000 users) is generated once per module and shared;
the effect tests measure each planted effect from the *files* (as an analyst or the evaluation
would), not from generator internals.
"""

from __future__ import annotations

import filecmp
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from etl.synthetic import (
    ChoiceParams,
    ChoiceState,
    compute_state,
    generate,
    load_truth,
    read_table,
)
from etl.synthetic.choice_model import (
    pair_features,
    static_logit,
    static_logit_block,
    user_block,
)
from etl.synthetic.generator import FILE_NAMES, run_generation
from etl.synthetic.geo import haversine_km, km_from_cosine, unit_vectors

N_USERS = 2000
SEED = 7
NOW = datetime(2026, 3, 1, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
DAY_S = 86_400
POSITIVE = ("going", "maybe", "waitlist")

CONTRACT = {
    "users": ["id", "name", "birth_year", "gender", "locale", "city", "lat", "lon", "joined_at"],
    "hosts": ["id", "name", "kind", "user_id"],
    "events": ["id", "host_id", "title", "description", "category", "tags", "start_time",
               "end_time", "price", "currency", "capacity", "lat", "lon", "city", "country",
               "created_at"],
    "friendships": ["user_id", "friend_id", "since"],
    "registrations": ["user_id", "event_id", "at", "status"],
    "invitations": ["user_id", "event_id", "by_user_id", "at"],
    "views": ["user_id", "event_id", "at", "count"],
    "follows": ["user_id", "host_id", "at"],
    "ratings": ["user_id", "event_id", "stars", "at"],
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The shared CSV world (with a decision-log sample) and its tables."""
    out = tmp_path_factory.mktemp("synthetic") / "a"
    summary, log = run_generation(N_USERS, SEED, out, "csv", NOW, progress=False,
                                  decision_log_rate=0.02)
    tables = {name: read_table(out, name) for name in FILE_NAMES}
    return {"dir": out, "summary": summary, "log": log.arrays() if log else {},
            "t": tables}


@pytest.fixture(scope="module")
def pairs(world: dict) -> pd.DataFrame:
    """Every same-city (user, event) pair where the user had joined before the event started,
    with the outcome and the observable covariates the effect tests need."""
    t = world["t"]
    users = t["users"][["id", "city", "lat", "lon", "joined_at"]]
    events = t["events"][["id", "host_id", "city", "lat", "lon", "start_time", "created_at",
                          "price"]]
    p = users.merge(events, on="city", suffixes=("_u", "_e"))
    p = p[(p["joined_at"] < p["start_time"]) & (p["created_at"] < NOW_S)]
    p = p.rename(columns={"id_u": "user_id", "id_e": "event_id"})
    p["km"] = haversine_km(p["lat_u"].to_numpy(), p["lon_u"].to_numpy(),
                           p["lat_e"].to_numpy(), p["lon_e"].to_numpy())
    regs = t["registrations"]
    pos = regs[regs["status"].isin(POSITIVE)][["user_id", "event_id", "at"]]
    p = p.merge(pos, on=["user_id", "event_id"], how="left")
    p["registered"] = p["at"].notna()
    return p.reset_index(drop=True)


# ----------------------------------------------------------------------------- determinism ---
def test_same_seed_gives_byte_identical_files(world: dict, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(N_USERS, SEED, again, "csv", NOW, progress=False)
    a, b = world["dir"], again
    names = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file())
    for name in names:
        assert filecmp.cmp(a / name, b / name, shallow=False), f"{name} differs"


def test_other_seed_differs(tmp_path: Path) -> None:
    for seed in (SEED, SEED + 1):
        generate(300, seed, tmp_path / str(seed), "csv", NOW, progress=False)
    for name in ("users", "events", "friendships", "registrations"):
        a = (tmp_path / str(SEED) / f"{name}.csv").read_bytes()
        b = (tmp_path / str(SEED + 1) / f"{name}.csv").read_bytes()
        assert a != b, name


def test_summary_counts_rows_and_now(world: dict) -> None:
    summary = world["summary"]
    assert summary.now == NOW
    for name in FILE_NAMES:
        assert summary.rows[name] == len(world["t"][name]), name
    assert summary.elapsed_s > 0
    assert summary.rows["users"] == N_USERS


def test_default_now_is_today_midnight_utc(tmp_path: Path) -> None:
    summary = generate(200, 1, tmp_path / "today", progress=False)
    today = datetime.now(UTC).date()
    assert summary.now == datetime(today.year, today.month, today.day, tzinfo=UTC)
    meta = json.loads((tmp_path / "today" / "truth" / "params.json").read_text())
    assert meta["now"] == summary.now.isoformat()


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n_users"):
        generate(3, 1, tmp_path / "x", progress=False)
    with pytest.raises(ValueError, match="fmt"):
        generate(100, 1, tmp_path / "x", fmt="json", progress=False)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- schema ---------
def test_every_file_has_the_contract_columns(world: dict) -> None:
    for name, columns in CONTRACT.items():
        header = (world["dir"] / f"{name}.csv").read_text(encoding="utf-8").split("\n", 1)[0]
        assert header.split(",") == columns, name


def test_ids_unique_and_prefixed(world: dict) -> None:
    t = world["t"]
    for name, prefix in (("users", "u"), ("hosts", "h"), ("events", "e")):
        ids = t[name]["id"]
        assert ids.is_unique, name
        assert ids.str.match(rf"^{prefix}\d{{5,}}$").all(), name
    assert t["users"]["id"].iloc[0] == "u000001"
    assert t["events"]["id"].iloc[0] == "e000001"
    assert t["hosts"]["id"].iloc[0] == "h00001"


def test_references_resolve(world: dict) -> None:
    t = world["t"]
    users, hosts, events = (set(t[n]["id"]) for n in ("users", "hosts", "events"))
    runners = t["hosts"]["user_id"][t["hosts"]["user_id"] != ""]
    assert set(runners) <= users and len(runners) > 0
    assert set(t["events"]["host_id"]) <= hosts
    for name in ("registrations", "invitations", "views", "ratings"):
        assert set(t[name]["user_id"]) <= users, name
        assert set(t[name]["event_id"]) <= events, name
    assert set(t["invitations"]["by_user_id"]) <= users
    assert set(t["follows"]["user_id"]) <= users and set(t["follows"]["host_id"]) <= hosts
    fr = t["friendships"]
    assert set(fr["user_id"]) | set(fr["friend_id"]) <= users


def test_friendships_once_per_pair_no_self(world: dict) -> None:
    fr = world["t"]["friendships"]
    assert (fr["user_id"] != fr["friend_id"]).all()
    a = np.minimum(fr["user_id"], fr["friend_id"])
    b = np.maximum(fr["user_id"], fr["friend_id"])
    assert not pd.DataFrame({"a": a, "b": b}).duplicated().any()
    users = world["t"]["users"].set_index("id")["joined_at"]
    later_join = np.maximum(users[fr["user_id"]].to_numpy(), users[fr["friend_id"]].to_numpy())
    assert (fr["since"].to_numpy() >= later_join).all()
    assert (fr["since"] < NOW_S).all()


def test_one_row_per_pair_in_relationship_files(world: dict) -> None:
    t = world["t"]
    for name, key in (("registrations", ["user_id", "event_id"]),
                      ("invitations", ["user_id", "event_id"]),
                      ("views", ["user_id", "event_id"]),
                      ("follows", ["user_id", "host_id"]),
                      ("ratings", ["user_id", "event_id"])):
        assert not t[name].duplicated(key).any(), name


def test_values_in_range(world: dict) -> None:
    t = world["t"]
    for name in ("users", "events"):
        lat = t[name]["lat"].astype(float)
        lon = t[name]["lon"].astype(float)
        assert lat.between(-90, 90).all() and lon.between(-180, 180).all()
    ev = t["events"]
    assert (ev["end_time"] > ev["start_time"]).all()
    assert (ev["created_at"] < ev["start_time"]).all()
    assert (ev["created_at"] < NOW_S).all()
    price = ev["price"].astype(float)
    assert (price >= 0).all()
    assert 0.2 < (price == 0).mean() < 0.5
    cap = ev["capacity"].dropna()
    assert (cap > 0).all() and ev["capacity"].isna().any()
    assert set(ev["currency"]) <= {"EUR", "GBP", "USD", "CAD", "AUD"}
    assert ev["tags"].str.len().gt(0).all()
    assert set(t["registrations"]["status"]) == {"going", "maybe", "declined", "waitlist"}
    assert t["ratings"]["stars"].astype(int).between(1, 5).all()
    assert (t["views"]["count"].astype(int) >= 1).all()
    users = t["users"]
    assert users["birth_year"].astype(int).between(1940, NOW.year - 18).all()
    assert users["city"].nunique() >= 8


def test_times_are_consistent(world: dict) -> None:
    t = world["t"]
    ev = t["events"].set_index("id")
    users = t["users"].set_index("id")["joined_at"]
    for name in ("registrations", "invitations", "views"):
        df = t[name]
        assert (df["at"] < NOW_S).all(), name
        assert (df["at"] < ev.loc[df["event_id"], "start_time"].to_numpy()).all(), name
        assert (df["at"] >= ev.loc[df["event_id"], "created_at"].to_numpy()).all(), name
        assert (df["at"] >= users[df["user_id"]].to_numpy()).all(), name
    rt = t["ratings"]
    assert (rt["at"] > ev.loc[rt["event_id"], "end_time"].to_numpy()).all()
    assert (rt["at"] < NOW_S).all()
    # Registrants viewed the event, no later than they registered.
    regs = t["registrations"]
    pos = regs[regs["status"].isin(POSITIVE)]
    v = pos.merge(t["views"], on=["user_id", "event_id"], how="left", suffixes=("", "_view"))
    assert v["at_view"].notna().all()
    assert (v["at_view"] <= v["at"]).all()
    # Ratings come from attendees.
    going = regs[regs["status"] == "going"][["user_id", "event_id"]]
    assert len(rt.merge(going, on=["user_id", "event_id"])) == len(rt)


def test_timeline_and_volumes(world: dict) -> None:
    t = world["t"]
    ev = t["events"]
    n_events = len(ev)
    assert 0.15 * N_USERS <= n_events <= 0.25 * N_USERS
    past = (ev["start_time"] < NOW_S).sum()
    upcoming = (ev["start_time"] >= NOW_S).sum()
    assert upcoming > 0.02 * n_events and past > 0.8 * n_events
    assert ev["start_time"].min() >= NOW_S - 550 * DAY_S
    assert ev["start_time"].max() <= NOW_S + 62 * DAY_S
    regs = t["registrations"]
    per_user = len(regs) / N_USERS
    assert 5 <= per_user <= 20, per_user
    counts = regs.groupby("user_id").size().reindex(t["users"]["id"], fill_value=0)
    # Heavy-tailed activity: the most active tenth makes far more than a tenth of the rows.
    top = np.sort(counts.to_numpy())[::-1][: N_USERS // 10].sum()
    assert top > 0.3 * counts.sum()
    # Upcoming events already have some (partial) registrations.
    up_ids = set(ev["id"][ev["start_time"] >= NOW_S])
    assert regs["event_id"].isin(up_ids).sum() > 0
    statuses = regs["status"].value_counts(normalize=True)
    assert statuses["going"] > 0.45
    fr = t["friendships"]
    mean_degree = 2 * len(fr) / N_USERS
    assert 4 <= mean_degree <= 12, mean_degree


# ----------------------------------------------------------------------------- effects --------
def _odds(mask: pd.Series | np.ndarray, pairs: pd.DataFrame) -> float:
    """Odds of registering among the pairs in `mask`.

    Odds rather than rates: a 2 000-user world has small city catalogues, so per-pair rates are
    high and ratios of rates understate effects that are multiplicative in the odds.
    """
    rate = float(pairs.loc[mask, "registered"].mean())
    return rate / (1.0 - rate)


def test_registration_rate_falls_with_distance(pairs: pd.DataFrame) -> None:
    near = _odds(pairs["km"] < 5, pairs)
    far = _odds(pairs["km"] > 30, pairs)
    assert (pairs["km"] > 30).sum() > 500
    assert near > 2.0 * far, (near, far)


def test_free_events_draw_more_than_paid(pairs: pd.DataFrame) -> None:
    free = _odds(pairs["price"] == 0, pairs)
    paid = _odds(pairs["price"] >= 15, pairs)
    assert free > 1.5 * paid, (free, paid)


def _second_half(world: dict, pairs: pd.DataFrame) -> pd.DataFrame:
    """Pairs still undecided at the middle of their window, with the outcome after it.

    Why this design: the files do not say when a non-registrant looked at an event, so
    comparing registrants with everyone else would mix up "a friend registered before I
    decided" with "a friend registered after I had already said no". Consideration moments do
    not depend on the state, so among pairs without a response before the midpoint, both
    groups lose the same share of already-decided pairs and the rates stay comparable.
    """
    regs = world["t"]["registrations"]
    p = pairs.copy()
    lo = np.maximum(p["created_at"], p["joined_at"])
    p["mid"] = lo + (np.minimum(p["start_time"], NOW_S) - lo) // 2
    first = regs.groupby(["user_id", "event_id"])["at"].min().rename("first_response")
    p = p.merge(first, on=["user_id", "event_id"], how="left")
    p = p[~(p["first_response"] < p["mid"])].copy()
    p["after"] = p["registered"] & (p["at"] >= p["mid"])
    p["pair"] = np.arange(len(p))
    return p.reset_index(drop=True)


def _rate_ratio(p: pd.DataFrame, exposed: np.ndarray) -> tuple[float, float, int]:
    return float(p["after"][exposed].mean()), float(p["after"][~exposed].mean()), int(
        exposed.sum())


def test_friends_registered_earlier_raise_the_rate(world: dict, pairs: pd.DataFrame) -> None:
    t = world["t"]
    fr = t["friendships"]
    both = pd.concat([fr.rename(columns={"friend_id": "friend"}),
                      fr.rename(columns={"user_id": "friend", "friend_id": "user_id"})])
    regs = t["registrations"]
    pos = regs[regs["status"].isin(POSITIVE)][["user_id", "event_id", "at"]]
    p = _second_half(world, pairs)
    m = p[["pair", "user_id", "event_id", "mid"]].merge(both, on="user_id")
    m = m[m["since"] < m["mid"]]
    m = m.merge(pos.rename(columns={"user_id": "friend", "at": "friend_at"}),
                on=["friend", "event_id"])
    exposed = np.zeros(len(p), dtype=bool)
    exposed[m.loc[m["friend_at"] < m["mid"], "pair"].unique()] = True
    with_f, without, n = _rate_ratio(p, exposed)
    assert n > 500
    assert with_f > 2.0 * without, (with_f, without)


def test_users_return_to_hosts_they_attended(world: dict, pairs: pd.DataFrame) -> None:
    t = world["t"]
    regs = t["registrations"]
    ev = t["events"][["id", "host_id", "start_time"]].rename(
        columns={"id": "event_id", "start_time": "ev_start"})
    going = regs[regs["status"] == "going"][["user_id", "event_id"]].merge(ev, on="event_id")
    p = _second_half(world, pairs)
    m = p[["pair", "user_id", "host_id", "mid"]].merge(
        going[["user_id", "host_id", "ev_start"]], on=["user_id", "host_id"])
    exposed = np.zeros(len(p), dtype=bool)
    exposed[m.loc[m["ev_start"] < m["mid"], "pair"].unique()] = True
    attended, other, n = _rate_ratio(p, exposed)
    assert n > 500
    assert attended > 2.0 * other, (attended, other)


def test_interest_and_taste_show_in_categories(world: dict) -> None:
    """Users concentrate on few categories (planted interests), beyond what supply explains."""
    t = world["t"]
    regs = t["registrations"]
    pos = regs[regs["status"].isin(POSITIVE)]
    cat = t["events"].set_index("id")["category"]
    pos = pos.assign(category=cat[pos["event_id"]].to_numpy())
    heavy = pos.groupby("user_id").filter(lambda g: len(g) >= 10)
    top_share = heavy.groupby("user_id")["category"].agg(
        lambda c: c.value_counts(normalize=True).iloc[0]).mean()
    supply_top = t["events"]["category"].value_counts(normalize=True).iloc[0]
    assert top_share > supply_top + 0.15, (top_share, supply_top)


# ----------------------------------------------------------------------------- truth ----------
def test_truth_files_and_params(world: dict) -> None:
    tdir = world["dir"] / "truth"
    meta = json.loads((tdir / "params.json").read_text())
    assert meta["seed"] == SEED and meta["n_users"] == N_USERS
    assert meta["now"] == NOW.isoformat()
    assert ChoiceParams.from_dict(meta["choice_params"]) == ChoiceParams()
    truth = load_truth(world["dir"])
    assert list(truth.user_ids) == list(world["t"]["users"]["id"])
    assert list(truth.event_ids) == list(world["t"]["events"]["id"])
    assert {"taste_0", "theta_music", "pref_weekday_evening", "travel_tolerance_km",
            "price_sensitivity", "activity"} <= set(truth.user_table.columns)
    assert {"style_0", "host_quality", "appeal", "price_eur", "slot"} <= set(
        truth.event_table.columns)


def test_truth_reproduces_the_simulators_decisions(world: dict) -> None:
    """The state counts computed from the files at 00:00 of a decision's day, fed to the truth,
    give exactly the logit the simulator drew that decision from."""
    log = world["log"]
    assert log and log["user"].size > 200
    rng = np.random.default_rng(0)
    pick = rng.choice(log["user"].size, size=400, replace=False)
    truth = load_truth(world["dir"])
    users = truth.user_ids[log["user"][pick]]
    events = truth.event_ids[log["event"][pick]]
    at = log["day"][pick] * DAY_S
    state = compute_state(world["dir"], users, events, at)
    got = np.stack([state.friends_registered, state.host_past_going, state.follows_host,
                    state.popularity, state.invited], axis=1)
    np.testing.assert_array_equal(got, log["state"][pick])
    logit = truth.logit(users, events, at, state)
    np.testing.assert_allclose(logit, log["logit"][pick], atol=1e-9)


def test_block_and_pairwise_static_logits_agree(world: dict) -> None:
    truth = load_truth(world["dir"])
    params = truth.params
    rows = np.arange(0, N_USERS, 7)
    events = np.arange(0, len(truth.event_ids), 11)
    block = static_logit_block(params, user_block(params, truth.users, rows), truth.events,
                               events)
    uu, ee = np.meshgrid(rows, events, indexing="ij")
    pairwise = static_logit(params, pair_features(params, truth.users, truth.events,
                                                  uu.ravel(), ee.ravel()))
    np.testing.assert_allclose(block.ravel(), pairwise, atol=1e-9)


def test_distance_matches_haversine() -> None:
    lat1, lon1 = np.array([51.5074, 40.7128, -33.8688]), np.array([-0.1278, -74.006, 151.2093])
    lat2, lon2 = np.array([51.5080, 48.8566, -33.8700]), np.array([-0.1290, 2.3522, 151.2100])
    cos = np.einsum("ij,ij->i", unit_vectors(lat1, lon1), unit_vectors(lat2, lon2))
    np.testing.assert_allclose(km_from_cosine(cos), haversine_km(lat1, lon1, lat2, lon2),
                               rtol=1e-6)


def test_truth_probability_range_and_state_effects(world: dict) -> None:
    truth = load_truth(world["dir"])
    ev = world["t"]["events"]
    users = world["t"]["users"]
    rng = np.random.default_rng(1)
    u = users["id"].to_numpy()[rng.integers(0, len(users), 500)]
    e = ev["id"].to_numpy()[rng.integers(0, len(ev), 500)]
    zero = ChoiceState.zeros(500)
    p0 = truth.probability(u, e, NOW, zero)
    assert ((p0 > 0) & (p0 < 1)).all()
    social = truth.probability(u, e, NOW, {"friends_registered": 3, "invited": 1})
    assert (social > p0).all()
    with pytest.raises(KeyError, match="unknown user"):
        truth.probability(["nobody"], [e[0]], NOW, zero)
    with pytest.raises(ValueError, match="state field"):
        truth.probability(u[:1], e[:1], NOW, {"friends": 1})
    # The window share is a probability and vanishes once the event has started.
    starts = ev.set_index("id").loc[e, "start_time"].to_numpy()
    assert (truth.consideration_share(u, e, starts, starts + DAY_S) == 0).all()
    created = ev.set_index("id").loc[e, "created_at"].to_numpy()
    whole = truth.consideration_share(u, e, created - DAY_S, starts)
    joined = world["t"]["users"].set_index("id").loc[u, "joined_at"].to_numpy()
    np.testing.assert_allclose(whole[joined < created], 1.0)
    assert (truth.probability(u, e, created, zero, until=starts) <= p0 + 1e-12).all()


def test_truth_ranks_later_registrations_above_random_pairs(world: dict,
                                                            pairs: pd.DataFrame) -> None:
    """The evaluation's use: state at a cutoff, rank what happens after it (AUC > 0.7)."""
    cutoff = NOW_S - 45 * DAY_S
    open_at_cut = pairs[(pairs["created_at"] < cutoff) & (pairs["start_time"] > cutoff)
                        & (pairs["joined_at"] < cutoff)]
    pos = open_at_cut[open_at_cut["registered"] & (open_at_cut["at"] >= cutoff)]
    regs = world["t"]["registrations"]
    any_reg = regs[["user_id", "event_id"]].assign(any_reg=True)
    neg = open_at_cut.merge(any_reg, on=["user_id", "event_id"], how="left")
    neg = neg[neg["any_reg"].isna()]
    rng = np.random.default_rng(2)
    pos = pos.iloc[rng.choice(len(pos), size=min(400, len(pos)), replace=False)]
    neg = neg.iloc[rng.choice(len(neg), size=2000, replace=False)]
    users = np.concatenate([pos["user_id"], neg["user_id"]])
    events = np.concatenate([pos["event_id"], neg["event_id"]])
    label = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    truth = load_truth(world["dir"])
    state = compute_state(world["dir"], users, events, cutoff)
    score = truth.probability(users, events, cutoff, state, until=NOW_S)
    assert len(pos) >= 200
    assert _auc(label, score) > 0.7


def _auc(label: np.ndarray, score: np.ndarray) -> float:
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    n_pos = label.sum()
    n_neg = len(label) - n_pos
    return float((ranks[label == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


# ----------------------------------------------------------------------------- parquet --------
def test_parquet_has_the_same_rows_as_csv_and_is_deterministic(world: dict,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "pq"
    generate(N_USERS, SEED, out, "parquet", NOW, progress=False)
    import pyarrow.parquet as pq

    assert not list(out.glob("*.csv"))
    again = tmp_path / "pq2"
    generate(N_USERS, SEED, again, "parquet", NOW, progress=False)
    for name in FILE_NAMES:
        assert filecmp.cmp(out / f"{name}.parquet", again / f"{name}.parquet", shallow=False)
    for name in FILE_NAMES:
        table = pq.read_table(out / f"{name}.parquet")
        assert table.column_names == CONTRACT[name], name
        for col in ("joined_at", "start_time", "end_time", "created_at", "since", "at"):
            if col in table.column_names:
                assert str(table.schema.field(col).type) == "timestamp[ms, tz=UTC]", (name, col)
        pd.testing.assert_frame_equal(read_table(out, name), world["t"][name],
                                      check_exact=False, rtol=1e-12, obj=name)


# ----------------------------------------------------------------------------- upcoming events -
UPCOMING = 1500


@pytest.fixture(scope="module")
def upcoming_world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The shared world's parameters with a large upcoming catalogue asked for."""
    out = tmp_path_factory.mktemp("synthetic-upcoming") / "a"
    summary = generate(N_USERS, SEED, out, "csv", NOW, progress=False, upcoming_events=UPCOMING)
    return {"dir": out, "summary": summary,
            "t": {name: read_table(out, name) for name in FILE_NAMES}}


def test_upcoming_events_option_gives_that_many_valid_upcoming_events(
        world: dict, upcoming_world: dict) -> None:
    from etl.validate import validate_dataset

    t, base = upcoming_world["t"], world["t"]
    ev = t["events"]
    up = ev[ev["start_time"] > NOW_S]
    natural = (base["events"]["start_time"] > NOW_S).sum()
    assert natural < UPCOMING
    assert len(up) == UPCOMING == upcoming_world["summary"].upcoming
    assert len(ev) == len(base["events"]) + UPCOMING - natural
    # Announced before now, starting within the announced horizon, spread over the weeks.
    assert (up["created_at"] < NOW_S).all()
    assert (up["start_time"] < NOW_S + 61 * DAY_S).all()
    weeks = (up["start_time"] - NOW_S) // (7 * DAY_S)
    assert weeks.nunique() >= 8 and weeks.value_counts().max() < 0.3 * len(up)
    # Same hosts, cities, categories and the same kinds of prices and capacities.
    assert set(ev["host_id"]) <= set(base["hosts"]["id"])
    assert set(up["city"]) == set(base["users"]["city"])
    assert set(up["category"]) == set(base["events"]["category"])
    assert 0.2 < (up["price"].astype(float) == 0).mean() < 0.5
    assert up["capacity"].isna().any() and (up["capacity"].dropna() > 0).all()
    assert up["title"].str.len().gt(0).all() and up["tags"].str.len().gt(0).all()
    # The people are the same; the history barely moves; the new events are simulated.
    for name in ("users", "hosts", "friendships"):
        pd.testing.assert_frame_equal(t[name], base[name], obj=name)
    regs = t["registrations"]
    assert regs["event_id"].isin(set(up["id"])).sum() > 0
    past = regs[~regs["event_id"].isin(set(up["id"]))]
    base_past = base["registrations"][
        ~base["registrations"]["event_id"].isin(set(base["events"]["id"][
            base["events"]["start_time"] > NOW_S]))]
    assert abs(len(past) / len(base_past) - 1) < 0.05
    # Valid under the loader's rules.
    dataset = validate_dataset(upcoming_world["dir"])
    assert dataset.rows_rejected == 0
    assert dataset.files["events"].rows_clean == len(ev)
    params = json.loads((upcoming_world["dir"] / "truth" / "params.json").read_text())
    assert params["upcoming_events"] == UPCOMING
    # Attention is a budget: a crowded upcoming catalogue lowers each upcoming event's offset.
    truth = pd.read_parquet(upcoming_world["dir"] / "truth" / "events.parquet")
    later = truth["start_time"] > pd.Timestamp(NOW)
    assert later.sum() == UPCOMING
    assert truth["market_offset"][later].mean() < truth["market_offset"][~later].mean() - 1.0


def test_upcoming_events_option_is_deterministic_and_off_below_the_natural_count(
        world: dict, upcoming_world: dict, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate(N_USERS, SEED, again, "csv", NOW, progress=False, upcoming_events=UPCOMING)
    for name in FILE_NAMES:
        assert filecmp.cmp(upcoming_world["dir"] / f"{name}.csv", again / f"{name}.csv",
                           shallow=False), name
    # Asking for no more than the catalogue already has changes no data file.
    few = tmp_path / "few"
    generate(N_USERS, SEED, few, "csv", NOW, progress=False, upcoming_events=1)
    for name in FILE_NAMES:
        assert filecmp.cmp(world["dir"] / f"{name}.csv", few / f"{name}.csv",
                           shallow=False), name
    with pytest.raises(ValueError, match="upcoming_events"):
        generate(100, 1, tmp_path / "x", progress=False, upcoming_events=-1)
