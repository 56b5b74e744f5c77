"""Live sensor and warning layers: states, worst-by-grid, compact points, palettes in sync."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from layers import sensors as live
from layers.style import SENSOR_STATE_STYLE, SENSOR_STATES
from layers.warnings import build_warnings_layer, warning_points
from twin.samples import tiny_registry

ASSETS = Path(__file__).resolve().parents[2] / "dashboard" / "assets"


def test_states_rank_alarm_over_rejected_over_stale_over_ok() -> None:
    value = np.array([0.05, 0.20, 0.20, np.nan, 0.01, 0.30])
    quality = np.array([0, 0, 1, 1, 2, 2])  # GOOD, GOOD, STALE, STALE, REJECTED, REJECTED
    alarm = np.full(6, 0.15)
    # 0.20 m road water alarms even if stale: water does not recede when a gauge goes quiet
    assert live.sensor_states(value, quality, alarm).tolist() == [0, 3, 3, 1, 2, 3]


def test_worst_state_by_grid_and_empty_grids() -> None:
    states = np.array([0, 1, 3, 0, 2])
    group = np.array([0, 0, 0, 2, 2])
    assert live.worst_by_group(states, group, 4).tolist() == [3, -1, 2, -1]


def test_sensor_points_are_in_state_row_order_and_sit_on_roofs() -> None:
    reg = tiny_registry()
    pts = live.sensor_points(reg.sensors, reg.buildings)
    assert [p["i"] for p in pts] == list(range(len(reg.sensors)))
    assert [p["id"] for p in pts] == reg.sensors["sensor_id"].tolist()
    smoke = next(p for p in pts if p["id"] == "SN005")  # bound to a building
    building = reg.buildings.set_index("building_id").loc[smoke["e"]]
    assert smoke["p"][2] == round(float(building["height_m"]) + live.ROOF_CLEARANCE_M, 1)
    road = next(p for p in pts if p["id"] == "SN004")
    assert road["p"][2] == 0.0 and road["a"] == 0.15
    assert next(p for p in pts if p["k"] == "power_meter")["a"] is None


def test_sensor_layers_start_grey_stale_with_stable_ids() -> None:
    reg = tiny_registry()
    layer = json.loads(live.build_sensors_layer(reg.sensors).to_json())
    assert layer["id"] == "sensors" and layer["@@type"] == "ScatterplotLayer"
    assert layer["getFillColor"] == [150, 150, 150, 255]
    assert len(layer["data"]) == 15
    grids = json.loads(live.build_sensor_grids_layer(reg.grids).to_json())
    assert grids["id"] == "sensor-grids" and len(grids["data"]["features"]) == 4


def test_warning_points_keep_known_levels_with_position() -> None:
    frame = pd.DataFrame(
        {"id": ["a", "b", "c"], "level": ["red", "purple", "blue"], "lon": [113.7, 1, None],
         "lat": [23.0, 1, None]}
    )  # fmt: skip
    pts = warning_points(frame)
    assert [(p["id"], p["level"], p["r"]) for p in pts] == [("a", "red", 24)]
    layer = json.loads(build_warnings_layer([]).to_json())
    assert layer["id"] == "warnings" and layer["data"] == []


def test_browser_palette_and_thresholds_match_the_style_module() -> None:
    js = (ASSETS / "streettwin_live.js").read_text(encoding="utf-8")
    palette = re.search(r"var STATE_RGB = (\[.*?\]\]);", js).group(1)
    assert json.loads(palette) == [list(SENSOR_STATE_STYLE[s][0]) for s in SENSOR_STATES]
    from layers.style import AGGREGATE_BELOW_ZOOM

    assert f"var AGGREGATE_BELOW_ZOOM = {AGGREGATE_BELOW_ZOOM};" in js
