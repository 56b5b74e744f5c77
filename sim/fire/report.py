"""The fire model's report: an xarray Dataset (NetCDF) and a table of reached buildings (CSV).

States at the report horizons ``T + h`` (``T`` the first ignition), people and vulnerable
residents at risk (:func:`sim.fire.impacts.people_at_risk`) and, given roads, the segments cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from sim.fire.impacts import AT_RISK_COLUMNS, people_at_risk

if TYPE_CHECKING:
    from sim.fire.model import FireSpreadModel

#: building states: not reached, burning, burnt out
UNBURNT, BURNING, BURNT = 0, 1, 2


def fire_dataset(model: FireSpreadModel, roads=None) -> xr.Dataset:
    """Arrival times, states at ``T`` + horizons, people at risk and roads cut.

    Writable with ``.to_netcdf()``; see :func:`fire_frame` for a CSV of reached buildings.
    """
    t_ign = model.ignition_time_s
    horizons = np.asarray(model.horizons_s)
    states = np.stack([model.state_at(t_ign + h) for h in horizons])
    data = {
        "arrival_time": (
            "building",
            model.field("building__fire_arrival_time"),
            {"units": "s", "long_name": "time fire reaches the building (model clock)"},
        ),
        "burnout_time": (
            "building",
            model.field("building__fire_burnout_time"),
            {"units": "s", "long_name": "time the building is burnt out"},
        ),
        "fire_state": (
            ("horizon", "building"),
            states,
            {"flag_values": [0, 1, 2], "flag_meanings": "unburnt burning burnt"},
        ),
        "n_burning": ("horizon", (states == BURNING).sum(axis=1), {"units": "1"}),
        "n_burnt": ("horizon", (states == BURNT).sum(axis=1), {"units": "1"}),
    }
    risks = [people_at_risk(model.buildings, s > UNBURNT) for s in states]
    for col in AT_RISK_COLUMNS:
        data[f"{col}_at_risk"] = (
            "horizon",
            np.array([r[col] for r in risks], dtype=np.int64),
            {"units": "1", "long_name": f"{col} in buildings reached by the fire"},
        )
    coords = {
        "building_id": ("building", model.ids),
        "horizon": ("horizon", horizons, {"units": "s", "long_name": "time after T"}),
    }
    if roads is not None:
        cut = np.stack([model.roads_cut_at(roads, t_ign + h) for h in horizons])
        data["road_cut"] = (
            ("horizon", "road"),
            cut.astype(np.int8),
            {"flag_values": [0, 1], "flag_meanings": "open cut"},
        )
        data["n_roads_cut"] = ("horizon", cut.sum(axis=1), {"units": "1"})
        coords["road_id"] = ("road", roads["road_id"].astype(str).to_numpy())
    return xr.Dataset(
        data,
        coords=coords,
        attrs={
            "title": "StreetTwin urban fire spread",
            "model": "Hamada (1951) rates on a radiation-limited building graph",
            "Conventions": "CF-1.8",
            "ignition_time_s": t_ign,
            "model_time_s": model.time,
            "wind_speed_m_s": model.wind_speed_m_s,
            "wind_from_direction_deg": model.wind_dir_deg,
            "n_fallback_edges": model.n_fallback_edges,
            "fallback": "rate frozen at the edge of Hamada's range (constant-rate model)",
        },
    )


def fire_frame(model: FireSpreadModel, reached_only: bool = True) -> pd.DataFrame:
    """One row per building (reached ones by default): times, states, residents; for CSV."""
    ds = model.result()
    frame = pd.DataFrame(
        {
            "building_id": model.ids,
            "arrival_time_s": ds["arrival_time"].values,
            "burnout_time_s": ds["burnout_time"].values,
        }
    )
    for k, h in enumerate(model.horizons_s):
        frame[f"state_T+{int(h // 60)}min"] = ds["fire_state"].values[k]
    for col in AT_RISK_COLUMNS:
        if col in model.buildings:
            frame[col] = model.buildings[col].to_numpy()
    if reached_only:
        frame = frame[np.isfinite(frame["arrival_time_s"])]
    return frame.reset_index(drop=True)
