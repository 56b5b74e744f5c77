"""Run one scenario headless on a registry: flood, fire, crowd or utility → Dataset + summary.

Each hazard has a function ``run_<hazard>(scenario, ..., perturbation) -> xarray.Dataset`` whose
attributes hold the headline figures; :func:`run_scenario` picks one, times it and returns the
dataset with a flat ``summary`` dict (what the results index and ``--json`` print). The same
functions run ensemble members with a :class:`Perturbation`.

* flood — :class:`sim.flood.FloodModel` on the district's :class:`~sim.scenario.grid.FloodGrid`
  (DEM coarsened to ``cell_size_m``), rain from the scenario's hyetograph; the dataset adds
  per-building (surroundings) and per-road maximum depths;
* fire — :class:`sim.fire.FireSpreadModel` on the footprints, ignited at the named buildings;
* crowd, utility — the :class:`sim.world.World` with the event crowd and injected faults,
  sampled every world step (60 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from sim.scenario.grid import PEOPLE, FloodGrid, flood_grid
from sim.scenario.spec import Scenario

#: start of world-driven scenarios: 2026-01-01 10:00 UTC = 18:00 in the district (+08:00)
SCENARIO_T0 = 1767261600.0
#: depth (m) at which water reaches a building's doors (as sim.flood.impacts.REACH_DEPTH_M)
REACH_DEPTH_M = 0.05
#: depth (m) at which a road is impassable
IMPASSABLE_DEPTH_M = 0.15
WORLD_STEP_S = 60.0

Progress = Callable[[float, float], None]


@dataclass(frozen=True)
class Perturbation:
    """How an ensemble member differs from the scenario as written (identity by default)."""

    member: int = -1
    rain_scale: float = 1.0
    rain_shift_s: float = 0.0
    wind_speed_m_s: float | None = None
    wind_from_deg: float | None = None
    ignition: tuple[str, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_GRIDS: dict[tuple[int, float, float, float], FloodGrid] = {}


def grid_for(registry, scenario: Scenario) -> FloodGrid:
    """The flood grid of ``registry`` for a flood scenario, cached per registry object."""
    f = scenario.flood
    key = (id(registry), f.cell_size_m, f.manning_road, f.manning_yard)
    if key not in _GRIDS:
        _GRIDS.clear()  # one district at a time: grids of city size are large
        _GRIDS[key] = flood_grid(
            registry,
            cell_size_m=f.cell_size_m,
            manning_road=f.manning_road,
            manning_yard=f.manning_yard,
        )
    return _GRIDS[key]


def _initial_depth(scenario: Scenario, grid: FloodGrid) -> float | np.ndarray:
    if scenario.start_state == "baseline":
        return 0.0
    with xr.open_dataset(scenario.start_state) as snap:
        if "depth" not in snap:
            raise ValueError(f"{scenario.start_state}: a flood snapshot needs a depth variable")
        d = snap["depth"]
        d = d.isel(time=-1) if "time" in d.dims else d
        d = d.interp_like(grid.dem, method="nearest").fillna(0.0)
        return np.asarray(d.to_numpy(), float)


def run_flood(
    scenario: Scenario,
    grid: FloodGrid,
    *,
    perturbation: Perturbation | None = None,
    parallel: bool | None = None,
    on_progress: Progress | None = None,
    keep_snapshots: bool = True,
) -> xr.Dataset:
    """Flood on a prepared grid; the model's CF dataset plus per-building and per-road maxima.

    Added variables: ``building_max_depth`` (building_id) and ``road_max_depth`` (road_id), m;
    attributes ``buildings_reached``, ``roads_impassable``, ``people_affected`` and the
    people columns, ``flooded_area_m2`` (max depth ≥ threshold), ``max_depth_m``.
    """
    from sim.flood.model import FloodModel

    p = perturbation or Perturbation()
    f = scenario.flood
    rain = f.rain.hyetograph(scale=p.rain_scale, shift_s=p.rain_shift_s)
    model = FloodModel(
        grid.dem,
        manning=grid.manning,
        building_mask=grid.building_mask,
        drain_capacity_mm_h=f.drain_capacity_mm_h,
        rain=rain,
        initial_depth=_initial_depth(scenario, grid),
        threshold=f.threshold_m,
        parallel=parallel,
    )
    model.run_until(
        scenario.duration_s,
        output_interval=f.output_interval_s if keep_snapshots else None,
        on_progress=on_progress,
    )
    ds = model.to_dataset()
    if not keep_snapshots:
        ds = ds.isel(time=[-1])
    bmax = grid.per_building_max(model.max_depth)
    rmax = grid.per_road_max(model.max_depth)
    ds = ds.assign_coords(building_id=grid.building_ids, road_id=grid.road_ids)
    ds["building_max_depth"] = ("building_id", bmax.astype(np.float32), {"units": "m"})
    ds["road_max_depth"] = ("road_id", rmax.astype(np.float32), {"units": "m"})
    reached = bmax >= REACH_DEPTH_M
    cell_area = grid.cell_size_m**2
    ds.attrs.update(
        {
            "max_depth_m": float(model.max_depth.max(initial=0.0)),
            "flooded_area_m2": float((model.max_depth >= f.threshold_m).sum() * cell_area),
            "buildings_reached": int(reached.sum()),
            "roads_impassable": int((rmax >= IMPASSABLE_DEPTH_M).sum()),
            "people_affected": int(grid.people.loc[reached, "occupants"].sum()),
            **{
                f"{c}_affected": int(grid.people.loc[reached, c].sum())
                for c in PEOPLE
                if c != "occupants"
            },
            "cells": int(model.shape[0] * model.shape[1]),
            "cell_size_m": grid.cell_size_m,
            "model_steps": int(model.n_steps),
            "rain_total_mm": float(rain.total_depth_m() * 1000.0),
            "rain_scale": p.rain_scale,
            "rain_shift_s": p.rain_shift_s,
        }
    )
    return ds


def run_fire(
    scenario: Scenario,
    registry,
    *,
    perturbation: Perturbation | None = None,
    rng: np.random.Generator | None = None,
    graph=None,
) -> xr.Dataset:
    """Fire spread from the scenario's ignitions; :meth:`FireSpreadModel.result` plus headlines.

    Attributes added: ``buildings_reached`` (fire arrives within the duration),
    ``people_affected`` and the people columns, ``roads_cut`` (at the last horizon).
    """
    from sim.fire.model import FireSpreadModel

    p = perturbation or Perturbation()
    f = scenario.fire
    buildings = registry.metric("buildings")
    known = set(buildings["building_id"].astype(str))
    ignition = p.ignition or f.ignition
    missing = [b for b in ignition if b not in known]
    if missing:
        raise ValueError(f"{scenario.path}: fire.ignition: unknown building(s) {missing}")
    rng = rng if rng is not None else np.random.default_rng(scenario.seed)
    model = FireSpreadModel(
        buildings,
        wind_speed_m_s=f.wind_speed_m_s if p.wind_speed_m_s is None else p.wind_speed_m_s,
        wind_dir_deg=f.wind_from_deg if p.wind_from_deg is None else p.wind_from_deg,
        rng=rng,
        spread_time_cv=f.spread_time_cv,
        graph=graph,
    )
    model.ignite(list(ignition), f.ignition_time_s)
    model.run_until(scenario.duration_s)
    ds = model.result(roads=registry.metric("roads"))
    arrival = ds["arrival_time"].to_numpy()
    reached = np.isfinite(arrival) & (arrival <= scenario.duration_s)
    ds["reached"] = ("building", reached.astype(np.int8), {"long_name": "fire arrives in time"})
    ds.attrs.update(
        {
            "buildings_reached": int(reached.sum()),
            "people_affected": int(np.nansum(buildings["occupants"].to_numpy(float)[reached])),
            **{
                f"{c}_affected": int(np.nansum(buildings[c].to_numpy(float)[reached]))
                for c in PEOPLE
                if c != "occupants" and c in buildings
            },
            "roads_cut": int(ds["n_roads_cut"].to_numpy()[-1]) if "n_roads_cut" in ds else 0,
            "ignition": ",".join(ignition),
            "wind_speed_m_s": float(model.wind_speed_m_s),
            "wind_from_deg": float(model.wind_dir_deg),
        }
    )
    return ds


def _world(scenario: Scenario, registry):
    from sim.world.world import World

    world = World(
        registry,
        seed=scenario.seed,
        t0=SCENARIO_T0,
        background_rain=False,
        sensor_noise=False,
        spontaneous_faults=False,
    )
    for fault in scenario.faults:
        world.inject_fault(
            fault.kind,
            fault.target,
            at=SCENARIO_T0 + fault.start_s,
            duration_s=fault.duration_s,
            **fault.params,
        )
    if scenario.crowd is not None:
        c = scenario.crowd
        world.schedule_crowd_event(c.place, SCENARIO_T0 + c.start_s, c.duration_s, c.peak_people)
    return world


def run_world(scenario: Scenario, registry, *, on_progress: Progress | None = None) -> xr.Dataset:
    """Crowd and utility scenarios: the world with the event and faults, sampled each minute.

    Variables (time in s since the start): ``people`` and ``density`` (time, place),
    ``water_pressure`` (time, water_node, Pa), ``power_available`` (time, building),
    ``pipe_leak_flow`` (time, water_pipe, m3 s-1).
    """
    from sim.crowd.density import place_density, safety_band

    world = _world(scenario, registry)
    sites = world.sites
    n = int(np.ceil(scenario.duration_s / WORLD_STEP_S))
    times = np.arange(n + 1) * WORLD_STEP_S
    series: dict[str, list[np.ndarray]] = {k: [] for k in ("people", "wp", "pa", "leak")}
    for k, t in enumerate(times):
        world.advance_to(SCENARIO_T0 + t)
        series["people"].append(world.field("place__people_count"))
        series["wp"].append(world.field("water_node__pressure"))
        series["pa"].append(world.field("building__power_available"))
        series["leak"].append(world.field("water_pipe__leak_flow"))
        if on_progress is not None and (k % 10 == 0 or k == n):
            on_progress(float(t), float(times[-1]))
    people = np.stack(series["people"])
    density = place_density(sites["place"], people.T).T if people.size else people
    ds = xr.Dataset(
        {
            "people": (("time", "place"), people, {"units": "1"}),
            "density": (("time", "place"), density, {"units": "m-2"}),
            "water_pressure": (("time", "water_node"), np.stack(series["wp"]), {"units": "Pa"}),
            "power_available": (("time", "building"), np.stack(series["pa"]).astype(np.int8)),
            "pipe_leak_flow": (
                ("time", "water_pipe"),
                np.stack(series["leak"]),
                {"units": "m3 s-1"},
            ),
        },
        coords={
            "time": ("time", times, {"units": "s", "long_name": "time since start of run"}),
            "place": sites["place"].index.to_numpy().astype(str),
            "water_node": sites["water_node"].index.to_numpy().astype(str),
            "building": sites["building"].index.to_numpy().astype(str),
            "water_pipe": sites["water_pipe"].index.to_numpy().astype(str),
        },
    )
    out = np.nan_to_num(1 - ds["power_available"].to_numpy(), nan=0).max(axis=0).astype(bool)
    occ = registry.buildings.set_index("building_id")["occupants"]
    occ = occ.reindex(ds["building"].to_numpy()).fillna(0).to_numpy(float)
    attrs: dict[str, Any] = {
        "buildings_without_power": int(out.sum()),
        "people_affected": int(occ[out].sum()),
        "min_water_pressure_pa": float(np.nanmin(ds["water_pressure"]))
        if ds.water_node.size
        else 0,
        "max_leak_flow_m3_s": float(np.nanmax(ds["pipe_leak_flow"])) if ds.water_pipe.size else 0,
        "faults": ",".join(f"{f.kind}:{f.target}" for f in scenario.faults),
    }
    if scenario.crowd is not None:
        c = scenario.crowd
        if c.place not in ds["place"].to_numpy():
            raise ValueError(f"{scenario.path}: crowd.place: {c.place!r} is not a crowd place")
        d = ds["density"].sel(place=c.place).to_numpy()
        attrs.update(
            {
                "place": c.place,
                "peak_people": float(ds["people"].sel(place=c.place).max()),
                "peak_density_p_m2": float(np.nanmax(d)) if np.isfinite(d).any() else 0.0,
                "peak_safety_band": str(safety_band(np.nanmax(d))) if np.isfinite(d).any() else "",
            }
        )
    ds.attrs = {"title": f"StreetTwin scenario: {scenario.name}", "Conventions": "CF-1.8", **attrs}
    return ds


def run_scenario(
    scenario: Scenario,
    registry,
    *,
    perturbation: Perturbation | None = None,
    on_progress: Progress | None = None,
) -> tuple[xr.Dataset, dict[str, Any]]:
    """Run one scenario; returns its dataset and a flat summary.

    Parameters
    ----------
    scenario : Scenario
        From :func:`sim.scenario.spec.load_scenario`.
    registry : twin.registry.Registry
        The district.
    perturbation : Perturbation, optional
        Ensemble member changes; none for a plain run.
    on_progress : callable, optional
        ``on_progress(t_s, t_end_s)`` as model time advances.

    Returns
    -------
    (xarray.Dataset, dict)
        The result (NetCDF-writable) and ``name``, ``hazard``, ``duration_s``, ``wall_s`` plus
        the dataset's numeric/str headline attributes.
    """
    t0 = time.perf_counter()
    if scenario.hazard == "flood":
        ds = run_flood(
            scenario,
            grid_for(registry, scenario),
            perturbation=perturbation,
            on_progress=on_progress,
        )
    elif scenario.hazard == "fire":
        ds = run_fire(scenario, registry, perturbation=perturbation)
        if on_progress is not None:
            on_progress(scenario.duration_s, scenario.duration_s)
    else:
        ds = run_world(scenario, registry, on_progress=on_progress)
    wall = time.perf_counter() - t0
    ds.attrs.update({"scenario": scenario.name, "hazard": scenario.hazard})
    summary = {
        "name": scenario.name,
        "hazard": scenario.hazard,
        "file": scenario.path,
        "duration_s": scenario.duration_s,
        "start_state": scenario.start_state,
        "wall_s": round(wall, 3),
        **{k: _plain(v) for k, v in ds.attrs.items() if _headline(k, v)},
    }
    return ds, summary


_SKIP = {"Conventions", "title", "source", "model", "scenario", "hazard"}


def _headline(key: str, value: Any) -> bool:
    return key not in _SKIP and isinstance(value, (int, float, str, np.integer, np.floating))


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v
