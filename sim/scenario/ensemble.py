"""Probabilistic ensembles: N perturbed members of a scenario run in parallel on Dask.

Members differ by the scenario's ``[ensemble]`` perturbations (seeded, so the same seed gives
the same members): a mean-one log-normal factor on rain intensity, a storm start delayed
uniformly within ``rain_shift_min``, log-normal wind speed and normal wind direction noise,
and ignitions moved to a random building within ``ignition_radius_m``. Each member runs on a
Dask worker (one thread, the serial model kernels) with the district's prepared inputs
scattered once to every worker (tasks carry only a reference), longest expected member first;
the driver reduces them to

* the probability that each building's surroundings and each road exceed each depth
  threshold (flood), or that the fire reaches each building / cuts each road (fire) — the
  fraction of members in which it happens;
* the expected number of people affected (the member mean), and its spread.

A ``distributed.LocalCluster`` (processes, ``threads_per_worker=1``, ``NUMBA_NUM_THREADS=1``)
is started by default;
pass ``scheduler="tcp://host:8786"`` for an existing cluster, or a ``client``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import xarray as xr

from sim.scenario.grid import FloodGrid
from sim.scenario.run import REACH_DEPTH_M, Perturbation, grid_for, run_fire, run_flood
from sim.scenario.spec import Scenario

#: depth thresholds (m) per building surroundings: water at doors, 15, 30, 50 cm
BUILDING_THRESHOLDS_M = (REACH_DEPTH_M, 0.15, 0.30, 0.50)
#: depth thresholds (m) per road: impassable to cars (15 cm), to emergency vehicles (30 cm)
ROAD_THRESHOLDS_M = (0.15, 0.30)


def _lognormal(rng: np.random.Generator, cv: float) -> float:
    """A mean-one log-normal factor with coefficient of variation ``cv``."""
    if cv <= 0:
        return 1.0
    s = np.sqrt(np.log1p(cv * cv))
    return float(np.exp(rng.normal(-0.5 * s * s, s)))


def perturbations(scenario: Scenario, n: int, *, buildings=None) -> list[Perturbation]:
    """The ``n`` members' perturbations, drawn from ``scenario.ensemble.seed``.

    Parameters
    ----------
    scenario : Scenario
    n : int
        Members.
    buildings : GeoDataFrame, optional
        Metric buildings, needed to move ignitions (``ignition_radius_m`` > 0).
    """
    e = scenario.ensemble
    rng = np.random.default_rng(e.seed)
    out = []
    cx = cy = ids = None
    if scenario.fire is not None and e.ignition_radius_m > 0 and buildings is not None:
        cent = buildings.geometry.centroid
        cx, cy = cent.x.to_numpy(), cent.y.to_numpy()
        ids = buildings["building_id"].astype(str).to_numpy()
    for k in range(n):
        p: dict[str, Any] = {"member": k}
        if scenario.flood is not None:
            p["rain_scale"] = _lognormal(rng, e.rain_intensity_cv)
            p["rain_shift_s"] = float(rng.uniform(0.0, e.rain_shift_min * 60.0))
        if scenario.fire is not None:
            f = scenario.fire
            p["wind_speed_m_s"] = f.wind_speed_m_s * _lognormal(rng, e.wind_speed_cv)
            p["wind_from_deg"] = float((f.wind_from_deg + rng.normal(0, e.wind_dir_sd_deg)) % 360)
            if ids is not None:
                moved = []
                for b in f.ignition:
                    i = int(np.flatnonzero(ids == b)[0]) if b in ids else -1
                    if i < 0:
                        moved.append(b)
                        continue
                    near = np.flatnonzero(np.hypot(cx - cx[i], cy - cy[i]) <= e.ignition_radius_m)
                    moved.append(str(ids[rng.choice(near)]))
                p["ignition"] = tuple(moved)
        out.append(Perturbation(**p))
    return out


class _FireInputs:
    """What a fire member needs of a registry: metric buildings and roads (picklable)."""

    def __init__(self, registry) -> None:
        self._layers = {k: registry.metric(k) for k in ("buildings", "roads")}

    def metric(self, layer: str):
        return self._layers[layer]


def run_member(scenario: Scenario, inputs: Any, perturbation: Perturbation) -> dict[str, Any]:
    """One member on a worker: per-building and per-road maxima (flood) or reach (fire)."""
    t0 = time.perf_counter()
    if scenario.hazard == "flood":
        ds = run_flood(
            scenario, inputs, perturbation=perturbation, parallel=False, keep_snapshots=False
        )
        building = ds["building_max_depth"].to_numpy()
        road = ds["road_max_depth"].to_numpy()
    else:
        graph, fire_inputs = inputs
        ds = run_fire(scenario, fire_inputs, perturbation=perturbation, graph=graph)
        building = ds["reached"].to_numpy().astype(float)
        road = ds["road_cut"].to_numpy()[-1].astype(float) if "road_cut" in ds else np.zeros(0)
    return {
        "member": perturbation.member,
        "building": building.astype(np.float32),
        "road": road.astype(np.float32),
        "people": int(ds.attrs["people_affected"]),
        "wall_s": time.perf_counter() - t0,
    }


#: environment of LocalCluster worker processes: one thread each, numba's pool included, so
#: that two workers on two cores do not each start a thread per core and fight for them
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


@contextlib.contextmanager
def local_cluster_client(workers: int = 2):
    """A ``distributed.Client`` on a new LocalCluster of single-threaded worker processes.

    Each worker is a process with one thread and ``NUMBA_NUM_THREADS=1``
    (:data:`WORKER_ENV`); the cluster is closed on exit.
    """
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=0,
            env=dict(WORKER_ENV),
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@contextlib.contextmanager
def dask_client(client=None, *, workers: int = 2, scheduler: str | None = None):
    """A ``distributed.Client``: the one given, one to ``scheduler``, or a new LocalCluster.

    The LocalCluster (:func:`local_cluster_client`) has ``workers`` single-threaded worker
    processes and is closed on exit.
    """
    if client is not None:
        yield client
        return
    if scheduler:
        from distributed import Client

        with Client(scheduler) as c:
            yield c
        return
    with local_cluster_client(workers) as c:
        yield c


def _expected_cost(p: Perturbation) -> float:
    """A member's relative run time, for longest-first submission: more rain, deeper water,
    shorter CFL steps (floods); members of other hazards cost about the same."""
    return p.rain_scale


def member_inputs(scenario: Scenario, registry) -> Any:
    """The shared read-only inputs of every member (computed once on the driver)."""
    if scenario.hazard == "flood":
        return grid_for(registry, scenario)
    if scenario.hazard == "fire":
        from sim.fire.model import FireSpreadModel

        fire_inputs = _FireInputs(registry)
        graph = FireSpreadModel(fire_inputs.metric("buildings")).graph
        return graph, fire_inputs
    raise ValueError(f"ensembles cover flood and fire scenarios, not {scenario.hazard!r}")


def run_ensemble(
    scenario: Scenario,
    registry,
    *,
    members: int | None = None,
    client=None,
    workers: int = 2,
    scheduler: str | None = None,
    inputs: Any = None,
    on_member: Callable[[int, int], None] | None = None,
) -> tuple[xr.Dataset, dict[str, Any]]:
    """Run the ensemble of a flood or fire scenario and reduce it to probabilities.

    Parameters
    ----------
    scenario : Scenario
    registry : twin.registry.Registry
    members : int, optional
        Number of members (default ``scenario.ensemble.members``).
    client : distributed.Client, optional
        Use this client (e.g. an in-process LocalCluster in tests).
    workers : int
        Worker processes of the LocalCluster started when neither client nor scheduler is given.
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``).
    inputs : optional
        Prepared :func:`member_inputs` (to reuse them across ensembles).
    on_member : callable, optional
        ``on_member(done, total)`` as members finish.

    Returns
    -------
    (xarray.Dataset, dict)
        Variables ``building_member`` (member, building_id) and ``road_member`` (member, road_id):
        member maxima (flood, m) or 0/1 reach / cut (fire); ``building_probability``
        (building_id, building_threshold) and ``road_probability`` (road_id, road_threshold);
        ``people_member`` and ``member_wall_s`` (member, s). Summary: members, expected and
        5–95 % people affected, buildings and roads with probability > 0.5, wall time and
        members per minute.
    """
    n = int(members or scenario.ensemble.members)
    inputs = member_inputs(scenario, registry) if inputs is None else inputs
    buildings = registry.metric("buildings") if scenario.hazard == "fire" else None
    perts = perturbations(scenario, n, buildings=buildings)
    t0 = time.perf_counter()
    with dask_client(client, workers=workers, scheduler=scheduler) as c:
        from distributed import as_completed

        shared = c.scatter(inputs, broadcast=True)
        # longest expected first (LPT): the last members to finish are the short ones, so
        # workers run out of work at about the same time
        rank = np.argsort(np.argsort([_expected_cost(p) for p in perts]))
        futures = [
            c.submit(run_member, scenario, shared, p, pure=False, priority=int(k))
            for p, k in zip(perts, rank, strict=True)
        ]
        results: list[dict[str, Any]] = []
        for done, fut in enumerate(as_completed(futures), start=1):
            results.append(fut.result())
            if on_member is not None:
                on_member(done, n)
        n_workers = len(c.scheduler_info().get("workers", {}))
    wall = time.perf_counter() - t0
    results.sort(key=lambda r: r["member"])
    ds = reduce_members(scenario, inputs, results)
    people = ds["people_member"].to_numpy()
    summary = {
        "name": scenario.name,
        "hazard": scenario.hazard,
        "file": scenario.path,
        "members": n,
        "workers": n_workers,
        "wall_s": round(wall, 3),
        "members_per_min": 60.0 * n / wall,
        "expected_people_affected": float(people.mean()),
        "people_affected_p05": float(np.percentile(people, 5)),
        "people_affected_p95": float(np.percentile(people, 95)),
        "buildings_likely": int(
            (ds["building_probability"].isel(building_threshold=0) > 0.5).sum()
        ),
        "roads_likely": int((ds["road_probability"].isel(road_threshold=0) > 0.5).sum())
        if ds.sizes.get("road_threshold", 0)
        else 0,
    }
    ds.attrs.update({k: v for k, v in summary.items() if isinstance(v, (int, float, str))})
    return ds, summary


def reduce_members(scenario: Scenario, inputs: Any, results: list[dict[str, Any]]) -> xr.Dataset:
    """Member outputs → exceedance probabilities (fractions of members) as a Dataset."""
    b = np.stack([r["building"] for r in results])
    r_ = np.stack([r["road"] for r in results])
    if scenario.hazard == "flood":
        grid: FloodGrid = inputs
        bthr, rthr = BUILDING_THRESHOLDS_M, ROAD_THRESHOLDS_M
        bids, rids = grid.building_ids, grid.road_ids
        units = "m"
    else:
        _, fire_inputs = inputs
        bthr, rthr = (0.5,), (0.5,) if r_.shape[1] else ()
        bids = fire_inputs.metric("buildings")["building_id"].astype(str).to_numpy()
        rids = fire_inputs.metric("roads")["road_id"].astype(str).to_numpy()[: r_.shape[1]]
        units = "1"
    bprob = np.stack([(b >= t).mean(axis=0) for t in bthr], axis=-1)
    rprob = (
        np.stack([(r_ >= t).mean(axis=0) for t in rthr], axis=-1)
        if rthr
        else np.zeros((r_.shape[1], 0))
    )
    return xr.Dataset(
        {
            "building_member": (("member", "building_id"), b, {"units": units}),
            "road_member": (("member", "road_id"), r_, {"units": units}),
            "building_probability": (
                ("building_id", "building_threshold"),
                bprob,
                {"long_name": "fraction of members at or above the threshold", "units": "1"},
            ),
            "road_probability": (
                ("road_id", "road_threshold"),
                rprob,
                {"long_name": "fraction of members at or above the threshold", "units": "1"},
            ),
            "people_member": ("member", np.array([r["people"] for r in results]), {"units": "1"}),
            "member_wall_s": (
                "member",
                np.array([r.get("wall_s", np.nan) for r in results], float),
                {"units": "s", "long_name": "wall time of the member on its worker"},
            ),
        },
        coords={
            "member": [r["member"] for r in results],
            "building_id": bids,
            "road_id": rids,
            "building_threshold": ("building_threshold", list(bthr), {"units": units}),
            "road_threshold": ("road_threshold", list(rthr), {"units": units}),
        },
        attrs={
            "title": f"StreetTwin ensemble: {scenario.name}",
            "Conventions": "CF-1.8",
            "hazard": scenario.hazard,
        },
    )
