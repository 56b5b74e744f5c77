"""What-if runs for the scenarios page: background jobs, their progress, the result's map layer.

A job runs :func:`sim.scenario.run.run_scenario` on the registry in a daemon thread, then a
**baseline run** of the same scenario with the hazard left out (:func:`baseline_of`: same
start state and duration, no rain / no ignition within the run / no faults or crowd), so the
page compares the two side by side, frame by frame. It reads the registry and writes only its
own datasets, so the live state, warnings and tickets are never touched. Jobs are kept in
memory per process (the newest :data:`MAX_JOBS`), and served only to the account that started
them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pydeck as pdk

SCENARIOS_DIR = Path(__file__).resolve().parents[1] / "data" / "scenarios"
#: cells shallower than this are left off the map [m]
MAP_MIN_DEPTH_M = 0.05
#: depth at which the map colour is darkest [m]
MAP_FULL_DEPTH_M = 0.5
#: roads and yards deeper than this are impassable [m] (as sim.scenario.run)
IMPASSABLE_DEPTH_M = 0.15
#: finished runs kept in memory per process (oldest dropped first)
MAX_JOBS = 8
#: zoom levels less than the full-page map, for the two half-width maps
SMALL_MAP_ZOOM_OUT = 1.3
#: share of a job's progress bar taken by the scenario run (the baseline run takes the rest)
SCENARIO_SHARE = 0.8


class ScenarioJob:
    """One what-if run in a background thread: progress, then the dataset and summary."""

    def __init__(self, id: str, owner: str, name: str) -> None:
        self.id, self.owner, self.name = id, owner, name
        self.progress = 0.0
        self.status = "running"  # running / done / failed
        self.ds: Any = None
        self.summary: dict[str, Any] = {}
        self.error = ""
        self.started = time.time()
        self.cells: Any = None  # (lon, lat) of every grid cell, for the map
        self.saved = ""
        #: the baseline run (same start, no hazard) and its summary
        self.base_ds: Any = None
        self.base_summary: dict[str, Any] = {}


_JOBS: dict[str, ScenarioJob] = {}
_LOCK = threading.Lock()


def scenario_files(folder: Path = SCENARIOS_DIR) -> list[Path]:
    """Scenario definitions offered on the page."""
    from sim.scenario.spec import scenario_files as files

    return files(folder) if folder.exists() else []


def customise(scenario: Any, *, duration_min=None, return_period_y=None) -> Any:
    """The scenario with the manager's duration and design-storm return period."""
    if duration_min:
        scenario = dataclasses.replace(scenario, duration_s=float(duration_min) * 60.0)
    if scenario.flood is not None:
        f = scenario.flood
        if return_period_y and f.rain.kind == "chicago":
            f = dataclasses.replace(
                f, rain=dataclasses.replace(f.rain, return_period_y=float(return_period_y))
            )
        # at least six frames to scrub, whatever the duration
        f = dataclasses.replace(
            f, output_interval_s=min(f.output_interval_s, scenario.duration_s / 6)
        )
        scenario = dataclasses.replace(scenario, flood=f)
    return scenario


def baseline_of(scenario: Any, perturbation: Any = None) -> tuple[Any, Any]:
    """The baseline of a what-if run: the same start state, duration and output frames with
    the hazard left out — no rain (flood), the fire lit only after the run ends (fire), no
    injected faults and no event crowd (utility, crowd). Returns (scenario, perturbation).

    >>> from sim.scenario.spec import Scenario
    >>> base, pert = baseline_of(Scenario("x", "utility", 600.0, faults=("f",)))
    >>> base.faults, pert.rain_scale
    ((), 1.0)
    """
    from sim.scenario.run import Perturbation

    pert = perturbation or Perturbation()
    if scenario.hazard == "flood":
        return scenario, dataclasses.replace(pert, rain_scale=0.0)
    if scenario.hazard == "fire" and scenario.fire is not None:
        late = dataclasses.replace(scenario.fire, ignition_time_s=scenario.duration_s + 1.0)
        return dataclasses.replace(scenario, fire=late), pert
    return dataclasses.replace(scenario, faults=(), crowd=None), pert


def start_job(registry: Any, scenario: Any, perturbation: Any, owner: str) -> ScenarioJob:
    """Run ``scenario`` and then its baseline (:func:`baseline_of`) in a daemon thread;
    returns the job (poll ``progress``/``status``)."""
    from sim.scenario.run import run_scenario

    job = ScenarioJob(id=uuid.uuid4().hex, owner=owner, name=scenario.name)

    def progress(t_s: float, t_end_s: float, start: float = 0.0, share: float = SCENARIO_SHARE):
        done = t_s / t_end_s if t_end_s else 1.0
        job.progress = min(0.99, start + share * done)

    def base_progress(t_s: float, t_end_s: float) -> None:
        progress(t_s, t_end_s, SCENARIO_SHARE, 1.0 - SCENARIO_SHARE)

    def work() -> None:
        try:
            ds, summary = run_scenario(
                scenario, registry, perturbation=perturbation, on_progress=progress
            )
            base_scenario, base_pert = baseline_of(scenario, perturbation)
            base_ds, base_summary = run_scenario(
                base_scenario, registry, perturbation=base_pert, on_progress=base_progress
            )
            job.cells = _cell_lonlat(ds, registry)
            job.base_ds, job.base_summary = base_ds, base_summary
            job.ds, job.summary = ds, summary
            job.progress, job.status = 1.0, "done"
        except Exception as exc:  # a failed run is reported on the page, never raised
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"

    with _LOCK:
        _JOBS[job.id] = job
        for old in sorted(_JOBS.values(), key=lambda j: j.started)[:-MAX_JOBS]:
            _JOBS.pop(old.id, None)
    threading.Thread(target=work, name=f"scenario-{job.id[:6]}", daemon=True).start()
    return job


def get_job(job_id: Any, principal: Any) -> ScenarioJob | None:
    """The caller's own job (another manager's runs are not served by id)."""
    job = _JOBS.get(str(job_id)) if job_id else None
    if job is None or principal is None or job.owner != principal.user.username:
        return None
    return job


def _cell_lonlat(ds: Any, registry: Any):
    if "depth" not in ds:
        return None
    from pyproj import Transformer

    xx, yy = np.meshgrid(ds["x"].to_numpy(), ds["y"].to_numpy())
    lon, lat = Transformer.from_crs(registry.metric_crs, "EPSG:4326", always_xy=True).transform(
        xx.ravel(), yy.ravel()
    )
    return np.round(lon, 7), np.round(lat, 7)


def depth_rgba(depth_m: float) -> list[int]:
    """Map colour of a depth: pale and see-through below the impassable depth, then dark blue
    growing opaque up to :data:`MAP_FULL_DEPTH_M`.

    >>> depth_rgba(0.05), depth_rgba(0.5)
    ([90, 160, 255, 73], [10, 40, 170, 240])
    """
    if depth_m < IMPASSABLE_DEPTH_M:
        return [90, 160, 255, int(40 + 100 * depth_m / IMPASSABLE_DEPTH_M)]
    a = min(1.0, (depth_m - IMPASSABLE_DEPTH_M) / (MAP_FULL_DEPTH_M - IMPASSABLE_DEPTH_M))
    return [10, 40, 170, int(160 + 80 * a)]


def depth_layer(job: ScenarioJob, step: int, ds: Any = None) -> pdk.Layer:
    """Wet cells at output ``step`` of ``ds`` (default: the job's result) as a deck.gl layer
    (blue, darker when deeper)."""
    data = []
    ds = job.ds if ds is None else ds
    if job.cells is not None and ds is not None and "depth" in ds:
        step = int(min(max(step, 0), ds.sizes.get("time", 1) - 1))
        depth = ds["depth"].isel(time=step).to_numpy().ravel()
        lon, lat = job.cells
        wet = np.flatnonzero(depth >= MAP_MIN_DEPTH_M)
        for i in wet:
            data.append({"p": [float(lon[i]), float(lat[i])], "c": depth_rgba(float(depth[i]))})
    cell = float(job.summary.get("cell_size_m", 10.0))
    return pdk.Layer(
        "ScatterplotLayer",
        id="scenario-depth",
        data=data,
        get_position="p",
        get_fill_color="c",
        get_radius=cell * 0.5,  # touching, not overlapping: alpha stays true to depth
        radius_units="meters",
    )


def map_payload(
    base: dict[str, Any], job: ScenarioJob, step: int, tag: str, *, baseline: bool = False
) -> dict[str, Any]:
    """The district deck plus the flood depth at ``step`` of the result (or of the baseline
    run, ``baseline=True``)."""
    out = copy.deepcopy(base)
    ds = job.base_ds if baseline else job.ds
    layer = json.loads(pdk.Deck(layers=[depth_layer(job, step, ds)], map_provider=None).to_json())
    out["deck"]["layers"] = list(out["deck"]["layers"]) + layer["layers"]
    # the half-width maps show the whole district from above
    view = dict(out["deck"].get("initialViewState", {}))
    view.update(zoom=view.get("zoom", 16) - SMALL_MAP_ZOOM_OUT, pitch=0)
    out["deck"]["initialViewState"] = view
    out["style"] = f"{tag}-{step}"
    return out
