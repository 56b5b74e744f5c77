"""Truth for scoring: the world's true state as frames, and the rows of its event log."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from sim.world.base import Schedule
from sim.world.sensors import SensorReadout
from sim.world.sites import Sites

#: truth frame → (location, {column: field})
FRAMES: dict[str, tuple[str, dict[str, str]]] = {
    "gauges": ("gauge", {"rain_intensity": "gauge__rain_intensity"}),
    "roads": (
        "road",
        {"rain_intensity": "road__rain_intensity", "water_depth": "road__water_depth"},
    ),
    "rivers": ("river", {"water_level": "river__water_level"}),
    "drains": ("drain", {"water_depth": "drain__water_depth", "surcharge": "drain__surcharge"}),
    "places": (
        "place",
        {"people_count": "place__people_count", "rain_intensity": "place__rain_intensity"},
    ),
    "buildings": (
        "building",
        {
            "power_demand": "building__power_demand",
            "water_demand": "building__water_demand",
            "gas_flow_rate": "building__gas_flow_rate",
            "gas_concentration": "building__gas_concentration",
            "smoke_alarm": "building__smoke_alarm",
            "air_temperature": "building__air_temperature",
            "relative_humidity": "building__relative_humidity",
            "power_available": "building__power_available",
        },
    ),
    "water_nodes": (
        "water_node",
        {"pressure": "water_node__pressure", "demand": "water_node__demand"},
    ),
    "water_pipes": (
        "water_pipe",
        {"flow_rate": "water_pipe__flow_rate", "burst": "water_pipe__burst"},
    ),
    "elevators": ("elevator", {"status": "elevator__status"}),
}


def truth_at(
    fields: dict[str, np.ndarray],
    sites: Sites,
    readout: SensorReadout,
    faults: list[Any],
    events: list[dict[str, Any]],
    t: float,
    *,
    road_factors: np.ndarray,
) -> dict[str, Any]:
    """The true state at ``t`` as frames indexed by site id.

    Returns
    -------
    dict
        ``t``; ``gauges`` (rain_intensity m/s); ``roads`` (rain_intensity, water_depth m,
        low_factor); ``rivers`` (water_level m, discharge m³/s, bank_m); ``drains``
        (water_depth m, surcharge); ``places`` (people_count, rain_intensity); ``buildings``
        (power_demand W, water_demand m³/s, gas_flow_rate m³/s, gas_concentration,
        smoke_alarm, air_temperature degC, relative_humidity, power_available);
        ``water_nodes`` (pressure Pa, demand m³/s); ``water_pipes`` (flow_rate m³/s, burst);
        ``elevators`` (status); ``sensors`` (true_value, fault: the sensor fault acting);
        ``air_temperature`` degC, ``air_relative_humidity``; ``active_faults`` and
        ``active_storms`` (the rows of ``events`` active at ``t``).
    """
    out: dict[str, Any] = {"t": t}
    for key, (loc, cols) in FRAMES.items():
        data = {col: np.asarray(fields[name], float).copy() for col, name in cols.items()}
        out[key] = pd.DataFrame(data, index=sites[loc].index.copy())
    out["roads"]["low_factor"] = road_factors
    out["rivers"]["discharge"] = float(fields["river__discharge"])
    out["rivers"]["bank_m"] = sites["river"]["bank_m"].to_numpy(float)
    sensor_fault = np.array([""] * len(readout.ids), dtype=object)
    for fault in faults:
        if fault.active(t) and fault.kind in ("sensor_stuck", "sensor_drift"):
            sensor_fault[readout.row[fault.target]] = fault.kind
        elif fault.active(t) and fault.kind == "device_silent":
            sensor_fault[readout.devices == fault.target] = fault.kind
    out["sensors"] = pd.DataFrame(
        {"true_value": readout.true_values(fields), "fault": sensor_fault},
        index=pd.Index(readout.ids, name="sensor_id"),
    )
    out["air_temperature"] = float(fields["air__temperature"])
    out["air_relative_humidity"] = float(fields["air__relative_humidity"])
    frame = pd.DataFrame(
        events, columns=["event_id", "kind", "target", "start", "end", "params", "injected"]
    )
    ends = frame["end"].astype(float)  # None (open) becomes NaN
    active = frame[(frame["start"] <= t) & (ends.isna() | (ends > t))]
    out["active_faults"] = active[active["kind"] != "storm"].reset_index(drop=True)
    out["active_storms"] = active[active["kind"] == "storm"].reset_index(drop=True)
    return out


def event_rows(schedule: Schedule, spontaneous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the event log: storms, faults, crowd events and spontaneous faults, by start."""
    rows: list[dict[str, Any]] = []
    for s in schedule.storms:
        rows.append(
            {
                "event_id": s.event_id,
                "kind": "storm",
                "target": "",
                "start": s.start,
                "end": s.end,
                "params": {
                    "total_mm": s.total_m * 1e3,
                    "center": s.center,
                    "speed_m_s": s.speed_m_s,
                    "direction_deg": s.direction_deg,
                    "radius_m": s.radius_m,
                    "peak_m_s": s.amplitude_m_s,
                },
                "injected": True,
            }
        )
    for f in schedule.faults:
        rows.append(
            {
                "event_id": f.event_id,
                "kind": f.kind,
                "target": f.target,
                "start": f.start,
                "end": f.end,
                "params": dict(f.params),
                "injected": True,
            }
        )
    for e in schedule.crowd_events:
        rows.append(
            {
                "event_id": e.event_id,
                "kind": "crowd_event",
                "target": e.facility_id,
                "start": e.start,
                "end": e.end,
                "params": {"peak_people": e.peak_people},
                "injected": True,
            }
        )
    rows.extend(dict(ev) for ev in spontaneous)
    return sorted(rows, key=lambda r: (r["start"], r["event_id"]))
