"""Users, their planted tastes, and the friendship graph.

The population is built around *interest communities* ("scenes"): groups of about 120 people in
one metro who share a category profile, a latent taste centroid, a neighbourhood they tend to live
in, an age centre and a gender mix. Communities are what make the data realistic in the ways a
graph recommender should exploit and a flat model should not see directly:

* friends mostly come from the same community (homophily in taste, place and age),
* tastes of friends are correlated, so "what my friends like" carries signal even before any
  friend registers,
* hosts target communities (see `catalog.py`), so a host's audience is a scene.

Friendships are networkx powerlaw-cluster graphs inside each community (heavy-tailed degrees and
triangles, as in real social graphs), plus taste-homophilous ties between communities of the same
metro and a few ties across metros. About 8% of users have no friends on the platform at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from etl.synthetic import vocab
from etl.synthetic.choice_model import TASTE_DIM, UserLatents
from etl.synthetic.geo import METROS, haversine_km, metro_shares, offset_km, sample_home_locations

DAY_S = 86_400
#: The platform opened 5 years before `now`; sign-ups grow by about 35% a year, so roughly half
#: of the users joined during the 18 months of simulated history (cold-start users exist).
PLATFORM_AGE_DAYS = 5 * 365
SIGNUP_GROWTH_PER_YEAR = 0.3
COMMUNITY_SIZE = 120
SOCIAL_SHARE = 0.92
TRAVELLER_SHARE = 0.04
EXPAT_SHARE = 0.12

#: Preferred time-of-week profiles (weekday day, weekday evening, weekend day, weekend evening):
#: weekday-evening people, weekend-day people, and flexible people.
TIME_TYPES = np.array([[0.08, 0.62, 0.10, 0.20],
                       [0.05, 0.10, 0.65, 0.20],
                       [0.15, 0.35, 0.30, 0.20]])
TIME_TYPE_SHARES = np.array([0.45, 0.30, 0.25])


@dataclass
class Population:
    """All users (row i is user id `ids[i]`) and the friendship edge list (once per pair).

    Times are int64 epoch seconds (UTC).
    """

    ids: np.ndarray
    name: np.ndarray
    birth_year: np.ndarray
    gender: np.ndarray
    locale: np.ndarray
    metro: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    joined_at: np.ndarray
    community: np.ndarray
    second_metro: np.ndarray
    latents: UserLatents
    maybe_propensity: np.ndarray
    rating_propensity: np.ndarray
    invite_propensity: np.ndarray
    follow_propensity: np.ndarray
    community_metro: np.ndarray
    community_profile: np.ndarray
    community_taste: np.ndarray
    community_anchor: np.ndarray
    community_size: np.ndarray
    friend_a: np.ndarray
    friend_b: np.ndarray
    friend_since: np.ndarray

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])


def make_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """`u000001`-style ids, widened when n needs more digits (order = row order)."""
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def dirichlet_rows(rng: np.random.Generator, alpha: np.ndarray) -> np.ndarray:
    """One Dirichlet draw per row of `alpha` (vectorised through Gamma variates)."""
    g = rng.standard_gamma(alpha)
    g = np.maximum(g, 1e-300)
    return g / g.sum(axis=1, keepdims=True)


def _signup_times(rng: np.random.Generator, n: int, now_s: int) -> np.ndarray:
    """Join times with exponential platform growth (inverse-CDF sampling)."""
    years = PLATFORM_AGE_DAYS / 365.0
    g = SIGNUP_GROWTH_PER_YEAR
    u = rng.random(n)
    t_years = np.log1p(u * np.expm1(g * years)) / g
    start = now_s - PLATFORM_AGE_DAYS * DAY_S
    joined = start + (t_years * 365.0 * DAY_S).astype(np.int64)
    return np.minimum(joined, now_s - 3600)


def build_population(rng: np.random.Generator, n_users: int, now_s: int, now_year: int
                     ) -> Population:
    """Draw users, communities, latent tastes and friendships."""
    shares = metro_shares()
    n_metros = len(METROS)
    pop_vec = np.array([c.popularity for c in vocab.CATEGORIES])
    pop_vec = pop_vec / pop_vec.sum()
    metro = rng.choice(n_metros, size=n_users, p=shares)

    # Communities per metro.
    comm_metro_l: list[int] = []
    comm_of_user = np.zeros(n_users, dtype=np.int64)
    for m in range(n_metros):
        members = np.flatnonzero(metro == m)
        if members.size == 0:
            continue
        n_comm = max(1, round(members.size / COMMUNITY_SIZE))
        weights = rng.dirichlet(np.full(n_comm, 1.5))
        local = rng.choice(n_comm, size=members.size, p=weights)
        comm_of_user[members] = len(comm_metro_l) + local
        comm_metro_l.extend([m] * n_comm)
    comm_metro = np.array(comm_metro_l, dtype=np.int64)
    n_comm_total = comm_metro.size
    comm_profile = dirichlet_rows(rng, np.tile(4.0 * pop_vec, (n_comm_total, 1)))
    comm_taste = rng.normal(0.0, np.sqrt(0.65 / TASTE_DIM), (n_comm_total, TASTE_DIM))
    comm_age = rng.uniform(24.0, 50.0, n_comm_total)
    comm_female = rng.beta(5.0, 5.0, n_comm_total)
    comm_anchor = np.array([
        rng.choice(len(METROS[m].anchors), p=_anchor_weights(m)) for m in comm_metro
    ], dtype=np.int64)
    comm_size = np.bincount(comm_of_user, minlength=n_comm_total)

    # Where people live: their community's neighbourhood, often, or anywhere in the metro.
    lat = np.zeros(n_users)
    lon = np.zeros(n_users)
    for m in range(n_metros):
        members = np.flatnonzero(metro == m)
        if members.size == 0:
            continue
        anchor = rng.choice(len(METROS[m].anchors), size=members.size, p=_anchor_weights(m))
        own = rng.random(members.size) < 0.55
        anchor = np.where(own, comm_anchor[comm_of_user[members]], anchor)
        lat[members], lon[members] = sample_home_locations(rng, METROS[m], anchor)

    # Who they are.
    ages = np.where(rng.random(n_users) < 0.85,
                    rng.normal(comm_age[comm_of_user], 7.0), rng.uniform(18.0, 75.0, n_users))
    ages = np.clip(ages, 18.0, 82.0)
    birth_year = (now_year - np.floor(ages)).astype(np.int64)
    g_draw = rng.random(n_users)
    female = rng.random(n_users) < comm_female[comm_of_user]
    gender = np.where(female, "female", "male").astype(object)
    gender[g_draw < 0.015] = "non-binary"
    gender[(g_draw >= 0.015) & (g_draw < 0.04)] = ""
    locale = np.array([METROS[m].locale for m in metro], dtype=object)
    toronto = np.array([mt.name == "Toronto" for mt in METROS])[metro]
    locale[toronto & (rng.random(n_users) < 0.08)] = "fr-CA"
    expat = rng.random(n_users) < EXPAT_SHARE
    locale[expat] = np.array(vocab.LOCALES, dtype=object)[
        rng.integers(0, len(vocab.LOCALES), int(expat.sum()))]
    name = _names(rng, locale, gender)
    joined_at = _signup_times(rng, n_users, now_s)

    # Latent taste.
    theta = dirichlet_rows(rng, 8.0 * comm_profile[comm_of_user] + 0.25 * pop_vec)
    taste = comm_taste[comm_of_user] + rng.normal(0.0, np.sqrt(0.35 / TASTE_DIM),
                                                  (n_users, TASTE_DIM))
    time_type = rng.choice(len(TIME_TYPE_SHARES), size=n_users, p=TIME_TYPE_SHARES)
    time_pref = dirichlet_rows(rng, 12.0 * TIME_TYPES[time_type])
    centre_lat = np.array([mt.lat for mt in METROS])[metro]
    centre_lon = np.array([mt.lon for mt in METROS])[metro]
    from_centre = haversine_km(lat, lon, centre_lat, centre_lon)
    # People who live far out are used to travelling further.
    travel_tol = np.exp(rng.normal(np.log(4.0), 0.5, n_users)) * (1.0 + from_centre / 50.0)
    price_sens = np.exp(rng.normal(0.0, 0.45, n_users)) * np.clip(
        1.0 + 0.015 * (32.0 - ages), 0.6, 1.4)

    # Travellers: a second metro they are often in (work trips, a partner in another city).
    second_metro = np.full(n_users, -1, dtype=np.int64)
    away_lat = np.full(n_users, np.nan)
    away_lon = np.full(n_users, np.nan)
    travellers = np.flatnonzero(rng.random(n_users) < TRAVELLER_SHARE)
    for i in travellers:
        p = shares.copy()
        p[metro[i]] = 0.0
        second_metro[i] = rng.choice(n_metros, p=p / p.sum())
    if travellers.size:
        sm = second_metro[travellers]
        a_lat, a_lon = offset_km(np.array([mt.lat for mt in METROS])[sm],
                                 np.array([mt.lon for mt in METROS])[sm],
                                 rng.normal(0.0, 4.0, travellers.size),
                                 rng.normal(0.0, 4.0, travellers.size))
        away_lat[travellers] = a_lat
        away_lon[travellers] = a_lon

    fa, fb = _friendships(rng, metro, comm_of_user, taste, second_metro)
    since = _friendship_since(rng, joined_at[fa], joined_at[fb], now_s)

    # Activity: heavy-tailed personal base rate, a little higher for well-connected people.
    degree = np.bincount(np.concatenate([fa, fb]), minlength=n_users).astype(np.float64)
    log_deg = np.log1p(degree)
    # Clipped at +3.5 sd-units so the busiest person registers for a few hundred events, not
    # thousands.
    activity = np.minimum(rng.normal(0.0, 1.4, n_users) + 0.2 * (log_deg - log_deg.mean()), 3.5)

    latents = UserLatents(
        home_lat=lat, home_lon=lon, away_lat=away_lat, away_lon=away_lon, theta=theta,
        taste=taste, time_pref=time_pref, travel_tolerance_km=travel_tol,
        price_sensitivity=price_sens, activity=activity)
    return Population(
        ids=make_ids("u", n_users, 6), name=name, birth_year=birth_year, gender=gender,
        locale=locale, metro=metro, lat=lat, lon=lon, joined_at=joined_at,
        community=comm_of_user, second_metro=second_metro, latents=latents,
        maybe_propensity=rng.beta(1.2, 7.0, n_users),
        rating_propensity=rng.beta(1.5, 4.0, n_users),
        invite_propensity=rng.beta(1.0, 7.0, n_users),
        follow_propensity=rng.beta(1.0, 3.0, n_users),
        community_metro=comm_metro, community_profile=comm_profile, community_taste=comm_taste,
        community_anchor=comm_anchor, community_size=comm_size,
        friend_a=fa, friend_b=fb, friend_since=since)


def _anchor_weights(m: int) -> np.ndarray:
    w = np.array([a.weight for a in METROS[m].anchors])
    return w / w.sum()


def _names(rng: np.random.Generator, locale: np.ndarray, gender: np.ndarray) -> np.ndarray:
    """Full names drawn from the user's locale's language, matching gender where known."""
    n = locale.shape[0]
    out = np.empty(n, dtype=object)
    lang = np.array([vocab.language_of(str(loc)) for loc in locale], dtype=object)
    pick_female = np.where(gender == "female", True,
                           np.where(gender == "male", False, rng.random(n) < 0.5))
    r_first = rng.random(n)
    r_last = rng.random(n)
    for code, (fem, mal, last) in vocab.NAMES.items():
        idx = np.flatnonzero(lang == code)
        if idx.size == 0:
            continue
        fem_a = np.array(fem, dtype=object)
        mal_a = np.array(mal, dtype=object)
        last_a = np.array(last, dtype=object)
        first = np.where(pick_female[idx], fem_a[(r_first[idx] * len(fem)).astype(int)],
                         mal_a[(r_first[idx] * len(mal)).astype(int)])
        surname = last_a[(r_last[idx] * len(last)).astype(int)]
        out[idx] = first + " " + surname
    return out


def _friendships(rng: np.random.Generator, metro: np.ndarray, community: np.ndarray,
                 taste: np.ndarray, second_metro: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undirected friendship edges (a < b), each pair once."""
    n = metro.shape[0]
    social = rng.random(n) < SOCIAL_SHARE
    edges: list[np.ndarray] = []
    # 1. Within communities: powerlaw-cluster graphs (preferential attachment + triangles).
    order = np.argsort(community, kind="stable")
    bounds = np.searchsorted(community[order], np.arange(community.max() + 2))
    for c in range(community.max() + 1):
        members = order[bounds[c]:bounds[c + 1]]
        members = members[social[members]]
        k = members.size
        if k < 2:
            continue
        members = rng.permutation(members)
        if k <= 4:
            g = nx.complete_graph(k)
        else:
            m_attach = int(rng.choice([1, 2, 3, 4], p=[0.15, 0.3, 0.35, 0.2]))
            m_attach = min(m_attach, k - 1)
            g = nx.powerlaw_cluster_graph(k, m_attach, 0.3, seed=int(rng.integers(2**31 - 1)))
        if g.number_of_edges():
            local = np.array(sorted(g.edges()), dtype=np.int64)
            edges.append(members[local])
    within = np.concatenate(edges) if edges else np.zeros((0, 2), dtype=np.int64)

    # 2. Between communities of one metro, preferring similar taste (homophily).
    extra: list[np.ndarray] = []
    for m in range(len(METROS)):
        members = np.flatnonzero((metro == m) & social)
        if members.size < 3:
            continue
        n_cross = round(0.7 * members.size)
        src = members[rng.integers(0, members.size, n_cross)]
        cands = members[rng.integers(0, members.size, (n_cross, 12))]
        sim = np.einsum("id,ijd->ij", taste[src], taste[cands])
        score = 4.0 * sim + rng.gumbel(size=sim.shape)
        score[community[cands] == community[src][:, None]] = -np.inf
        best = np.argmax(score, axis=1)
        ok = np.isfinite(score[np.arange(n_cross), best])
        extra.append(np.stack([src[ok], cands[np.arange(n_cross), best][ok]], axis=1))

    # 3. Across metros: travellers know people in their second city; a few random long ties.
    trav = np.flatnonzero((second_metro >= 0) & social)
    pools = [np.flatnonzero((metro == m) & social) for m in range(len(METROS))]
    for i in trav:
        pool = pools[second_metro[i]]
        if pool.size:
            extra.append(np.stack([np.full(min(2, pool.size), i),
                                   rng.choice(pool, size=min(2, pool.size), replace=False)], 1))
    n_long = round(0.02 * n)
    soc_idx = np.flatnonzero(social)
    if soc_idx.size >= 2 and n_long:
        extra.append(np.stack([soc_idx[rng.integers(0, soc_idx.size, n_long)],
                               soc_idx[rng.integers(0, soc_idx.size, n_long)]], 1))

    all_edges = np.concatenate([within, *extra]) if extra else within
    a = np.minimum(all_edges[:, 0], all_edges[:, 1])
    b = np.maximum(all_edges[:, 0], all_edges[:, 1])
    keep = a != b
    pairs = np.unique(a[keep] * np.int64(n) + b[keep])
    return pairs // n, pairs % n


def _friendship_since(rng: np.random.Generator, joined_a: np.ndarray, joined_b: np.ndarray,
                      now_s: int) -> np.ndarray:
    """Friendship start: some months after the later of the two sign-ups, before `now`."""
    base = np.maximum(joined_a, joined_b)
    since = base + (rng.exponential(120.0, base.shape[0]) * DAY_S).astype(np.int64)
    late = since >= now_s - 3600
    room = np.maximum(now_s - 3600 - base, 1)
    since[late] = base[late] + (rng.random(int(late.sum())) * room[late]).astype(np.int64)
    return since
