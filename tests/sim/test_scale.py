"""Scale benchmark smoke run: a small synthetic city goes through build, save, load, lookups."""

from __future__ import annotations

from argparse import Namespace

import networkx as nx
import numpy as np
import pytest

from sim.district.scale import SLOTS_PER_GRID_SIDE, bench_scale, synthetic_city
from twin.registry_io import validate_layers


def test_synthetic_city_is_valid_with_dongguan_proportions():
    reg = synthetic_city(5_000, seed=3)
    validate_layers(reg.layers, reg.dem)
    assert len(reg.buildings) == 5_000
    assert len(reg.grids) == -(-5_000 // SLOTS_PER_GRID_SIDE**2)  # 9 grids of 576 slots
    assert 0.8 < len(reg.sensors) / len(reg.buildings) < 1.0
    assert nx.is_connected(reg.road_graph())
    # a point inside every building locates to it and to its own grid (``representative_point``:
    # in a geographic CRS ``centroid`` warns, and a centroid need not lie inside the footprint)
    c = reg.buildings.geometry.representative_point()
    b, g = reg.locate(c.x.to_numpy(), c.y.to_numpy())
    np.testing.assert_array_equal(b, np.arange(5_000))
    grid_of = reg.grids["grid_id"].to_numpy()[g]
    np.testing.assert_array_equal(grid_of, reg.buildings["grid_id"].to_numpy())


def test_synthetic_city_is_seeded():
    a, b = synthetic_city(1_000, seed=1), synthetic_city(1_000, seed=1)
    assert a.buildings.geometry.geom_equals_exact(b.buildings.geometry, 0.0).all()
    assert a.sensors["kind"].equals(b.sensors["kind"])


@pytest.mark.bench
def test_bench_scale_smoke_reports_sane_figures():
    r = bench_scale(Namespace(buildings=8_000, smoke=True, repeat=1, json=True))
    assert r["buildings"] == 8_000
    assert 0.8 * 8_000 < r["sensors"] < 8_000
    for key in ("build_s", "save_s", "load_s", "peak_rss_mb", "point_lookups_per_s"):
        assert r[key] > 0, key
    assert r["peak_rss_mb"] < 8192
    assert r["lookup_mismatches_of_20000"] == 0
    assert 0.1 < r["lookup_hit_fraction"] < 0.9
