"""`streettwin scenario run/list --json`: one JSON object last on stdout, progress on stderr."""

from __future__ import annotations

import json

from dashboard.cli import main

FIRE = """
name = "cli fire"
hazard = "fire"
duration_min = 30
[fire]
ignition = ["B0001"]
wind_speed_m_s = 4
"""


def test_scenario_run_and_list_print_json(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no --district: results are kept under ./scenarios
    f = tmp_path / "fire.toml"
    f.write_text(FIRE)
    out = tmp_path / "r.nc"
    assert main(["scenario", "run", str(f), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out.strip().splitlines()[-1])
    assert summary["name"] == "cli fire" and summary["buildings_reached"] >= 1
    assert summary["result"] == str(out) and out.exists()
    assert "model s" in captured.err  # the tqdm bar
    assert (tmp_path / "scenarios" / "index.csv").exists()
    assert main(["scenario", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert listed["results"][-1]["result"] == str(out)


def test_invalid_scenario_exits_2_with_the_key(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('hazard = "fire"\nduration_min = 0\n')
    assert main(["scenario", "run", str(f), "--out", str(tmp_path / "x.nc"), "--json"]) == 2
    assert "bad.toml: duration_min: must be > 0" in capsys.readouterr().err
