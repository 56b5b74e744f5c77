"""The fire validation command: every case passes and reports figure and tolerance."""

from __future__ import annotations

import json

import pytest

from sim.fire.bench import bench_fire, synthetic_city
from sim.fire.validate import validate_fire


def test_validate_fire_passes_every_case_with_figure_and_tolerance() -> None:
    result = validate_fire(None)
    names = [c["name"] for c in result["cases"]]
    assert len(names) == 10 and len(set(names)) == 10
    for case in result["cases"]:
        assert {"name", "figure", "tolerance", "passed"} <= set(case)
        assert case["passed"], case
    assert result["passed"]
    json.dumps(result, allow_nan=False)


def test_synthetic_city_is_seeded() -> None:
    import numpy as np

    a = synthetic_city(500, np.random.default_rng(1))
    b = synthetic_city(500, np.random.default_rng(1))
    assert a.equals(b) and len(a) == 500
    assert set(a["fire_resistance"]) <= {"1", "2", "3", "4"}


@pytest.mark.bench
def test_bench_fire_smoke_reports_figures() -> None:
    import argparse

    args = argparse.Namespace(json=True, smoke=True, buildings=5000, size=None, repeat=1)
    out = bench_fire(args)
    assert out["buildings"] == 5000 and out["edges"] > 0
    assert out["spread_1h_s"] >= 0 and out["graph_build_s"] >= 0
    assert out["burning_or_burnt_T+60min"] >= 10
