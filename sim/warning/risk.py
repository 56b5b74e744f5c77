"""Risk = hazard × exposure per building (and counted place), aggregated per grid and community.

Formula (weights in ``[exposure]`` of the thresholds, defaults in brackets):

* **Hazard** ``H`` ∈ {0 … 4}: the level of the hazard at the building from the bands in
  :mod:`sim.warning.thresholds` (flood depth and time to flood, fire arrival, crowd density,
  utility fault kind).
* **Exposure** in people-equivalents ``E = occupants + w_v · vulnerable + w_c · critical``,
  where ``vulnerable = elderly_alone + disabled + children`` (registry counts per building,
  never persons; they are also among the occupants, so ``w_v`` [1.0] is an *extra* weight)
  and ``critical`` counts critical facilities (hospital, elderly home, school, substation …)
  in the building, ``w_c`` [100] people-equivalents each.
* **Risk score** ``R = (H / 4) · E``: people-equivalents weighted by hazard, additive over
  buildings, used to rank areas.
* **Risk level** ``L = 0`` when ``H = 0``; else ``clip(H + up − down, 1, 4)`` with
  ``up = 1`` when the building holds a critical facility, ≥ ``vulnerable_escalate`` [5]
  vulnerable residents or ``E ≥ high_exposure`` [200]; ``down = 1`` when ``E = 0`` (nobody
  exposed). The escalation step is a risk-matrix convention, not a standard.
* **Area** (grid or community): level = max over its buildings, score = sum, affected counts =
  sums over buildings with ``L ≥ 1``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import shapely

from sim.warning.thresholds import Thresholds, default_thresholds

#: registry count columns carried through to the affected counts
COUNT_COLUMNS = ("occupants", "elderly_alone", "disabled", "children")
#: columns of the per-row risk frame (plus geometry when the input had one)
RISK_COLUMNS = (
    "row_id",
    "grid_id",
    "community_id",
    "hazard_level",
    *COUNT_COLUMNS,
    "critical_facilities",
    "exposure",
    "risk",
    "risk_level",
)
#: buffer (degrees, ≈ 30 m) around degenerate hulls so that every area has a polygon
HULL_PAD_DEG = 3e-4


def _col(df: pd.DataFrame, name: str, n: int) -> np.ndarray:
    if name in df:
        return np.nan_to_num(df[name].to_numpy(dtype=float))
    return np.zeros(n)


def _levels(hazard: np.ndarray, exposure: np.ndarray, escalate: np.ndarray) -> np.ndarray:
    up = escalate.astype(int)
    down = (exposure <= 0).astype(int)
    lv = np.clip(hazard + up - down, 1, 4)
    return np.where(hazard > 0, lv, 0).astype(int)


def _finish(
    out: pd.DataFrame, hazard: np.ndarray, vulnerable: np.ndarray, th: Thresholds
) -> pd.DataFrame:
    ex = th.exposure
    exposure = (
        out["occupants"].to_numpy(float)
        + ex["vulnerable_weight"] * vulnerable
        + ex["critical_weight"] * out["critical_facilities"].to_numpy(float)
    )
    escalate = (
        (out["critical_facilities"].to_numpy() > 0)
        | (vulnerable >= ex["vulnerable_escalate"])
        | (exposure >= ex["high_exposure"])
    )
    out["hazard_level"] = hazard
    out["exposure"] = exposure
    out["risk"] = hazard / 4.0 * exposure
    out["risk_level"] = _levels(hazard, exposure, escalate)
    return out


def building_risk(
    buildings: pd.DataFrame,
    hazard_level,
    *,
    facilities: pd.DataFrame | None = None,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """Risk of each building from its hazard level and exposure.

    Parameters
    ----------
    buildings : pandas.DataFrame or geopandas.GeoDataFrame
        Registry rows with ``building_id, grid_id, community_id, occupants, elderly_alone,
        disabled, children`` (missing counts are 0); a geometry column is carried along.
    hazard_level : array_like of int
        Hazard level 0–4 per building, in row order.
    facilities : pandas.DataFrame, optional
        Facility rows with ``building_id`` and ``critical``; critical ones inside a building
        count toward its exposure.

    Returns
    -------
    pandas.DataFrame
        :data:`RISK_COLUMNS` (``row_id`` = building_id), plus ``geometry`` if given.

    >>> b = pd.DataFrame({"building_id": ["B1", "B2", "B3"], "grid_id": "G1",
    ...     "community_id": "C1", "occupants": [40, 0, 300], "elderly_alone": [1, 0, 0],
    ...     "disabled": [0, 0, 0], "children": [0, 0, 0]})
    >>> r = building_risk(b, [2, 2, 2])
    >>> r["exposure"].tolist(), r["risk_level"].tolist()
    ([41.0, 0.0, 300.0], [2, 1, 3])
    """
    th = thresholds or default_thresholds()
    n = len(buildings)
    hazard = np.asarray(hazard_level, dtype=int).reshape(n)
    out = pd.DataFrame(
        {
            "row_id": buildings["building_id"].astype(str).to_numpy(),
            "grid_id": buildings["grid_id"].astype(str).to_numpy(),
            "community_id": (
                buildings["community_id"].astype(str).to_numpy()
                if "community_id" in buildings
                else np.full(n, "")
            ),
        }
    )
    for c in COUNT_COLUMNS:
        out[c] = _col(buildings, c, n)
    crit = np.zeros(n)
    if facilities is not None and len(facilities):
        f = facilities[facilities["critical"].astype(bool)]
        per_building = f.groupby(f["building_id"].astype(str)).size()
        crit = out["row_id"].map(per_building).fillna(0).to_numpy(float)
    out["critical_facilities"] = crit
    vulnerable = out["elderly_alone"] + out["disabled"] + out["children"]
    out = _finish(out, hazard, vulnerable.to_numpy(float), th)
    if "geometry" in buildings:
        out["geometry"] = np.asarray(buildings.geometry)
    return out


def place_risk(
    places: pd.DataFrame,
    hazard_level,
    people,
    *,
    community_of_grid: Mapping[str, str] | None = None,
    thresholds: Thresholds | None = None,
) -> pd.DataFrame:
    """Risk of counted places (squares, markets) or outdoor facilities.

    Exposure is the people present (counter reading) plus ``critical_weight`` if the
    facility is critical. Columns as :func:`building_risk` (``row_id`` = facility_id;
    the people count goes into ``occupants``).

    >>> p = pd.DataFrame({"facility_id": ["F1"], "grid_id": ["G1"], "critical": [False]})
    >>> r = place_risk(p, [4], [900.0])
    >>> float(r.loc[0, "exposure"]), float(r.loc[0, "risk"]), int(r.loc[0, "risk_level"])
    (900.0, 900.0, 4)
    """
    th = thresholds or default_thresholds()
    n = len(places)
    grids = places["grid_id"].astype(str)
    out = pd.DataFrame(
        {
            "row_id": places["facility_id"].astype(str).to_numpy(),
            "grid_id": grids.to_numpy(),
            "community_id": (
                grids.map(dict(community_of_grid)).fillna("").to_numpy()
                if community_of_grid
                else np.full(n, "")
            ),
            "occupants": np.nan_to_num(np.asarray(people, dtype=float).reshape(n)),
            "elderly_alone": 0.0,
            "disabled": 0.0,
            "children": 0.0,
            "critical_facilities": (
                places["critical"].astype(bool).to_numpy(float)
                if "critical" in places
                else np.zeros(n)
            ),
        }
    )
    out = _finish(out, np.asarray(hazard_level, dtype=int).reshape(n), np.zeros(n), th)
    if "geometry" in places:
        out["geometry"] = np.asarray(places.geometry)
    return out


def _hull(geoms) -> shapely.Geometry | None:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return None
    hull = shapely.union_all(geoms).convex_hull
    if hull.geom_type != "Polygon":
        hull = hull.buffer(HULL_PAD_DEG).convex_hull
    return hull


def aggregate_risk(
    rows: pd.DataFrame,
    by: str = "grid_id",
    *,
    areas: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Aggregate per-row risk to areas (grid or community).

    Parameters
    ----------
    rows : pandas.DataFrame
        Output of :func:`building_risk` / :func:`place_risk` (concatenate to combine).
    by : str
        ``"grid_id"`` or ``"community_id"``.
    areas : geopandas.GeoDataFrame, optional
        Area polygons (EPSG:4326) with a ``by`` column (and optional ``name_zh``,
        ``name_en``); their geometry becomes the warning polygon. Without it the polygon is
        the convex hull of the affected rows' geometry (if any).

    Returns
    -------
    pandas.DataFrame
        Indexed by area id: ``level`` (max risk level), ``hazard_level`` (max), ``risk``
        (sum), ``rows_affected``, affected ``occupants, elderly_alone, disabled, children,
        critical_facilities`` (sums over rows with risk level ≥ 1), ``polygon`` and names.

    >>> r = pd.DataFrame({"row_id": ["a", "b"], "grid_id": ["G1", "G1"],
    ...     "community_id": "C", "hazard_level": [1, 0], "occupants": [5.0, 7.0],
    ...     "elderly_alone": 0.0, "disabled": 0.0, "children": 0.0,
    ...     "critical_facilities": 0.0, "exposure": [5.0, 7.0], "risk": [1.25, 0.0],
    ...     "risk_level": [1, 0]})
    >>> a = aggregate_risk(r)
    >>> int(a.loc["G1", "level"]), float(a.loc["G1", "occupants"])
    (1, 5.0)
    """
    hit = rows["risk_level"].to_numpy() >= 1
    key = rows[by].astype(str)
    counts = ["occupants", "elderly_alone", "disabled", "children", "critical_facilities"]
    affected = rows.loc[hit, counts].groupby(key[hit]).sum()
    out = pd.DataFrame(
        {
            "level": rows.groupby(key)["risk_level"].max(),
            "hazard_level": rows.groupby(key)["hazard_level"].max(),
            "risk": rows.groupby(key)["risk"].sum(),
            "rows_affected": pd.Series(hit, index=rows.index).groupby(key).sum(),
        }
    )
    out = out.join(affected).fillna({c: 0.0 for c in counts})
    out.index.name = by
    polys: dict[str, object] = {}
    names_zh: dict[str, str] = {}
    names_en: dict[str, str] = {}
    if areas is not None:
        a = areas.set_index(areas[by].astype(str))
        for area_id in out.index:
            if area_id in a.index:
                polys[area_id] = a.geometry.loc[area_id]
                names_zh[area_id] = str(a["name_zh"].loc[area_id]) if "name_zh" in a else ""
                names_en[area_id] = str(a["name_en"].loc[area_id]) if "name_en" in a else ""
    elif "geometry" in rows:
        for area_id, grp in rows[hit].groupby(key[hit]):
            polys[area_id] = _hull(grp["geometry"])
    out["polygon"] = [polys.get(i) for i in out.index]
    out["name_zh"] = [names_zh.get(i) or i for i in out.index]
    out["name_en"] = [names_en.get(i) or i for i in out.index]
    return out


def to_assessments(agg: pd.DataFrame) -> dict[str, dict]:
    """Area frame from :func:`aggregate_risk` → ``{area_id: assessment}`` for the engine.

    Each assessment holds ``level``, ``affected`` (int counts), ``polygon``, ``name_zh``,
    ``name_en`` and ``risk``.
    """
    out = {}
    for area_id, row in agg.iterrows():
        out[str(area_id)] = {
            "level": int(row["level"]),
            "risk": float(row["risk"]),
            "affected": {
                "buildings": int(row["rows_affected"]),
                "people": int(row["occupants"]),
                "elderly_alone": int(row["elderly_alone"]),
                "disabled": int(row["disabled"]),
                "children": int(row["children"]),
                "critical_facilities": int(row["critical_facilities"]),
            },
            "polygon": row["polygon"],
            "name_zh": row["name_zh"],
            "name_en": row["name_en"],
        }
    return out
