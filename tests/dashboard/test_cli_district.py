"""``streettwin district build`` and ``district info --json`` end to end."""

from __future__ import annotations

import json

from dashboard.cli import main


def test_district_build_then_info_json(tmp_path, capsys):
    out = tmp_path / "d"
    assert main(["district", "build", "--seed", "3", "--out", str(out), "--buildings", "500"]) == 0
    built = capsys.readouterr()
    assert "buildings: 500" in built.out
    assert "district" in built.err  # the progress bar goes to stderr
    assert main(["district", "info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["counts"]["buildings"] == 500
    assert info["area_km2"] == 3.0
    assert len(info["sensors_by_kind"]) >= 10
    assert 3 <= len(info["communities"]) <= 6
    lon0, lat0, lon1, lat1 = info["bbox"]
    assert lon0 < 113.75 < lon1 and lat0 < 23.02 < lat1


def test_district_info_of_missing_folder_fails(tmp_path):
    assert main(["district", "info", str(tmp_path / "nope")]) == 2
