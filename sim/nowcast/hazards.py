"""Per-grid assessments of each hazard from live readings and model output, for the engine.

Pure helpers: they take registry tables, hazard levels per place and return
``{grid_id: assessment}`` (see :func:`sim.warning.risk.to_assessments`) covering **every**
grid, so that grids whose hazard has gone get level 0 and the engine can downgrade or
all-clear them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.warning.risk import aggregate_risk, building_risk, place_risk, to_assessments
from sim.warning.thresholds import Thresholds


def grid_assessments(
    registry,
    building_hazard: np.ndarray | None = None,
    *,
    extra_levels: pd.Series | None = None,
    places: pd.DataFrame | None = None,
    place_hazard: np.ndarray | None = None,
    place_people: np.ndarray | None = None,
    thresholds: Thresholds | None = None,
) -> dict[str, dict]:
    """Assessments per grid from building hazard levels (and optional places).

    Parameters
    ----------
    registry : twin.registry.Registry
    building_hazard : array of int, optional
        Hazard level 0–4 per registry building (row order); ``None`` = all 0.
    extra_levels : pandas.Series, optional
        Grid id → hazard level of things outside buildings (a flooded road, a fault on a
        network line); the grid level is at least this.
    places, place_hazard, place_people : optional
        Counted places (facility rows with ``facility_id``, ``grid_id``, ``critical``), their
        hazard levels and people present, for :func:`sim.warning.risk.place_risk`.

    Returns
    -------
    dict
        ``{grid_id: {"level", "affected", "polygon", "name_zh", "name_en", "risk"}}``.
    """
    b = registry.buildings
    hz = np.zeros(len(b), int) if building_hazard is None else np.asarray(building_hazard, int)
    rows = [building_risk(b, hz, facilities=registry.facilities, thresholds=thresholds)]
    if places is not None and len(places):
        rows.append(place_risk(places, place_hazard, place_people, thresholds=thresholds))
    frame = pd.concat(rows, ignore_index=True)
    grids = registry.grids
    agg = aggregate_risk(frame, "grid_id", areas=grids)
    # grids with no building at all still get a row (level 0)
    missing = [g for g in grids["grid_id"].astype(str) if g not in agg.index]
    if missing:
        empty = frame.iloc[:0]
        pad = aggregate_risk(
            pd.concat([empty, _zero_rows(missing)], ignore_index=True), "grid_id", areas=grids
        )
        agg = pd.concat([agg, pad])
    if extra_levels is not None and len(extra_levels):
        extra = extra_levels.groupby(level=0).max().reindex(agg.index).fillna(0).astype(int)
        agg["level"] = np.maximum(agg["level"].to_numpy(int), extra.to_numpy())
    return to_assessments(agg)


def _zero_rows(grid_ids: list[str]) -> pd.DataFrame:
    n = len(grid_ids)
    return pd.DataFrame(
        {
            "row_id": [f"_{g}" for g in grid_ids],
            "grid_id": grid_ids,
            "community_id": [""] * n,
            "hazard_level": np.zeros(n, int),
            "occupants": 0.0,
            "elderly_alone": 0.0,
            "disabled": 0.0,
            "children": 0.0,
            "critical_facilities": 0.0,
            "exposure": 0.0,
            "risk": 0.0,
            "risk_level": np.zeros(n, int),
        }
    )


def street_assessment(registry, level: int, *, area_id: str | None = None) -> dict[str, dict]:
    """One assessment covering the whole street (rainstorm signals are issued street-wide)."""
    grids = registry.grids
    sid = area_id or str(registry.meta.get("street_id", "street"))
    poly = grids.geometry.union_all().convex_hull if len(grids) else None
    return {
        sid: {
            "level": int(level),
            "polygon": poly,
            "name_zh": str(registry.meta.get("name_zh", sid)),
            "name_en": str(registry.meta.get("name_en", sid)),
            "affected": {"people": int(registry.buildings["occupants"].sum())} if level else {},
        }
    }
