"""Scenario briefing content (a hand-made result) and a real small run through the page."""

from __future__ import annotations

import time

import dash
import numpy as np
import pytest
import xarray as xr

from dashboard import briefing
from twin.samples import tiny_registry


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


def flood_result(registry) -> tuple[xr.Dataset, dict]:
    """B0001 under 0.30 m, B0002 at 0.04 m (below the doors), B0003 (a school) at 0.10 m;
    road R01 at 0.20 m (impassable), R02 at 0.06 m; three frames on a 4 × 5 grid of 10 m."""
    xs = 781880.0 + 10.0 * np.arange(5)
    ys = 2548400.0 + 10.0 * np.arange(4)
    depth = np.zeros((3, 4, 5), dtype=np.float32)
    depth[1, 0, 0] = 0.10
    depth[2, 0, :2] = 0.30  # two cells of 100 m² at or above 0.15 m at the end
    bids = registry.buildings["building_id"].to_numpy()
    bmax = np.zeros(len(bids), dtype=np.float32)
    bmax[:3] = [0.30, 0.04, 0.10]
    rids = registry.roads["road_id"].to_numpy()
    rmax = np.zeros(len(rids), dtype=np.float32)
    rmax[:2] = [0.20, 0.06]
    ds = xr.Dataset(
        {
            "depth": (("time", "y", "x"), depth),
            "max_depth": (("y", "x"), depth.max(axis=0)),
            "building_max_depth": ("building", bmax),
            "road_max_depth": ("road", rmax),
        },
        coords={
            "time": [0.0, 600.0, 1200.0],
            "y": ys,
            "x": xs,
            "building_id": ("building", bids),
            "road_id": ("road", rids),
        },
    )
    summary = {
        "name": "test storm",
        "hazard": "flood",
        "buildings_reached": 2,
        "roads_impassable": 1,
        "people_affected": 120 + 900,
        "elderly_alone_affected": 4,
        "max_depth_m": 0.3,
    }
    return ds, summary


def test_affected_lists_follow_the_depth_thresholds(registry):
    ds, _ = flood_result(registry)
    b = briefing.affected_buildings(ds, registry)
    assert b["building_id"].tolist() == ["B0001", "B0003"]  # B0002's 0.04 m stays outside
    assert b["max_depth_m"].tolist() == [0.3, 0.1]
    roads = briefing.affected_roads(ds, registry)
    assert roads[["road_id", "impassable"]].values.tolist() == [["R01", True], ["R02", False]]
    fac = briefing.affected_facilities(ds, registry, b)
    assert fac["id"].tolist() == ["B0003"]  # the school


def test_timeline_depth_and_area(registry):
    ds, _ = flood_result(registry)
    tl = briefing.timeline_frame(ds)
    assert tl["t_min"].tolist() == [0.0, 10.0, 20.0]
    assert tl["max_depth_m"].round(2).tolist() == [0.0, 0.1, 0.3]
    assert tl["flooded_area_m2"].tolist() == [0.0, 0.0, 200.0]


def test_crews_needed_rule():
    # one crew per five reached buildings (rounded up) plus one per cut road
    assert briefing.crews_needed({"buildings_reached": 2, "roads_impassable": 1}) == 2
    assert briefing.crews_needed({"buildings_reached": 10, "roads_impassable": 0}) == 2
    assert briefing.crews_needed({}) == 0


@pytest.mark.parametrize(
    ("lang", "title", "word"),
    [("zh", "情景推演简报", "不可通行"), ("en", "Scenario briefing", "Impassable")],
)
def test_briefing_is_one_self_contained_page(registry, lang, title, word):
    ds, summary = flood_result(registry)
    page = briefing.briefing_html(ds, summary, registry, lang=lang, now=0.0)
    assert page.startswith("<!DOCTYPE html>") and title in page and word in page
    assert page.count("data:image/png;base64,") == 2  # the map and the timeline
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert 'data-key="crews_needed">2<' in page and 'data-key="critical_facilities">1<' in page
    assert "B0001" in page and "B0002" not in page
    # people are counted, never listed
    assert 'data-key="elderly_alone_affected">4<' in page


def test_page_runs_a_flood_off_the_live_twin(tmp_path):
    from tests.dashboard.pages_app import build_pages_app, page_module

    pa = build_pages_app(tmp_path)
    scenarios = page_module("scenarios")
    t = pa.store.create(
        source="warning",
        type="water",
        level="red",
        grid_code="G01",
        node="J03",
        source_ref="W-sc-1",
    )
    before = [(x.id, x.state, x.version) for x in pa.store.list_visible(pa.actor("op"))]
    rc = pa.as_user("boss")
    try:
        import flask

        job, msg = scenarios.run_request(
            "rainstorm_50y.toml", 10, 50, 1.0, None, None, flask.g.st_principal[0]
        )
        assert (job, msg) == (None, "forbidden")
    finally:
        rc.pop()
    rc = pa.as_user("mgr")
    try:
        import flask

        manager = flask.g.st_principal[0]
        assert (
            scenarios.run_request("../../etc/passwd", 10, None, 1.0, None, None, manager)[1]
            == "unknown scenario"
        )
        job, msg = scenarios.run_request("rainstorm_50y.toml", 10, 50, 1.0, None, None, manager)
        end = time.monotonic() + 60
        while job.status == "running" and time.monotonic() < end:
            time.sleep(0.1)
        assert job.status == "done", job.error
        # ten minutes with at least six frames: 0, 100, ..., 600 s
        assert job.ds.sizes["time"] == 7
        last, marks, value, *_ = scenarios.result_view(job, "en")
        assert (last, value) == (6, 6) and marks[6] == "10′"
        deck, base = scenarios.on_scrub(6, 6, job.id)
        assert deck["deck"]["layers"][-1]["id"] == "scenario-depth"
        # the baseline is its own run over the same frames: same start, no rain, so dry
        assert job.base_ds.sizes["time"] == 7 and float(job.base_ds["depth"].max()) == 0.0
        assert base["deck"]["layers"][-1]["data"] == [] and base["style"] == "baseline-6"
        table = str(scenarios.result_view(job, "en")[3])
        assert "data-base" in table and "Difference" in table
        assert scenarios.get_job(job.id, None) is None  # not served to anyone else
    finally:
        rc.pop()
    assert [(x.id, x.state, x.version) for x in pa.store.list_visible(pa.actor("op"))] == before
    assert pa.store.get(t.id).state == "reported"


def test_baseline_leaves_the_hazard_out_and_keeps_the_start():
    import dataclasses

    from dashboard.scenario_jobs import SCENARIOS_DIR, baseline_of
    from sim.scenario.run import Perturbation
    from sim.scenario.spec import load_scenario

    flood = load_scenario(SCENARIOS_DIR / "rainstorm_50y.toml")
    base, pert = baseline_of(flood, Perturbation(rain_scale=1.5))
    assert base is flood and pert.rain_scale == 0.0
    fire = load_scenario(SCENARIOS_DIR / "fire_wind.toml")
    base, pert = baseline_of(fire, Perturbation(ignition=("B0001",)))
    # lit one second after the run ends: nothing burns within it, same buildings and wind
    assert base.fire.ignition_time_s == fire.duration_s + 1.0
    assert dataclasses.replace(base, fire=fire.fire) == fire and pert.ignition == ("B0001",)
    utility = load_scenario(SCENARIOS_DIR / "pipe_burst_feeder_outage.toml")
    crowd = load_scenario(SCENARIOS_DIR / "crowd_square.toml")
    assert utility.faults and baseline_of(utility)[0].faults == ()
    assert crowd.crowd is not None and baseline_of(crowd)[0].crowd is None
    assert baseline_of(crowd)[0].duration_s == crowd.duration_s


def test_compare_table_shows_baseline_scenario_and_difference(registry):
    from dashboard.scenario_compare import compare_table, timeline_figure
    from dashboard.scenario_jobs import ScenarioJob

    ds, summary = flood_result(registry)
    job = ScenarioJob("j", "mgr", "test storm")
    job.ds, job.summary = ds, summary
    job.base_ds, job.base_summary = ds * 0, {**summary, "people_affected": 20}
    names = briefing.TEXT["en"]
    table = compare_table(
        {"people_affected": 1020, "max_depth_m": 0.3}, {"people_affected": 20}, names, "en"
    )
    rows = [[c.children for c in tr.children[1:]] for tr in table.children[1].children]
    assert rows == [["20", "1020", "1000"], ["—", "0.3", "—"]]
    fig = timeline_figure(job, names, "en")
    dashed = [t for t in fig.data if t.line.dash == "dash"]
    assert len(dashed) == len(fig.data) // 2 and max(dashed[0].y) == 0.0
    assert max(fig.data[0].y) > 0.0


def test_inputs_follow_the_chosen_scenario_and_its_names_the_pages_language(tmp_path):
    from tests.dashboard.pages_app import build_pages_app, page_module

    build_pages_app(tmp_path)
    scenarios = page_module("scenarios")
    # a Chicago design storm: its duration and return period as placeholders, rain inputs only
    dur, ret, wind, ignition, *hidden = scenarios.on_file("rainstorm_50y.toml")
    assert (dur, ret, wind) == ("150", "50", "") and ignition is dash.no_update
    assert dict(zip(scenarios.FIELD_HAZARDS, hidden, strict=True)) == {
        "st-sc-f-return": False, "st-sc-f-scale": False,
        "st-sc-f-ignition": True, "st-sc-f-wind": True,
    }  # fmt: skip
    # a fire: the ignition building and the file's wind; a uniform storm takes no return period
    # a fire: the file's ignition building chosen (it used to be the district's first building)
    assert scenarios.on_file("fire_wind.toml")[:4] == ("60", "", "6", "B000469")
    assert scenarios.on_file("fire_wind.toml")[4:] == (True, True, False, False)
    assert scenarios.on_file("storm_100mm_1h.toml")[4] is True
    assert scenarios.on_file("../../etc/passwd")[:3] == ("", "", "")
    fire = scenarios.SCENARIOS_DIR / "fire_wind.toml"
    assert scenarios.scenario_label(fire, "zh") == "B000469起火，东北风 6 m/s"
    assert scenarios.scenario_label(fire, "en") == "Fire in B000469, NE wind 6 m/s"
    (note,) = scenarios.waiting_figure("en").layout.annotations  # no empty axes before a run
    assert note.text == "Run a scenario to see its impact here"


def _fire_ds(registry):
    """Four buildings: the fire reaches them at 60, 600 and 1800 s, one never."""
    ids = registry.buildings["building_id"].to_numpy()[:4]
    arrival = np.array([600.0, 60.0, np.inf, 1800.0])
    return xr.Dataset(
        {
            "arrival_time": ("building", arrival),
            "reached": ("building", np.isfinite(arrival).astype(np.int8)),
            "n_burning": ("horizon", np.array([2, 3, 1])),
        },
        coords={"building_id": ("building", ids), "horizon": [600.0, 1800.0, 3600.0]},
    )


def test_a_fire_result_is_told_as_a_fire(registry):
    ds = _fire_ds(registry)
    ids = list(ds["building_id"].to_numpy())
    tl = briefing.timeline_frame(ds)  # buildings reached by each minute, to the last horizon
    assert len(tl) == 61 and list(tl.columns) == ["t_min", "buildings_reached"]
    at = dict(zip(tl["t_min"], tl["buildings_reached"], strict=True))
    assert (at[0.0], at[1.0], at[9.0], at[10.0], at[30.0], at[60.0]) == (0, 1, 1, 2, 3, 3)
    b = briefing.affected_buildings(ds, registry)  # soonest reached first, in minutes
    assert list(b["building_id"]) == [ids[1], ids[0], ids[3]]
    assert list(b["arrival_min"]) == [1.0, 10.0, 30.0]
    assert briefing.building_value_column(b) == "arrival_min"
    assert briefing.texts("zh", ds)["buildings_reached"] == "过火建筑 (栋)"
    assert briefing.texts("zh")["buildings_reached"] == "受淹建筑 (栋)"
    page = briefing.briefing_html(ds, {"name": "fire", "hazard": "fire", "buildings_reached": 3},
                                  registry, lang="zh")  # fmt: skip
    assert "过火建筑 (栋)" in page and "火势到达 (分钟)" in page and "受淹建筑" not in page
    assert briefing.TEXT["zh"]["map"] not in page  # no depth map heading over nothing
    uses = set(briefing.with_use_names(b, "zh")["use"])
    assert uses and not uses & {"residential", "commercial", "office", "mixed"}, uses
