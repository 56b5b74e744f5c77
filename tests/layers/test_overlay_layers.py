"""Hazard and operations overlays on the tiny registry: ids, hand-checked colours, bands."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pydeck as pdk
import pytest
from PIL import Image

from layers import registry as layer_registry
from layers.crowd import build_crowd_layer, crowd_values
from layers.dispatch import build_crews_layer, build_tickets_layer, road_node_positions
from layers.fire import build_fire_arrival_layer, fire_values
from layers.flood import build_flood_depth_layer, flood_depth_values
from layers.gridstate import build_grid_state_layer
from layers.networks import build_networks_layer
from layers.style import STYLES, TERRAIN
from layers.terrain import build_hillshade_layer
from twin.samples import tiny_lonlat, tiny_registry


@pytest.fixture(scope="module")
def reg():
    return tiny_registry()


def layer_json(layer: pdk.Layer) -> dict:
    return json.loads(pdk.Deck(layers=[layer], map_provider=None).to_json())["layers"][0]


def png_of(url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))


def props_by(layer: dict, key: str) -> dict[str, dict]:
    return {f["properties"][key]: f["properties"] for f in layer["data"]["features"]}


def test_overlays_are_on_demand_and_drawn_in_table_order(reg) -> None:
    default = [x.id for x in layer_registry.build_layers(reg.layers)]
    assert "flood-depth" not in default and "tickets" not in default
    sources = {**reg.layers, "dem": reg.dem}
    every = [x.id for x in layer_registry.build_layers(sources, style="terrain", on_demand=True)]
    assert every == list(layer_registry.LAYERS)
    plain = [x.id for x in layer_registry.build_layers(sources, style="plain", on_demand=True)]
    assert "hillshade" not in plain  # relief belongs to the terrain style only
    assert layer_registry.build_layers(reg.layers, only=["networks"])[0].id == "networks"
    assert "terrain" in STYLES and STYLES["terrain"] is TERRAIN


def test_flood_depth_image_classes_depth_and_leaves_dry_cells_clear(reg) -> None:
    depth = reg.dem.copy(data=np.zeros(reg.dem.shape))
    depth[3, 4] = 0.20  # 15–30 cm class
    depth[3, 5] = 0.60  # ≥ 50 cm
    depth[3, 6] = 0.01  # a film: dry
    values = flood_depth_values(depth)
    assert values["wet_cells"] == 2 and values["max_depth_m"] == 0.6
    img = png_of(values["image"])
    ny = reg.dem.shape[0]
    assert img.shape == (36, 56, 4)
    row = ny - 1 - 3  # north up: grid row 3 from the south is image row 32
    assert img[row, 4].tolist() == [33, 113, 181, 200]
    assert img[row, 5].tolist() == [8, 48, 107, 200]
    assert img[row, 6, 3] == 0 and img[0, 0, 3] == 0
    # corners enclose the district: bottom-left south-west of every building
    (w, s), _, (e, n), _ = values["bounds"]
    west, south, east, north = reg.buildings.total_bounds
    assert w < west and s < south and e > east and n > north
    layer = layer_json(build_flood_depth_layer(depth))
    assert layer["id"] == "flood-depth" and layer["@@type"] == "BitmapLayer"
    assert layer["image"] == values["image"]  # a literal, not an accessor expression


def test_flood_without_a_model_run_is_an_empty_image() -> None:
    values = flood_depth_values(None)
    assert values["wet_cells"] == 0 and png_of(values["image"])[0, 0, 3] == 0


def test_hillshade_darkens_the_south_facing_bank_by_hand_checked_alpha(reg) -> None:
    layer = layer_json(build_hillshade_layer(reg.dem, style=TERRAIN))
    assert layer["id"] == "hillshade"
    img = png_of(layer["image"])
    assert img.shape == (36, 56, 4)
    # ground rises 2 cm/m to the north (×5 exaggeration): a slope of atan(0.1) facing south,
    # lit from the north-west at 45°: 0.7071·cos s + 0.7071·sin s·cos 135° = 0.6539, darker
    # than level ground (0.7071) by 7.5 %, i.e. black at 0.0753 × 150 = 11
    j = int(np.searchsorted(reg.dem.x.values, reg.dem.x.values[0] + 175.0))
    i = int(np.searchsorted(reg.dem.y.values, reg.dem.y.values[0] + 275.0))
    assert img[36 - 1 - i, j].tolist() == [0, 0, 0, 11]


def test_fire_bands_colour_reached_buildings_and_leave_the_rest_out(reg) -> None:
    arrival = {"B0001": 0.0, "B0002": 900.0, "B0003": 2400.0, "B0004": 4000.0}
    layer = layer_json(build_fire_arrival_layer(reg.buildings, arrival))
    assert layer["id"] == "fire-arrival"
    feats = props_by(layer, "building_id")
    assert set(feats) == {"B0001", "B0002", "B0003"}
    assert feats["B0001"]["fill"] == [213, 94, 0, 235]  # ≤ 10 min: vermillion
    assert feats["B0002"]["fill"] == [230, 159, 0, 235]  # 10–30 min: orange
    assert feats["B0003"]["fill"] == [240, 228, 66, 235]  # 30–60 min: yellow
    assert feats["B0003"]["minutes"] == 40.0 and feats["B0001"]["height_m"] > 0
    assert fire_values(["B0004"], [4000.0]) == {}


def test_crowd_places_are_counted_facilities_coloured_by_fruin_los(reg) -> None:
    empty = layer_json(build_crowd_layer(reg.facilities, sensors=reg.sensors))
    assert empty["id"] == "crowd-density"
    assert [d["id"] for d in empty["data"]] == ["F03"]  # the square with a people counter
    assert empty["data"][0]["c"] == [0, 0, 0, 0]
    # a square is a standing crowd: queuing bands; 2 p/m² is LOS D, 0.5 p/m² LOS A
    busy = build_crowd_layer(reg.facilities, sensors=reg.sensors, density={"F03": 2.0})
    rec = layer_json(busy)["data"][0]
    assert rec["los"] == "D" and rec["c"] == [253, 141, 60, 200]
    calm = crowd_values(reg.facilities, {"F03": 0.5})
    assert calm["F03"]["c"] == [255, 255, 178, 200]


def test_networks_highlight_faulted_pipe_and_feeder_wider(reg) -> None:
    faults = [
        {"kind": "pipe_burst", "target": "P03"},
        {"kind": "feeder_outage", "target": "FD02"},
        {"kind": "feeder_outage", "target": "FD01", "cleared_at": 100.0},
    ]
    layer = layer_json(build_networks_layer(reg.water_pipes, reg.power_feeders, faults=faults))
    assert layer["id"] == "networks"
    parts = props_by(layer, "id")
    assert set(parts) == {"P01", "P02", "P03", "P04", "FD01", "FD02"}
    assert parts["P03"]["colour"] == [213, 94, 0, 255] and parts["P03"]["width_m"] == 7.5
    assert parts["FD02"]["colour"] == [213, 94, 0, 255]
    assert parts["P01"]["colour"] == [0, 114, 178, 255] and parts["P01"]["width_m"] == 3.0
    assert parts["FD01"]["colour"] == [0, 158, 115, 255]  # cleared: back to normal


def test_tickets_by_level_at_their_node_and_crews_by_state(reg) -> None:
    nodes = road_node_positions(reg.roads)
    lon, lat = tiny_lonlat(200.0, 100.0)
    assert nodes["J05"] == pytest.approx((float(lon), float(lat)), abs=1e-6)
    tickets = [
        {"ref": "T-2", "level": "red", "state": "dispatched", "node": "J05", "type": "water"},
        {"ref": "T-1", "level": "yellow", "state": "reported", "lon": 113.751, "lat": 23.021},
        {"ref": "T-0", "level": "red", "state": "closed", "lon": 113.751, "lat": 23.021},
        {"ref": "T-3", "level": "blue", "state": "reported"},  # nowhere: not drawn
    ]
    data = layer_json(build_tickets_layer(tickets, nodes=nodes))["data"]
    assert [t["id"] for t in data] == ["T-1", "T-2"]  # open only, most urgent drawn last
    assert data[1]["c"] == [215, 25, 32, 255] and data[0]["c"] == [250, 210, 0, 255]
    assert data[1]["p"] == [round(float(lon), 6), round(float(lat), 6)]
    crews = [{"id": "K1", "name": "一队", "state": "off_duty", "node": "J01"}]
    layer = layer_json(build_crews_layer(crews, nodes=nodes))
    assert layer["id"] == "crews" and layer["data"][0]["c"] == [150, 150, 150, 255]


def test_grid_state_takes_the_worst_of_grid_community_and_street_warnings(reg) -> None:
    warnings = [
        {"area_id": "G03", "level": 3},  # orange in G03
        {"area_id": "S01", "level": "blue"},  # street-wide blue
        {"area_id": "C01", "level": 2},  # yellow in community C01 (G01, G02)
        {"area_id": "G04", "level": 4, "status": "cancelled"},
    ]
    layer = build_grid_state_layer(reg.grids, warnings=warnings, street_ids=["S01"])
    grids = props_by(layer_json(layer), "grid_id")
    assert grids["G03"]["colour"] == [245, 130, 0, 255]
    assert grids["G01"]["level"] == grids["G02"]["level"] == "yellow"
    assert grids["G04"]["colour"] == [30, 110, 220, 255]
    assert props_by(layer_json(build_grid_state_layer(reg.grids)), "grid_id")["G01"]["colour"] == [
        0,
        0,
        0,
        0,
    ]
