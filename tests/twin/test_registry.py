"""Registry behaviour on the tiny hand-made district: hierarchy, grids, networks, files."""

from __future__ import annotations

import hashlib

import networkx as nx
import pytest
import xarray as xr
from geopandas.testing import assert_geodataframe_equal

from twin.fields import SENSOR_KINDS
from twin.registry_io import load_registry, registry_files, save_registry
from twin.samples import tiny_lonlat, tiny_registry
from twin.schema import LAYER_ORDER, LAYERS


def test_tiny_registry_has_every_layer_in_wgs84_with_rangeindex(tiny):
    assert list(tiny.layers) == list(LAYER_ORDER)
    for name, frame in tiny.layers.items():
        assert frame.crs.to_epsg() == 4326, name
        assert list(frame.index) == list(range(len(frame))), name
        assert set(LAYERS[name].columns) <= set(frame.columns), name
    counts = {k: len(v) for k, v in tiny.layers.items()}
    assert counts["communities"] == 2 and counts["grids"] == 4 and counts["microgrids"] == 8
    assert counts["buildings"] == 12 and counts["addresses"] == 12
    assert set(tiny.sensors["kind"]) == set(SENSOR_KINDS)
    assert set(tiny.sensors["device_id"]) == {"gw-01", "gw-02"}
    assert "water" in set(tiny.landuse["kind"])


def test_hierarchy_of_building_names_every_level(tiny):
    h = tiny.hierarchy_of("B0007")
    assert h["street_id"] == "S01"
    assert (h["community_id"], h["grid_id"], h["microgrid_id"]) == ("C01", "G02", "M04")
    assert h["address_id"] == "A0007"
    assert h["address_zh"] == "广东省东莞市东城街道榕树路14号"
    assert h["community_name_en"] == "Rongshu Community"


def test_hierarchy_of_unknown_building_raises(tiny):
    with pytest.raises(KeyError):
        tiny.hierarchy_of("B9999")


def test_children_walk_the_tree_down_to_buildings(tiny):
    assert tiny.children("street", "S01")["community_id"].tolist() == ["C01", "C02"]
    assert tiny.children("community", "C02")["grid_id"].tolist() == ["G03", "G04"]
    assert tiny.children("grid", "G01")["microgrid_id"].tolist() == ["M01", "M02"]
    assert tiny.children("microgrid", "M01")["building_id"].tolist() == ["B0001", "B0002"]
    assert tiny.children("microgrid", "M99").empty
    with pytest.raises(ValueError, match="unknown level"):
        tiny.children("building", "B0001")


def test_of_grid_collects_rows_of_every_layer(tiny):
    g = tiny.of_grid("G01")
    assert set(g) == set(LAYER_ORDER)
    assert g["buildings"]["building_id"].tolist() == ["B0001", "B0002", "B0003", "B0004"]
    assert g["facilities"]["facility_id"].tolist() == ["F01", "F04"]
    assert g["sensors"]["sensor_id"].tolist() == ["SN002", "SN004", "SN005", "SN008", "SN010",
                                                  "SN011"]  # fmt: skip
    assert g["communities"]["community_id"].tolist() == ["C01"]
    # roads along its edges belong to it; those touching only a corner do not
    assert g["roads"]["road_id"].tolist() == ["R01", "R03", "R05", "R06"]
    assert g["landuse"]["landuse_id"].tolist() == ["L02"]


def test_road_graph_is_connected_with_travel_times(tiny):
    g = tiny.road_graph()
    assert (g.number_of_nodes(), g.number_of_edges()) == (7, 8)
    assert nx.is_connected(g)
    edge = g.edges["J01", "J02", "R01"]
    assert edge["length_m"] == pytest.approx(200.0)
    assert edge["travel_time_s"] == pytest.approx(200 / (50 / 3.6))  # 14.4 s
    dx = g.nodes["J02"]["x"] - g.nodes["J01"]["x"]
    assert dx == pytest.approx(200.0, abs=0.01)  # metric node coordinates
    # J01→J02 (14.4 s) →J05 (9 s) →J07 (18 s) beats J01→J04→J05→J07 (54 s)
    path = nx.shortest_path(g, "J01", "J07", weight="travel_time_s")
    assert path == ["J01", "J02", "J05", "J07"]
    assert nx.shortest_path_length(g, "J01", "J07", weight="travel_time_s") == pytest.approx(41.4)
    assert tiny.road_graph() is g  # cached


def test_water_graph_and_feeders(tiny):
    w = tiny.water_graph()
    assert nx.is_connected(w) and w.number_of_edges() == 4
    assert w.nodes["W01"]["kind"] == "source"
    assert w.edges["W02", "W03"]["pipe_id"] == "P02"
    assert tiny.buildings_on_feeder("FD02")["building_id"].tolist() == [
        "B0009", "B0010", "B0011", "B0012"
    ]  # fmt: skip


def test_metric_layer_measures_metres(tiny):
    m = tiny.metric("buildings")
    assert m.crs.to_epsg() == 32649
    assert m.geometry.iloc[0].area == pytest.approx(30 * 20, rel=1e-6)
    assert tiny.metric("buildings") is m


def test_locate_hand_points(tiny):
    # centre of B0001, inside G01; a point in the river; a point in M06 between buildings
    lon, lat = tiny_lonlat([35.0, 100.0, 390.0], [30.0, -40.0, 90.0])
    b, g = tiny.locate(lon, lat)
    assert b.tolist() == [0, -1, -1]
    assert g.tolist() == [0, -1, 2]


def test_save_load_round_trip_is_equal(tiny, tiny_dir):
    back = load_registry(tiny_dir)
    for name in LAYER_ORDER:
        assert_geodataframe_equal(back.layers[name], tiny.layers[name], check_less_precise=False)
    xr.testing.assert_identical(back.dem, tiny.dem)
    assert back.meta == tiny.meta


def _hashes(folder):
    return {
        k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in registry_files(folder).items()
    }


def test_saving_twice_gives_byte_identical_files(tmp_path, tiny_dir):
    again = save_registry(tiny_registry(), tmp_path / "again")
    assert _hashes(again) == _hashes(tiny_dir)
    # and re-saving what was loaded gives the same bytes too
    reloaded = save_registry(load_registry(tiny_dir), tmp_path / "reloaded")
    assert _hashes(reloaded) == _hashes(tiny_dir)


def test_summary_counts_layers(tiny):
    s = tiny.summary()
    assert s["counts"]["buildings"] == 12
    assert s["metric_crs"] == "EPSG:32649"


def test_nearest_road_node_of_a_junction_is_itself_and_of_other_points_the_closest():
    reg = tiny_registry()
    graph = reg.road_graph()
    ends = reg.roads.geometry.apply(lambda g: g.coords[0])  # each road starts at its from_node
    lon = [xy[0] for xy in ends]
    lat = [xy[1] for xy in ends]
    assert reg.nearest_road_nodes(lon, lat) == [str(n) for n in reg.roads["from_node"]]
    # a point 30 m east of a junction: the brute-force nearest in the metric CRS
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs(reg.metric_crs, "EPSG:4326", always_xy=True)
    name = next(iter(graph.nodes))
    x, y = graph.nodes[name]["x"] + 30.0, graph.nodes[name]["y"]
    brute = min(
        graph.nodes, key=lambda n: (graph.nodes[n]["x"] - x) ** 2 + (graph.nodes[n]["y"] - y) ** 2
    )
    assert reg.nearest_road_nodes(*to_lonlat.transform([x], [y])) == [str(brute)]
