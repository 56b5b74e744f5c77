"""Kept scenario results: NetCDF files plus one summary row each in ``DIR/scenarios/index.csv``.

The index is a plain CSV (one row per run, appended; the full summary as JSON in the
``summary`` column) so the scenarios page, a spreadsheet or pandas can list runs without
opening any NetCDF file.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

INDEX_NAME = "index.csv"
COLUMNS = ("run_id", "finished_utc", "name", "hazard", "members", "wall_s", "result", "summary")


def results_dir(district_dir: str | Path | None) -> Path:
    """Where a district keeps its scenario results (``DIR/scenarios``; ``./scenarios`` if none)."""
    return Path(district_dir or ".") / "scenarios"


def default_result_path(district_dir: str | Path | None, name: str) -> Path:
    """``DIR/scenarios/<slug>-<UTC time>.nc``."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower() or "scenario"
    return results_dir(district_dir) / f"{slug}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.nc"


def save_result(
    ds: xr.Dataset, summary: dict[str, Any], out: str | Path, district_dir: str | Path | None
) -> dict[str, Any]:
    """Write ``ds`` to ``out`` (NetCDF) and append its summary row to the district's index.

    Returns
    -------
    dict
        The summary with ``run_id`` and ``result`` (absolute path) added.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(out)
    index = results_dir(district_dir) / INDEX_NAME
    index.parent.mkdir(parents=True, exist_ok=True)
    previous = len(list_results(district_dir))
    summary = {**summary, "run_id": previous + 1, "result": str(out.resolve())}
    row = {
        "run_id": summary["run_id"],
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "name": summary.get("name", ""),
        "hazard": summary.get("hazard", ""),
        "members": int(summary.get("members", 1)),
        "wall_s": summary.get("wall_s", float("nan")),
        "result": summary["result"],
        "summary": json.dumps(summary, ensure_ascii=False, default=str),
    }
    pd.DataFrame([row], columns=list(COLUMNS)).to_csv(
        index, mode="a", header=not index.exists(), index=False
    )
    return summary


def list_results(district_dir: str | Path | None) -> pd.DataFrame:
    """The kept runs of a district, oldest first (empty frame with :data:`COLUMNS` if none)."""
    index = results_dir(district_dir) / INDEX_NAME
    if not index.exists():
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.read_csv(index)
