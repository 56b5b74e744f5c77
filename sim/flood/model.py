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

import copy as copy_module
from collections.abc import Callable, Mapping
from typing import Any

import numba
import numpy as np
import xarray as xr

from sim.component import Component, FieldSpec
from sim.flood import kernels as kern
from sim.flood.rain import Hyetograph

MM_H = 1.0 / 3.6e6  # 1 mm/h in m s-1
BUILDING_Z = 1.0e6  # bed level given to building cells: a wall no face depth can top
assert BUILDING_Z / 2 >= kern.ZWALL  # the kernel tells roofs by bed level, relative to z_ref
PARALLEL_MIN_CELLS = 40_000  # below this, thread start-up costs more than it saves
EDGES = ("west", "east", "south", "north")
# the rain intervals of a constant uniform rate (its one rate holds from -inf on)
_NO_EDGES = np.array([-np.inf])
_NO_RATES = np.zeros(1)
# volumes the compiled loop books (kernels.ACC_*), by their key in FloodModel.volumes
_ACC_VOLUMES = (
    (kern.ACC_RAIN, "rain"),
    (kern.ACC_DRAINED, "drained"),
    (kern.ACC_BIN, "boundary_in"),
    (kern.ACC_BOUT, "boundary_out"),
)

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
        Use the multi-threaded kernel (results are identical to the serial one); by default
        only for grids of at least ``PARALLEL_MIN_CELLS`` cells, where threads pay off.
    precision : {"float32", "float64"}
        Storage of depths, discharges and bed levels, and the type of the step's arithmetic
        (edge fluxes, accumulators and the volume accounting are float64 either way); float32
        halves the memory traffic of the (memory-bound) step and doubles the SIMD lanes, and
        changes depths by about 1e-7 relative per step (the bed is stored relative to its
        lowest open cell, so float32 keeps 0.1 µm resolution on a 10 m relief).

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
        precision: str = "float32",
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
        self._advance_kernel = kern.ADVANCE_PARALLEL if self.parallel else kern.ADVANCE_SERIAL
        if precision not in ("float32", "float64"):
            raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
        self.dtype = dt_ = np.dtype(precision)

        z = dem.to_numpy().astype(np.float64)
        self.building_mask = (
            np.zeros((ny, nx), bool) if building_mask is None else np.asarray(building_mask, bool)
        )
        self.z = np.where(self.building_mask, BUILDING_Z, z)
        # the kernel sees the bed relative to its lowest open cell: float32 keeps resolution
        self.z_ref = float(z[~self.building_mask].min()) if (~self.building_mask).any() else 0.0
        h0 = np.where(self.building_mask, 0.0, np.broadcast_to(initial_depth, (ny, nx)))
        self._zk, h0 = _bed_and_depth(self.z - self.z_ref, h0, self.building_mask, dt_)
        n = np.asarray(manning, dtype=np.float64)
        self._n2 = _rows(n * n, (ny, nx), dt_)
        # drain inlets per cell (a single row when uniform); roofs need no entry: the kernel
        # knows them by their wall bed level and sends all their rain down the downpipes
        drain = np.asarray(drain_capacity_mm_h, dtype=np.float64) * MM_H
        self._drain = _rows(drain, (ny, nx), dt_)
        self._has_drain = bool(self._drain.max() > 0.0 or self.building_mask.any())
        self._n_uniform = np.ndim(manning) == 0

        self.h = np.zeros((ny, nx), dt_)
        self.h[:] = h0
        self.qx = np.zeros((ny, nx + 1), dt_)
        self.qy = np.zeros((ny + 1, nx), dt_)
        self._alloc_scratch()
        self.max_depth = self.h.astype(np.float32)
        self.t_first = np.full((ny, nx), np.nan, np.float32)
        self.t_first[self.h >= self.threshold] = 0.0

        self._bc_kind = np.zeros(4, np.int64)
        self._bc_spec: list[Any] = [0.0] * 4
        self._bc_level = np.zeros((4, max(ny, nx)))  # kernel-ready: levels relative to z_ref
        for edge, spec in (boundaries or {}).items():
            k = EDGES.index(edge)
            kind = spec[0]
            self._bc_kind[k] = {"closed": kern.CLOSED, "level": kern.LEVEL, "free": kern.FREE}[kind]
            self._bc_spec[k] = spec[1] if len(spec) > 1 else 0.0
        self._update_levels(0.0)  # the first step's CFL limit sees the levels, not zeros
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

    def _alloc_scratch(self, blocks: int | None = None) -> None:
        """Per-step scratch of the kernel: row blocks, block-edge tables, ring buffers.

        ``blocks`` row blocks (default: one per thread when parallel, else one); results do
        not depend on it. The ring buffers keep the names ``_qx_b``, ``_qy_b`` and ``_f`` of
        the earlier double-buffered kernels, which callers copying a model by hand still copy.
        """
        ny, nx = self.shape
        nb = blocks or (numba.get_num_threads() if self.parallel else 1)
        nb = max(1, min(nb, ny // kern.MIN_BLOCK_ROWS))
        self._blocks = np.array([k * ny // nb for k in range(nb + 1)], np.int64)
        # edge tables: fluxes and factors next to each block edge, computed from old values
        dt_ = self.dtype  # the step's arithmetic runs in the storage type
        self._edge_qx = np.zeros((nb + 1, kern.EDGE_QX, nx + 1), dt_)
        self._edge_qy = np.zeros((nb + 1, kern.EDGE_QY, nx), dt_)
        self._edge_f = np.ones((nb + 1, kern.EDGE_F, nx), dt_)
        self._edge_lim = np.zeros((nb + 1, kern.EDGE_F), np.bool_)
        self._qx_b = np.zeros((nb, 4, nx + 1), dt_)
        self._qy_b = np.zeros((nb, 4, nx), dt_)
        self._f = np.ones((nb, 4, nx), dt_)
        self._lim = np.zeros((nb, 4), np.bool_)
        self._drn = np.zeros((nb, nx), dt_)  # a row's drained depths per block
        self._out = np.zeros((ny, kern.N_OUT))
        self._consts = np.zeros(8)
        self._consts_t = np.zeros(kern.N_CT, self.dtype)
        self._run = np.zeros(kern.N_RUN)
        self._acc = np.zeros(kern.N_ACC)  # also keeps the rate in the rain row (ACC_RAIN_*)
        self._rain_row = np.zeros((1, nx), self.dtype)

    def copy(self) -> FloodModel:
        """An independent copy (state, accounting and scratch), e.g. to run a forecast ahead."""
        other = copy_module.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                setattr(other, name, value.copy())
        other.volumes = dict(self.volumes)
        other.snapshots = list(self.snapshots)
        return other

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
        qx = 0.5 * (self.qx[:, :-1].astype(np.float64) + self.qx[:, 1:])
        qy = 0.5 * (self.qy[:-1, :].astype(np.float64) + self.qy[1:, :])
        wet = self.h > 10.0 * self.h_dry
        out = np.zeros(self.shape)
        out[wet] = np.hypot(qx[wet], qy[wet]) / self.h[wet]
        return out

    def stored_volume(self) -> float:
        """Water volume on the grid (m3)."""
        return float(self.h.sum(dtype=np.float64) * self.area)

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
        steady = self._steady_rain(rain)
        if steady is not None and self._steady_forcing():
            # nothing to evaluate in Python between steps: the compiled loop takes them all
            self._update_levels(self.time)
            self._advance(t_end, 0.0, 2**62, *steady)
            return
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

    def _level_depth(self) -> float:
        """Deepest water (m) an imposed edge level stands over, for the CFL step (-inf: none)."""
        hmax = -np.inf
        ny, nx = self.shape
        for k in range(4):
            if self._bc_kind[k] == kern.LEVEL:
                n = ny if k < 2 else nx
                top = float(np.max(self._bc_level[k, :n])) + self.z_ref
                hmax = max(hmax, top - float(self._edge_z(k).min()))
        return hmax

    def _cfl_dt(self) -> float:
        hmax = max(self._hmax, self._level_depth())
        if self.river is not None:
            hmax = max(hmax, float(self.h[self.river[0]].max(initial=0.0)))
        return kern.cfl_dt(hmax, self.dt_max, self.alpha_2d, min(self.dx, self.dy), self.h_dry)

    def max_depth_in(self, r0: int, r1: int, c0: int, c1: int) -> float:
        """Largest depth (m) in ``h[r0:r1, c0:c1]`` as the last step left it.

        A window of whole rows reads the per-row maxima the kernel wrote during that step (no
        pass over the field); any other window, or depths changed after the kernel (a held
        river reach), takes a threaded pass (:func:`kernels.max_depth_over`).
        """
        if c0 == 0 and c1 == self.shape[1] and self.n_steps > 0 and self.river is None:
            return float(self._out[r0:r1, kern.OUT_HMAX].max(initial=0.0))
        return float(kern.max_depth_over(self.h, r0, r1, c0, c1))

    def _edge_z(self, k: int) -> np.ndarray:
        return (self.z[:, 0], self.z[:, -1], self.z[0, :], self.z[-1, :])[k]

    def _rain_input(self, r: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
        """Rain for the kernel from a number or an (ny, nx) field (m s-1).

        Returns ``(rain, edges, rates, uniform)``: a field as it is, or a uniform rate as the
        rain row the kernel fills (from ``edges``/``rates``, see :func:`kernels._rain_rate`).
        """
        if np.ndim(r) == 2:
            r = np.ascontiguousarray(r, dtype=self.dtype)
            if r.shape != self.shape:
                raise ValueError(f"rain field shape {r.shape} != grid shape {self.shape}")
            return r, _NO_EDGES, _NO_RATES, False
        return self._rain_row, _NO_EDGES, np.array([float(r)]), True

    def _steady_rain(self, rain: RainSpec) -> tuple | None:
        """Rain the compiled loop can evaluate itself, or None (a callable: one step per call).

        A number or field holds for the whole call; a :class:`Hyetograph` (uniform, piecewise
        constant) is handed over as its interval edges and rates (not a subclass, which might
        compute its rate another way).
        """
        if type(rain) is Hyetograph:
            return self._rain_row, rain.edges_s, rain.intensity, True
        if callable(rain):
            return None
        return self._rain_input(0.0 if rain is None else rain)

    def _steady_forcing(self) -> bool:
        """Whether nothing besides the rain needs Python between steps (no inflows, river or
        time-varying edge levels)."""
        varying = any(
            callable(s) or isinstance(s, tuple)
            for k, s in enumerate(self._bc_spec)
            if self._bc_kind[k] != kern.CLOSED
        )
        return not (self.inflows or self.river is not None or varying)

    def _step(self, dt: float, rain: RainSpec) -> None:
        """One step of ``dt`` seconds, forcing evaluated in Python at its middle."""
        t_mid = self.time + 0.5 * dt
        self._update_levels(t_mid)
        r = rain(t_mid) if callable(rain) else (0.0 if rain is None else rain)
        inputs = self._rain_input(r)
        for (i, j), q in self.inflows:
            qv = _value_at(q, t_mid)
            # added in float64, rounded once to the cell's type (a Python float ``dt`` would
            # make numpy add in float32: NEP 50)
            self.h[i, j] = np.float64(self.h[i, j]) + qv * dt / self.area
            self.volumes["inflow"] += qv * dt
        self._advance(self.time + dt, dt, 1, *inputs)
        if self.river is not None:
            self._hold_river(self.time)

    def _advance(
        self,
        t_stop: float,
        dt: float,
        max_steps: int,
        rain: np.ndarray,
        edges: np.ndarray,
        rates: np.ndarray,
        uniform: bool,
    ) -> None:
        """Run the compiled steps (``kernels.ADVANCE_*``); take back the clock and volumes.

        ``dt`` > 0 is a fixed step, else the CFL step; at most ``max_steps`` steps.
        """
        ny, nx = self.shape
        self._consts[:] = (0.0, self.dx, self.dy, self.theta, self.h_dry, 0.0, self.threshold,
                           1.0 if self._has_drain else 0.0)  # fmt: skip
        kern.step_constants(
            self._consts_t, dt, self.dx, self.dy, self.theta, self.h_dry, self._n_uniform
        )
        # the CFL depth floor matters only when the loop picks the step (dt = 0): a fixed step
        # was already limited by ``_cfl_dt``, which took the levels into account
        dmin, floor = min(self.dx, self.dy), (self._level_depth() if dt <= 0.0 else -np.inf)
        self._run[:] = (t_stop, max_steps, dt, self.dt_max, self.alpha_2d, dmin, floor,
                        self.h_dry, self.area, 1.0 if uniform else 0.0)  # fmt: skip
        acc = self._acc
        acc[[kern.ACC_TIME, kern.ACC_HMAX, kern.ACC_STEPS]] = (self.time, self._hmax, 0.0)
        for i, key in _ACC_VOLUMES:
            acc[i] = self.volumes[key]
        self._advance_kernel(
            self.h, self._zk, self.qx, self.qy, self._n2, rain, self._drain, self._bc_kind,
            self._bc_level, self._consts, self._consts_t, self.max_depth, self.t_first,
            self._blocks, self._edge_qx, self._edge_qy, self._edge_f, self._edge_lim,
            self._qx_b, self._qy_b, self._f, self._lim, self._drn, self._out, self._run, edges,
            rates, acc,
        )  # fmt: skip
        self.time, self._hmax = float(acc[kern.ACC_TIME]), float(acc[kern.ACC_HMAX])
        for i, key in _ACC_VOLUMES:
            self.volumes[key] = float(acc[i])
        steps = int(acc[kern.ACC_STEPS])
        self.n_steps += steps
        self.n_cell_updates += steps * ny * nx

    def _update_levels(self, t: float) -> None:
        ny, nx = self.shape
        for k in range(4):
            if self._bc_kind[k] == kern.CLOSED:
                continue
            n = ny if k < 2 else nx
            value = _value_at(self._bc_spec[k], t)
            offset = self.z_ref if self._bc_kind[k] == kern.LEVEL else 0.0  # FREE: a slope
            self._bc_level[k, :n] = np.asarray(value, dtype=np.float64) - offset

    def _hold_river(self, t: float) -> None:
        mask, level = self.river
        target = np.maximum(_value_at(level, t) - self.z[mask], 0.0)
        before = self.h[mask].astype(np.float64)
        self.h[mask] = target
        after = self.h[mask].astype(np.float64)
        change = float((after - before).sum() * self.area)
        if change > 0:
            self.volumes["boundary_in"] += change
        else:
            self.volumes["boundary_out"] -= change
        crossed = mask & (self.h >= self.threshold) & (self.max_depth < self.threshold)
        self.t_first[crossed] = t
        np.maximum(self.max_depth, self.h, out=self.max_depth)
        self._hmax = max(self._hmax, float(after.max(initial=0.0)))

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
        from sim.flood.dataset import model_dataset

        return model_dataset(self)


def _bed_and_depth(z_rel: np.ndarray, h0: np.ndarray, walls: np.ndarray, dtype):
    """Bed (relative to its lowest open cell) and initial depth as the kernel stores them.

    In float32 the open bed and the initial water surface are snapped to multiples of one
    quantum, the float32 spacing at the highest surface (1.2e-7 m for a 1-2 m relief): then
    ``z + h`` of a level surface is the same number in every cell, and a lake at rest stays
    exactly at rest (without this, rounding h to float32 leaves 6e-8 m steps that stir it).
    """
    if dtype == np.float64:
        return z_rel, h0
    open_ = ~walls
    top = float(np.max(np.where(open_, z_rel + np.maximum(h0, 0.0), 0.0), initial=1.0))
    quantum = 2.0 ** (np.floor(np.log2(max(top, 1e-3))) - 23)
    zq = np.where(open_, np.round(z_rel / quantum) * quantum, z_rel)
    wet = open_ & (h0 > 0.0)
    eta = np.round((z_rel + h0) / quantum) * quantum  # a level surface: one number
    hq = np.where(wet, np.maximum(eta - zq, 0.0), 0.0)
    return zq.astype(dtype), hq


def _rows(a: np.ndarray, shape: tuple[int, int], dtype) -> np.ndarray:
    """A per-cell field as (ny, nx), or a uniform one as a single (1, nx) row."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return np.full((1, shape[1]), float(a), dtype)
    return np.ascontiguousarray(np.broadcast_to(a, shape), dtype)


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
