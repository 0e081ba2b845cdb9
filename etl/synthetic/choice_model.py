r"""The planted choice model: how a synthetic user decides whether to register for an event.

This module is the *ground truth* of the synthetic data. The simulator (`simulate.py`) draws every
registration decision from it, and the evaluation's oracle (`truth.py`) recomputes it for any
(user, event) pair at any time. It is a pure, vectorised function of arrays, so both call the very
same code.

The model
---------
When user *u* considers event *e* at time *t*, they register (status going, maybe or waitlist)
with probability :math:`P = \sigma(\text{logit})`, where

.. math::

    \text{logit}(u, e, t) =\; & b_0 + \text{market}_{m(e)} + \text{activity}_u \\
      & + a_{int}\,\max(\ln(K\,\theta_{u,c(e)}),\ f_{int})
        + a_{lat}\,\langle \text{taste}_u, \text{style}_e \rangle
        + a_{qual}\,\text{quality}_{h(e)} + \text{appeal}_e \\
      & - a_{dist}\,\ln(1 + d_{km}(u, e) / \text{tol}_u)
        - a_{price}\,\text{price\_sens}_u\,\ln(1 + \text{price\_eur}_e)
        + a_{time}\,\max(\ln(S\,\text{pref}_{u,s(e)}),\ f_{time}) \\
      & + a_{soc}\,\ln(1 + F) + a_{host}\,\ln(1 + H) + a_{follow}\,W
        + a_{pop}\,\ln(1 + R) + a_{inv}\,I

Static terms (fixed for a pair, computed by `pair_features` from the planted attributes):

* :math:`\text{market}_m = -a_{comp}\ln(\text{events per week in metro } m / \text{ref})`: a
  fixed attention budget. With :math:`a_{comp}=1` a user's expected number of registrations does
  not grow with the size of the city's catalogue, which keeps volumes per user stable from 1 000
  to 100 000 users.
* :math:`\text{activity}_u`: the user's personal base rate (normal, sd 1.4, capped at +3.5, a
  little higher for well-connected people), so the number of registrations per user is
  heavy-tailed: most people rarely register, a few register a lot.
* :math:`\theta_u` is the user's Dirichlet category mixture over K = 10 categories and *c(e)* the
  event's category: :math:`\ln(K\theta)` is 0 for a user with uniform interests and
  :math:`a_{int}=1` would make a user's registrations split across categories in proportion to
  :math:`\theta_u`, other things equal.
* :math:`\text{taste}_u` (8 dims, norm about 1) and :math:`\text{style}_e` (unit norm, derived from
  the host's style) encode finer taste than categories; tags and titles are drawn from the style.
* :math:`d_{km}` is the great-circle distance from the user's home, or, for the few users who
  regularly spend time in a second metro, the distance from their anchor there plus
  `away_extra_km`, whichever is smaller. :math:`\text{tol}_u` is the user's travel tolerance
  (km, log-normal around 4 km, larger for people living far out).
* Prices are converted to euros at fixed rates (`geo.EUR_PER_UNIT`); free events have price 0.
* *s(e)* is the event's time-of-week slot (weekday day/evening, weekend day/evening, local time)
  and :math:`\text{pref}_u` the user's Dirichlet preference over the S = 4 slots.
* :math:`\text{quality}_h` (standard normal) is the host's quality, :math:`\text{appeal}_e`
  (normal, sd 0.4) what makes one event of a host more attractive than another.

State terms (the *state counts*, passed as arrays; they change over time):

* *F* `friends_registered`: friends of *u* (friendship `since` < t) with a registration for *e*
  with status going, maybe or waitlist and `at` < t.
* *H* `host_past_going`: *u*'s registrations with status going for events of *e*'s host that
  started before t (the person attended).
* *W* `follows_host`: 1 if *u* follows *e*'s host with a follow `at` < t, else 0.
* *R* `popularity`: registrations for *e* with status going, maybe or waitlist and `at` < t.
* *I* `invited`: 1 if *u* has an invitation to *e* with `at` < t, else 0.

The simulator evaluates the state as of 00:00 UTC of the day of the decision (it processes days
in order), so an evaluator computing the counts at a cutoff instant gets exactly the simulator's
inputs when the cutoff is a midnight UTC, and counts that differ only by same-day activity
otherwise.

What is deliberately *not* in the model: age, gender and locale act only through the planted
communities (who you are friends with and what you like), as in real data; a full event does not
change the decision (the registration becomes `waitlist`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
from scipy.special import expit

from etl.synthetic.geo import km_from_cosine, unit_vectors

N_CATEGORIES = 10
N_SLOTS = 4
TASTE_DIM = 8


@dataclass(frozen=True)
class ChoiceParams:
    """Coefficients of the planted choice model (see the module docstring for the formula).

    The defaults are chosen so that each effect is visible in the data but none decides alone;
    the comment on each says why its size is plausible. "x times" below means odds ratios, which
    equal probability ratios when registrations are rare, as they are.
    """

    #: Base log-odds. Calibrated so that 10 000 or 100 000 users register about 10 times each
    #: over the 20-month timeline (all the other terms are centred near zero).
    b0: float = -4.7
    #: Attention budget: 1 means twice the events in a city halves the chance of each one.
    a_comp: float = 1.0
    #: Reference catalogue size (events per week in a metro) where the market offset is zero.
    comp_ref_per_week: float = 10.0
    #: Category interest: 1.0 would make category choice proportional to theta; 0.9 lets other
    #: reasons (friends, hosts) pull people a little outside their usual categories.
    a_int: float = 0.9
    #: Floor of ln(K * theta): a category a person ignores is unlikely, not impossible.
    interest_floor: float = -3.0
    #: Latent taste match: matched scene (inner product ~0.8) vs unrelated (~0 +- 0.35) is about
    #: 2.5-3x; strong enough to matter within a category, weaker than the category itself.
    a_lat: float = 1.3
    #: Host quality: one sd better host, 1.4x the registrations (word of mouth, reviews).
    a_qual: float = 0.35
    #: Distance decay, log-shaped: at the user's tolerance (about 4 km) the odds are 0.45x, at
    #: 10x the tolerance 0.06x; people mostly go out near home but a great event travels.
    a_dist: float = 1.2
    #: Extra km charged when a traveller is in their second metro (being away has a cost).
    away_extra_km: float = 20.0
    #: Price: a 20 EUR ticket for a median-sensitive person is about 0.4x a free event.
    a_price: float = 0.3
    #: Time-of-week fit: a weekday-evening person is about 3x likelier to take a weekday
    #: evening than a weekend morning event of the same appeal.
    a_time: float = 0.6
    #: Floor of ln(S * pref): an unusual slot is harder, not impossible.
    time_floor: float = -3.0
    #: Social proof: one friend registered 1.9x, three friends 3.5x (diminishing returns).
    a_soc: float = 0.9
    #: Host loyalty: after one attended event 1.7x, after three 2.8x.
    a_host: float = 0.75
    #: Following the host: 1.8x (they see the announcement; part of the effect is already in
    #: the taste terms since people follow hosts they like).
    a_follow: float = 0.6
    #: Popularity (herding): 10 registrations 1.6x, 100 registrations 2.5x.
    a_pop: float = 0.2
    #: A personal invitation: 3.7x; the strongest single nudge, still far from certain.
    a_inv: float = 1.3

    def to_dict(self) -> dict[str, float]:
        """Plain dict for `truth/params.json`."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, float]) -> ChoiceParams:
        """Inverse of `to_dict`; unknown keys are ignored so old truth files keep loading."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: float(v) for k, v in values.items() if k in names})


@dataclass(frozen=True)
class UserLatents:
    """Planted per-user attributes the choice model needs (arrays indexed by user row).

    `away_lat/away_lon` are NaN for users without a second metro; `theta` is (n, K),
    `taste` (n, D), `time_pref` (n, S).
    """

    home_lat: np.ndarray
    home_lon: np.ndarray
    away_lat: np.ndarray
    away_lon: np.ndarray
    theta: np.ndarray
    taste: np.ndarray
    time_pref: np.ndarray
    travel_tolerance_km: np.ndarray
    price_sensitivity: np.ndarray
    activity: np.ndarray


@dataclass(frozen=True)
class EventLatents:
    """Planted and static per-event attributes the choice model needs (indexed by event row).

    `category` and `slot` are integer codes (`vocab.CATEGORY_NAMES`, `vocab.SLOT_NAMES`),
    `style` is (n, D), `market_offset` is the event's metro's attention-budget term.
    """

    lat: np.ndarray
    lon: np.ndarray
    category: np.ndarray
    style: np.ndarray
    price_eur: np.ndarray
    slot: np.ndarray
    host_quality: np.ndarray
    appeal: np.ndarray
    market_offset: np.ndarray


@dataclass(frozen=True)
class PairFeatures:
    """Static inputs of the logit for aligned (user, event) pairs."""

    interest: np.ndarray
    latent_match: np.ndarray
    distance_km: np.ndarray
    travel_tolerance_km: np.ndarray
    price_eur: np.ndarray
    price_sensitivity: np.ndarray
    time_match: np.ndarray
    host_quality: np.ndarray
    appeal: np.ndarray
    activity: np.ndarray
    market_offset: np.ndarray


STATE_FIELDS: tuple[str, ...] = ("friends_registered", "host_past_going", "follows_host",
                                 "popularity", "invited")


@dataclass(frozen=True)
class ChoiceState:
    """The time-dependent state counts for aligned (user, event) pairs at a moment t.

    Definitions are in the module docstring; all are counts of things strictly before t.
    """

    friends_registered: np.ndarray
    host_past_going: np.ndarray
    follows_host: np.ndarray
    popularity: np.ndarray
    invited: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> ChoiceState:
        """No history at all (a brand-new event nobody has heard of)."""
        return cls(*(np.zeros(n, dtype=np.float64) for _ in STATE_FIELDS))

    @classmethod
    def coerce(cls, state: ChoiceState | Mapping[str, object], n: int) -> ChoiceState:
        """Accept a `ChoiceState` or a mapping of arrays/scalars; missing keys count as 0."""
        if isinstance(state, ChoiceState):
            values = {name: getattr(state, name) for name in STATE_FIELDS}
        else:
            unknown = set(state) - set(STATE_FIELDS)
            if unknown:
                raise ValueError(f"unknown state fields {sorted(unknown)}; expected {STATE_FIELDS}")
            values = {name: state.get(name, 0) for name in STATE_FIELDS}
        arrays = {}
        for name, value in values.items():
            arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()
            if np.any(arr < 0) or not np.all(np.isfinite(arr)):
                raise ValueError(f"state field {name!r} must be finite and >= 0")
            arrays[name] = arr
        return cls(**arrays)


def interest_score(theta_rows: np.ndarray, floor: float) -> np.ndarray:
    """ln(K * theta), floored: 0 for average interest, positive for a favourite category."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(N_CATEGORIES * theta_rows), floor)


def time_match_score(pref_rows: np.ndarray, floor: float) -> np.ndarray:
    """ln(S * pref), floored: 0 when the slot is as liked as average."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(N_SLOTS * pref_rows), floor)


def effective_distance_km(users: UserLatents, events: EventLatents, u: np.ndarray,
                          e: np.ndarray, away_extra_km: float) -> np.ndarray:
    """Distance from home, or from the second-metro anchor plus a penalty, whichever is less."""
    event_unit = unit_vectors(events.lat[e], events.lon[e])
    home = unit_vectors(users.home_lat[u], users.home_lon[u])
    d_home = km_from_cosine(np.einsum("ij,ij->i", home, event_unit))
    away_lat = users.away_lat[u]
    has_away = ~np.isnan(away_lat)
    if not has_away.any():
        return d_home
    away = unit_vectors(away_lat[has_away], users.away_lon[u][has_away])
    d_away = np.full_like(d_home, np.inf)
    d_away[has_away] = km_from_cosine(np.einsum("ij,ij->i", away, event_unit[has_away]))
    return np.minimum(d_home, d_away + away_extra_km)


def pair_features(params: ChoiceParams, users: UserLatents, events: EventLatents,
                  u: np.ndarray, e: np.ndarray) -> PairFeatures:
    """Gather the static logit inputs for aligned user rows `u` and event rows `e`."""
    u = np.asarray(u, dtype=np.int64)
    e = np.asarray(e, dtype=np.int64)
    cat = events.category[e]
    return PairFeatures(
        interest=interest_score(users.theta[u, cat], params.interest_floor),
        latent_match=np.einsum("ij,ij->i", users.taste[u], events.style[e]),
        distance_km=effective_distance_km(users, events, u, e, params.away_extra_km),
        travel_tolerance_km=users.travel_tolerance_km[u],
        price_eur=events.price_eur[e],
        price_sensitivity=users.price_sensitivity[u],
        time_match=time_match_score(users.time_pref[u, events.slot[e]], params.time_floor),
        host_quality=events.host_quality[e],
        appeal=events.appeal[e],
        activity=users.activity[u],
        market_offset=events.market_offset[e],
    )


def static_terms(params: ChoiceParams, feats: PairFeatures) -> dict[str, np.ndarray]:
    """The state-independent additive terms of the logit, by name (fixed for a pair)."""
    return {
        "base": params.b0 + feats.market_offset + feats.activity,
        "interest": params.a_int * feats.interest,
        "taste": params.a_lat * feats.latent_match,
        "quality": params.a_qual * feats.host_quality + feats.appeal,
        "distance": -params.a_dist * np.log1p(feats.distance_km / feats.travel_tolerance_km),
        "price": -params.a_price * feats.price_sensitivity * np.log1p(feats.price_eur),
        "time": params.a_time * feats.time_match,
    }


def state_terms(params: ChoiceParams, state: ChoiceState) -> dict[str, np.ndarray]:
    """The additive terms driven by the state counts (social proof, loyalty, herding...)."""
    return {
        "friends": params.a_soc * np.log1p(state.friends_registered),
        "host": params.a_host * np.log1p(state.host_past_going),
        "follows": params.a_follow * np.minimum(state.follows_host, 1.0),
        "popularity": params.a_pop * np.log1p(state.popularity),
        "invited": params.a_inv * np.minimum(state.invited, 1.0),
    }


def logit_terms(params: ChoiceParams, feats: PairFeatures, state: ChoiceState
                ) -> dict[str, np.ndarray]:
    """Each additive term of the logit, by name (their sum is `planted_logit`).

    Exposed so that reports can say which effect drives a planted probability, and tests can
    check each term's sign and size.
    """
    return {**static_terms(params, feats), **state_terms(params, state)}


def _sum(terms: dict[str, np.ndarray]) -> np.ndarray:
    values = iter(terms.values())
    total = np.array(next(values), dtype=np.float64, copy=True)
    for value in values:
        total += value
    return total


def static_logit(params: ChoiceParams, feats: PairFeatures) -> np.ndarray:
    """The part of the logit that does not depend on the state (fixed for a pair)."""
    return _sum(static_terms(params, feats))


def state_logit(params: ChoiceParams, state: ChoiceState) -> np.ndarray:
    """The part of the logit driven by the state counts."""
    return _sum(state_terms(params, state))


def planted_logit(params: ChoiceParams, feats: PairFeatures, state: ChoiceState) -> np.ndarray:
    """Log-odds that each pair registers when it considers the event with this state."""
    return static_logit(params, feats) + state_logit(params, state)


def planted_probability(params: ChoiceParams, feats: PairFeatures, state: ChoiceState
                        ) -> np.ndarray:
    """`sigmoid(planted_logit)`: probability of a positive registration, strictly in (0, 1)."""
    return np.clip(expit(planted_logit(params, feats, state)), 1e-12, 1.0 - 1e-12)


@dataclass(frozen=True)
class UserBlock:
    """Per-user parts of `static_logit`, precomputed for a fixed set of users.

    Why: the simulator scores every candidate user of an event when the event is announced,
    about 200 million pairs for 100 000 users. Evaluating users x events as dense blocks (one
    matrix product for taste and one for distance) is an order of magnitude faster than
    gathering per pair, and gives the same numbers as `static_logit(pair_features(...))` up to
    floating-point rounding (a test checks this).
    """

    rows: np.ndarray
    base: np.ndarray            # b0 + activity
    interest: np.ndarray        # (n, K) a_int * interest score per category
    time: np.ndarray            # (n, S) a_time * time-match score per slot
    taste: np.ndarray           # (n, D) a_lat * taste
    home: np.ndarray            # (n, 3) unit vectors
    away_idx: np.ndarray        # positions (within rows) of users with a second metro
    away: np.ndarray            # (len(away_idx), 3)
    tolerance: np.ndarray
    price_coef: np.ndarray      # -a_price * price sensitivity


def user_block(params: ChoiceParams, users: UserLatents, rows: np.ndarray) -> UserBlock:
    """Precompute the per-user terms for `rows` (see `UserBlock`)."""
    rows = np.asarray(rows, dtype=np.int64)
    away_idx = np.flatnonzero(~np.isnan(users.away_lat[rows]))
    return UserBlock(
        rows=rows,
        base=params.b0 + users.activity[rows],
        interest=params.a_int * interest_score(users.theta[rows], params.interest_floor),
        time=params.a_time * time_match_score(users.time_pref[rows], params.time_floor),
        taste=params.a_lat * users.taste[rows],
        home=unit_vectors(users.home_lat[rows], users.home_lon[rows]),
        away_idx=away_idx,
        away=unit_vectors(users.away_lat[rows][away_idx], users.away_lon[rows][away_idx]),
        tolerance=users.travel_tolerance_km[rows],
        price_coef=-params.a_price * users.price_sensitivity[rows],
    )


def static_logit_block(params: ChoiceParams, block: UserBlock, events: EventLatents,
                       event_rows: np.ndarray) -> np.ndarray:
    """`static_logit` for every (block user, event) combination, shape (n_users, n_events)."""
    e = np.asarray(event_rows, dtype=np.int64)
    event_unit = unit_vectors(events.lat[e], events.lon[e])
    dist = km_from_cosine(block.home @ event_unit.T)
    if block.away_idx.size:
        d_away = km_from_cosine(block.away @ event_unit.T) + params.away_extra_km
        dist[block.away_idx] = np.minimum(dist[block.away_idx], d_away)
    out = block.interest[:, events.category[e]]
    out += block.base[:, None]
    out += (events.market_offset[e] + params.a_qual * events.host_quality[e]
            + events.appeal[e])[None, :]
    out += block.taste @ events.style[e].T
    out -= params.a_dist * np.log1p(dist / block.tolerance[:, None])
    out += block.price_coef[:, None] * np.log1p(events.price_eur[e])[None, :]
    out += block.time[:, events.slot[e]]
    return out
