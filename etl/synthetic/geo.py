"""Real metro areas and the geometry the generator and the planted truth share.

Why real places: the graph stores `point` locations and the candidate queries filter by radius, so
distances must behave like distances people actually travel. Every metro is a handful of real
neighbourhood anchors (so a city is polycentric, as real ones are, and mostly avoids putting
people in rivers and bays) plus a wide Gaussian for the suburbs and a few far outliers.

Currencies are converted to euros with fixed reference rates (`EUR_PER_UNIT`): the choice model
reasons about what a price *feels like*, so 20 GBP and 20 EUR must not count the same, while the
files keep the local amount and currency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# One distance for the whole product (the same as Neo4j's point.distance); re-exported here for
# the generator's modules.
from graph.geo import EARTH_RADIUS_KM, haversine_km

__all__ = ["EARTH_RADIUS_KM", "haversine_km"]

#: Fixed reference exchange rates (EUR per unit of currency), rounded 2024 averages. They only
#: put prices on one scale for the choice model; they are not meant to track markets.
EUR_PER_UNIT: dict[str, float] = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92, "CAD": 0.68, "AUD": 0.61}


@dataclass(frozen=True)
class Anchor:
    """A neighbourhood people live and go out in: name, WGS84 centre, weight, spread (km)."""

    name: str
    lat: float
    lon: float
    weight: float
    spread_km: float


@dataclass(frozen=True)
class Metro:
    """A metro area: the unit of user population, hosts, events and currency.

    `share` is the fraction of users living there (roughly metro population, nudged for how
    event-app-heavy a city is); `spread_km` is the sd of the suburban Gaussian around the centre.
    `utc_offset_h` is the standard-time offset, used only to give registration clocks a local
    daily rhythm; event start times use the real time zone (`tz`) including daylight saving.
    """

    name: str
    country: str
    locale: str
    currency: str
    tz: str
    utc_offset_h: float
    lat: float
    lon: float
    share: float
    spread_km: float
    anchors: tuple[Anchor, ...]


METROS: tuple[Metro, ...] = (
    Metro("London", "GB", "en-GB", "GBP", "Europe/London", 0.0, 51.5074, -0.1278, 0.16, 14.0, (
        Anchor("Soho", 51.5136, -0.1365, 0.30, 3.0),
        Anchor("Shoreditch", 51.5265, -0.0780, 0.20, 3.0),
        Anchor("Hackney", 51.5450, -0.0553, 0.12, 3.0),
        Anchor("Camden", 51.5390, -0.1426, 0.12, 2.5),
        Anchor("Brixton", 51.4613, -0.1156, 0.12, 3.0),
        Anchor("Hammersmith", 51.4927, -0.2248, 0.08, 3.0),
        Anchor("Stratford", 51.5416, -0.0033, 0.06, 3.0),
    )),
    Metro("New York", "US", "en-US", "USD", "America/New_York", -5.0, 40.7128, -74.0060, 0.17,
          15.0, (
        Anchor("Midtown", 40.7549, -73.9840, 0.26, 2.5),
        Anchor("Lower Manhattan", 40.7209, -73.9990, 0.20, 2.0),
        Anchor("Williamsburg", 40.7081, -73.9571, 0.16, 2.5),
        Anchor("Park Slope", 40.6710, -73.9814, 0.12, 2.5),
        Anchor("Astoria", 40.7644, -73.9235, 0.10, 2.5),
        Anchor("Harlem", 40.8116, -73.9465, 0.08, 2.0),
        Anchor("Jersey City", 40.7178, -74.0431, 0.08, 2.5),
    )),
    Metro("Paris", "FR", "fr-FR", "EUR", "Europe/Paris", 1.0, 48.8566, 2.3522, 0.11, 11.0, (
        Anchor("Le Marais", 48.8590, 2.3600, 0.26, 2.0),
        Anchor("Montmartre", 48.8867, 2.3431, 0.16, 2.0),
        Anchor("Belleville", 48.8722, 2.3767, 0.16, 2.0),
        Anchor("Bastille", 48.8532, 2.3692, 0.14, 2.0),
        Anchor("Montparnasse", 48.8421, 2.3219, 0.12, 2.5),
        Anchor("La Défense", 48.8918, 2.2362, 0.08, 3.0),
        Anchor("Saint-Denis", 48.9362, 2.3574, 0.08, 3.0),
    )),
    Metro("Berlin", "DE", "de-DE", "EUR", "Europe/Berlin", 1.0, 52.5200, 13.4050, 0.09, 10.0, (
        Anchor("Mitte", 52.5200, 13.4050, 0.24, 2.5),
        Anchor("Kreuzberg", 52.4986, 13.4030, 0.20, 2.5),
        Anchor("Prenzlauer Berg", 52.5389, 13.4244, 0.16, 2.5),
        Anchor("Friedrichshain", 52.5159, 13.4543, 0.16, 2.5),
        Anchor("Neukölln", 52.4811, 13.4353, 0.14, 2.5),
        Anchor("Charlottenburg", 52.5167, 13.3041, 0.10, 3.0),
    )),
    Metro("San Francisco", "US", "en-US", "USD", "America/Los_Angeles", -8.0, 37.7749, -122.4194,
          0.09, 13.0, (
        Anchor("Mission", 37.7599, -122.4148, 0.22, 1.8),
        Anchor("SoMa", 37.7785, -122.4056, 0.22, 1.8),
        Anchor("Oakland", 37.8044, -122.2712, 0.18, 3.0),
        Anchor("Berkeley", 37.8715, -122.2730, 0.12, 2.5),
        Anchor("San Mateo", 37.5630, -122.3255, 0.12, 3.0),
        Anchor("Palo Alto", 37.4419, -122.1430, 0.14, 3.0),
    )),
    Metro("Chicago", "US", "en-US", "USD", "America/Chicago", -6.0, 41.8781, -87.6298, 0.09, 14.0, (
        Anchor("The Loop", 41.8786, -87.6251, 0.24, 2.0),
        Anchor("Wicker Park", 41.9088, -87.6796, 0.18, 2.5),
        Anchor("Lincoln Park", 41.9214, -87.6513, 0.18, 2.5),
        Anchor("Pilsen", 41.8565, -87.6596, 0.14, 2.5),
        Anchor("Hyde Park", 41.7943, -87.5907, 0.14, 2.5),
        Anchor("Evanston", 42.0451, -87.6877, 0.12, 3.0),
    )),
    Metro("Toronto", "CA", "en-CA", "CAD", "America/Toronto", -5.0, 43.6532, -79.3832, 0.08, 13.0, (
        Anchor("Downtown", 43.6532, -79.3832, 0.28, 2.0),
        Anchor("Kensington Market", 43.6547, -79.4005, 0.18, 2.0),
        Anchor("Leslieville", 43.6629, -79.3318, 0.16, 2.5),
        Anchor("Yorkville", 43.6710, -79.3930, 0.14, 2.0),
        Anchor("North York", 43.7615, -79.4111, 0.14, 3.5),
        Anchor("Mississauga", 43.5890, -79.6441, 0.10, 4.0),
    )),
    Metro("Sydney", "AU", "en-AU", "AUD", "Australia/Sydney", 10.0, -33.8688, 151.2093, 0.07, 15.0,
          (
        Anchor("CBD", -33.8688, 151.2093, 0.26, 2.0),
        Anchor("Surry Hills", -33.8861, 151.2111, 0.20, 2.0),
        Anchor("Newtown", -33.8980, 151.1790, 0.18, 2.0),
        Anchor("Bondi", -33.8915, 151.2767, 0.12, 2.0),
        Anchor("North Sydney", -33.8390, 151.2070, 0.12, 2.5),
        Anchor("Parramatta", -33.8150, 151.0011, 0.12, 3.5),
    )),
    Metro("Madrid", "ES", "es-ES", "EUR", "Europe/Madrid", 1.0, 40.4168, -3.7038, 0.08, 10.0, (
        Anchor("Sol", 40.4168, -3.7038, 0.26, 1.5),
        Anchor("Malasaña", 40.4260, -3.7050, 0.18, 1.5),
        Anchor("Lavapiés", 40.4086, -3.7010, 0.16, 1.5),
        Anchor("Chamberí", 40.4340, -3.7038, 0.16, 2.0),
        Anchor("Salamanca", 40.4300, -3.6800, 0.14, 2.0),
        Anchor("Chamartín", 40.4600, -3.6770, 0.10, 2.5),
    )),
    Metro("Amsterdam", "NL", "nl-NL", "EUR", "Europe/Amsterdam", 1.0, 52.3676, 4.9041, 0.06, 7.0, (
        Anchor("Centrum", 52.3731, 4.8922, 0.28, 1.5),
        Anchor("De Pijp", 52.3548, 4.8936, 0.20, 1.5),
        Anchor("Jordaan", 52.3752, 4.8800, 0.16, 1.2),
        Anchor("Oost", 52.3600, 4.9300, 0.14, 2.0),
        Anchor("Noord", 52.3900, 4.9200, 0.12, 2.0),
        Anchor("Zuid", 52.3400, 4.8700, 0.10, 2.0),
    )),
)


def metro_shares() -> np.ndarray:
    """Normalised population shares of `METROS`, in order."""
    shares = np.array([m.share for m in METROS], dtype=np.float64)
    return shares / shares.sum()


def offset_km(lat: np.ndarray, lon: np.ndarray, dx_km: np.ndarray, dy_km: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Move points by (east, north) kilometres; exact enough at city scale (< 100 km)."""
    lat_out = lat + dy_km / 110.574
    lon_out = lon + dx_km / (111.320 * np.cos(np.radians(lat)))
    return np.clip(lat_out, -89.9, 89.9), ((lon_out + 180.0) % 360.0) - 180.0


def sample_home_locations(rng: np.random.Generator, metro: Metro, anchor_idx: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Draw home coordinates for users whose neighbourhood anchor is `anchor_idx`.

    Mixture per user: 70% around their anchor (its own spread), 26% the metro-wide suburban
    Gaussian, 4% far outliers (10-60 km: commuter towns, people who set a wrong location).
    """
    n = anchor_idx.shape[0]
    lat0 = np.array([a.lat for a in metro.anchors])[anchor_idx]
    lon0 = np.array([a.lon for a in metro.anchors])[anchor_idx]
    sd = np.array([a.spread_km for a in metro.anchors])[anchor_idx]
    kind = rng.random(n)
    suburban = (kind >= 0.70) & (kind < 0.96)
    outlier = kind >= 0.96
    lat0 = np.where(suburban | outlier, metro.lat, lat0)
    lon0 = np.where(suburban | outlier, metro.lon, lon0)
    sd = np.where(suburban, metro.spread_km, sd)
    dx = rng.normal(0.0, 1.0, n) * sd
    dy = rng.normal(0.0, 1.0, n) * sd
    radius = rng.uniform(10.0, 60.0, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    dx = np.where(outlier, radius * np.cos(angle), dx)
    dy = np.where(outlier, radius * np.sin(angle), dy)
    return offset_km(lat0, lon0, dx, dy)


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """WGS84 degrees -> points on the unit sphere, shape (n, 3)."""
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    lmb = np.radians(np.asarray(lon, dtype=np.float64))
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)], axis=-1)


def km_from_cosine(cos_angle: np.ndarray) -> np.ndarray:
    """Great-circle km from the cosine of the central angle (a dot product of unit vectors).

    Goes through the chord (sqrt(2 - 2 cos)) rather than arccos, which is ill-conditioned for
    the short distances that matter most here; float64 keeps metre precision at city scale.
    This is the distance the choice model uses: computing it from dot products lets the
    simulator evaluate a whole block of users x events with one matrix product.
    """
    chord = np.sqrt(np.maximum(2.0 - 2.0 * cos_angle, 0.0))
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.minimum(chord / 2.0, 1.0))
