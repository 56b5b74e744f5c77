"""`streettwin validate flood`: inputs of the cases, the Landlab peer, and the smoke run."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest

from sim.flood.validate_peers import (
    ARRIVAL_DEPTH_M,
    _arrival,
    ea4_inflow,
    ea4_layout,
    ea4_spec,
)


def test_ea4_hydrograph_is_the_official_one_and_carries_285000_m3():
    # ea4.bdy: 0 until 300 s, ramp to 20 m3/s at 1 h, held to 4 h, back to 0 at 5 h
    assert [ea4_inflow(t) for t in (0, 300, 1950, 3600, 14400, 16200, 18000)] == [
        0.0,
        0.0,
        10.0,
        20.0,
        20.0,
        10.0,
        0.0,
    ]
    t = np.linspace(0.0, 18000.0, 18001)
    volume = float(np.trapezoid([ea4_inflow(x) for x in t], t))
    # 20 m3/s x (3300/2 + 10800 + 3600/2) s
    assert volume == pytest.approx(285_000.0, rel=1e-9)


def test_ea4_layout_puts_the_opening_and_six_points_on_the_5m_grid():
    lay = ea4_layout(5.0)
    assert lay["shape"] == (400, 200)
    assert lay["rows"] == [198, 199, 200, 201]  # y = 990..1010 m
    assert lay["cells"] == [(200, 10), (200, 20), (200, 40), (200, 60), (200, 80), (260, 60)]
    assert ea4_spec()["domain"]["manning"] == 0.05
    with pytest.raises(ValueError, match="symmetric"):
        ea4_layout(30.0)  # 67 rows: no middle line to mirror on


def test_arrival_is_the_first_sample_at_the_arrival_depth():
    times = np.array([30.0, 60.0, 90.0])
    depths = np.array([[0.0, 0.0, 0.0], [ARRIVAL_DEPTH_M, 0.019, 0.0], [0.05, 0.021, 0.0]])
    assert _arrival(times, depths) == [60.0, 90.0, None]


def test_landlab_peer_keeps_the_ea4_flood_symmetric_and_its_volume():
    from sim.flood.landlab_peer import LandlabFlood  # runs landlab: missing, it fails

    lay = ea4_layout(20.0)
    (ny, nx), rows = lay["shape"], lay["rows"]

    def q(t: float) -> float:
        return ea4_inflow(t) / len(rows)

    ll = LandlabFlood(np.zeros((ny, nx)), 20.0, manning=0.05, inflows=[((k, 0), q) for k in rows])
    ll.run_until(1200.0)
    assert ll.depth.max() > 0.1  # the flood is under way
    np.testing.assert_array_equal(ll.depth[: ny // 2][::-1], ll.depth[ny // 2 :])
    # inflow so far: 20 m3/s x (1200 - 300)^2 / (2 x 3300 s), on top of h_init everywhere
    volume = float((ll.depth - ll.h_init).sum()) * 400.0
    assert volume == pytest.approx(20.0 * 900.0**2 / 6600.0, rel=1e-6)


@pytest.fixture(scope="module")
def quick_run():
    """The smoke form through the CLI, once for the tests below: (JSON result, stderr text)."""
    from dashboard.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["validate", "flood", "--quick", "--json"]) == 0
    return json.loads(out.getvalue().strip().splitlines()[-1]), err.getvalue()


@pytest.mark.bench
def test_quick_validate_runs_every_case_and_prints_figure_and_tolerance(quick_run):
    result, err = quick_run
    names = [c["name"] for c in result["cases"]]
    assert names == [
        "lake_at_rest",
        "macdonald_subcritical",
        "macdonald_rain",
        "ea_test4_vs_landlab",
        "urban_rain_vs_landlab",
    ]
    for case in result["cases"]:
        assert case["passed"], case
        assert 0.0 <= case["figure"] < case["tolerance"]
        assert case["mass_balance_error"] < 1e-3
        line = next(ln for ln in err.splitlines() if ln.startswith(case["name"] + ":"))
        assert "tolerance" in line and line.endswith("pass")
    assert result["passed"] is True and result["quick"] is True


@pytest.mark.bench
def test_quick_ea4_depths_are_a_flood_spreading_from_the_opening(quick_run):
    ea4 = next(c for c in quick_run[0]["cases"] if c["name"] == "ea_test4_vs_landlab")
    ours, theirs = np.array(ea4["peak_m"]), np.array(ea4["landlab_peak_m"])
    # 20 m grid: peaks fall with distance along the axis, 0.1-0.4 m, as in the EA report
    assert np.all(np.diff(ours[:5]) < 0) and np.all(np.diff(theirs[:5]) < 0)
    assert 0.2 < ours[0] < 0.4 and 0.1 < ours[4] < 0.25
    assert ea4["figure"] == pytest.approx(np.max(np.abs(ours - theirs) / theirs), abs=1e-3)
    assert ea4["arrival_diff_s"] <= ea4["arrival_tolerance_s"]
    # the whole hydrograph went in: 285,000 m3 over 2e6 m2 leaves ~0.14 m on average at 5 h
    assert np.mean(ea4["depths_m"][-1]) == pytest.approx(0.1425, abs=0.02)


@pytest.mark.bench
def test_quick_urban_case_agrees_with_landlab_and_stays_non_negative(quick_run):
    urban = next(c for c in quick_run[0]["cases"] if c["name"] == "urban_rain_vs_landlab")
    assert urban["landlab_negative_cells"] == 0
    assert urban["mean_abs_diff_m"] < 0.1 * urban["mean_depth_m"]
    # 100 mm/h for 15 min is 25 mm of rain on the open ground, none lost (closed box)
    assert urban["mean_depth_m"] == pytest.approx(0.025, rel=0.01)
