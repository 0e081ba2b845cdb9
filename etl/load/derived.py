"""Nodes the files do not list but imply: categories (from events) and cities (users, events)."""

from __future__ import annotations

import pandas as pd

from etl.validate import ValidatedDataset


def categories(dataset: ValidatedDataset) -> pd.DataFrame:
    """One row per category named by a clean event: ``name``."""
    names = dataset.clean("events")["category"].dropna().unique()
    return pd.DataFrame({"name": sorted(names)}, dtype=object)


def cities(dataset: ValidatedDataset) -> pd.DataFrame:
    """One row per city named by a clean user or event: ``name``, ``country``.

    The country is the one most events in that city give (ties: alphabetical); users carry no
    country. The location is computed in the graph after the load (``city_locations.cypher``),
    from every user and event there, not only this dataset's.
    """
    events = dataset.clean("events")[["city", "country"]].dropna(subset=["city"])
    names = pd.concat([dataset.clean("users")["city"], events["city"]]).dropna().unique()
    known = events.dropna(subset=["country"])
    if len(known):
        counts = known.value_counts(["city", "country"]).reset_index(name="n")
        counts = counts.sort_values(["city", "n", "country"], ascending=[True, False, True])
        country = counts.drop_duplicates("city").set_index("city")["country"]
    else:
        country = pd.Series(dtype=object)
    frame = pd.DataFrame({"name": sorted(names)}, dtype=object)
    frame["country"] = frame["name"].map(country).astype(object)
    frame["country"] = frame["country"].where(frame["country"].notna(), None)
    return frame
