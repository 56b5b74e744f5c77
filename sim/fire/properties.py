"""Fire properties of each building from its registry row: size, construction, use, durations.

What the spread model needs per building, derived with documented sources:

- equivalent side ``a`` (m): square root of the footprint area (Hamada's building side);
- construction from the GB 50016 fire-resistance class (``twin.schema``): classes ``"1"`` and
  ``"2"`` (reinforced concrete, steel) are *fire-resistive* and are not ignited by a
  neighbour by default; ``"3"`` is treated as Hamada's fire-protected construction
  (``a' = 1``), ``"4"`` (and anything unknown, conservatively) as bare combustible (``a' = 0``);
- emitted radiant intensity by use (kW/m², BRE BR 187): 84 for residential, office and
  assembly, 168 for shops, industry and storage;
- fire load density by use (MJ/m², mean values of EN 1991-1-2 Annex E, Table E.2) and the
  duration of the fully developed fire, fire load / rate of heat release per floor area
  (``RHR_f`` = 250 kW/m², EN 1991-1-2 E.4 for dwellings and offices, used for all uses); a
  building burns from ignition for Hamada's time to full involvement plus that duration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.fire.hamada import SECONDS_PER_MINUTE, full_involvement_min
from sim.fire.radiation import PILOTED_IGNITION_FLUX_KW_M2, TENABLE_FLUX_KW_M2, critical_distance

RESISTIVE_CLASSES = ("1", "2")
PROTECTED_CLASSES = ("1", "2", "3")
#: BR 187 radiation intensities (kW/m²): 84 residential/office/assembly, 168 shop/industry/storage
EMITTED_KW_M2: dict[str, float] = {
    "residential": 84.0,
    "office": 84.0,
    "school": 84.0,
    "hospital": 84.0,
    "elderly_home": 84.0,
    "public": 84.0,
    "commercial": 168.0,
    "market": 168.0,
    "mixed": 168.0,  # shops on the ground floor: the higher figure governs
    "industrial": 168.0,
    "warehouse": 168.0,
    "garage": 168.0,
}
DEFAULT_EMITTED_KW_M2 = 168.0
#: mean fire load densities (MJ/m² floor), EN 1991-1-2 Table E.2; proxies noted
FIRE_LOAD_MJ_M2: dict[str, float] = {
    "residential": 780.0,  # dwelling
    "mixed": 780.0,  # dwelling (the larger of dwelling and shopping centre)
    "office": 420.0,
    "school": 285.0,  # classroom
    "hospital": 230.0,  # hospital room
    "elderly_home": 230.0,  # proxy: hospital room
    "public": 300.0,  # proxy: theatre / assembly
    "commercial": 600.0,  # shopping centre
    "market": 600.0,  # shopping centre
    "industrial": 1500.0,  # proxy for stored combustibles: library (not in Table E.2)
    "warehouse": 1500.0,  # proxy: library
    "garage": 100.0,  # proxy: transport (public space)
}
DEFAULT_FIRE_LOAD_MJ_M2 = 780.0
#: rate of heat release per floor area of the fully developed fire (kW/m², EN 1991-1-2 E.4)
RHR_F_KW_M2 = 250.0
#: GB 50016 allows classes 3 and 4 up to 5 storeys: a burning facade is at most this high (m)
MAX_EMITTER_HEIGHT_M = 15.0
STOREY_HEIGHT_M = 3.0
#: facades are grouped on this grid (m) to solve the radiation distances once per group
FACADE_GRID_M = 0.1


@dataclass(frozen=True)
class BuildingFireProperties:
    """Per-building arrays the spread model uses (all length ``n``, SI units).

    Attributes
    ----------
    side_m : equivalent side (m)
    protected : Hamada share of fire-protected construction (0 or 1)
    resistive : fire-resistive (GB 50016 class 1 or 2)
    emitted_kw_m2 : radiant intensity of the burning facade (kW/m²)
    spread_distance_m : widest gap the fire can cross from this building (m)
    road_cut_m : distance within which a road is untenable while it burns (m)
    burn_duration_s : time from ignition until burnt out (s)
    """

    side_m: np.ndarray
    protected: np.ndarray
    resistive: np.ndarray
    emitted_kw_m2: np.ndarray
    spread_distance_m: np.ndarray
    road_cut_m: np.ndarray
    burn_duration_s: np.ndarray


def _lookup(values: pd.Series, table: dict[str, float], default: float) -> np.ndarray:
    codes, uniques = pd.factorize(values)  # look up each distinct value once
    found = np.array([table.get(str(u), default) for u in uniques] + [default])
    return found[codes]  # code -1 (missing) picks the trailing default


def _facade_distances(side, height, emitted):
    """Spreading and road-cut distances, solved once per distinct facade.

    Facades are grouped on a 0.1 m grid of width and height, so a city of a million buildings
    needs only some thousand bisections; the distances are those of the rounded facade.
    """
    e_vals, e_code = np.unique(emitted, return_inverse=True)
    side_q = np.round(side / FACADE_GRID_M).astype(np.int64)
    height_q = np.round(height / FACADE_GRID_M).astype(np.int64)
    key = (side_q * (height_q.max() + 1) + height_q) * len(e_vals) + e_code.reshape(-1)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    w = side_q[first] * FACADE_GRID_M
    h = height_q[first] * FACADE_GRID_M
    e = emitted[first]
    spread = critical_distance(w, h, e, PILOTED_IGNITION_FLUX_KW_M2)
    road = critical_distance(w, h, e, TENABLE_FLUX_KW_M2)
    inverse = inverse.reshape(-1)
    return spread[inverse], road[inverse]


def fire_properties(rows: pd.DataFrame, side_m: np.ndarray) -> BuildingFireProperties:
    """Derive fire properties from registry rows (``use``, ``fire_resistance``, ``height_m``).

    Parameters
    ----------
    rows : pandas.DataFrame
        Building rows; ``levels`` is used when ``height_m`` is missing or not positive.
    side_m : numpy.ndarray
        Equivalent building side (m).

    Returns
    -------
    BuildingFireProperties
    """
    n = len(rows)
    side = np.asarray(side_m, dtype=float)
    if "fire_resistance" in rows:
        klass = rows["fire_resistance"]
        resistive = _lookup(klass, dict.fromkeys(RESISTIVE_CLASSES, 1.0), 0.0) > 0
        protected = _lookup(klass, dict.fromkeys(PROTECTED_CLASSES, 1.0), 0.0)
    else:  # unknown construction: bare combustible, the conservative reading
        resistive, protected = np.zeros(n, dtype=bool), np.zeros(n)
    use = rows["use"] if "use" in rows else pd.Series(["residential"] * n, index=rows.index)
    emitted = _lookup(use, EMITTED_KW_M2, DEFAULT_EMITTED_KW_M2)
    fire_load = _lookup(use, FIRE_LOAD_MJ_M2, DEFAULT_FIRE_LOAD_MJ_M2)
    height = rows["height_m"].to_numpy(dtype=float) if "height_m" in rows else np.full(n, np.nan)
    if "levels" in rows:
        by_levels = rows["levels"].to_numpy(dtype=float) * STOREY_HEIGHT_M
        height = np.where(np.isfinite(height) & (height > 0), height, by_levels)
    height = np.where(np.isfinite(height) & (height > 0), height, STOREY_HEIGHT_M)
    emitter_h = np.minimum(height, MAX_EMITTER_HEIGHT_M)
    spread, road = _facade_distances(side, emitter_h, emitted)
    developed_s = fire_load * 1e3 / RHR_F_KW_M2  # MJ/m² over kW/m² = 1e3 s
    involve_s = SECONDS_PER_MINUTE * full_involvement_min(side, protected)
    return BuildingFireProperties(
        side_m=side,
        protected=protected,
        resistive=resistive,
        emitted_kw_m2=emitted,
        spread_distance_m=spread,
        road_cut_m=road,
        burn_duration_s=involve_s + developed_s,
    )
