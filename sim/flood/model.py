"""The 2-D local-inertial urban flood model: a DEM in, depths and velocities over time out.

Physics: Bates, Horritt & Fewtrell (2010), *A simple inertial formulation of the shallow water
equations for efficient two-dimensional flood inundation modelling*, J. Hydrol. 387, 33–45, with
the θ-weighted flux of de Almeida, Bates, Freer & Souvignet (2012), *Improving the stability of a
simple formulation of the shallow water equations for 2-D flood modeling*, Water Resour. Res. 48,
W05528. The kernels live in :mod:`sim.flood.kernels`.

Conventions: SI inside (m, s, m s-1, m3 s-1); rain and drain capacities given in m s-1 (the
``*_mm_h`` keywords convert at the edge). Grid rows follow ascending ``y`` (row 0 is the southern
edge), columns ascending ``x``. Buildings are walls: no flow enters them; rain falling on a roof
goes down its downpipes into the sewer and is booked as *drained* volume.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

from sim.component import Component, FieldSpec
from sim.flood import kernels as kern

MM_H = 1.0 / 3.6e6  # 1 mm/h in m s-1
BUILDING_Z = 1.0e6  # bed level given to building cells: a wall no face depth can top
ROOF_DRAIN = 1.0e6  # m s-1: roofs drain all their rain (finite: the kernels assume no inf)
PARALLEL_MIN_CELLS = 40_000  # below this, thread start-up costs more than it saves
EDGES = ("west", "east", "south", "north")

RainSpec = float | np.ndarray | Callable[[float], Any] | None


class FloodModel(Component):
    """Local-inertial shallow-water flood model on a metric raster.

    Parameters
    ----------
    dem : xarray.DataArray
        Ground elevation (m), dims ``("y", "x")``, cell-centre coordinates in metres with a
        uniform spacing (ascending; descending axes are sorted).
    manning : float or array (ny, nx)
        Manning's roughness n (s m^-1/3), per cell or one value. Roads ~0.015, yards ~0.05.
    building_mask : bool array (ny, nx), optional
        Cells occupied by buildings: closed to flow; their rain goes to the sewer.
    drain_capacity_mm_h : float or array (ny, nx)
        Drain inlet capacity per cell (mm/h of water depth): up to this much is removed.
    theta : float
        de Almeida et al. (2012) flux weighting; 1 = Bates et al. (2010), 0.7 recommended.
    alpha : float
        CFL coefficient of the time step ``dt = alpha * dx / sqrt(g * h_max)``, divided by √2
        on 2-D grids (stability of the θ scheme, see ``alpha_2d``).
    h_dry : float
        Face flow depth (m) below which a face carries no flow (wetting and drying).
    boundaries : mapping, optional
        Edge name (``west``, ``east``, ``south``, ``north``) → ``("closed",)``,
        ``("level", eta)`` with eta the water-surface elevation (m; scalar, array along the
        edge, or callable of time), or ``("free", slope)`` for a free outflow at the given
        surface slope. Edges not named are closed.
    river : tuple (mask, level), optional
        Cells held at a water-surface elevation (m, scalar or callable of time), e.g. a river
        reach driven by a level gauge. Water they take in or give out is booked as boundary flow.
    inflows : sequence of (x, y, Q)
        Point inflows at map coordinates (m); ``Q`` in m3 s-1, a number, a callable of time,
        or a ``(times_s, values)`` hydrograph pair (linearly interpolated).
    rain : float, array or callable, optional
        Rain intensity (m s-1): a number, an (ny, nx) field, or a callable ``rain(t)`` of time
        (s) returning either; the default for :meth:`run_one_step` and :meth:`run_until`.
    initial_depth : float or array
        Initial water depth (m).
    threshold : float
        Depth (m) whose first exceedance time is recorded per cell (0.15 m: roads impassable).
    dt_max : float
        Longest time step (s), used while the domain is (nearly) dry.
    parallel : bool, optional
        Use the multi-threaded kernels (results are identical to the serial ones); by default
        only for grids of at least ``PARALLEL_MIN_CELLS`` cells, where threads pay off.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> dem = xr.DataArray(np.zeros((3, 3)), dims=("y", "x"),
    ...                    coords={"y": [0.5, 1.5, 2.5], "x": [0.5, 1.5, 2.5]})
    >>> m = FloodModel(dem, rain=10 * MM_H, parallel=False)
    >>> m.run_until(3600.0)
    >>> round(float(m.depth.mean()), 6)
    0.01
    """

    _name = "FloodModel"
    FIELDS = {
        "topographic__elevation": FieldSpec("m", "in", "ground elevation (DEM)"),
        "rain__intensity": FieldSpec("m s-1", "in", "rain intensity", optional=True),
        "surface_water__depth": FieldSpec("m", "inout", "water depth above ground"),
        "surface_water__speed": FieldSpec("m s-1", "out", "depth-averaged flow speed"),
        "surface_water__max_depth": FieldSpec("m", "out", "maximum depth so far"),
        "surface_water__time_first_exceedance": FieldSpec(
            "s", "out", "time the depth first reached the threshold (NaN: never)"
        ),
    }

    def __init__(
        self,
        dem: xr.DataArray,
        *,
        manning: float | np.ndarray = 0.03,
        building_mask: np.ndarray | None = None,
        drain_capacity_mm_h: float | np.ndarray = 0.0,
        theta: float = 0.7,
        alpha: float = 0.7,
        h_dry: float = 1e-4,
        boundaries: Mapping[str, tuple] | None = None,
        river: tuple[np.ndarray, Any] | None = None,
        inflows: list[tuple[float, float, Any]] | None = None,
        rain: RainSpec = None,
        initial_depth: float | np.ndarray = 0.0,
        threshold: float = 0.15,
        dt_max: float = 10.0,
        parallel: bool | None = None,
    ) -> None:
        dem = _check_dem(dem)
        self.dem = dem
        self.x = dem["x"].to_numpy().astype(float)
        self.y = dem["y"].to_numpy().astype(float)
        ny, nx = dem.shape
        self.shape = (ny, nx)
        self.dx = float(self.x[1] - self.x[0]) if nx > 1 else float(dem.attrs.get("dx", 1.0))
        self.dy = float(self.y[1] - self.y[0]) if ny > 1 else self.dx
        self.area = self.dx * self.dy
        self.theta, self.alpha, self.h_dry = float(theta), float(alpha), float(h_dry)
        self.threshold, self.dt_max = float(threshold), float(dt_max)
        # 2-D stability: with θ < 1 the undivided step α dx / sqrt(g h) amplifies round-off on
        # deep still water (Landlab's OverlandFlow does the same); the 2-D von Neumann limit of
        # the explicit scheme is dx / sqrt(2 g h), so the step is divided by √2 in 2-D.
        self.alpha_2d = self.alpha / np.sqrt(2.0) if min(ny, nx) > 1 else self.alpha
        self.parallel = ny * nx >= PARALLEL_MIN_CELLS if parallel is None else bool(parallel)
        self._k = kern.KERNELS_PARALLEL if self.parallel else kern.KERNELS_SERIAL

        z = dem.to_numpy().astype(np.float64)
        self.building_mask = (
            np.zeros((ny, nx), bool) if building_mask is None else np.asarray(building_mask, bool)
        )
        self.z = np.where(self.building_mask, BUILDING_Z, z)
        n = np.asarray(manning, dtype=np.float64)
        self._n2 = np.ascontiguousarray(
            np.broadcast_to(n * n, (ny, nx)) if n.ndim else (n * n)[None, None]
        )
        drain = np.asarray(drain_capacity_mm_h, dtype=np.float64) * MM_H
        if self.building_mask.any():
            drain = np.where(self.building_mask, ROOF_DRAIN, np.broadcast_to(drain, (ny, nx)))
        self._drain = np.ascontiguousarray(drain if drain.ndim == 2 else drain[None, None])

        self.h = np.zeros((ny, nx))
        self.h[:] = initial_depth
        self.h[self.building_mask] = 0.0
        self.qx = np.zeros((ny, nx + 1))
        self.qy = np.zeros((ny + 1, nx))
        self._qx_b = np.zeros_like(self.qx)
        self._qy_b = np.zeros_like(self.qy)
        self._f = np.ones((ny, nx))
        self._row_limited = np.zeros(ny, np.bool_)
        self._row_drained = np.zeros(ny)
        self._row_hmax = np.zeros(ny)
        self.max_depth = self.h.astype(np.float32)
        self.t_first = np.full((ny, nx), np.nan, np.float32)
        self.t_first[self.h >= self.threshold] = 0.0

        self._bc_kind = np.zeros(4, np.int64)
        self._bc_spec: list[Any] = [0.0] * 4
        self._bc_level = np.zeros((4, max(ny, nx)))
        for edge, spec in (boundaries or {}).items():
            k = EDGES.index(edge)
            kind = spec[0]
            self._bc_kind[k] = {"closed": kern.CLOSED, "level": kern.LEVEL, "free": kern.FREE}[kind]
            self._bc_spec[k] = spec[1] if len(spec) > 1 else 0.0
        self.river = None
        if river is not None:
            self.river = (np.asarray(river[0], bool), river[1])
        self.inflows = [(self._cell_of(x, y), q) for x, y, q in (inflows or [])]
        self.rain = rain
        self.time = 0.0
        self.n_steps = 0
        self.n_cell_updates = 0
        self.volumes = dict.fromkeys(
            ("rain", "inflow", "boundary_in", "boundary_out", "drained"), 0.0
        )
        self.volume_initial = self.stored_volume()
        self._hmax = float(self.h.max(initial=0.0))
        self.snapshots: list[tuple[float, np.ndarray, np.ndarray]] = []

    # ------------------------------------------------------------------ fields
    @property
    def depth(self) -> np.ndarray:
        """Water depth (m) per cell, (ny, nx)."""
        return self.h

    @property
    def _fields(self) -> dict[str, Any]:  # type: ignore[override]
        return {
            "topographic__elevation": self.dem.to_numpy(),
            "rain__intensity": self.rain,
            "surface_water__depth": self.h,
            "surface_water__speed": self.speed(),
            "surface_water__max_depth": self.max_depth,
            "surface_water__time_first_exceedance": self.t_first,
        }

    def speed(self) -> np.ndarray:
        """Depth-averaged speed (m s-1) per cell from the face discharges."""
        qx = 0.5 * (self.qx[:, :-1] + self.qx[:, 1:])
        qy = 0.5 * (self.qy[:-1, :] + self.qy[1:, :])
        wet = self.h > 10.0 * self.h_dry
        out = np.zeros(self.shape)
        out[wet] = np.hypot(qx[wet], qy[wet]) / self.h[wet]
        return out

    def stored_volume(self) -> float:
        """Water volume on the grid (m3)."""
        return float(self.h.sum() * self.area)

    def mass_balance(self) -> dict[str, float]:
        """Volumes (m3) in, out, drained and stored, and the relative balance error.

        The error is ``(stored - initial - in + out) / max(initial + in, tiny)``.
        """
        v = self.volumes
        stored = self.stored_volume()
        gross_in = v["rain"] + v["inflow"] + v["boundary_in"]
        err = stored - self.volume_initial - gross_in + v["boundary_out"] + v["drained"]
        scale = max(self.volume_initial + gross_in, 1e-300)
        return {
            **{f"volume_{k}_m3": val for k, val in v.items()},
            "volume_initial_m3": self.volume_initial,
            "volume_stored_m3": stored,
            "mass_balance_error": err / scale,
        }

    # ------------------------------------------------------------------ running
    def run_one_step(self, dt: float, rain: RainSpec = None) -> None:
        """Advance by ``dt`` seconds with adaptive internal steps.

        Parameters
        ----------
        dt : float
            Time to advance (s).
        rain : float, array or callable, optional
            Rain intensity (m s-1) for this interval; defaults to the model's ``rain``.
        """
        rain = self.rain if rain is None else rain
        t_end = self.time + dt
        while self.time < t_end - 1e-9:
            self._step(min(self._cfl_dt(), t_end - self.time), rain)

    def run_until(
        self,
        t_end: float,
        rain: RainSpec = None,
        *,
        output_interval: float | None = None,
        on_progress: Callable[[float, float], None] | None = None,
    ) -> None:
        """Run to time ``t_end`` (s), recording snapshots every ``output_interval`` seconds.

        Parameters
        ----------
        t_end : float
            Model time to stop at (s since the start).
        rain : float, array or callable, optional
            Rain intensity (m s-1), see the class docstring.
        output_interval : float, optional
            Snapshot spacing (s); by default only the final state is kept.
        on_progress : callable, optional
            Called as ``on_progress(time_s, t_end_s)`` after each output interval.
        """
        if rain is not None:
            self.rain = rain
        interval = output_interval or (t_end - self.time)
        if not self.snapshots and output_interval:
            self._snapshot()
        while self.time < t_end - 1e-9:
            self.run_one_step(min(interval, t_end - self.time))
            self._snapshot()
            if on_progress is not None:
                on_progress(self.time, t_end)

    def _snapshot(self) -> None:
        self.snapshots.append((self.time, self.h.copy(), self.speed()))

    def _cfl_dt(self) -> float:
        hmax = self._hmax
        for k in range(4):
            if self._bc_kind[k] == kern.LEVEL:
                hmax = max(hmax, float(np.max(self._bc_level[k]) - self._edge_z(k).min()))
        if self.river is not None:
            hmax = max(hmax, float(self.h[self.river[0]].max(initial=0.0)))
        if hmax <= 10.0 * self.h_dry:
            return self.dt_max
        return min(self.dt_max, self.alpha_2d * min(self.dx, self.dy) / np.sqrt(kern.G * hmax))

    def _edge_z(self, k: int) -> np.ndarray:
        return (self.z[:, 0], self.z[:, -1], self.z[0, :], self.z[-1, :])[k]

    def _rain_field(self, t: float, rain: RainSpec) -> np.ndarray:
        r = rain(t) if callable(rain) else (0.0 if rain is None else rain)
        r = np.asarray(r, dtype=np.float64)
        return np.ascontiguousarray(r if r.ndim == 2 else np.full((1, 1), float(r)))

    def _step(self, dt: float, rain: RainSpec) -> None:
        ny, nx = self.shape
        t_mid = self.time + 0.5 * dt
        self._update_levels(t_mid)
        r = self._rain_field(t_mid, rain)
        self.volumes["rain"] += float(
            r.sum() * self.area * dt * (1 if r.shape == (ny, nx) else ny * nx)
        )
        for (i, j), q in self.inflows:
            qv = _value_at(q, t_mid)
            self.h[i, j] += qv * dt / self.area
            self.volumes["inflow"] += qv * dt
        faces, limit, update, scale_faces = self._k
        qx, qy = self._qx_b, self._qy_b  # new fluxes go to the spare buffers
        faces(
            self.h,
            self.z,
            self.qx,
            self.qy,
            qx,
            qy,
            self._n2,
            self._bc_kind,
            self._bc_level,
            dt,
            self.dx,
            self.dy,
            self.theta,
            self.h_dry,
        )
        self._qx_b, self._qy_b, self.qx, self.qy = self.qx, self.qy, qx, qy
        limit(self.h, qx, qy, r, self._f, self._row_limited, dt, self.dx, self.dy)
        t_end = self.time + dt
        update(
            self.h,
            qx,
            qy,
            self._f,
            self._row_limited,
            r,
            self._drain,
            dt,
            self.dx,
            self.dy,
            t_end,
            self.threshold,
            self.max_depth,
            self.t_first,
            self._row_drained,
            self._row_hmax,
        )
        scale_faces(qx, qy, self._f, self._row_limited)
        self.volumes["drained"] += float(self._row_drained.sum()) * self.area
        # edge fluxes, positive into the domain
        w = float(self.qx[:, 0].sum() * self.dy)
        e = float(-self.qx[:, nx].sum() * self.dy)
        s = float(self.qy[0, :].sum() * self.dx)
        n = float(-self.qy[ny, :].sum() * self.dx)
        for v in (w, e, s, n):
            if v > 0:
                self.volumes["boundary_in"] += v * dt
            else:
                self.volumes["boundary_out"] -= v * dt
        self._hmax = float(self._row_hmax.max())
        if self.river is not None:
            self._hold_river(t_end)
        self.time = t_end
        self.n_steps += 1
        self.n_cell_updates += ny * nx

    def _update_levels(self, t: float) -> None:
        ny, nx = self.shape
        for k in range(4):
            if self._bc_kind[k] == kern.CLOSED:
                continue
            n = ny if k < 2 else nx
            self._bc_level[k, :n] = _value_at(self._bc_spec[k], t)

    def _hold_river(self, t: float) -> None:
        mask, level = self.river
        target = np.maximum(_value_at(level, t) - self.z[mask], 0.0)
        change = float((target - self.h[mask]).sum() * self.area)
        self.h[mask] = target
        if change > 0:
            self.volumes["boundary_in"] += change
        else:
            self.volumes["boundary_out"] -= change
        np.maximum(self.max_depth, self.h, out=self.max_depth)
        self._hmax = max(self._hmax, float(target.max(initial=0.0)))

    def _cell_of(self, x: float, y: float) -> tuple[int, int]:
        j = int(np.clip(np.rint((x - self.x[0]) / self.dx), 0, self.shape[1] - 1))
        i = int(np.clip(np.rint((y - self.y[0]) / self.dy), 0, self.shape[0] - 1))
        return i, j

    # ------------------------------------------------------------------ output
    def to_dataset(self) -> xr.Dataset:
        """Snapshots and summary fields as a CF-style :class:`xarray.Dataset`.

        Variables: ``depth`` and ``speed`` (time, y, x), ``max_depth`` and
        ``time_first_exceedance`` (y, x), ``elevation`` and ``building`` (y, x). Global
        attributes carry the parameters and the mass balance. Write it with ``to_netcdf``.
        """
        snaps = self.snapshots or [(self.time, self.h.copy(), self.speed())]
        times = np.array([s[0] for s in snaps])
        dims = ("time", "y", "x")
        ds = xr.Dataset(
            {
                "depth": (dims, np.stack([s[1] for s in snaps]).astype(np.float32)),
                "speed": (dims, np.stack([s[2] for s in snaps]).astype(np.float32)),
                "max_depth": (("y", "x"), self.max_depth.astype(np.float32)),
                "time_first_exceedance": (("y", "x"), self.t_first),
                "elevation": (("y", "x"), self.dem.to_numpy().astype(np.float32)),
                "building": (("y", "x"), self.building_mask.astype(np.int8)),
            },
            coords={"time": times, "y": self.y, "x": self.x},
        )
        ds["time"].attrs = {
            "standard_name": "time",
            "long_name": "time since start of run",
            "units": "s",
            "axis": "T",
        }
        ds["x"].attrs = {"standard_name": "projection_x_coordinate", "units": "m", "axis": "X"}
        ds["y"].attrs = {"standard_name": "projection_y_coordinate", "units": "m", "axis": "Y"}
        ds["depth"].attrs = {
            "long_name": "surface water depth",
            "units": "m",
            "field": "surface_water__depth",
        }
        ds["speed"].attrs = {
            "long_name": "depth-averaged flow speed",
            "units": "m s-1",
            "field": "surface_water__speed",
        }
        ds["max_depth"].attrs = {
            "long_name": "maximum surface water depth",
            "units": "m",
            "cell_methods": "time: maximum",
        }
        ds["time_first_exceedance"].attrs = {
            "long_name": f"time depth first reached {self.threshold} m (NaN: never)",
            "units": "s",
            "threshold_m": self.threshold,
        }
        ds["elevation"].attrs = {"standard_name": "surface_altitude", "units": "m"}
        ds["building"].attrs = {
            "long_name": "building footprint",
            "units": "1",
            "flag_values": [0, 1],
            "flag_meanings": "open building",
        }
        ds.attrs = {
            "Conventions": "CF-1.8",
            "title": "StreetTwin local-inertial flood simulation",
            "source": "sim.flood.FloodModel (Bates et al. 2010; de Almeida et al. 2012)",
            "theta": self.theta,
            "alpha": self.alpha,
            "alpha_2d": self.alpha_2d,
            "h_dry_m": self.h_dry,
            "threshold_m": self.threshold,
            "dx_m": self.dx,
            "dy_m": self.dy,
            "n_steps": self.n_steps,
            **self.mass_balance(),
        }
        return ds


def _value_at(spec: Any, t: float) -> Any:
    """A number, array, callable of time, or (times, values) hydrograph evaluated at ``t``."""
    if callable(spec):
        return spec(t)
    if isinstance(spec, tuple) and len(spec) == 2:
        return float(np.interp(t, np.asarray(spec[0], float), np.asarray(spec[1], float)))
    return spec


def _check_dem(dem: xr.DataArray) -> xr.DataArray:
    if tuple(dem.dims) != ("y", "x"):
        raise ValueError(f"DEM dims must be ('y', 'x'), got {dem.dims}")
    dem = dem.sortby("y").sortby("x")
    for axis in ("x", "y"):
        c = dem[axis].to_numpy()
        if c.size > 2 and not np.allclose(np.diff(c), c[1] - c[0], rtol=1e-6):
            raise ValueError(f"DEM {axis} spacing must be uniform")
    if not np.isfinite(dem.to_numpy()).all():
        raise ValueError("DEM holds NaN or infinite elevations")
    return dem
