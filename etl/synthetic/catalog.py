"""Hosts, venues and events: the supply side of the synthetic world.

A host is a person or an organisation in one metro, serving one community ("scene", see
`population.py`): it has 1-2 specialty categories drawn from that scene's interests, a latent
style near the scene's taste, a quality level, a home neighbourhood with 1-4 venues it reuses, a
habit (a usual weekday and hour), a price policy (mostly free or mostly paid) and an activity level
(heavy-tailed: a few organisations run something every week, many hosts run a handful of events).

Events inherit all that with noise: their category is one of the host's specialties (sometimes
something else), their style is the host's style plus a little, their tags are chosen by the style
(so tags and titles reveal taste), their time follows the host's habit or the category's usual
slots in local time (with daylight saving), and their announcement (`created_at`) comes days to
weeks before the start. Events that would only be announced after `now` do not exist yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from etl.synthetic import vocab
from etl.synthetic.choice_model import N_CATEGORIES, TASTE_DIM, EventLatents
from etl.synthetic.geo import EUR_PER_UNIT, METROS, offset_km
from etl.synthetic.population import DAY_S, Population, make_ids

#: Events per user over the whole timeline (past and announced upcoming).
EVENTS_PER_USER = 0.2
#: Days of history before `now` and days of future after it.
HISTORY_DAYS = 548
FUTURE_DAYS = 61
EVENTS_PER_HOST = 8.0


@dataclass
class Catalog:
    """Hosts (row i is `host_ids[i]`) and events (row j is `event_ids[j]`, ordered by start)."""

    host_ids: np.ndarray
    host_name: np.ndarray
    host_kind: np.ndarray
    host_user: np.ndarray          # runner's user row, -1 if none
    host_metro: np.ndarray
    host_quality: np.ndarray
    host_style: np.ndarray
    host_specialties: np.ndarray   # (n_hosts, 2) category codes, -1 if only one
    host_community: np.ndarray
    event_ids: np.ndarray
    event_host: np.ndarray
    event_metro: np.ndarray
    title: np.ndarray
    description: np.ndarray
    category: np.ndarray
    tags: np.ndarray
    start: np.ndarray
    end: np.ndarray
    created: np.ndarray
    price: np.ndarray
    currency: np.ndarray
    capacity: np.ndarray           # float, NaN = unlimited
    lat: np.ndarray
    lon: np.ndarray
    slot: np.ndarray
    latents: EventLatents
    market_offset_by_metro: np.ndarray

    @property
    def n_events(self) -> int:
        return int(self.event_ids.shape[0])

    @property
    def n_hosts(self) -> int:
        return int(self.host_ids.shape[0])


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _nice_price(local: np.ndarray) -> np.ndarray:
    """Round to the prices people print on tickets: x.50 below 10, whole below 50, else 5s."""
    return np.where(local < 10, np.maximum(np.round(local * 2) / 2, 1.0),
                    np.where(local < 50, np.round(local), np.round(local / 5) * 5))


def _fill(template: str, **values: str) -> str:
    out = template
    for key, value in values.items():
        out = out.replace("{" + key + "}", value)
    return out


def _venue_name(rng: np.random.Generator, kind: str, area: str) -> str:
    template = vocab.VENUE_TEMPLATES[kind][rng.integers(len(vocab.VENUE_TEMPLATES[kind]))]
    nouns = vocab.VENUE_NOUNS
    noun_i = int(rng.integers(len(nouns)))
    return _fill(template, Adj=vocab.VENUE_ADJS[rng.integers(len(vocab.VENUE_ADJS))],
                 Animal=vocab.VENUE_ANIMALS[rng.integers(len(vocab.VENUE_ANIMALS))],
                 Noun=nouns[noun_i], Noun2=nouns[(noun_i + 1 + rng.integers(len(nouns) - 1))
                                                 % len(nouns)],
                 Saint=vocab.VENUE_SAINTS[rng.integers(len(vocab.VENUE_SAINTS))], area=area)


def build_catalog(rng: np.random.Generator, pop: Population, now_s: int,
                  comp_ref_per_week: float, a_comp: float, upcoming_events: int | None = None,
                  rng_upcoming: np.random.Generator | None = None) -> Catalog:
    """Draw hosts and events for the population's metros.

    `upcoming_events` (with its own stream `rng_upcoming`, so the rest of the world does not
    change) asks for at least that many events starting after `now`: when the catalogue has
    fewer, the missing ones are drawn like the others (same hosts, venues, vocabularies, prices,
    capacities and time-of-week habits; announced before `now`, starting within the announced
    horizon) and spread over the metros in proportion to their users. Attention is a budget: the
    market offset of every upcoming event of a metro moves by -a_comp * ln(upcoming events now /
    upcoming events without the extra ones), so users spread about as many registrations as
    before over the larger choice instead of registering for each extra event as often.
    """
    n_metros = len(METROS)
    users_per_metro = np.bincount(pop.metro, minlength=n_metros)
    target = np.round(users_per_metro * EVENTS_PER_USER).astype(np.int64)
    target[(users_per_metro > 0) & (target == 0)] = 1
    tag_vecs = [rng.normal(0.0, 1.0, (len(c.tags), TASTE_DIM)) for c in vocab.CATEGORIES]
    tag_vecs = [_unit(v) for v in tag_vecs]
    timeline_start = now_s - HISTORY_DAYS * DAY_S

    hosts = _build_hosts(rng, pop, target)
    n_hosts = hosts["metro"].shape[0]

    rows: list[dict[str, np.ndarray]] = []
    for m in range(n_metros):
        if target[m] == 0:
            continue
        rows.append(_events_for_metro(rng, m, int(target[m]), hosts, pop, now_s,
                                      timeline_start, tag_vecs))
    ev = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    ev["extra"] = np.zeros(ev["start"].shape[0], dtype=bool)
    if upcoming_events is not None:
        ev = _add_upcoming(rng_upcoming, ev, upcoming_events, users_per_metro, hosts, now_s,
                           timeline_start, tag_vecs)

    order = np.lexsort((ev["host"], ev["start"]))
    ev = {k: v[order] for k, v in ev.items()}
    n_events = ev["start"].shape[0]

    # Titles need the host's running event number ("Meetup #17"), known once sorted by start.
    seq = np.zeros(n_events, dtype=np.int64)
    counts = hosts["seq_offset"].copy()
    for j in range(n_events):
        h = ev["host"][j]
        counts[h] += 1
        seq[j] = counts[h]
    title = np.array([t.replace("{n}", str(s)) for t, s in zip(ev["title"], seq, strict=True)],
                     dtype=object)

    weeks = (HISTORY_DAYS + FUTURE_DAYS) / 7.0
    extra = ev["extra"]
    per_metro = np.bincount(ev["metro"][~extra], minlength=n_metros).astype(np.float64)
    market = np.where(per_metro > 0,
                      -a_comp * np.log(np.maximum(per_metro, 1.0) / weeks / comp_ref_per_week),
                      0.0)
    event_market = market[ev["metro"]]
    if extra.any():
        upcoming = ev["start"] > now_s
        up_all = np.bincount(ev["metro"][upcoming], minlength=n_metros)
        up_base = np.bincount(ev["metro"][upcoming & ~extra], minlength=n_metros)
        crowding = np.log(np.maximum(up_all, 1) / np.maximum(up_base, 1))
        event_market = event_market - a_comp * np.where(upcoming, crowding[ev["metro"]], 0.0)
    currency = np.array([METROS[m].currency for m in ev["metro"]], dtype=object)
    fx = np.array([EUR_PER_UNIT[c] for c in currency])
    price_eur = np.nan_to_num(ev["price"]) * fx
    latents = EventLatents(
        lat=ev["lat"], lon=ev["lon"], category=ev["category"], style=ev["style"],
        price_eur=price_eur, slot=ev["slot"], host_quality=hosts["quality"][ev["host"]],
        appeal=ev["appeal"], market_offset=event_market)
    return Catalog(
        host_ids=make_ids("h", n_hosts, 5), host_name=hosts["name"], host_kind=hosts["kind"],
        host_user=hosts["user"], host_metro=hosts["metro"], host_quality=hosts["quality"],
        host_style=hosts["style"], host_specialties=hosts["spec"],
        host_community=hosts["community"],
        event_ids=make_ids("e", n_events, 6), event_host=ev["host"], event_metro=ev["metro"],
        title=title, description=ev["description"], category=ev["category"], tags=ev["tags"],
        start=ev["start"], end=ev["end"], created=ev["created"], price=ev["price"],
        currency=currency, capacity=ev["capacity"], lat=ev["lat"], lon=ev["lon"],
        slot=ev["slot"], latents=latents, market_offset_by_metro=market)


def _add_upcoming(rng: np.random.Generator | None, ev: dict[str, np.ndarray], wanted: int,
                  users_per_metro: np.ndarray, hosts: dict[str, Any], now_s: int,
                  timeline_start: int, tag_vecs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """`ev` plus enough extra upcoming events (flagged `extra`) for `wanted` to start after now."""
    if rng is None:
        raise ValueError("upcoming_events needs its own random stream (rng_upcoming)")
    if wanted < 0:
        raise ValueError(f"upcoming_events must be >= 0, got {wanted}")
    missing = wanted - int((ev["start"] > now_s).sum())
    if missing <= 0:
        return ev
    # Largest remainder: exactly `missing` events, in proportion to each metro's users.
    share = missing * users_per_metro / users_per_metro.sum()
    alloc = np.floor(share).astype(np.int64)
    rest = missing - int(alloc.sum())
    alloc[np.argsort(-(share - alloc), kind="stable")[:rest]] += 1
    rows = [ev]
    for m in np.flatnonzero(alloc):
        extra = _upcoming_for_metro(rng, int(m), int(alloc[m]), hosts, now_s, timeline_start,
                                    tag_vecs)
        extra["extra"] = np.ones(int(alloc[m]), dtype=bool)
        rows.append(extra)
    return {k: np.concatenate([r[k] for r in rows]) for k in ev}


def _build_hosts(rng: np.random.Generator, pop: Population, target: np.ndarray
                 ) -> dict[str, Any]:
    """Hosts as a dict of per-host arrays (venues as per-host lists)."""
    n_metros = len(METROS)
    metro_l, comm_l = [], []
    for m in range(n_metros):
        if target[m] == 0:
            continue
        n_h = max(1, round(target[m] / EVENTS_PER_HOST))
        comms = np.flatnonzero((pop.community_metro == m) & (pop.community_size > 0))
        w = pop.community_size[comms].astype(np.float64)
        comm_l.append(rng.choice(comms, size=n_h, p=w / w.sum()))
        metro_l.append(np.full(n_h, m))
    metro = np.concatenate(metro_l)
    community = np.concatenate(comm_l)
    n_h = metro.shape[0]

    # Specialties: the scene's interests (mostly), sometimes the metro's general demand.
    profile = 0.8 * pop.community_profile[community] + 0.2 / N_CATEGORIES
    spec = np.full((n_h, 2), -1, dtype=np.int64)
    g = rng.gumbel(size=(n_h, N_CATEGORIES)) + np.log(profile)
    top2 = np.argsort(-g, axis=1)[:, :2]
    spec[:, 0] = top2[:, 0]
    two = rng.random(n_h) < 0.4
    spec[two, 1] = top2[two, 1]

    kind = np.where(rng.random(n_h) < 0.45, "organisation", "person").astype(object)
    is_person = kind == "person"
    run_p = np.where(is_person, 0.75, 0.35)
    has_runner = rng.random(n_h) < run_p
    user = np.full(n_h, -1, dtype=np.int64)
    members_by_comm: dict[int, np.ndarray] = {}
    for h in np.flatnonzero(has_runner):
        c = int(community[h])
        if c not in members_by_comm:
            members_by_comm[c] = np.flatnonzero(pop.community == c)
        members = members_by_comm[c]
        # Runners are people who care about the category.
        w = pop.latents.theta[members, spec[h, 0]]
        user[h] = members[rng.choice(members.size, p=w / w.sum())]

    style = _unit(_unit(pop.community_taste[community])
                  + rng.normal(0.0, np.sqrt(0.3 / TASTE_DIM), (n_h, TASTE_DIM)))
    quality = rng.normal(0.0, 1.0, n_h)
    free_mean = np.array([c.free_share for c in vocab.CATEGORIES])[spec[:, 0]]
    free_prop = rng.beta(3.0 * free_mean, 3.0 * (1.0 - free_mean))
    price_level = np.exp(rng.normal(0.0, 0.3, n_h))
    activity = np.exp(rng.normal(0.0, 1.0, n_h)) * np.where(is_person, 0.8, 1.4)
    habit_p = rng.uniform(0.4, 0.85, n_h)
    usual_slot = np.zeros(n_h, dtype=np.int64)
    usual_wd = np.zeros(n_h, dtype=np.int64)
    usual_hour = np.zeros(n_h)
    venues_lat: list[np.ndarray] = []
    venues_lon: list[np.ndarray] = []
    venues_name: list[list[str]] = []
    venues_area: list[list[str]] = []
    venues_cap: list[np.ndarray] = []
    names = np.empty(n_h, dtype=object)
    favourite_title = rng.integers(0, 6, n_h)
    for h in range(n_h):
        m = int(metro[h])
        cat = vocab.CATEGORIES[spec[h, 0]]
        sw = np.array(cat.slot_weights)
        s = int(rng.choice(4, p=sw / sw.sum()))
        usual_slot[h] = s
        usual_wd[h] = _weekday_for_slot(rng, s)
        usual_hour[h] = cat.hours[s][rng.integers(len(cat.hours[s]))]
        anchor = int(pop.community_anchor[community[h]])
        metro_obj = METROS[m]
        n_ven = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.3, 0.2, 0.15]))
        base_lat, base_lon = metro_obj.anchors[anchor].lat, metro_obj.anchors[anchor].lon
        v_lat, v_lon = offset_km(np.full(n_ven, base_lat), np.full(n_ven, base_lon),
                                 rng.normal(0.0, 2.5, n_ven), rng.normal(0.0, 2.5, n_ven))
        venues_lat.append(v_lat)
        venues_lon.append(v_lon)
        kinds = cat.venue_kinds
        venue_names = []
        areas = []
        for _ in range(n_ven):
            area_i = anchor if rng.random() < 0.7 else int(rng.integers(len(metro_obj.anchors)))
            area = metro_obj.anchors[area_i].name
            venue_names.append(_venue_name(rng, kinds[rng.integers(len(kinds))], area))
            areas.append(area)
        venues_name.append(venue_names)
        venues_area.append(areas)
        venues_cap.append(cat.capacity * np.exp(rng.normal(0.0, 0.5, n_ven)))
        names[h] = _host_name(rng, kind[h], user[h], pop, metro_obj.name,
                              metro_obj.anchors[anchor].name, spec[h, 0], m)
    return {
        "metro": metro, "community": community, "spec": spec, "kind": kind, "user": user,
        "style": style, "quality": quality, "free": free_prop, "price_level": price_level,
        "activity": activity, "habit": habit_p, "usual_slot": usual_slot, "usual_wd": usual_wd,
        "usual_hour": usual_hour, "v_lat": venues_lat, "v_lon": venues_lon,
        "v_name": venues_name, "v_area": venues_area, "v_cap": venues_cap,
        "name": names, "favourite_title": favourite_title,
        "seq_offset": rng.integers(0, 40, n_h),
    }


def _weekday_for_slot(rng: np.random.Generator, slot: int) -> int:
    """Monday=0; weekday slots favour Tuesday-Thursday, weekend slots split Saturday/Sunday."""
    if slot < 2:
        return int(rng.choice(5, p=[0.12, 0.24, 0.26, 0.26, 0.12]))
    return int(rng.choice([5, 6], p=[0.6, 0.4]))


def _host_name(rng: np.random.Generator, kind: str, runner: int, pop: Population,
               city: str, area: str, category: int, metro: int) -> str:
    cat = vocab.CATEGORIES[category]
    tag = vocab.title_case_tag(cat.tags[rng.integers(len(cat.tags))])
    if kind == "person":
        if runner >= 0:
            person = str(pop.name[runner])
        else:
            fem, mal, last = vocab.NAMES[vocab.language_of(METROS[metro].locale)]
            firsts = fem + mal
            person = f"{firsts[rng.integers(len(firsts))]} {last[rng.integers(len(last))]}"
        if cat.person_prefix and rng.random() < 0.4:
            return f"{cat.person_prefix} {person.split(' ')[0]}"
        return person
    template = vocab.ORG_TEMPLATES[rng.integers(len(vocab.ORG_TEMPLATES))]
    return _fill(template, city=city, area=area, Tag=tag, Category=cat.name.capitalize(),
                 Noun=vocab.VENUE_NOUNS[rng.integers(len(vocab.VENUE_NOUNS))])


def _start_days(rng: np.random.Generator, n: int, timeline_start: int) -> np.ndarray:
    """Start days over the timeline: gentle platform growth and a summer/Christmas dip."""
    total = HISTORY_DAYS + FUTURE_DAYS
    days = np.arange(total)
    month = pd.to_datetime((timeline_start + days * DAY_S) * 10**9).month.to_numpy()
    season = np.where(np.isin(month, [8]), 0.8, np.where(np.isin(month, [12, 1]), 0.85, 1.0))
    w = (1.0 + 0.5 * days / total) * season
    return rng.choice(total, size=n, p=w / w.sum())


def _events_for_metro(rng: np.random.Generator, m: int, target: int,
                      hosts: dict[str, Any], pop: Population, now_s: int,
                      timeline_start: int, tag_vecs: list[np.ndarray]) -> dict[str, np.ndarray]:
    n = int(np.ceil(target * 1.6)) + 5
    sched = _draw_schedule(rng, m, n, hosts, lambda k: _start_days(rng, k, timeline_start),
                           timeline_start)
    visible = (sched["created"] < now_s - 60) & (sched["start"] >= timeline_start) & (
        sched["start"] < now_s + FUTURE_DAYS * DAY_S)
    keep = np.flatnonzero(visible)
    if keep.size > target:
        keep = np.sort(rng.choice(keep, size=target, replace=False))
    return _dress_events(rng, m, {k: v[keep] for k, v in sched.items()}, hosts, tag_vecs)


def _upcoming_for_metro(rng: np.random.Generator, m: int, target: int,
                        hosts: dict[str, Any], now_s: int, timeline_start: int,
                        tag_vecs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """`target` more events of metro `m` that start in the weeks after `now` and were
    announced before it: the ordinary schedule (hosts' habits, category slots, lead times)
    with start days drawn over the announced horizon, kept only when already visible."""
    parts: list[dict[str, np.ndarray]] = []
    have = 0
    first_day = HISTORY_DAYS - 6  # a week's shift to the host's weekday can land after now
    while have < target:
        n = int(np.ceil((target - have) * 2.5)) + 10
        sched = _draw_schedule(
            rng, m, n, hosts,
            lambda k: rng.integers(first_day, HISTORY_DAYS + FUTURE_DAYS, k), timeline_start)
        ok = np.flatnonzero((sched["created"] < now_s - 60) & (sched["start"] > now_s)
                            & (sched["start"] < now_s + FUTURE_DAYS * DAY_S))
        parts.append({k: v[ok] for k, v in sched.items()})
        have += ok.size
    sched = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = np.sort(rng.choice(have, size=target, replace=False))
    return _dress_events(rng, m, {k: v[keep] for k, v in sched.items()}, hosts, tag_vecs)


def _draw_schedule(rng: np.random.Generator, m: int, n: int, hosts: dict[str, Any],
                   start_days: Callable[[int], np.ndarray], timeline_start: int
                   ) -> dict[str, np.ndarray]:
    """`n` candidate events of metro `m`: host, category, local-time slot, start, end and
    announcement (`start_days(n)` picks the timeline day each one falls in)."""
    metro = METROS[m]
    host_idx = np.flatnonzero(hosts["metro"] == m)
    w = hosts["activity"][host_idx]
    host = host_idx[rng.choice(host_idx.size, size=n, p=w / w.sum())]

    # Category: the host's specialty (primary or secondary), sometimes something else.
    spec = hosts["spec"][host]
    use_second = (spec[:, 1] >= 0) & (rng.random(n) < 0.35)
    category = np.where(use_second, spec[:, 1], spec[:, 0])
    off = rng.random(n) < 0.06
    category[off] = rng.integers(0, N_CATEGORIES, int(off.sum()))

    # When: the host's habit or the category's usual slots, in local time.
    day = start_days(n)
    habit = rng.random(n) < hosts["habit"][host]
    slot = np.where(habit, hosts["usual_slot"][host], 0)
    weekday = np.where(habit, hosts["usual_wd"][host], 0)
    hour = np.where(habit, hosts["usual_hour"][host], 0.0)
    for j in np.flatnonzero(~habit):
        cat = vocab.CATEGORIES[category[j]]
        sw = np.array(cat.slot_weights)
        s = int(rng.choice(4, p=sw / sw.sum()))
        slot[j] = s
        weekday[j] = _weekday_for_slot(rng, s)
        hour[j] = cat.hours[s][rng.integers(len(cat.hours[s]))]
    local_midnight = pd.to_datetime((timeline_start + day * DAY_S) * 10**9).normalize()
    wd_now = local_midnight.weekday.to_numpy()
    shift = (weekday - wd_now) % 7
    local = (local_midnight + pd.to_timedelta(shift, unit="D")
             + pd.to_timedelta(np.round(hour * 60), unit="min"))
    start_utc = (local.tz_localize(metro.tz, nonexistent="shift_forward", ambiguous=False)
                 .tz_convert("UTC"))
    start = start_utc.asi8 // 10**9
    local_hour = hour
    slot = 2 * (weekday >= 5) + (local_hour >= vocab.EVENING_HOUR)
    dur_h = np.array([c.duration_h for c in vocab.CATEGORIES])[category]
    dur_min = np.maximum(np.round(dur_h * np.exp(rng.normal(0.0, 0.25, n)) * 4) * 15, 45)
    end = start + (dur_min * 60).astype(np.int64)

    # Announcement: most a week or two ahead, recurring ones scheduled 1-3 months ahead.
    lead_days = np.where(rng.random(n) < 0.6, np.exp(rng.normal(np.log(14.0), 0.8, n)),
                         rng.uniform(30.0, 90.0, n))
    lead_s = np.maximum(lead_days * DAY_S, 0.5 * DAY_S).astype(np.int64)
    created = start - lead_s
    return {"host": host, "category": category, "slot": slot, "start": start, "end": end,
            "created": created}


def _dress_events(rng: np.random.Generator, m: int, sched: dict[str, np.ndarray],
                  hosts: dict[str, Any], tag_vecs: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Venue, price, capacity, style, tags, title and description of scheduled events."""
    metro = METROS[m]
    host, category, slot = sched["host"], sched["category"], sched["slot"]
    start, end, created = sched["start"], sched["end"], sched["created"]
    n = host.size

    # Where: one of the host's venues, or a one-off location in the metro.
    lat = np.zeros(n)
    lon = np.zeros(n)
    venue = np.empty(n, dtype=object)
    area = np.empty(n, dtype=object)
    vcap = np.zeros(n)
    one_off = rng.random(n) < 0.12
    for j in range(n):
        h = host[j]
        if one_off[j]:
            a_i = int(rng.integers(len(metro.anchors)))
            anc = metro.anchors[a_i]
            la, lo = offset_km(np.array([anc.lat]), np.array([anc.lon]),
                               rng.normal(0.0, 3.0, 1), rng.normal(0.0, 3.0, 1))
            lat[j], lon[j] = la[0], lo[0]
            kinds = vocab.CATEGORIES[category[j]].venue_kinds
            venue[j] = _venue_name(rng, kinds[rng.integers(len(kinds))], anc.name)
            area[j] = anc.name
            vcap[j] = vocab.CATEGORIES[category[j]].capacity * np.exp(rng.normal(0.0, 0.5))
        else:
            k = int(rng.integers(len(hosts["v_lat"][h])))
            lat[j] = hosts["v_lat"][h][k]
            lon[j] = hosts["v_lon"][h][k]
            venue[j] = hosts["v_name"][h][k]
            area[j] = hosts["v_area"][h][k]
            vcap[j] = hosts["v_cap"][h][k]

    # Price in local currency, rounded like real tickets.
    free = rng.random(n) < hosts["free"][host]
    med = np.array([c.price_eur for c in vocab.CATEGORIES])[category]
    eur = med * hosts["price_level"][host] * np.exp(rng.normal(0.0, 0.35, n))
    local_price = _nice_price(eur / EUR_PER_UNIT[metro.currency])
    price = np.where(free, 0.0, local_price)
    capacity = np.maximum(np.round(vcap * rng.uniform(1.0, 2.0, n) / 5) * 5, 5.0)
    capacity[rng.random(n) < 0.12] = np.nan

    # Style, tags, title, description.
    style = _unit(hosts["style"][host] + rng.normal(0.0, np.sqrt(0.15 / TASTE_DIM),
                                                    (n, TASTE_DIM)))
    appeal = rng.normal(0.0, 0.4, n)
    tags = np.empty(n, dtype=object)
    titles = np.empty(n, dtype=object)
    descriptions = np.empty(n, dtype=object)
    n_tags = rng.choice([2, 3, 4, 5], size=n, p=[0.3, 0.35, 0.25, 0.1])
    for j in range(n):
        cat = vocab.CATEGORIES[category[j]]
        score = 3.0 * tag_vecs[category[j]] @ style[j] + rng.gumbel(size=len(cat.tags))
        chosen = [cat.tags[i] for i in np.argsort(-score)[: n_tags[j]]]
        if rng.random() < 0.3:
            chosen.append(vocab.GENERIC_TAGS[rng.integers(len(vocab.GENERIC_TAGS))])
        tags[j] = "|".join(chosen)
        fav = int(hosts["favourite_title"][host[j]]) % len(cat.titles)
        t_i = fav if rng.random() < 0.7 else int(rng.integers(len(cat.titles)))
        fill = {"Tag": vocab.title_case_tag(chosen[0]),
                "Tag2": vocab.title_case_tag(chosen[1]), "tag": chosen[0].replace("-", " "),
                "tag2": chosen[1].replace("-", " "), "venue": str(venue[j]),
                "area": str(area[j]), "city": metro.name}
        titles[j] = _fill(cat.titles[t_i], **fill)
        n_sent = int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
        picks = rng.choice(len(cat.sentences), size=n_sent, replace=False)
        sentences = [_fill(cat.sentences[i], **fill) for i in sorted(picks)]
        if rng.random() < 0.5:
            if price[j] == 0:
                pool = vocab.GENERIC_SENTENCES_FREE
                sentences.append(pool[rng.integers(len(pool))])
            else:
                pool = vocab.GENERIC_SENTENCES_PAID
                sentences.append(_fill(pool[rng.integers(len(pool))],
                                       price=f"{price[j]:g}", currency=metro.currency))
        descriptions[j] = " ".join(sentences)
    return {
        "host": host, "metro": np.full(n, m, dtype=np.int64), "category": category,
        "slot": slot.astype(np.int64), "start": start, "end": end, "created": created,
        "lat": lat, "lon": lon, "price": price, "capacity": capacity, "style": style,
        "appeal": appeal, "tags": tags, "title": titles, "description": descriptions,
    }
