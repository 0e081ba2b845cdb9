"""Pair features: the one implementation that training, evaluation and serving all call.

``pair_features(history, users, events)`` describes each (user, event) pair with what was known at
``history.now_ms`` and nothing later. Every count is ``log1p``-compressed so that a linear layer
and a tree see the same monotone signal; shares are already in [0, 1].

| feature            | meaning                                                              |
|--------------------|----------------------------------------------------------------------|
| dist_home_km       | log1p distance from the user's home to the venue                     |
| dist_venues_km     | log1p distance to the centroid of the venues the user went to        |
| hours_to_start     | log1p hours from now to the start (0 for events already started)     |
| friends_going      | log1p friends with a going registration                              |
| invited            | 1 if the user was invited                                            |
| host_going         | log1p the user's going registrations with the event's host           |
| host_share         | that count over all the user's going registrations                   |
| follows_host       | 1 if the user follows (is a member of) the host                      |
| category_affinity  | share of the user's going registrations in the event's category      |
| event_popularity   | log1p going registrations of the event so far                        |
| host_popularity    | log1p going registrations with the host's events so far              |
| decline_share      | share of the event's responses that are declines                     |
| time_match         | share of the user's registrations in the event's time-of-week bucket |
| slot_match         | share of them in the event's local weekday/weekend x day/evening slot |
| user_activity      | log1p the user's going registrations                                 |
| price_vs_usual     | log1p(price) minus the user's mean log1p(price) (0 without history)  |
| log_price          | log1p(price)                                                         |
| viewed             | log1p times the user viewed the event                                |
| has_history        | 1 if the user has any going registration                             |
"""

from __future__ import annotations

import numpy as np

from gnn.history import MS_PER_HOUR, History
from graph.geo import haversine_km

FEATURE_NAMES: tuple[str, ...] = (
    "dist_home_km",
    "dist_venues_km",
    "hours_to_start",
    "friends_going",
    "invited",
    "host_going",
    "host_share",
    "follows_host",
    "category_affinity",
    "event_popularity",
    "host_popularity",
    "decline_share",
    "time_match",
    "slot_match",
    "user_activity",
    "price_vs_usual",
    "log_price",
    "viewed",
    "has_history",
)
N_FEATURES = len(FEATURE_NAMES)


def pair_features(history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
    """Feature matrix (n_pairs, N_FEATURES), float32, for catalog rows ``users[i], events[i]``."""
    c = history.catalog
    users = np.asarray(users, dtype=np.int64)
    events = np.asarray(events, dtype=np.int64)
    out = np.zeros((len(users), N_FEATURES), dtype=np.float32)
    if len(users) == 0:
        return out
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}

    e_lat, e_lon = c.event_lat[events], c.event_lon[events]
    d_home = haversine_km(c.user_lat[users], c.user_lon[users], e_lat, e_lon)
    v_lat, v_lon = history.user_venue_centroid
    d_venues = haversine_km(v_lat[users], v_lon[users], e_lat, e_lon)
    # An unknown distance is treated as far away (log1p(20 000 km)), not as "right here".
    out[:, col["dist_home_km"]] = np.log1p(np.nan_to_num(d_home, nan=20_000.0))
    out[:, col["dist_venues_km"]] = np.log1p(np.nan_to_num(d_venues, nan=20_000.0))
    hours = (c.event_start[events] - history.now_ms) / MS_PER_HOUR
    out[:, col["hours_to_start"]] = np.log1p(np.clip(np.nan_to_num(hours), 0.0, None))

    out[:, col["friends_going"]] = np.log1p(
        history.pair_lookup(history.friends_going, users, events)
    )
    out[:, col["invited"]] = history.pair_lookup(history.invited, users, events)
    hosts = c.event_host[events]
    known_host = hosts >= 0
    host_going = np.zeros(len(users))
    follows = np.zeros(len(users))
    if known_host.any():
        host_going[known_host] = history.pair_lookup(
            history.user_host_going, users[known_host], hosts[known_host]
        )
        follows[known_host] = history.pair_lookup(
            history.follows, users[known_host], hosts[known_host]
        )
    activity = history.user_going_count[users]
    out[:, col["host_going"]] = np.log1p(host_going)
    out[:, col["host_share"]] = host_going / np.maximum(activity, 1.0)
    out[:, col["follows_host"]] = follows

    cats = c.event_category[events]
    known_cat = cats >= 0
    affinity = np.zeros(len(users))
    affinity[known_cat] = history.user_category_share[users[known_cat], cats[known_cat]]
    out[:, col["category_affinity"]] = affinity
    out[:, col["event_popularity"]] = np.log1p(history.event_popularity[events])
    host_pop = np.zeros(len(users))
    host_pop[known_host] = history.host_popularity[hosts[known_host]]
    out[:, col["host_popularity"]] = np.log1p(host_pop)
    out[:, col["decline_share"]] = history.event_decline_share[events]
    out[:, col["time_match"]] = history.user_bucket_share[users, c.event_bucket[events]]
    out[:, col["slot_match"]] = history.user_slot_share[users, c.event_slot[events]]
    out[:, col["user_activity"]] = np.log1p(activity)
    has_history = activity > 0
    log_price = c.event_log_price[events]
    out[:, col["price_vs_usual"]] = np.where(
        has_history, log_price - history.user_mean_log_price[users], 0.0
    )
    out[:, col["log_price"]] = log_price
    out[:, col["viewed"]] = np.log1p(history.pair_lookup(history.viewed, users, events))
    out[:, col["has_history"]] = has_history
    return out
