"""`streettwin bench ensemble`: figures named by what was measured; single-threaded workers."""

from __future__ import annotations

import json
import os

import pytest

from sim.scenario.bench import CITY_N, CITY_TILES, city_labels
from sim.scenario.ensemble import WORKER_ENV, local_cluster_client


def _measured(cells: int, sim_s: float, wall_s: float) -> dict:
    side_km = cells**0.5 * 2.0 / 1000.0
    return {"cells": cells, "area_km2": side_km**2, "sim_s": sim_s, "wall_s": wall_s, "steps": 7}


def test_full_city_hour_is_printed_as_city_flood_1h_s():
    out = city_labels(_measured(CITY_N * CITY_N, 3600.0, 812.5))
    assert out["city_mode"] == "full"
    assert out["city_flood_1h_s"] == 812.5
    assert "city_flood_1h_s_extrapolated" not in out
    assert out["city_measured_area_km2"] == pytest.approx(100.0)  # 10 km × 10 km
    assert out["city_steps"] == 7


def test_sub_area_hour_is_only_printed_as_labelled_extrapolation():
    # 2.5 km × 2.5 km = 1/16 of the city in 20 s → 320 s for the city
    out = city_labels(_measured(1250 * 1250, 3600.0, 20.0))
    assert "city_flood_1h_s" not in out
    assert out["city_mode"] == "extrapolated"
    assert out["city_flood_1h_s_extrapolated"] == pytest.approx(320.0)
    assert out["city_measured_s"] == 20.0
    assert out["city_measured_area_km2"] == pytest.approx(6.25)
    assert out["city_measured_cells"] == 1_562_500
    assert "6.25 km2" in out["city_extrapolation"]


def test_short_run_gives_no_hour_figure():
    out = city_labels(_measured(200 * 200, 120.0, 0.5))
    assert not [k for k in out if k.startswith("city_flood_1h")]
    assert out["city_measured_sim_s"] == 120.0


def test_local_cluster_workers_are_single_threaded_processes():
    with local_cluster_client(2) as client:
        seen = client.run(
            lambda: (
                os.getpid(),
                os.environ.get("NUMBA_NUM_THREADS"),
                __import__("numba").get_num_threads(),
            )
        )
        info = client.scheduler_info()["workers"]
    assert len(seen) == 2
    pids = {pid for pid, _, _ in seen.values()}
    assert len(pids) == 2 and os.getpid() not in pids  # two separate worker processes
    assert {(env, n) for _, env, n in seen.values()} == {(WORKER_ENV["NUMBA_NUM_THREADS"], 1)}
    assert all(w["nthreads"] == 1 for w in info.values())


@pytest.mark.bench
def test_bench_ensemble_smoke_prints_every_figure(capsys):
    from dashboard.cli import main

    assert main(["bench", "ensemble", "--json", "--smoke"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("members_per_min_1w", "members_per_min_2w", "parallel_efficiency"):
        assert figures[key] > 0
    assert figures["parallel_efficiency"] == pytest.approx(
        figures["members_per_min_2w"] / (2 * figures["members_per_min_1w"])
    )
    assert figures["members"] == 2 and len(figures["member_wall_s_2w"]) == 2
    assert figures["city_measured_cells"] == 200 * 200
    assert figures["city_tiles"] == CITY_TILES[0] * CITY_TILES[1] == 2  # strips of whole rows
    assert figures["city_mode"] == "short run (no 1 h figure)"
    assert "city_flood_1h_s" not in figures and figures["meets_floors"] is False
