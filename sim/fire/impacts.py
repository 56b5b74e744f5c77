"""What a fire front means for people and roads: residents at risk and road segments cut.

- *At risk* at a time: the occupants and vulnerable residents (registry counts per building:
  ``occupants``, ``elderly_alone``, ``disabled``, ``children``) of every building the fire
  has reached by then, burning or burnt.
- *Road cut*: a road segment within the untenable-radiation distance of a burning building
  (flux above 2.5 kW/m², :data:`sim.fire.radiation.TENABLE_FLUX_KW_M2`), measured from the
  footprint, or from the equivalent square around the centroid when only points are known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

#: registry columns summed over the buildings reached
AT_RISK_COLUMNS = ("occupants", "elderly_alone", "disabled", "children")


def people_at_risk(rows: pd.DataFrame, reached: np.ndarray) -> dict[str, int]:
    """Sum residents of the reached buildings.

    Parameters
    ----------
    rows : pandas.DataFrame
        Building rows with (some of) :data:`AT_RISK_COLUMNS`; missing ones count 0.
    reached : numpy.ndarray of bool
        Buildings reached by the fire.

    Returns
    -------
    dict
        Column name → number of people.

    >>> df = pd.DataFrame({"occupants": [10, 5, 7], "elderly_alone": [1, 0, 2]})
    >>> people_at_risk(df, np.array([True, False, True]))["occupants"]
    17
    """
    out = {}
    for col in AT_RISK_COLUMNS:
        if col in rows:
            out[col] = int(rows[col].to_numpy(dtype=float)[reached].sum())
        else:
            out[col] = 0
    return out


def roads_cut(
    roads,
    burning: np.ndarray,
    cut_m: np.ndarray,
    *,
    footprints=None,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    side_m: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean mask over ``roads`` of segments within ``cut_m`` of a burning building.

    Parameters
    ----------
    roads : geopandas.GeoDataFrame
        Road segments in the same metric CRS as the buildings.
    burning : numpy.ndarray of bool
        Buildings burning at the time of interest.
    cut_m : numpy.ndarray
        Untenable distance of each building (m).
    footprints : array_like of shapely geometries, optional
        Building footprints; else ``x``, ``y``, ``side_m`` describe equivalent squares.

    Returns
    -------
    numpy.ndarray of bool
        One flag per road row.
    """
    mask = np.zeros(len(roads), dtype=bool)
    idx = np.flatnonzero(burning)
    if idx.size == 0 or len(roads) == 0:
        return mask
    if footprints is not None:
        sources = np.asarray(footprints, dtype=object)[idx]
        reach = cut_m[idx]
    else:
        sources = shapely.points(x[idx], y[idx])
        reach = cut_m[idx] + 0.5 * side_m[idx] * np.sqrt(2.0)  # to the square's corner
    tree = shapely.STRtree(np.asarray(roads.geometry.values, dtype=object))
    _, hit = tree.query(sources, predicate="dwithin", distance=reach)
    mask[np.unique(hit)] = True
    return mask
