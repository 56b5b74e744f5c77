"""FireSpreadModel: building-to-building urban fire spread by Hamada's rates on the spread graph.

Fire spreads along the edges of :class:`sim.fire.graph.SpreadGraph`. The time for the fire to
go from a burning building ``i`` to its neighbour ``j`` is the centroid distance over Hamada's
speed in that direction (:mod:`sim.fire.hamada`), with the local building side
``a = (a_i + a_j)/2``, the footprint gap ``d``, the wind, ``i``'s construction in the
involvement term and ``j``'s in the gap term. An edge carries no fire when

- the gap exceeds ``i``'s spreading distance (radiation, :mod:`sim.fire.radiation`; not in
  the graph at all),
- ``j`` is fire-resistive (GB 50016 class 1/2) — unless ``resistive_ignition_prob`` > 0,
  when each such edge is kept with that probability,
- ``i`` burns out (:mod:`sim.fire.properties`) before the fire would reach ``j``.

Why event-driven arrival times instead of fixed time steps: with a fixed delay per edge, the
first time the fire reaches a building is the shortest path from the ignitions (Dijkstra),
exactly what a time-stepped cellular model converges to as its step shrinks, without the step
error; and a limit on the path length means only the buildings the fire can reach by
``t_end`` are ever touched, so an hour of spread costs the same in a district or in a city.
``run_until(t)`` recomputes arrival times up to ``t`` (results do not depend on how the run
is cut into steps); ``run_one_step(dt)`` advances the clock Landlab-style.

Randomness (optional, only through the injected generator): ``spread_time_cv`` multiplies
each edge time by a mean-one log-normal factor; both it and the resistive-ignition draws are
sampled once per edge in edge order, so the same seed gives the same fire.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from sim.component import Component, FieldSpec
from sim.fire.graph import (
    DEFAULT_K_NEIGHBOURS,
    SpreadGraph,
    graph_from_centroids,
    graph_from_footprints,
)
from sim.fire.hamada import clamp_to_range, directional_speed, hamada_speeds
from sim.fire.impacts import roads_cut
from sim.fire.kernel import arrival_times
from sim.fire.properties import BuildingFireProperties, fire_properties
from sim.fire.report import BURNING, BURNT, fire_dataset, fire_frame

#: report horizons after the first ignition (s): T + 10, 30, 60 min
DEFAULT_HORIZONS_S = (600.0, 1800.0, 3600.0)
#: shortest edge time (s); keeps Dijkstra weights positive for touching centroids
MIN_EDGE_TIME_S = 1.0


def _downwind_unit(wind_dir_deg: float) -> tuple[float, float]:
    """Unit vector (east, north) the wind blows toward; ``wind_dir_deg`` is where it comes from."""
    theta = np.deg2rad(wind_dir_deg)
    return -float(np.sin(theta)), -float(np.cos(theta))


class FireSpreadModel(Component):
    """Urban fire spread between buildings (Hamada rates, radiation spreading distance).

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        Rows with ``building_id``, ``use``, ``fire_resistance``, ``height_m``, ``occupants``,
        ``elderly_alone``, ``disabled``, ``children`` in a metric CRS. Polygon footprints give
        exact gaps; Point rows need a ``side_m`` (or ``footprint_area_m2``) column.
    wind_speed_m_s : float
        Wind speed (m/s).
    wind_dir_deg : float
        Meteorological wind direction: where the wind comes FROM, degrees clockwise from north.
    rng : numpy.random.Generator, optional
        Needed only when ``spread_time_cv`` or ``resistive_ignition_prob`` is positive.
    spread_time_cv : float
        Coefficient of variation of the per-edge spread time (0: deterministic Hamada).
    resistive_ignition_prob : float
        Chance that a fire-resistive building exposed to a fire ignites (0: never).
    k_neighbours : int
        Neighbours per building for Point rows (see :func:`graph_from_centroids`).
    horizons_s : sequence of float
        Report times after the first ignition (s).
    graph : SpreadGraph, optional
        A graph built before for the same rows, to skip rebuilding it.
    """

    _name: ClassVar[str] = "FireSpreadModel"
    FIELDS: ClassVar[dict[str, FieldSpec]] = {
        "building__fire_resistance": FieldSpec(
            "1", "in", "GB 50016 class '1'..'4'", "building", "str"
        ),
        "building__use": FieldSpec("1", "in", "use of the building", "building", "str"),
        "building__height": FieldSpec("m", "in", "building height", "building"),
        "building__occupants": FieldSpec("1", "in", "usual occupants", "building", "int64"),
        "wind__speed": FieldSpec("m s-1", "in", "wind speed", "point"),
        "wind__from_direction": FieldSpec("degree", "in", "direction wind comes from", "point"),
        "building__fire_arrival_time": FieldSpec(
            "s", "out", "time the fire reaches the building, NaN if not reached", "building"
        ),
        "building__fire_burnout_time": FieldSpec(
            "s", "out", "time the building is burnt out, NaN if not reached", "building"
        ),
        "building__fire_state": FieldSpec(
            "1", "out", "0 unburnt, 1 burning, 2 burnt at the model time", "building", "int8"
        ),
    }

    def __init__(
        self,
        buildings: gpd.GeoDataFrame,
        *,
        wind_speed_m_s: float = 0.0,
        wind_dir_deg: float = 0.0,
        rng: np.random.Generator | None = None,
        spread_time_cv: float = 0.0,
        resistive_ignition_prob: float = 0.0,
        k_neighbours: int = DEFAULT_K_NEIGHBOURS,
        horizons_s: Sequence[float] = DEFAULT_HORIZONS_S,
        graph: SpreadGraph | None = None,
    ) -> None:
        if (spread_time_cv > 0 or resistive_ignition_prob > 0) and rng is None:
            raise ValueError("random spread needs an injected numpy Generator (rng)")
        if "building_id" not in buildings:
            raise KeyError("buildings need a building_id column")
        if buildings.crs is not None and buildings.crs.is_geographic:
            raise ValueError("buildings must be in a metric CRS (see meta.json metric_crs)")
        self.buildings = buildings
        self.ids = buildings["building_id"].astype(str).to_numpy()
        self._index = pd.Index(self.ids)
        if not self._index.is_unique:
            raise ValueError("building_id values must be unique")
        self.rng = rng
        self.spread_time_cv = float(spread_time_cv)
        self.resistive_ignition_prob = float(resistive_ignition_prob)
        self.horizons_s = tuple(float(h) for h in horizons_s)
        geom = buildings.geometry
        self._footprints = None
        if len(buildings) and bool(geom.geom_type.isin(["Polygon", "MultiPolygon"]).all()):
            self._footprints = np.asarray(geom.values, dtype=object)
            cent = geom.centroid
            side = np.sqrt(geom.area.to_numpy())
        else:
            cent = geom
            if "side_m" in buildings:
                side = buildings["side_m"].to_numpy(dtype=float)
            elif "footprint_area_m2" in buildings:
                side = np.sqrt(buildings["footprint_area_m2"].to_numpy(dtype=float))
            else:
                raise KeyError("Point buildings need a side_m or footprint_area_m2 column")
        self.x = cent.x.to_numpy()
        self.y = cent.y.to_numpy()
        self.props: BuildingFireProperties = fire_properties(buildings, side)
        if graph is None:
            if self._footprints is not None:
                graph = graph_from_footprints(self._footprints, self.props.spread_distance_m)
            else:
                graph = graph_from_centroids(
                    self.x, self.y, side, self.props.spread_distance_m, k=k_neighbours
                )
        self.graph = graph
        self.time = 0.0
        self._ignitions: list[tuple[int, float]] = []
        self._edge_draws: tuple[np.ndarray, np.ndarray] | None = None
        self.n_fallback_edges = 0
        self.set_wind(wind_speed_m_s, wind_dir_deg)
        n = len(self.ids)
        self._fields: dict[str, Any] = {
            "building__fire_resistance": buildings.get("fire_resistance"),
            "building__use": buildings.get("use"),
            "building__height": buildings.get("height_m"),
            "building__occupants": buildings.get("occupants"),
            "wind__speed": self.wind_speed_m_s,
            "wind__from_direction": self.wind_dir_deg,
            "building__fire_arrival_time": np.full(n, np.nan),
            "building__fire_burnout_time": np.full(n, np.nan),
            "building__fire_state": np.zeros(n, dtype=np.int8),
        }

    # ----------------------------------------------------------------- inputs
    def set_wind(self, speed_m_s: float, from_dir_deg: float) -> None:
        """Set the wind (m/s; direction it comes FROM, degrees from north) for later runs."""
        if speed_m_s < 0:
            raise ValueError("wind speed must be >= 0")
        self.wind_speed_m_s = float(speed_m_s)
        self.wind_dir_deg = float(from_dir_deg) % 360.0
        if hasattr(self, "_fields"):
            self._fields["wind__speed"] = self.wind_speed_m_s
            self._fields["wind__from_direction"] = self.wind_dir_deg

    def ignite(self, ids: str | Iterable[str], t0: float | Sequence[float] = 0.0) -> None:
        """Ignite buildings at times ``t0`` (s): a smoke/temperature alarm or a scenario.

        Parameters
        ----------
        ids : str or iterable of str
            Building ids.
        t0 : float or sequence of float
            Ignition time(s), one for all or one per id (s, model clock).
        """
        ids = [ids] if isinstance(ids, str) else [str(i) for i in ids]
        pos = self._index.get_indexer(ids)
        if (pos < 0).any():
            missing = [i for i, p in zip(ids, pos, strict=True) if p < 0]
            raise KeyError(f"unknown building ids: {missing[:5]}")
        times = np.broadcast_to(np.asarray(t0, dtype=float), (len(ids),))
        self._ignitions.extend(zip(pos.tolist(), times.tolist(), strict=True))

    def reset(self) -> None:
        """Forget ignitions and cached rates; keep the buildings and their graph."""
        self._ignitions.clear()
        self.time = 0.0
        n = self.graph.n
        self._fields["building__fire_arrival_time"] = np.full(n, np.nan)
        self._fields["building__fire_burnout_time"] = np.full(n, np.nan)
        self._fields["building__fire_state"] = np.zeros(n, dtype=np.int8)

    # --------------------------------------------------------------- the rates
    def edge_times_s(self) -> np.ndarray:
        """Spread time (s) along every graph edge for the current wind; ``inf`` = no spread.

        The vectorised reference of the rate; :meth:`run_until` evaluates the same rate only
        on the edges the fire reaches (:mod:`sim.fire.kernel`). Also counts the edges whose
        inputs lie outside Hamada's range (:attr:`n_fallback_edges`).
        """
        g, p = self.graph, self.props
        dist, ux, uy = g.geometry(self.x, self.y)
        a = 0.5 * (p.side_m[g.src] + p.side_m[g.dst])
        a, d, V, outside = clamp_to_range(a, g.gap_m, self.wind_speed_m_s)
        self.n_fallback_edges = int(np.count_nonzero(outside))
        v_d, v_s, v_u = hamada_speeds(a, d, V, p.protected[g.src], p.protected[g.dst])
        wx, wy = _downwind_unit(self.wind_dir_deg)
        cos = ux * wx + uy * wy
        speed = directional_speed(v_d, v_s, v_u, cos, V)
        t = np.maximum(dist / speed, MIN_EDGE_TIME_S)
        factor, uniform = self._draws()
        if factor is not None:
            t = t * factor
        blocked = p.resistive[g.dst]
        if uniform is not None:
            blocked = blocked & (uniform >= self.resistive_ignition_prob)
        blocked = blocked | (t > p.burn_duration_s[g.src])
        return np.where(blocked, np.inf, t)

    def _draws(self):
        """Per-edge random factors, drawn once in edge order (reproducible for a seed)."""
        if self.rng is None:
            return None, None
        if self._edge_draws is None:
            m = self.graph.n_edges
            cv = self.spread_time_cv
            if cv > 0:
                sigma2 = np.log1p(cv * cv)
                factor = self.rng.lognormal(-0.5 * sigma2, np.sqrt(sigma2), size=m)
            else:
                factor = np.ones(m)
            self._edge_draws = (factor, self.rng.random(m))
        factor, uniform = self._edge_draws
        uniform = uniform if self.resistive_ignition_prob > 0 else None
        return (factor if self.spread_time_cv > 0 else None), uniform

    # ----------------------------------------------------------------- running
    def run_until(self, t_end: float) -> None:
        """Compute arrival times of every building the fire reaches by ``t_end`` (s)."""
        g, p = self.graph, self.props
        factor, uniform = self._draws()
        empty = np.zeros(0)
        if self._ignitions:
            starts = np.array([i for i, _ in self._ignitions], dtype=np.int64)
            times = np.array([t for _, t in self._ignitions], dtype=float)
        else:
            starts, times = np.zeros(0, dtype=np.int64), empty
        wx, wy = _downwind_unit(self.wind_dir_deg)
        arrival = arrival_times(
            g.indptr,
            g.dst,
            g.gap_m,
            self.x,
            self.y,
            p.side_m,
            p.protected,
            p.resistive,
            p.burn_duration_s,
            empty if factor is None else factor,
            empty if uniform is None else uniform,
            self.resistive_ignition_prob,
            self.wind_speed_m_s,
            wx,
            wy,
            starts,
            times,
            float(t_end),
            MIN_EDGE_TIME_S,
        )
        self.time = float(t_end)
        self.n_fallback_edges = self._count_fallback(np.isfinite(arrival))
        arr = np.where(np.isfinite(arrival), arrival, np.nan)
        self._fields["building__fire_arrival_time"] = arr
        self._fields["building__fire_burnout_time"] = arr + self.props.burn_duration_s
        self._fields["building__fire_state"] = self.state_at(self.time)

    def _count_fallback(self, reached: np.ndarray) -> int:
        """Edges leaving reached buildings whose inputs lie outside Hamada's range."""
        g = self.graph
        e = np.flatnonzero(reached[g.src])
        a = 0.5 * (self.props.side_m[g.src[e]] + self.props.side_m[g.dst[e]])
        return int(np.count_nonzero(clamp_to_range(a, g.gap_m[e], self.wind_speed_m_s)[3]))

    def run_one_step(self, dt: float) -> None:
        """Advance the model clock by ``dt`` seconds."""
        self.run_until(self.time + dt)

    # ----------------------------------------------------------------- outputs
    @property
    def arrival_time_s(self) -> np.ndarray:
        """Arrival time per building (s), NaN if not reached by the model time."""
        return self._fields["building__fire_arrival_time"]

    @property
    def ignition_time_s(self) -> float:
        """Time of the first ignition (s), the ``T`` of the report horizons."""
        return min((t for _, t in self._ignitions), default=0.0)

    def state_at(self, t: float) -> np.ndarray:
        """0 unburnt, 1 burning, 2 burnt at time ``t`` (s, ``t`` <= model time)."""
        arr = self._fields["building__fire_arrival_time"]
        burnout = arr + self.props.burn_duration_s
        state = np.zeros(arr.size, dtype=np.int8)
        state[arr <= t] = BURNING
        state[burnout <= t] = BURNT
        return state

    def roads_cut_at(self, roads: gpd.GeoDataFrame, t: float) -> np.ndarray:
        """Mask of ``roads`` rows cut at time ``t`` (s) by burning buildings."""
        burning = self.state_at(t) == BURNING
        return roads_cut(
            roads,
            burning,
            self.props.road_cut_m,
            footprints=self._footprints,
            x=self.x,
            y=self.y,
            side_m=self.props.side_m,
        )

    def result(self, roads: gpd.GeoDataFrame | None = None) -> xr.Dataset:
        """Arrival times, states at ``T`` + horizons, people at risk and roads cut.

        Writable with ``.to_netcdf()``; see :meth:`to_frame` for a CSV of reached buildings.
        """
        return fire_dataset(self, roads)

    def to_frame(self, reached_only: bool = True) -> pd.DataFrame:
        """One row per building (reached ones by default): times, states, residents; for CSV."""
        return fire_frame(self, reached_only)
