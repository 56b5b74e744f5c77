"""City-scale floods: the local-inertial model over a large DEM, split into tiles with halos.

The DEM is cut into ``tiles = (rows, cols)`` cores; each tile runs a
:class:`sim.flood.FloodModel` on its core plus ``halo`` cells on every side that has a
neighbour. All tiles step **in lockstep with one global time step**: before each
synchronisation interval the driver takes ``dt`` from the CFL condition on the global maximum
depth (the smallest CFL step of any tile), every tile advances ``sync_steps`` steps of that
``dt``, then halos are exchanged — each tile's core border band (depths ``h`` and face
discharges ``qx``, ``qy``) goes to the global arrays, and each tile's halo ring is refilled
from them.

Why the exchange is exact: one step of the scheme reads, for a cell's new depth, the new
fluxes of its faces scaled by the positivity-limiter factors of the neighbouring cells, and
those factors read the new fluxes around the neighbours, i.e. depths two cells away. Wrong
values entering at a tile's artificial edge (closed there) therefore travel at most
``REACH_PER_STEP = 2`` cells per step, so with ``halo ≥ 2 × sync_steps`` every core cell and
core face is computed from exactly the numbers the untiled model would use, and the tiled run
equals the untiled one driven with the same time steps (``tiles=(1, 1)``) to round-off — in
practice bit for bit. The test ``test_tiled_equals_untiled`` shows it, and that too small a
halo breaks it.

The time step is fixed over each interval (the untiled model adapts it every step); the CFL
coefficient ``alpha`` (default 0.7, divided by √2 in 2-D like the model) leaves the margin for
depths growing within an interval. Tiles run in this process one after another (each using
all cores through the model's threaded kernels), or as Dask actors on a cluster when a
``distributed.Client`` is given; only the border bands and halo rings cross between them.
Point inflows, held river reaches and water-level boundaries are not supported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

G = 9.81  # m s-2
#: cells per step that wrong edge values travel (flux stencil + positivity limiter)
REACH_PER_STEP = 2
#: CFL coefficient handed to tile models so their own step never undercuts the global one
_NO_CFL = 1.0e9

Rect = tuple[int, int, int, int]  # r0, r1, c0, c1 in global cell indices (half-open)


def _ring(outer: Rect, inner: Rect) -> list[Rect]:
    """``outer`` minus ``inner`` as up to four rectangles (inner inside outer)."""
    r0, r1, c0, c1 = outer
    i0, i1, j0, j1 = inner
    rects = [(r0, i0, c0, c1), (i1, r1, c0, c1), (i0, i1, c0, j0), (i0, i1, j1, c1)]
    return [r for r in rects if r[1] > r[0] and r[3] > r[2]]


def _split(n: int, k: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


class _SlicedRain:
    """A rain spec restricted to a tile (fields are sliced, numbers pass through)."""

    def __init__(self, rain: Any, rows: slice, cols: slice) -> None:
        self.rain, self.rows, self.cols = rain, rows, cols

    def _cut(self, r: Any) -> Any:
        r = np.asarray(r, float)
        return r[self.rows, self.cols] if r.ndim == 2 else float(r)

    def __call__(self, t: float) -> Any:
        return self._cut(self.rain(t) if callable(self.rain) else self.rain)


class FloodTile:
    """One tile: a :class:`FloodModel` on core + halo; plain class, usable as a Dask actor.

    Parameters
    ----------
    core, ext : Rect
        Core and extended (core + halo) cell ranges in the global grid.
    dem : xarray.DataArray
        Elevations of the extended range.
    model_kwargs : dict
        Keyword arguments of :class:`FloodModel`, already cut to the extended range.
    """

    def __init__(self, core: Rect, ext: Rect, dem: xr.DataArray, model_kwargs: dict) -> None:
        from sim.flood.model import FloodModel

        self.core, self.ext = core, ext
        self.model = FloodModel(dem, alpha=_NO_CFL, dt_max=1.0e12, **model_kwargs)
        r0, r1, c0, c1 = core
        e0, _, f0, _ = ext
        self._core = (slice(r0 - e0, r1 - e0), slice(c0 - f0, c1 - f0))

    def advance(self, dt: float, n: int) -> float:
        """``n`` steps of ``dt`` seconds; returns the maximum core depth (m) afterwards.

        A tile of whole rows (no column halo) gets it from the kernel's per-row maxima of the
        last step, other tiles from a threaded pass over the core (``max_depth_in``).
        """
        for _ in range(n):
            self.model.run_one_step(dt)
        rows, cols = self._core
        return self.model.max_depth_in(rows.start, rows.stop, cols.start, cols.stop)

    def _local(self, rect: Rect) -> tuple[slice, slice, slice, slice]:
        e0, _, f0, _ = self.ext
        r0, r1, c0, c1 = rect
        return (
            slice(r0 - e0, r1 - e0),
            slice(c0 - f0, c1 - f0),
            slice(r0 - e0, r1 - e0 + 1),
            slice(c0 - f0, c1 - f0 + 1),
        )

    def get(self, rects: list[Rect]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Copies of (h, qx, qy) over each rectangle (faces: one more column/row)."""
        m, out = self.model, []
        for rect in rects:
            rs, cs, rf, cf = self._local(rect)
            out.append((m.h[rs, cs].copy(), m.qx[rs, cf].copy(), m.qy[rf, cs].copy()))
        return out

    def put(self, rects: list[Rect], values: list[tuple[np.ndarray, ...]]) -> None:
        """Overwrite (h, qx, qy) over each rectangle (the halo refresh)."""
        m = self.model
        for rect, (h, qx, qy) in zip(rects, values, strict=True):
            rs, cs, rf, cf = self._local(rect)
            m.h[rs, cs] = h
            m.qx[rs, cf] = qx
            m.qy[rf, cs] = qy

    def core_fields(self) -> dict[str, np.ndarray]:
        """Depth, speed, maximum depth and first-exceedance time over the core."""
        m = self.model
        return {
            "depth": m.h[self._core].copy(),
            "speed": m.speed()[self._core],
            "max_depth": m.max_depth[self._core].copy(),
            "time_first_exceedance": m.t_first[self._core].copy(),
        }


def _result(x: Any) -> Any:
    return x.result() if hasattr(x, "result") else x


class TiledFlood:
    """The flood model over a large DEM by tiles with halos, stepped in lockstep.

    Parameters
    ----------
    dem : xarray.DataArray
        Ground elevation (m), dims (y, x), uniform metric spacing (may be dask-backed: only
        tile slices are loaded).
    tiles : (int, int)
        Tile rows and columns; ``(1, 1)`` is the untiled model driven the same way.
    halo : int
        Halo width in cells.
    sync_steps : int, optional
        Steps between halo exchanges; default and maximum ``halo // REACH_PER_STEP``.
    alpha, dt_max : float
        Global CFL coefficient (divided by √2 in 2-D) and longest step (s).
    client : distributed.Client, optional
        Run tiles as Dask actors on its workers; in this process otherwise.
    manning, building_mask, drain_capacity_mm_h, boundaries, rain, initial_depth, threshold,
    theta, h_dry, parallel
        As in :class:`sim.flood.FloodModel` (fields (ny, nx) are cut per tile; boundaries
        ``closed`` or ``free`` only).
    """

    def __init__(
        self,
        dem: xr.DataArray,
        *,
        tiles: tuple[int, int] = (2, 2),
        halo: int = 8,
        sync_steps: int | None = None,
        alpha: float = 0.7,
        dt_max: float = 10.0,
        client: Any = None,
        manning: float | np.ndarray = 0.03,
        building_mask: np.ndarray | None = None,
        drain_capacity_mm_h: float | np.ndarray = 0.0,
        boundaries: Mapping[str, tuple] | None = None,
        rain: Any = None,
        initial_depth: float | np.ndarray = 0.0,
        threshold: float = 0.15,
        theta: float = 0.7,
        h_dry: float = 1e-4,
        parallel: bool | None = None,
    ) -> None:
        dem = dem.sortby("y").sortby("x")
        ny, nx = dem.shape
        self.shape = (ny, nx)
        self.x, self.y = dem["x"].to_numpy(), dem["y"].to_numpy()
        self.dx = float(self.x[1] - self.x[0])
        self.dy = float(self.y[1] - self.y[0])
        tiled = tiles != (1, 1)
        if tiled and halo < REACH_PER_STEP:
            raise ValueError(f"halo must be at least {REACH_PER_STEP} cells")
        max_sync = max(halo // REACH_PER_STEP, 1)
        self.sync_steps = int(sync_steps or max_sync)
        if tiled and self.sync_steps > max_sync:
            raise ValueError(f"sync_steps {self.sync_steps} > halo // {REACH_PER_STEP}")
        self.halo = int(halo) if tiled else 0
        self.alpha_2d = alpha / np.sqrt(2.0)
        self.dt_max = float(dt_max)
        for edge, spec in (boundaries or {}).items():
            if spec[0] not in ("closed", "free"):
                raise ValueError(f"tiled runs support closed/free boundaries, not {edge}={spec}")
        self.h = np.zeros((ny, nx))
        self.h[:] = initial_depth
        if building_mask is not None:
            self.h[np.asarray(building_mask, bool)] = 0.0
        self.qx = np.zeros((ny, nx + 1))
        self.qy = np.zeros((ny + 1, nx))
        self.time = 0.0
        self.n_steps = self.n_syncs = 0
        self.t_exchange = 0.0

        def cut(a: Any, rows: slice, cols: slice) -> Any:
            a = np.asarray(a) if not np.isscalar(a) else a
            return a[rows, cols] if getattr(a, "ndim", 0) == 2 else a

        self.tiles: list[Any] = []
        self.cores: list[Rect] = []
        self.bands: list[list[Rect]] = []
        self.rings: list[list[Rect]] = []
        k = self.halo
        for r0, r1 in _split(ny, tiles[0]):
            for c0, c1 in _split(nx, tiles[1]):
                core = (r0, r1, c0, c1)
                ext = (max(r0 - k, 0), min(r1 + k, ny), max(c0 - k, 0), min(c1 + k, nx))
                rows, cols = slice(ext[0], ext[1]), slice(ext[2], ext[3])
                edges = {"south": r0 == 0, "north": r1 == ny, "west": c0 == 0, "east": c1 == nx}
                kw = {
                    "manning": cut(manning, rows, cols),
                    "building_mask": cut(building_mask, rows, cols)
                    if building_mask is not None
                    else None,
                    "drain_capacity_mm_h": cut(drain_capacity_mm_h, rows, cols),
                    "boundaries": {e: s for e, s in (boundaries or {}).items() if edges[e]},
                    "rain": _SlicedRain(rain, rows, cols) if rain is not None else None,
                    "initial_depth": cut(self.h, rows, cols).copy(),
                    "threshold": threshold,
                    "theta": theta,
                    "h_dry": h_dry,
                    "parallel": parallel,
                }
                sub = dem.isel(y=rows, x=cols).load()
                if client is None:
                    tile = FloodTile(core, ext, sub, kw)
                else:
                    tile = client.submit(FloodTile, core, ext, sub, kw, actor=True).result()
                self.tiles.append(tile)
                self.cores.append(core)
                inner = (
                    r0 if r0 == 0 else min(r0 + k, r1),
                    r1 if r1 == ny else max(r1 - k, r0),
                    c0 if c0 == 0 else min(c0 + k, c1),
                    c1 if c1 == nx else max(c1 - k, c0),
                )
                inner = (inner[0], max(inner[1], inner[0]), inner[2], max(inner[3], inner[2]))
                self.bands.append(_ring(core, inner))
                self.rings.append(_ring(ext, core))
        self._hmax = float(self.h.max(initial=0.0))

    @property
    def n_tiles(self) -> int:
        """Number of tiles."""
        return len(self.tiles)

    def global_dt(self) -> float:
        """CFL step (s) on the global maximum depth: the smallest of the tiles' CFL steps."""
        if self._hmax <= 10.0 * 1e-4:
            return self.dt_max
        return min(self.dt_max, self.alpha_2d * min(self.dx, self.dy) / np.sqrt(G * self._hmax))

    def run_until(
        self, t_end: float, *, on_progress: Callable[[float, float], None] | None = None
    ) -> None:
        """Advance every tile in lockstep to ``t_end`` (s), exchanging halos each interval."""
        while self.time < t_end - 1e-9:
            dt = self.global_dt()
            n = self.sync_steps
            if self.time + n * dt > t_end:
                n = max(int(np.ceil((t_end - self.time) / dt - 1e-9)), 1)
                dt = (t_end - self.time) / n
            hmax = [_result(f) for f in [t.advance(dt, n) for t in self.tiles]]
            self._hmax = max(hmax)
            for _ in range(n):
                self.time += dt
            self.n_steps += n
            self._exchange()
            if on_progress is not None:
                on_progress(self.time, t_end)

    def _exchange(self) -> None:
        if self.n_tiles == 1:
            return
        t0 = time.perf_counter()
        got = [_result(f) for f in [t.get(b) for t, b in zip(self.tiles, self.bands, strict=True)]]
        for rects, values in zip(self.bands, got, strict=True):
            for (r0, r1, c0, c1), (h, qx, qy) in zip(rects, values, strict=True):
                self.h[r0:r1, c0:c1] = h
                self.qx[r0:r1, c0 : c1 + 1] = qx
                self.qy[r0 : r1 + 1, c0:c1] = qy
        futures = []
        for tile, rects in zip(self.tiles, self.rings, strict=True):
            vals = [
                (
                    self.h[r0:r1, c0:c1],
                    self.qx[r0:r1, c0 : c1 + 1],
                    self.qy[r0 : r1 + 1, c0:c1],
                )
                for r0, r1, c0, c1 in rects
            ]
            futures.append(tile.put(rects, vals))
        for f in futures:
            _result(f)
        self.n_syncs += 1
        self.t_exchange += time.perf_counter() - t0

    @property
    def cell_updates(self) -> int:
        """Core cell updates so far (ny × nx × steps)."""
        return self.shape[0] * self.shape[1] * self.n_steps

    def fields(self) -> dict[str, np.ndarray]:
        """Global depth, speed, max depth and first-exceedance time, assembled from cores."""
        ny, nx = self.shape
        out = {
            "depth": np.zeros((ny, nx)),
            "speed": np.zeros((ny, nx)),
            "max_depth": np.zeros((ny, nx), np.float32),
            "time_first_exceedance": np.full((ny, nx), np.nan, np.float32),
        }
        got = [_result(f) for f in [t.core_fields() for t in self.tiles]]
        for (r0, r1, c0, c1), f in zip(self.cores, got, strict=True):
            for name, arr in f.items():
                out[name][r0:r1, c0:c1] = arr
        return out

    def to_dataset(self) -> xr.Dataset:
        """Final state as an :class:`xarray.Dataset` (depth, speed, max_depth, first times)."""
        f = self.fields()
        ds = xr.Dataset(
            {k: (("y", "x"), v) for k, v in f.items()},
            coords={"y": self.y, "x": self.x},
        )
        for name, units in (("depth", "m"), ("speed", "m s-1"), ("max_depth", "m")):
            ds[name].attrs["units"] = units
        ds["time_first_exceedance"].attrs["units"] = "s"
        ds.attrs = {
            "title": "StreetTwin tiled local-inertial flood simulation",
            "time_s": self.time,
            "tiles": self.n_tiles,
            "halo_cells": self.halo,
            "sync_steps": self.sync_steps,
            "n_steps": self.n_steps,
        }
        return ds
