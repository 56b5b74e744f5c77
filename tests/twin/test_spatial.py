"""Point → building / grid lookups against shapely's answers, and radius queries."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

from twin.samples import tiny_lonlat
from twin.spatial import PolygonIndex


def _shapely_truth(geoms, lon, lat):
    tree = shapely.STRtree(geoms)
    pts, polys = tree.query(shapely.points(lon, lat), predicate="within")
    truth = np.full(len(lon), -1)
    truth[pts] = polys
    return truth


def test_locate_matches_shapely_on_random_points(tiny):
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = tiny.grids.total_bounds
    lon = rng.uniform(x0 - 5e-4, x1 + 5e-4, 50_000)
    lat = rng.uniform(y0 - 5e-4, y1 + 5e-4, 50_000)
    b, g = tiny.locate(lon, lat)
    tb = _shapely_truth(tiny.buildings.geometry.to_numpy(), lon, lat)
    tg = _shapely_truth(tiny.grids.geometry.to_numpy(), lon, lat)
    np.testing.assert_array_equal(b, tb)
    np.testing.assert_array_equal(g, tg)
    assert (b >= 0).sum() > 500 and (g >= 0).sum() > 10_000  # the test exercises hits
    assert b.dtype == np.int64


def test_index_handles_holes_multipolygons_and_many_cells():
    # a courtyard building (hole), a two-part building and a concave L, in lon/lat degrees
    d = 1e-4
    ring = box(0, 0, 10 * d, 10 * d)
    court = Polygon(ring.exterior.coords, [box(3 * d, 3 * d, 7 * d, 7 * d).exterior.coords])
    two = MultiPolygon([box(12 * d, 0, 14 * d, 2 * d), box(12 * d, 5 * d, 14 * d, 9 * d)])
    ell = Polygon([(20 * d, 0), (30 * d, 0), (30 * d, 3 * d), (23 * d, 3 * d), (23 * d, 10 * d),
                   (20 * d, 10 * d)])  # fmt: skip
    geoms = np.array([court, two, ell], dtype=object)
    lon0, lat0 = 113.7, 23.0
    geoms = shapely.transform(geoms, lambda c: c + [lon0, lat0])
    rng = np.random.default_rng(3)
    lon = lon0 + rng.uniform(-d, 31 * d, 40_000)
    lat = lat0 + rng.uniform(-d, 11 * d, 40_000)
    for cell in (None, 0.5, 50.0):  # tiny cells: polygons span many buckets
        got = PolygonIndex(geoms, cell_size_m=cell).query(lon, lat)
        np.testing.assert_array_equal(got, _shapely_truth(geoms, lon, lat))
    hand = PolygonIndex(geoms).query(
        lon0 + np.array([5, 1, 13, 13, 25, 25]) * d, lat0 + np.array([5, 1, 3.5, 6, 1, 6]) * d
    )
    assert hand.tolist() == [-1, 0, -1, 1, 2, -1]  # hole, ring, gap, part 2, L foot, L notch


def test_nan_and_far_points_are_outside(tiny):
    b, g = tiny.locate([np.nan, 0.0, 113.75], [23.02, 0.0, np.nan])
    assert b.tolist() == [-1, -1, -1] and g.tolist() == [-1, -1, -1]
    assert PolygonIndex([]).query([113.75], [23.02]).tolist() == [-1]


def test_within_radius_hand_case(tiny):
    # centre of B0002 (box 60..85 × 55..75 m); B0001 (box 20..50 × 20..40) is
    # hypot(72.5 - 50, 65 - 40) = 33.63 m away; B0004 (165..185 × 60..80) 80 m away
    lon, lat = tiny_lonlat(72.5, 65.0)
    near = tiny.within_radius(float(lon), float(lat), 20.0, "buildings")
    assert near["building_id"].tolist() == ["B0002"]
    assert near["distance_m"].iloc[0] == 0.0
    wider = tiny.within_radius(float(lon), float(lat), 35.0, "buildings")
    assert wider["building_id"].tolist() == ["B0001", "B0002"]
    assert wider["distance_m"].iloc[0] == pytest.approx(np.hypot(22.5, 25.0), abs=0.05)
    sensors = tiny.within_radius(float(lon), float(lat), 35.0, "sensors")
    # smoke SN005 at B0001's centre (35, 30): 49.8 m — out; gas SN008 at B0002's centre — in
    assert sensors["sensor_id"].tolist() == ["SN008"]
