"""Scenario definitions: TOML files describing one what-if run, validated on load.

A scenario file (``data/scenarios/*.toml``) names a hazard and its parameters::

    name = "50-year rainstorm"
    name_zh = "50年一遇暴雨"          # optional: the name on Chinese pages
    hazard = "flood"                 # flood | fire | crowd | utility
    duration_min = 120
    start_state = "baseline"         # or a saved snapshot (NetCDF), relative to the file

    [flood]                          # cell_size_m, drain_capacity_mm_h, manning_road, ...
    [flood.rain]                     # kind = "chicago" | "uniform" | "hyetograph"
    [fire]                           # ignition = ["B0001"], wind_speed_m_s, wind_from_deg
    [crowd]                          # place, peak_people, start_min, duration_min
    [[faults]]                       # kind, target, start_min, duration_min, params
    [ensemble]                       # members, seed, perturbation sizes

Every problem raises :class:`ScenarioError` naming the file, the key and what is wrong, so a
planner editing a file sees ``storm.toml: flood.rain.return_period_y: must be > 0, got -5``.
Times in files are minutes (what planners write); :class:`Scenario` holds seconds (SI).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.flood.rain import Hyetograph, chicago_storm, uniform_storm
from sim.world.faults import FAULT_KINDS

HAZARDS = ("flood", "fire", "crowd", "utility")
RAIN_KINDS = ("chicago", "uniform", "hyetograph")
MM_H = 1.0 / 3.6e6  # 1 mm/h in m s-1

_TOP_KEYS = {
    "name", "name_zh", "description", "hazard", "duration_min", "start_state",
    "flood", "fire", "crowd", "faults", "ensemble", "seed",
}  # fmt: skip


class ScenarioError(ValueError):
    """A scenario file that cannot be used: ``file: key: problem``."""

    def __init__(self, file: str | Path, key: str, problem: str) -> None:
        self.file, self.key, self.problem = str(file), key, problem
        super().__init__(f"{Path(file).name}: {key}: {problem}")


@dataclass(frozen=True)
class RainSpec:
    """Design rain: ``kind`` plus its parameters (mm, mm/h, minutes as in the file)."""

    kind: str
    return_period_y: float = 0.0
    duration_min: float = 60.0
    peak_ratio: float = 0.4
    step_min: float = 5.0
    total_mm: float = 0.0
    edges_min: tuple[float, ...] = ()
    intensity_mm_h: tuple[float, ...] = ()

    def hyetograph(self, *, scale: float = 1.0, shift_s: float = 0.0) -> Hyetograph:
        """The storm as a :class:`Hyetograph` (m s-1 over s), scaled and shifted in time.

        Parameters
        ----------
        scale : float
            Factor on every intensity (ensemble perturbation of the rain amount).
        shift_s : float
            Delay of the whole storm (s; ensemble perturbation of the timing; ≥ 0).
        """
        if self.kind == "chicago":
            h = chicago_storm(
                self.return_period_y,
                duration_min=self.duration_min,
                peak_ratio=self.peak_ratio,
                step_min=self.step_min,
            )
        elif self.kind == "uniform":
            h = uniform_storm(self.total_mm, self.duration_min * 60.0)
        else:
            h = Hyetograph(np.array(self.edges_min) * 60.0, np.array(self.intensity_mm_h) * MM_H)
        return Hyetograph(h.edges_s + max(shift_s, 0.0), h.intensity * scale)


@dataclass(frozen=True)
class FloodSpec:
    """Flood parameters: grid coarsening (m), drains (mm/h), Manning's n, output spacing (s)."""

    rain: RainSpec
    cell_size_m: float = 4.0
    drain_capacity_mm_h: float = 30.0
    manning_road: float = 0.015
    manning_yard: float = 0.05
    threshold_m: float = 0.15
    output_interval_s: float = 600.0


@dataclass(frozen=True)
class FireSpec:
    """Fire: ignited building ids at ``ignition_time_s``, wind (m/s, from degrees)."""

    ignition: tuple[str, ...]
    ignition_time_s: float = 0.0
    wind_speed_m_s: float = 0.0
    wind_from_deg: float = 0.0
    spread_time_cv: float = 0.0


@dataclass(frozen=True)
class CrowdSpec:
    """An event crowd at a place (facility id): peak people, start and length (s)."""

    place: str
    peak_people: float
    start_s: float = 0.0
    duration_s: float = 3600.0


@dataclass(frozen=True)
class FaultSpec:
    """A fault injected into the world (see :data:`sim.world.faults.FAULT_KINDS`)."""

    kind: str
    target: str
    start_s: float = 0.0
    duration_s: float | None = None
    params: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EnsembleSpec:
    """Perturbation sizes of ensemble members.

    ``rain_intensity_cv``: log-normal sd of the rain factor; ``rain_shift_min``: storms start
    uniformly within this many minutes; ``wind_speed_cv``, ``wind_dir_sd_deg``: wind noise;
    ``ignition_radius_m``: ignitions move to a random building within this distance.
    """

    members: int = 20
    seed: int = 0
    rain_intensity_cv: float = 0.2
    rain_shift_min: float = 15.0
    wind_speed_cv: float = 0.25
    wind_dir_sd_deg: float = 20.0
    ignition_radius_m: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; times in seconds. See the module docstring for the file format."""

    name: str
    hazard: str
    duration_s: float
    name_zh: str = ""
    start_state: str = "baseline"
    description: str = ""
    seed: int = 0
    flood: FloodSpec | None = None
    fire: FireSpec | None = None
    crowd: CrowdSpec | None = None
    faults: tuple[FaultSpec, ...] = ()
    ensemble: EnsembleSpec = field(default_factory=EnsembleSpec)
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for JSON summaries and shipping to Dask workers)."""
        from dataclasses import asdict

        return asdict(self)


# ----------------------------------------------------------------------------- checking
class _Checker:
    """Reads typed values from a TOML table, raising ScenarioError with the dotted key."""

    def __init__(self, file: str | Path) -> None:
        self.file = file

    def fail(self, key: str, problem: str):
        raise ScenarioError(self.file, key, problem)

    def table(self, data: dict, key: str, prefix: str = "") -> dict | None:
        v = data.get(key)
        if v is not None and not isinstance(v, dict):
            self.fail(prefix + key, f"must be a table, got {type(v).__name__}")
        return v

    def number(self, data, key, prefix="", *, default=None, lo=None, hi=None, strict_lo=False):
        full = prefix + key
        if key not in data:
            if default is None:
                self.fail(full, "is required")
            return float(default)
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(full, f"must be a number, got {v!r}")
        v = float(v)
        if not np.isfinite(v):
            self.fail(full, f"must be finite, got {v!r}")
        if lo is not None and (v <= lo if strict_lo else v < lo):
            self.fail(full, f"must be {'>' if strict_lo else '>='} {lo:g}, got {v:g}")
        if hi is not None and v > hi:
            self.fail(full, f"must be <= {hi:g}, got {v:g}")
        return v

    def string(self, data, key, prefix="", *, default=None, choices=None):
        full = prefix + key
        if key not in data:
            if default is None:
                self.fail(full, "is required")
            return default
        v = data[key]
        if not isinstance(v, str) or not v:
            self.fail(full, f"must be a non-empty string, got {v!r}")
        if choices is not None and v not in choices:
            self.fail(full, f"must be one of {', '.join(choices)}, got {v!r}")
        return v

    def unknown(self, data: dict, allowed: set[str], prefix: str = "") -> None:
        extra = sorted(set(data) - allowed)
        if extra:
            self.fail(prefix + extra[0], f"unknown key (allowed: {', '.join(sorted(allowed))})")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Parameters
    ----------
    path : str or Path
        The ``.toml`` file.

    Returns
    -------
    Scenario
        With times in seconds and a snapshot ``start_state`` resolved to an absolute path.

    Raises
    ------
    ScenarioError
        Naming the file, the dotted key and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(path, "(file)", "no such file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "(syntax)", str(exc)) from None
    return parse_scenario(data, path)


def parse_scenario(data: dict[str, Any], file: str | Path = "<scenario>") -> Scenario:
    """Validate already-parsed TOML data (see :func:`load_scenario`)."""
    c = _Checker(file)
    c.unknown(data, _TOP_KEYS)
    hazard = c.string(data, "hazard", choices=HAZARDS)
    name = c.string(data, "name", default=Path(str(file)).stem)
    duration_s = c.number(data, "duration_min", lo=0.0, hi=7 * 24 * 60, strict_lo=True) * 60.0
    seed = int(c.number(data, "seed", default=0, lo=0))
    start = c.string(data, "start_state", default="baseline")
    if start != "baseline":
        snap = Path(start)
        if not snap.is_absolute():
            snap = Path(file).parent / snap
        if not snap.is_file():
            c.fail("start_state", f'"baseline" or a saved snapshot file; {snap} does not exist')
        start = str(snap.resolve())

    for other in ("flood", "fire", "crowd"):
        if other != hazard and c.table(data, other) is not None:
            c.fail(other, f"given but hazard is {hazard!r} (one hazard per scenario)")
    flood = _flood(c, data) if hazard == "flood" else None
    fire = _fire(c, data) if hazard == "fire" else None
    crowd = _crowd(c, data) if hazard == "crowd" else None
    faults = _faults(c, data)
    if faults and hazard in ("flood", "fire"):
        c.fail("faults", f"faults act on the world; use hazard = utility or crowd, not {hazard!r}")
    if hazard == "utility" and not faults:
        c.fail("faults", "a utility scenario needs at least one [[faults]] entry")
    return Scenario(
        name=name,
        hazard=hazard,
        duration_s=duration_s,
        name_zh=c.string(data, "name_zh", default=""),
        start_state=start,
        description=str(data.get("description", "")),
        seed=seed,
        flood=flood,
        fire=fire,
        crowd=crowd,
        faults=faults,
        ensemble=_ensemble(c, data),
        path=str(file),
    )


def _flood(c: _Checker, data: dict) -> FloodSpec:
    t = c.table(data, "flood")
    if t is None:
        c.fail("flood", "a flood scenario needs a [flood] table with [flood.rain]")
    p = "flood."
    c.unknown(
        t,
        {"rain", "cell_size_m", "drain_capacity_mm_h", "manning_road", "manning_yard",
         "threshold_m", "output_interval_min"},
        p,
    )  # fmt: skip
    r = c.table(t, "rain", p)
    if r is None:
        c.fail("flood.rain", "is required (kind = chicago | uniform | hyetograph)")
    rp = "flood.rain."
    kind = c.string(r, "kind", rp, choices=RAIN_KINDS)
    if kind == "chicago":
        c.unknown(r, {"kind", "return_period_y", "duration_min", "peak_ratio", "step_min"}, rp)
        rain = RainSpec(
            kind,
            return_period_y=c.number(r, "return_period_y", rp, lo=0.0, strict_lo=True),
            duration_min=c.number(r, "duration_min", rp, default=120.0, lo=0.0, strict_lo=True),
            peak_ratio=c.number(r, "peak_ratio", rp, default=0.4, lo=0.0, hi=1.0),
            step_min=c.number(r, "step_min", rp, default=5.0, lo=0.0, strict_lo=True),
        )
    elif kind == "uniform":
        c.unknown(r, {"kind", "total_mm", "duration_min"}, rp)
        rain = RainSpec(
            kind,
            total_mm=c.number(r, "total_mm", rp, lo=0.0),
            duration_min=c.number(r, "duration_min", rp, lo=0.0, strict_lo=True),
        )
    else:
        c.unknown(r, {"kind", "edges_min", "intensity_mm_h"}, rp)
        edges, inten = r.get("edges_min"), r.get("intensity_mm_h")
        for key, arr in (("edges_min", edges), ("intensity_mm_h", inten)):
            ok = isinstance(arr, list) and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in arr
            )
            if not ok or not arr:
                c.fail(rp + key, "must be a non-empty list of numbers")
        if len(edges) != len(inten) + 1:
            c.fail(rp + "edges_min", f"needs one more edge than intensities ({len(inten)} + 1)")
        if np.any(np.diff(edges) <= 0):
            c.fail(rp + "edges_min", "must be strictly increasing")
        if min(inten) < 0:
            c.fail(rp + "intensity_mm_h", "must be >= 0")
        rain = RainSpec(kind, edges_min=tuple(map(float, edges)), intensity_mm_h=tuple(inten))
    return FloodSpec(
        rain=rain,
        cell_size_m=c.number(t, "cell_size_m", p, default=4.0, lo=0.5, hi=100.0),
        drain_capacity_mm_h=c.number(t, "drain_capacity_mm_h", p, default=30.0, lo=0.0),
        manning_road=c.number(t, "manning_road", p, default=0.015, lo=0.0, hi=1.0, strict_lo=True),
        manning_yard=c.number(t, "manning_yard", p, default=0.05, lo=0.0, hi=1.0, strict_lo=True),
        threshold_m=c.number(t, "threshold_m", p, default=0.15, lo=0.0, strict_lo=True),
        output_interval_s=60.0
        * c.number(t, "output_interval_min", p, default=10.0, lo=0.0, strict_lo=True),
    )


def _fire(c: _Checker, data: dict) -> FireSpec:
    t = c.table(data, "fire")
    if t is None:
        c.fail("fire", "a fire scenario needs a [fire] table with ignition = [building ids]")
    p = "fire."
    c.unknown(
        t, {"ignition", "ignition_time_min", "wind_speed_m_s", "wind_from_deg", "spread_time_cv"}, p
    )
    ign = t.get("ignition")
    if isinstance(ign, str):
        ign = [ign]
    if not isinstance(ign, list) or not ign or not all(isinstance(i, str) and i for i in ign):
        c.fail(p + "ignition", f"must be a building id or a list of them, got {ign!r}")
    return FireSpec(
        ignition=tuple(ign),
        ignition_time_s=60.0 * c.number(t, "ignition_time_min", p, default=0.0, lo=0.0),
        wind_speed_m_s=c.number(t, "wind_speed_m_s", p, default=0.0, lo=0.0, hi=60.0),
        wind_from_deg=c.number(t, "wind_from_deg", p, default=0.0, lo=0.0, hi=360.0),
        spread_time_cv=c.number(t, "spread_time_cv", p, default=0.0, lo=0.0, hi=2.0),
    )


def _crowd(c: _Checker, data: dict) -> CrowdSpec:
    t = c.table(data, "crowd")
    if t is None:
        c.fail("crowd", "a crowd scenario needs a [crowd] table (place, peak_people)")
    p = "crowd."
    c.unknown(t, {"place", "peak_people", "start_min", "duration_min"}, p)
    return CrowdSpec(
        place=c.string(t, "place", p),
        peak_people=c.number(t, "peak_people", p, lo=0.0, strict_lo=True),
        start_s=60.0 * c.number(t, "start_min", p, default=0.0, lo=0.0),
        duration_s=60.0 * c.number(t, "duration_min", p, default=60.0, lo=0.0, strict_lo=True),
    )


def _faults(c: _Checker, data: dict) -> tuple[FaultSpec, ...]:
    raw = data.get("faults", [])
    if not isinstance(raw, list):
        c.fail("faults", "must be an array of tables ([[faults]])")
    out = []
    for k, f in enumerate(raw):
        p = f"faults[{k}]."
        if not isinstance(f, dict):
            c.fail(f"faults[{k}]", "must be a table")
        c.unknown(f, {"kind", "target", "start_min", "duration_min", "params"}, p)
        kind = c.string(f, "kind", p, choices=tuple(FAULT_KINDS))
        params = c.table(f, "params", p) or {}
        allowed = set(FAULT_KINDS[kind][1])
        for key in params:
            if key not in allowed:
                c.fail(f"{p}params.{key}", f"{kind} takes only {sorted(allowed) or 'no params'}")
            c.number(params, key, f"{p}params.")
        dur = f.get("duration_min")
        out.append(
            FaultSpec(
                kind=kind,
                target=c.string(f, "target", p),
                start_s=60.0 * c.number(f, "start_min", p, default=0.0, lo=0.0),
                duration_s=None
                if dur is None
                else 60.0 * c.number(f, "duration_min", p, lo=0.0, strict_lo=True),
                params={k2: float(v) for k2, v in params.items()},
            )
        )
    return tuple(out)


def _ensemble(c: _Checker, data: dict) -> EnsembleSpec:
    t = c.table(data, "ensemble")
    if t is None:
        return EnsembleSpec()
    p = "ensemble."
    c.unknown(t, {f for f in EnsembleSpec.__dataclass_fields__}, p)
    d = EnsembleSpec()
    return EnsembleSpec(
        members=int(c.number(t, "members", p, default=d.members, lo=1, hi=10_000)),
        seed=int(c.number(t, "seed", p, default=d.seed, lo=0)),
        rain_intensity_cv=c.number(t, "rain_intensity_cv", p, default=d.rain_intensity_cv, lo=0),
        rain_shift_min=c.number(t, "rain_shift_min", p, default=d.rain_shift_min, lo=0),
        wind_speed_cv=c.number(t, "wind_speed_cv", p, default=d.wind_speed_cv, lo=0),
        wind_dir_sd_deg=c.number(t, "wind_dir_sd_deg", p, default=d.wind_dir_sd_deg, lo=0),
        ignition_radius_m=c.number(t, "ignition_radius_m", p, default=d.ignition_radius_m, lo=0),
    )


def scenario_files(folder: str | Path) -> list[Path]:
    """The ``*.toml`` scenario files of a folder, sorted by name."""
    return sorted(Path(folder).glob("*.toml"))
