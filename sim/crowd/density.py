"""Crowd density per place and its level of service (Fruin) and crowd-safety band (Still).

Density = people present / walkable area (persons per m²). Two documented tables:

**Fruin level of service** (J. J. Fruin, *Pedestrian Planning and Design*, 1971; the
walkway bands are also those of the US Highway Capacity Manual), given by Fruin as area per
person in ft² and converted here (1 ft² = 0.09290304 m²):

====  ======================  ==================  =====================  ==================
LOS   walkway ft²/person      walkway p/m² below  queuing ft²/person     queuing p/m² below
====  ======================  ==================  =====================  ==================
A     ≥ 35                    0.31                ≥ 13                   0.83
B     25–35                   0.43                10–13                  1.08
C     15–25                   0.72                7–10                   1.54
D     10–15                   1.08                3–7                    3.59
E     5–10                    2.15                2–3                    5.38
F     < 5                     —                   < 2                    —
====  ======================  ==================  =====================  ==================

Use walkway bands for moving crowds (streets, market aisles) and queuing bands for standing
crowds (squares, event areas).

**Crowd-safety bands** (G. K. Still, *Introduction to Crowd Science*, CRC Press 2014, and
his crowd-safety course notes): flow through a space peaks at about 2–3 p/m²; above that
movement is restricted; from about 5 p/m² a crowd is dangerous (people are pushed, falls and
crushing become possible); around 7 p/m² and above the crowd moves as a fluid with shock
waves ("crowd turbulence"). The 3 and 7 p/m² band edges are rounded from those notes.
"""

from __future__ import annotations

import numpy as np

FT2_M2 = 0.09290304
#: Fruin walkway band edges, ft² per person (A/B, B/C, C/D, D/E, E/F)
WALKWAY_FT2 = (35.0, 25.0, 15.0, 10.0, 5.0)
#: Fruin queuing band edges, ft² per person
QUEUING_FT2 = (13.0, 10.0, 7.0, 3.0, 2.0)
LOS_LETTERS = ("A", "B", "C", "D", "E", "F")

#: Still's crowd-safety bands: (lower edge p/m², key, zh, en)
SAFETY_BANDS: tuple[tuple[float, str, str, str], ...] = (
    (0.0, "free", "自由通行", "free movement"),
    (2.0, "flow_peak", "通行能力峰值", "flow at its peak"),
    (3.0, "restricted", "行动受限", "restricted movement"),
    (5.0, "dangerous", "危险密度", "dangerous density"),
    (7.0, "turbulent", "人群湍流", "crowd turbulence"),
)
#: density from which a crowd is dangerous, p/m² (Still)
DANGEROUS_DENSITY = 5.0


def density_edges(kind: str = "walkway") -> np.ndarray:
    """LOS band edges as densities (p/m², increasing) for ``walkway`` or ``queuing``.

    >>> np.round(density_edges("walkway"), 2).tolist()
    [0.31, 0.43, 0.72, 1.08, 2.15]
    """
    ft2 = WALKWAY_FT2 if kind == "walkway" else QUEUING_FT2
    return 1.0 / (np.asarray(ft2) * FT2_M2)


def crowd_density(people, walkable_area_m2) -> np.ndarray:
    """People per m² of walkable area; NaN where the area is missing or not positive.

    >>> crowd_density([500, 100], [250.0, 0.0]).tolist()
    [2.0, nan]
    """
    p = np.asarray(people, dtype=float)
    a = np.asarray(walkable_area_m2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, p / a, np.nan)


def level_of_service(density_p_m2, kind: str = "walkway") -> np.ndarray:
    """Fruin LOS letter per density (``""`` for NaN).

    >>> level_of_service([0.1, 0.5, 1.0, 2.0, 3.0]).tolist()
    ['A', 'C', 'D', 'E', 'F']
    >>> level_of_service([0.5, 4.0, 6.0], "queuing").tolist()
    ['A', 'E', 'F']
    """
    d = np.asarray(density_p_m2, dtype=float)
    idx = np.searchsorted(density_edges(kind), np.nan_to_num(d, nan=0.0), side="right")
    letters = np.asarray(LOS_LETTERS)[idx]
    return np.where(np.isnan(d), "", letters)


def safety_band(density_p_m2) -> np.ndarray:
    """Still's crowd-safety band key per density (``""`` for NaN).

    >>> safety_band([1.0, 2.5, 4.0, 5.0, 8.0]).tolist()
    ['free', 'flow_peak', 'restricted', 'dangerous', 'turbulent']
    """
    d = np.asarray(density_p_m2, dtype=float)
    edges = np.array([b[0] for b in SAFETY_BANDS[1:]])
    idx = np.searchsorted(edges, np.nan_to_num(d, nan=0.0), side="right")
    keys = np.asarray([b[1] for b in SAFETY_BANDS])[idx]
    return np.where(np.isnan(d), "", keys)


def place_density(places, people) -> np.ndarray:
    """Density at registry places (facility rows with ``area_m2``, walkable m²), p/m².

    >>> import pandas as pd
    >>> place_density(pd.DataFrame({"area_m2": [400.0, 0.0]}), [1000, 10]).tolist()
    [2.5, nan]
    """
    return crowd_density(people, places["area_m2"].to_numpy(dtype=float))
