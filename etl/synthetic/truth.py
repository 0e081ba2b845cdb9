"""The planted truth: what the generator knows and an evaluation's oracle may ask.

`generate()` writes `DIR/truth/` next to the data (the ETL loader ignores sub-folders):

* `params.json`: the `ChoiceParams`, seed, `now`, `n_users`, format version, market offsets
  per metro, exchange rates, category and slot codes, and the state-count definitions.
* `users.parquet`: `id` and every latent user attribute the choice model needs (home and
  second-metro anchors, travel tolerance, price sensitivity, activity, `theta_<category>`,
  `taste_<k>`, `pref_<slot>`) plus the other planted habits (community, propensities).
* `events.parquet`: `id` and the event's latent and static model inputs (category, time-of-week
  slot, price in euros, host quality, appeal, market offset, `style_<k>`, created/start times).
* `hosts.parquet`: `id`, quality, community, specialties, `style_<k>`.

`load_truth(DIR)` returns a `PlantedTruth`; `PlantedTruth.probability(user_ids, event_ids, at,
state)` is the planted probability that each user registers for each event if they consider it at
`at` with that state. The caller (the evaluator) computes the state counts from the graph as it
was at `at`, with exactly the definitions of `choice_model` (strictly before `at`; friendships
with `since` < `at`; positive statuses going/maybe/waitlist; attendance = `going` for an event
whose `start_time` < `at`). `compute_state` is a reference implementation over the dataset files,
to cross-check a Cypher implementation against.

`probability(..., until=...)` multiplies by the share of the pair's consideration moment that
falls in `[at, until)`: the planted probability of a registration in that window for a pair that
has not decided yet. This matters when ranking events whose remaining window differs (an event
starting tomorrow has had most of its chances already).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from etl.synthetic import vocab
from etl.synthetic.choice_model import (
    N_SLOTS,
    STATE_FIELDS,
    TASTE_DIM,
    ChoiceParams,
    ChoiceState,
    EventLatents,
    UserLatents,
    logit_terms,
    pair_features,
    planted_logit,
    planted_probability,
)
from etl.synthetic.consideration import ARCSINE_WEIGHT, share_between
from etl.synthetic.geo import EUR_PER_UNIT, METROS

TRUTH_VERSION = "1"
TRUTH_DIR = "truth"

StateLike = ChoiceState | Mapping[str, Any]
TimeLike = datetime | np.datetime64 | pd.Timestamp | int | np.ndarray | Sequence[Any]


def to_epoch_seconds(at: TimeLike, n: int) -> np.ndarray:
    """Times as int64 epoch seconds, broadcast to n. Naive datetimes are taken as UTC."""
    if isinstance(at, (int, np.integer)):
        return np.full(n, int(at), dtype=np.int64)
    if isinstance(at, (datetime, pd.Timestamp, np.datetime64, str)):
        ts = pd.Timestamp(at)
        ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
        return np.full(n, ts.value // 10**9, dtype=np.int64)
    if isinstance(at, pd.Series):
        out = series_seconds(at)
    else:
        arr = np.asarray(at)
        out = arr.astype(np.int64) if arr.dtype.kind in "iu" else series_seconds(pd.Series(arr))
    return np.broadcast_to(out, (n,)).astype(np.int64)


def series_seconds(values: pd.Series) -> np.ndarray:
    """A datetime or ISO-string Series as int64 epoch seconds (UTC)."""
    if not pd.api.types.is_datetime64_any_dtype(values):
        values = pd.to_datetime(values, utc=True, format="ISO8601")
    idx = pd.DatetimeIndex(values)
    if idx.tz is None:
        idx = idx.tz_localize("UTC")
    return idx.as_unit("ns").asi8 // 10**9


@dataclass
class PlantedTruth:
    """The oracle: planted attributes plus the choice model, addressable by string ids."""

    params: ChoiceParams
    meta: dict[str, Any]
    user_ids: np.ndarray
    event_ids: np.ndarray
    users: UserLatents
    events: EventLatents
    user_joined: np.ndarray
    event_created: np.ndarray
    event_start: np.ndarray
    user_table: pd.DataFrame
    event_table: pd.DataFrame
    host_table: pd.DataFrame

    def __post_init__(self) -> None:
        self._user_index = pd.Index(self.user_ids)
        self._event_index = pd.Index(self.event_ids)

    def rows(self, user_ids: Sequence[str] | np.ndarray, event_ids: Sequence[str] | np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers of the ids; unknown ids raise `KeyError` naming a few of them."""
        u = self._user_index.get_indexer(np.asarray(user_ids, dtype=object))
        e = self._event_index.get_indexer(np.asarray(event_ids, dtype=object))
        if u.shape != e.shape:
            raise ValueError("user_ids and event_ids must be aligned (same length)")
        for name, rows, ids in (("user", u, user_ids), ("event", e, event_ids)):
            if (rows < 0).any():
                bad = np.asarray(ids, dtype=object)[rows < 0][:5].tolist()
                raise KeyError(f"unknown {name} ids (first ones): {bad}")
        return u.astype(np.int64), e.astype(np.int64)

    def logit(self, user_ids: Sequence[str] | np.ndarray, event_ids: Sequence[str] | np.ndarray,
              at: TimeLike, state: StateLike) -> np.ndarray:
        """Planted log-odds of registering when considering the event at `at`."""
        u, e = self.rows(user_ids, event_ids)
        st = ChoiceState.coerce(state, u.shape[0])
        return planted_logit(self.params, pair_features(self.params, self.users, self.events,
                                                        u, e), st)

    def terms(self, user_ids: Sequence[str] | np.ndarray, event_ids: Sequence[str] | np.ndarray,
              at: TimeLike, state: StateLike) -> dict[str, np.ndarray]:
        """The logit's additive terms by name (for explanations and diagnostics)."""
        u, e = self.rows(user_ids, event_ids)
        st = ChoiceState.coerce(state, u.shape[0])
        return logit_terms(self.params, pair_features(self.params, self.users, self.events,
                                                      u, e), st)

    def probability(self, user_ids: Sequence[str] | np.ndarray,
                    event_ids: Sequence[str] | np.ndarray, at: TimeLike, state: StateLike,
                    *, until: TimeLike | None = None) -> np.ndarray:
        """Planted P(register) for aligned pairs, in (0, 1).

        `state` holds the state counts at `at` (a `ChoiceState` or a mapping with the keys
        friends_registered, host_past_going, follows_host, popularity, invited; arrays aligned
        with the pairs, or scalars). Without `until`, the probability of a positive decision if
        the user considers the event at `at`. With `until`, times the share of the pair's
        consideration window in [at, until) (0 when the user has not joined before the start
        or the event is not open in that interval).
        """
        u, e = self.rows(user_ids, event_ids)
        st = ChoiceState.coerce(state, u.shape[0])
        p = planted_probability(self.params, pair_features(self.params, self.users, self.events,
                                                           u, e), st)
        if until is None:
            return p
        return p * self._share(u, e, at, until)

    def consideration_share(self, user_ids: Sequence[str] | np.ndarray,
                            event_ids: Sequence[str] | np.ndarray, at: TimeLike,
                            until: TimeLike) -> np.ndarray:
        """Share of each pair's consideration moments that fall in [at, until)."""
        u, e = self.rows(user_ids, event_ids)
        return self._share(u, e, at, until)

    def _share(self, u: np.ndarray, e: np.ndarray, at: TimeLike, until: TimeLike) -> np.ndarray:
        n = u.shape[0]
        t0 = to_epoch_seconds(at, n)
        t1 = to_epoch_seconds(until, n)
        lo = np.maximum(self.event_created[e], self.user_joined[u])
        hi = self.event_start[e]
        return share_between(lo, hi, np.maximum(t0, lo), np.minimum(t1, hi))


def _utc_ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1000, type=pa.int64()).cast(
        pa.timestamp("ms", tz="UTC"))


def write_truth(out_dir: Path, *, pop: Any, cat: Any, params: ChoiceParams, seed: int,
                now: datetime, n_users: int, upcoming_events: int | None = None) -> Path:
    """Write `out_dir/truth/` (see the module docstring). `pop`/`cat` are the generator's.

    `upcoming_events` (the generator's option) is recorded in `params.json` only when set, so
    datasets generated without it keep their exact bytes.
    """
    tdir = out_dir / TRUTH_DIR
    tdir.mkdir(parents=True, exist_ok=True)
    cats = vocab.CATEGORY_NAMES
    metro_names = np.array([m.name for m in METROS], dtype=object)
    lat = pop.latents
    ucols: dict[str, Any] = {
        "id": pa.array(pop.ids, pa.string()),
        "metro": pa.array(metro_names[pop.metro], pa.string()),
        "second_metro": pa.array([metro_names[m] if m >= 0 else None for m in pop.second_metro],
                                 pa.string()),
        "community": pa.array(pop.community, pa.int64()),
        "joined_at": _utc_ts(pop.joined_at),
        "home_lat": lat.home_lat, "home_lon": lat.home_lon,
        "away_lat": pa.array(lat.away_lat, pa.float64(), from_pandas=True),
        "away_lon": pa.array(lat.away_lon, pa.float64(), from_pandas=True),
        "travel_tolerance_km": lat.travel_tolerance_km,
        "price_sensitivity": lat.price_sensitivity,
        "activity": lat.activity,
    }
    for k, name in enumerate(cats):
        ucols[f"theta_{name}"] = lat.theta[:, k]
    for k in range(TASTE_DIM):
        ucols[f"taste_{k}"] = lat.taste[:, k]
    for k, name in enumerate(vocab.SLOT_NAMES):
        ucols[f"pref_{name}"] = lat.time_pref[:, k]
    for name in ("maybe_propensity", "invite_propensity", "follow_propensity",
                 "rating_propensity"):
        ucols[name] = getattr(pop, name)
    pq.write_table(pa.table(ucols), tdir / "users.parquet", compression="zstd")

    ev = cat.latents
    ecols: dict[str, Any] = {
        "id": pa.array(cat.event_ids, pa.string()),
        "host_id": pa.array(cat.host_ids[cat.event_host], pa.string()),
        "metro": pa.array(metro_names[cat.event_metro], pa.string()),
        "lat": ev.lat, "lon": ev.lon,
        "category": pa.array(np.array(cats, dtype=object)[ev.category], pa.string()),
        "slot": pa.array(np.array(vocab.SLOT_NAMES, dtype=object)[ev.slot], pa.string()),
        "price_eur": ev.price_eur, "host_quality": ev.host_quality, "appeal": ev.appeal,
        "market_offset": ev.market_offset,
        "created_at": _utc_ts(cat.created), "start_time": _utc_ts(cat.start),
    }
    for k in range(TASTE_DIM):
        ecols[f"style_{k}"] = ev.style[:, k]
    pq.write_table(pa.table(ecols), tdir / "events.parquet", compression="zstd")

    spec = cat.host_specialties
    cat_arr = np.array(cats, dtype=object)
    hcols: dict[str, Any] = {
        "id": pa.array(cat.host_ids, pa.string()),
        "quality": cat.host_quality,
        "community": pa.array(cat.host_community, pa.int64()),
        "specialty_1": pa.array(cat_arr[spec[:, 0]], pa.string()),
        "specialty_2": pa.array([cat_arr[s] if s >= 0 else None for s in spec[:, 1]],
                                pa.string()),
    }
    for k in range(TASTE_DIM):
        hcols[f"style_{k}"] = cat.host_style[:, k]
    pq.write_table(pa.table(hcols), tdir / "hosts.parquet", compression="zstd")

    meta = {
        "version": TRUTH_VERSION,
        "generator": "etl.synthetic",
        "seed": int(seed),
        "n_users": int(n_users),
        "now": now.isoformat(),
        "choice_params": params.to_dict(),
        "market_offset_by_metro": {m.name: float(cat.market_offset_by_metro[i])
                                   for i, m in enumerate(METROS)},
        "eur_per_unit": EUR_PER_UNIT,
        "categories": list(cats),
        "slots": list(vocab.SLOT_NAMES),
        "evening_hour_local": vocab.EVENING_HOUR,
        "taste_dim": TASTE_DIM,
        "consideration": {"arcsine_weight": ARCSINE_WEIGHT,
                          "window": "[max(event.created_at, user.joined_at), event.start_time)"},
        "state_definitions": {
            "friends_registered": "friends (since < t) with a going/maybe/waitlist "
                                  "registration for the event with at < t",
            "host_past_going": "the user's going registrations for events of the event's host "
                               "with start_time < t",
            "follows_host": "1 if the user follows the event's host with at < t",
            "popularity": "going/maybe/waitlist registrations for the event with at < t",
            "invited": "1 if the user has an invitation to the event with at < t",
        },
        "simulation_state_time": "00:00 UTC of the decision's day",
    }
    if upcoming_events is not None:
        meta["upcoming_events"] = int(upcoming_events)
    (tdir / "params.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n",
                                      encoding="utf-8")
    return tdir


def _seconds(col: pd.Series) -> np.ndarray:
    return series_seconds(col)


def load_truth(directory: str | Path) -> PlantedTruth:
    """Load `DIR/truth` (or a truth folder itself) into a `PlantedTruth`."""
    path = Path(directory)
    if (path / TRUTH_DIR / "params.json").exists():
        path = path / TRUTH_DIR
    if not (path / "params.json").exists():
        raise FileNotFoundError(f"no planted truth in {directory} (expected truth/params.json)")
    meta = json.loads((path / "params.json").read_text(encoding="utf-8"))
    if str(meta.get("version")) != TRUTH_VERSION:
        raise ValueError(f"truth version {meta.get('version')!r} is not {TRUTH_VERSION!r}")
    params = ChoiceParams.from_dict(meta["choice_params"])
    u = pq.read_table(path / "users.parquet").to_pandas()
    e = pq.read_table(path / "events.parquet").to_pandas()
    h = pq.read_table(path / "hosts.parquet").to_pandas()
    cats = list(meta["categories"])
    slots = list(meta["slots"])
    users = UserLatents(
        home_lat=u["home_lat"].to_numpy(np.float64), home_lon=u["home_lon"].to_numpy(np.float64),
        away_lat=u["away_lat"].to_numpy(np.float64, na_value=np.nan),
        away_lon=u["away_lon"].to_numpy(np.float64, na_value=np.nan),
        theta=u[[f"theta_{c}" for c in cats]].to_numpy(np.float64),
        taste=u[[f"taste_{k}" for k in range(meta["taste_dim"])]].to_numpy(np.float64),
        time_pref=u[[f"pref_{s}" for s in slots]].to_numpy(np.float64),
        travel_tolerance_km=u["travel_tolerance_km"].to_numpy(np.float64),
        price_sensitivity=u["price_sensitivity"].to_numpy(np.float64),
        activity=u["activity"].to_numpy(np.float64))
    cat_code = {c: i for i, c in enumerate(cats)}
    slot_code = {s: i for i, s in enumerate(slots)}
    if len(slots) != N_SLOTS:
        raise ValueError("truth slots do not match this code's time-of-week slots")
    events = EventLatents(
        lat=e["lat"].to_numpy(np.float64), lon=e["lon"].to_numpy(np.float64),
        category=e["category"].map(cat_code).to_numpy(np.int64),
        style=e[[f"style_{k}" for k in range(meta["taste_dim"])]].to_numpy(np.float64),
        price_eur=e["price_eur"].to_numpy(np.float64),
        slot=e["slot"].map(slot_code).to_numpy(np.int64),
        host_quality=e["host_quality"].to_numpy(np.float64),
        appeal=e["appeal"].to_numpy(np.float64),
        market_offset=e["market_offset"].to_numpy(np.float64))
    return PlantedTruth(
        params=params, meta=meta, user_ids=u["id"].to_numpy(object),
        event_ids=e["id"].to_numpy(object), users=users, events=events,
        user_joined=_seconds(u["joined_at"]), event_created=_seconds(e["created_at"]),
        event_start=_seconds(e["start_time"]), user_table=u, event_table=e, host_table=h)


# --------------------------------------------------------------------------- reference state ---
POSITIVE_STATUSES = ("going", "maybe", "waitlist")
TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("joined_at",), "hosts": (), "events": ("start_time", "end_time", "created_at"),
    "friendships": ("since",), "registrations": ("at",), "invitations": ("at",),
    "views": ("at",), "follows": ("at",), "ratings": ("at",),
}


FLOAT_COLUMNS: dict[str, tuple[str, ...]] = {"users": ("lat", "lon"),
                                             "events": ("price", "lat", "lon")}
INT_COLUMNS: dict[str, tuple[str, ...]] = {"users": ("birth_year",), "events": ("capacity",),
                                           "views": ("count",), "ratings": ("stars",)}


def read_table(dataset_dir: str | Path, name: str) -> pd.DataFrame:
    """One contract file (CSV or Parquet) as a DataFrame with times as int64 epoch seconds.

    Ids and text are strings (empty CSV fields read as ""), coordinates and prices floats,
    counts nullable integers, so CSV and Parquet versions of a dataset read the same.
    """
    base = Path(dataset_dir)
    if (base / f"{name}.parquet").exists():
        df = pq.read_table(base / f"{name}.parquet").to_pandas()
        for col in df.columns:
            if df[col].dtype == object:
                df[col] = df[col].fillna("")
    elif (base / f"{name}.csv").exists():
        df = pd.read_csv(base / f"{name}.csv", dtype=str, keep_default_na=False)
    else:
        raise FileNotFoundError(f"{name}.csv / {name}.parquet not found in {base}")
    for col in FLOAT_COLUMNS.get(name, ()):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col].replace("", np.nan), errors="raise").astype(float)
    for col in INT_COLUMNS.get(name, ()):
        if col in df.columns:
            df[col] = pd.to_numeric(df[col].replace("", np.nan), errors="raise").astype("Int64")
    for col in TIME_COLUMNS.get(name, ()):
        if col in df.columns:
            values = df[col]
            present = values.notna() & (values.astype(str) != "")
            out = np.full(len(df), np.iinfo(np.int64).min, dtype=np.int64)
            if present.any():
                out[present.to_numpy()] = series_seconds(values[present])
            df[col] = out
    return df


def compute_state(dataset_dir: str | Path, user_ids: Sequence[str] | np.ndarray,
                  event_ids: Sequence[str] | np.ndarray, at: TimeLike) -> ChoiceState:
    """Reference implementation of the state counts from the dataset files, at time(s) `at`.

    Meant for cross-checking an evaluator's graph queries and for tests; it reads whole files,
    so use it on samples. A follow without `at` counts as always there.
    """
    users = np.asarray(user_ids, dtype=object)
    events_q = np.asarray(event_ids, dtype=object)
    n = users.shape[0]
    t = to_epoch_seconds(at, n)
    pairs = pd.DataFrame({"i": np.arange(n), "user_id": users, "event_id": events_q, "t": t})
    ev = read_table(dataset_dir, "events")[["id", "host_id", "start_time"]]
    pairs = pairs.merge(ev.rename(columns={"id": "event_id"}), on="event_id", how="left")
    regs = read_table(dataset_dir, "registrations")
    pos = regs[regs["status"].isin(POSITIVE_STATUSES)][["user_id", "event_id", "at"]]

    def count(frame: pd.DataFrame) -> np.ndarray:
        return np.bincount(frame["i"].to_numpy(np.int64), minlength=n).astype(np.float64)

    m = pairs[["i", "event_id", "t"]].merge(pos, on="event_id")
    popularity = count(m[m["at"] < m["t"]])

    inv = read_table(dataset_dir, "invitations")[["user_id", "event_id", "at"]]
    m = pairs[["i", "user_id", "event_id", "t"]].merge(inv, on=["user_id", "event_id"])
    invited = np.minimum(count(m[m["at"] < m["t"]]), 1.0)

    fol = read_table(dataset_dir, "follows")[["user_id", "host_id", "at"]]
    m = pairs[["i", "user_id", "host_id", "t"]].merge(fol, on=["user_id", "host_id"])
    follows = np.minimum(count(m[m["at"] < m["t"]]), 1.0)

    going = regs[regs["status"] == "going"][["user_id", "event_id"]].merge(
        ev.rename(columns={"id": "event_id", "start_time": "ev_start"}), on="event_id")
    m = pairs[["i", "user_id", "host_id", "t"]].merge(
        going[["user_id", "host_id", "ev_start"]], on=["user_id", "host_id"])
    host_past = count(m[m["ev_start"] < m["t"]])

    fr = read_table(dataset_dir, "friendships")
    both = pd.concat([
        fr.rename(columns={"user_id": "user_id", "friend_id": "friend"}),
        fr.rename(columns={"friend_id": "user_id", "user_id": "friend"}),
    ])[["user_id", "friend", "since"]]
    m = pairs[["i", "user_id", "event_id", "t"]].merge(both, on="user_id")
    m = m[m["since"] < m["t"]]
    m = m.merge(pos.rename(columns={"user_id": "friend"}), on=["friend", "event_id"])
    friends = count(m[m["at"] < m["t"]])
    return ChoiceState(friends_registered=friends, host_past_going=host_past,
                       follows_host=follows, popularity=popularity, invited=invited)


__all__ = ["STATE_FIELDS", "PlantedTruth", "compute_state", "load_truth", "read_table",
           "to_epoch_seconds", "write_truth"]
