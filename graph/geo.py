"""Distances on the globe, computed the way Neo4j's ``point.distance`` computes them for WGS-84.

One implementation for the generator, the pair features and the notebooks, so that "2.1 km
away" means the same thing in the data, in the model and in a Cypher query.
"""

from __future__ import annotations

import numpy as np

#: Mean Earth radius (IUGG), in km.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
                 ) -> np.ndarray:  # fmt: skip
    """Great-circle distance in km between WGS-84 points (broadcasting; NaN in, NaN out)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
