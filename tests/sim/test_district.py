"""The seeded demo district: determinism, sizes, hierarchy, geometry, terrain and sensors."""

from __future__ import annotations

import hashlib

import networkx as nx
import numpy as np
import pytest
import shapely

from sim.district.generate import build_district
from sim.district.terrain import BANK_TOP_M
from twin.fields import SENSOR_KINDS
from twin.registry_io import registry_files, save_registry, validate_layers

SMALL = 600


@pytest.fixture(scope="module")
def small():
    return build_district(7, n_buildings=SMALL, progress=False)


@pytest.fixture(scope="module")
def full():
    return build_district(0, progress=False)


def _hashes(folder) -> dict[str, str]:
    return {
        k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in registry_files(folder).items()
    }


def test_same_seed_gives_identical_files_and_other_seed_differs(small, tmp_path):
    again = build_district(7, n_buildings=SMALL, progress=False)
    other = build_district(8, n_buildings=SMALL, progress=False)
    a = _hashes(save_registry(small, tmp_path / "a"))
    b = _hashes(save_registry(again, tmp_path / "b"))
    c = _hashes(save_registry(other, tmp_path / "c"))
    assert a == b
    assert a["gpkg"] != c["gpkg"] and a["dem"] != c["dem"]


def test_small_district_is_valid_and_keeps_requested_size(small):
    validate_layers(small.layers, small.dem)
    assert len(small.buildings) == SMALL
    assert len(small.addresses) == SMALL
    assert 3 <= len(small.communities) <= 6


def test_default_district_sizes(full):
    validate_layers(full.layers, full.dem)
    n = len(full.buildings)
    assert 3000 <= n <= 6000
    metric = full.grids.to_crs(full.metric_crs)
    assert metric.geometry.area.sum() / 1e6 == pytest.approx(3.0, rel=0.01)
    per_com = full.grids.groupby("community_id").size()
    assert 3 <= len(per_com) <= 6 and per_com.min() >= 5 and per_com.max() <= 12
    assert full.meta["utc_offset"] == "+08:00"
    lon, lat = full.grids.union_all().centroid.coords[0]
    assert abs(lon - 113.75) < 0.01 and abs(lat - 23.02) < 0.01


def test_every_sensor_kind_is_present_with_ranges_and_registers(full):
    s = full.sensors
    assert set(s["kind"]) == set(SENSOR_KINDS)
    assert s["kind"].nunique() >= 10
    assert (s["min_value"] < s["max_value"]).all()
    assert not s.duplicated(["device_id", "register_address"]).any()
    assert (s["register_address"] % 2 == 0).all()
    assert (s["device_id"] == "gw-" + s["grid_id"]).all()


def test_every_building_centroid_is_in_exactly_one_grid_and_microgrid(full):
    b = full.buildings.to_crs(full.metric_crs)
    c = b.geometry.centroid.to_numpy()
    for layer, col in (("grids", "grid_id"), ("microgrids", "microgrid_id")):
        polys = full.layers[layer].to_crs(full.metric_crs)
        bi, pi = shapely.STRtree(polys.geometry.to_numpy()).query(c, predicate="within")
        assert np.bincount(bi, minlength=len(b)).tolist() == [1] * len(b)
        assert (polys[col].to_numpy()[pi] == b[col].to_numpy()[bi]).all()


def test_buildings_do_not_overlap_and_stay_off_roads_and_river(full):
    b = full.buildings.to_crs(full.metric_crs).geometry.to_numpy()
    i, j = shapely.STRtree(b).query(b, predicate="intersects")
    assert (i == j).all()
    roads = full.roads.to_crs(full.metric_crs)
    corridor = shapely.union_all(
        shapely.buffer(roads.geometry.to_numpy(), roads["width_m"].to_numpy() / 2)
    )
    assert not shapely.intersects(corridor, b).any()
    river = full.landuse[full.landuse["kind"] == "water"].to_crs(full.metric_crs).union_all()
    assert not shapely.intersects(river, b).any()


def test_road_network_is_one_connected_graph_of_shared_junctions(full):
    r = full.roads
    g = nx.from_pandas_edgelist(r, "from_node", "to_node")
    assert nx.is_connected(g)
    assert set(r["kind"]) == {"arterial", "secondary", "lane"}
    # junctions are shared: far more segment ends than distinct junctions
    assert g.number_of_nodes() < 0.8 * 2 * len(r)


def test_river_is_lower_than_blocks_and_low_lying_blocks_exist(full):
    dem = full.dem
    water = full.landuse[full.landuse["kind"] == "water"].to_crs(full.metric_crs).union_all()
    X, Y = np.meshgrid(dem["x"].values, dem["y"].values)
    inside = shapely.contains_xy(water, X, Y)
    z_b = full.buildings["ground_elev_m"].to_numpy()
    assert np.median(dem.values[inside]) < BANK_TOP_M - 1.0 < np.median(z_b)
    low = z_b < BANK_TOP_M + 0.5  # flood first once the river tops its banks
    assert 10 <= low.sum() < 0.5 * len(z_b)


def test_buildings_carry_plausible_attributes_and_aggregate_counts(full):
    b = full.buildings
    assert set(b["fire_resistance"]) <= {"1", "2", "3", "4"}
    assert (b["levels"] >= 1).all() and (b["height_m"] >= 2.5 * b["levels"]).all()
    towers = b[b["levels"] >= 18]
    assert len(towers) > 10 and towers["levels"].max() <= 32
    vul = b[["elderly_alone", "disabled", "children"]].sum(axis=1)
    assert (vul <= b["occupants"]).all() and b["elderly_alone"].sum() > 0
    assert (b["feeder_id"] != "").all() and (b["water_node_id"] != "").all()
    text = full.addresses["text_zh"]
    assert text.str.startswith("东城街道").all() and text.str.endswith("号").all()
    assert not full.addresses.duplicated(["road_name_zh", "house_number"]).any()


def test_facilities_include_every_key_kind(full):
    kinds = set(full.facilities["kind"])
    need = {"pump_station", "substation", "shelter", "fire_station", "hospital", "school",
            "elderly_home", "market", "square", "underground_garage", "drain_inlet"}  # fmt: skip
    assert need <= kinds
    f = full.facilities
    assert f.loc[f["kind"] == "hospital", "critical"].all()
    assert not f.loc[f["kind"] == "drain_inlet", "critical"].any()
    assert len(full.power_feeders) >= 6
    assert nx.is_connected(nx.from_pandas_edgelist(full.water_pipes, "from_node", "to_node"))
