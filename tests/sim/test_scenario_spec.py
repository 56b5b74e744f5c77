"""Scenario files: the shipped examples load, and each kind of mistake names file, key, problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario.spec import ScenarioError, load_scenario, parse_scenario, scenario_files

SCENARIOS = Path(__file__).resolve().parents[2] / "data" / "scenarios"

FLOOD = {
    "hazard": "flood",
    "duration_min": 60,
    "flood": {"rain": {"kind": "chicago", "return_period_y": 50, "duration_min": 120}},
}


def test_shipped_scenarios_load_with_times_in_seconds():
    files = {p.stem: load_scenario(p) for p in scenario_files(SCENARIOS)}
    assert {s.hazard for s in files.values()} == {"flood", "fire", "crowd", "utility"}
    storm = files["rainstorm_50y"]
    assert storm.duration_s == 150 * 60
    assert storm.flood.rain.return_period_y == 50
    assert files["fire_wind"].fire.ignition == ("B000469",)
    assert files["fire_wind"].fire.wind_from_deg == 45
    burst = files["pipe_burst_feeder_outage"]
    assert [(f.kind, f.start_s, f.duration_s) for f in burst.faults] == [
        ("pipe_burst", 600.0, 5400.0),
        ("feeder_outage", 1800.0, 3600.0),
    ]
    assert burst.faults[0].params == {"leak_m3_s": 0.08}


def test_uniform_storm_hyetograph_holds_its_depth_scaled_and_shifted():
    s = load_scenario(SCENARIOS / "storm_100mm_1h.toml")
    h = s.flood.rain.hyetograph(scale=1.5, shift_s=600.0)
    assert h.total_depth_m() == pytest.approx(0.150)
    assert h(300.0) == 0.0 and h(700.0) == pytest.approx(1.5 * 0.1 / 3600.0)


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        ({"hazard": "tsunami"}, "hazard", "must be one of flood, fire, crowd, utility"),
        ({"duration_min": -5}, "duration_min", "must be > 0"),
        ({"duration_min": "long"}, "duration_min", "must be a number"),
        ({"colour": "red"}, "colour", "unknown key"),
        ({"flood": {"rain": {"kind": "chicago"}}}, "flood.rain.return_period_y", "is required"),
        (
            {"flood": {"rain": {"kind": "chicago", "return_period_y": -5}}},
            "flood.rain.return_period_y",
            "must be > 0, got -5",
        ),
        (
            {
                "flood": {
                    "rain": {"kind": "hyetograph", "edges_min": [0, 10], "intensity_mm_h": [5, 6]}
                }
            },
            "flood.rain.edges_min",
            "one more edge",
        ),
        ({"flood": {"cell_size_m": 4}}, "flood.rain", "is required"),
        ({"start_state": "nowhere.nc"}, "start_state", "does not exist"),
        ({"fire": {"ignition": ["B1"]}}, "fire", "given but hazard is 'flood'"),
        (
            {"faults": [{"kind": "pipe_burst", "target": "P1"}]},
            "faults",
            "use hazard = utility or crowd",
        ),
    ],
)
def test_invalid_scenario_names_file_key_and_problem(tmp_path, change, key, problem):
    data = {**FLOOD, **change}
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, tmp_path / "storm.toml")
    assert err.value.key == key
    assert problem in err.value.problem
    assert str(err.value).startswith(f"storm.toml: {key}: ")


def test_fault_kind_and_params_are_checked_against_the_world_catalogue(tmp_path):
    base = {"hazard": "utility", "duration_min": 10}
    with pytest.raises(ScenarioError, match=r"faults\[0\].kind: must be one of"):
        parse_scenario({**base, "faults": [{"kind": "meteor", "target": "X"}]}, "u.toml")
    with pytest.raises(ScenarioError, match=r"faults\[0\].params.volts: pipe_burst takes only"):
        bad = {"kind": "pipe_burst", "target": "P1", "params": {"volts": 3}}
        parse_scenario({**base, "faults": [bad]}, "u.toml")
    with pytest.raises(ScenarioError, match="needs at least one"):
        parse_scenario(base, "u.toml")


def test_toml_syntax_error_and_missing_file_name_the_file(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('hazard = "flood\n')
    with pytest.raises(ScenarioError, match=r"^broken.toml: \(syntax\)"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.toml")


def test_snapshot_start_state_resolves_relative_to_the_file(tmp_path):
    (tmp_path / "snap.nc").write_bytes(b"")
    s = parse_scenario({**FLOOD, "start_state": "snap.nc"}, tmp_path / "s.toml")
    assert s.start_state == str((tmp_path / "snap.nc").resolve())
