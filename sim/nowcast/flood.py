"""The flood nowcast: the 2-D flood model kept running on gauge rain and run ahead every cycle.

Two copies of :class:`sim.flood.model.FloodModel` on the coarsened DEM
(:mod:`sim.nowcast.raster`):

* the **analysis** run follows the observed rain (IDW of the live gauges, held constant
  between cycles) up to *now*; it is the twin's estimate of where water stands;
* at every cycle a **forecast** copy of it runs ``horizon_s`` ahead (default 60 min) on the
  forecast rain of :class:`sim.nowcast.rainfc.GaugeSeries`, and the depth at each place is
  sampled every ``snapshot_s``.

Outputs per road-water sensor, road and building: the peak depth within the horizon and the
lead time until the depth first reaches each band (0 = already there, inf = not within the
horizon). Depths are multiplied by ``depth_scale`` first: the calibration of the coarse
model's ponding against what road sensors see (the street's real ponding is fed by drains
and kerbs the 10 m grid cannot resolve). ``depth_scale`` is fitted on training storms by
``streettwin bench warning`` (see :data:`DEFAULT_DEPTH_SCALE`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sim.flood.model import FloodModel
from sim.flood.rain import idw_rain
from sim.nowcast.rainfc import GaugeSeries
from sim.nowcast.raster import CellSampler, building_mask, coarsen_dem

#: default nowcast grid cell, m
CELL_M = 10.0
#: default forecast horizon, s (the issue asks for at least 30 min)
HORIZON_S = 3600.0
#: spacing of sampled forecast depths, s
SNAPSHOT_S = 120.0
#: drain inlet capacity of open cells, mm/h (the world's design rain for its drains is 36)
DRAIN_MM_H = 36.0
#: Manning's n of open cells (streets and yards mixed at 10 m)
MANNING = 0.03
#: multiplier from model depth to the depth a road sensor reports; fitted on the training
#: storms of `streettwin bench warning` (different seeds from the scored ones)
DEFAULT_DEPTH_SCALE = 1.0


@dataclass
class FloodForecast:
    """One nowcast cycle's result (depths already scaled by ``depth_scale``).

    Attributes
    ----------
    issued : float
        UTC epoch s of the cycle.
    lead_s : numpy.ndarray
        Lead times of the samples, s.
    sensor_depth, road_depth, building_depth : numpy.ndarray (len(lead_s), n)
        Depth per sample and place, m.
    """

    issued: float
    lead_s: np.ndarray
    sensor_depth: np.ndarray
    road_depth: np.ndarray
    building_depth: np.ndarray

    @staticmethod
    def peak(depth: np.ndarray) -> np.ndarray:
        """Peak depth over the horizon per place, m."""
        return depth.max(axis=0) if depth.size else np.zeros(depth.shape[1:])

    def time_to(self, depth: np.ndarray, threshold_m: float) -> np.ndarray:
        """Lead time (s) until ``depth`` first reaches ``threshold_m`` (inf: not in horizon)."""
        hit = depth >= threshold_m
        first = np.argmax(hit, axis=0)
        return np.where(hit.any(axis=0), self.lead_s[first], np.inf)


class FloodNowcast:
    """The continuously running flood model of the twin.

    Parameters
    ----------
    registry : twin.registry.Registry
        District (DEM, buildings, roads, sensors).
    cell_m, horizon_s, snapshot_s : float
        Grid cell (m), forecast horizon (s) and sample spacing (s).
    drain_capacity_mm_h, manning : float
        Model parameters of open cells.
    depth_scale : float
        Model depth → sensor depth factor (see the module docstring).
    series : GaugeSeries, optional
        Where gauge readings are recorded (one is made with defaults otherwise).
    parallel : bool, optional
        Multi-threaded flood kernels (default: the model decides by grid size).
    """

    def __init__(
        self,
        registry,
        *,
        cell_m: float = CELL_M,
        horizon_s: float = HORIZON_S,
        snapshot_s: float = SNAPSHOT_S,
        drain_capacity_mm_h: float = DRAIN_MM_H,
        manning: float = MANNING,
        depth_scale: float = DEFAULT_DEPTH_SCALE,
        series: GaugeSeries | None = None,
        parallel: bool | None = None,
    ) -> None:
        sensors = registry.metric("sensors")
        kind = sensors["kind"].astype(str).to_numpy()
        self.gauge_rows = np.flatnonzero(kind == "rain_gauge")
        self.road_sensor_rows = np.flatnonzero(kind == "road_water")
        gxy = sensors.geometry.iloc[self.gauge_rows]
        self.gauge_xy = np.c_[gxy.x.to_numpy(), gxy.y.to_numpy()]
        self.grid = coarsen_dem(registry.dem, cell_m)
        buildings = registry.metric("buildings")
        self.walls = building_mask(self.grid, buildings.geometry.to_numpy())
        open_cells = ~self.walls
        self.sensor_sampler = CellSampler(
            self.grid, sensors.geometry.iloc[self.road_sensor_rows].to_numpy(),
            radius_m=cell_m, open_cells=open_cells,
        )  # fmt: skip
        self.road_sampler = CellSampler(
            self.grid, registry.metric("roads").geometry.to_numpy(), open_cells=open_cells
        )
        self.building_sampler = CellSampler(
            self.grid, buildings.geometry.to_numpy(), open_cells=open_cells
        )
        self.horizon_s = float(horizon_s)
        self.snapshot_s = float(snapshot_s)
        self.depth_scale = float(depth_scale)
        self.series = series
        # IDW weights, (cells, gauges), rows sum to 1: a rain field is one matrix product
        if len(self.gauge_rows):
            eye = np.eye(len(self.gauge_rows))
            self._w = np.stack([idw_rain(self.gauge_xy, e, self.grid).ravel() for e in eye], axis=1)
        else:
            self._w = np.zeros((self.grid.size, 0))
        self._model_kwargs = {
            "manning": manning,
            "building_mask": self.walls,
            "drain_capacity_mm_h": drain_capacity_mm_h,
            **({} if parallel is None else {"parallel": parallel}),
        }
        self.reset()
        if series is not None:
            self.series = series

    def reset(self) -> None:
        """Forget all water and rain (a fresh analysis run; the grid and samplers stay)."""
        self.model = FloodModel(self.grid, **self._model_kwargs)
        self.series = GaugeSeries(
            len(self.gauge_rows),
            mode=self.series.mode if self.series else "trend",
        )
        self.t_model0: float | None = None  # epoch s of model time 0
        self._rates = np.zeros(len(self.gauge_rows))
        self.last: FloodForecast | None = None

    @property
    def n_cells(self) -> int:
        """Cells of the nowcast grid."""
        return int(self.grid.size)

    def rain_field(self, rates_m_s: np.ndarray) -> np.ndarray:
        """IDW rain field (m/s, (ny, nx)) of gauge intensities (NaN gauges left out)."""
        r = np.asarray(rates_m_s, float)
        ok = np.isfinite(r)
        if not ok.any():
            return np.zeros(self.grid.shape)
        w = self._w[:, ok]
        field = (w @ r[ok]) / np.maximum(w.sum(axis=1), 1e-300)
        return field.reshape(self.grid.shape)

    def observe(self, t: float, rates_m_s: np.ndarray) -> None:
        """Advance the analysis run to ``t`` on the rain held since the last reading, then
        record the new gauge intensities (m/s per gauge, NaN = no reading)."""
        if self.t_model0 is None:
            self.t_model0 = float(t)
        target = float(t) - self.t_model0
        if target > self.model.time + 1e-6:
            if self._rates.any() or self.model.depth.max() > 0:
                self.model.run_one_step(target - self.model.time, rain=self.rain_field(self._rates))
            else:  # dry and no rain: nothing to compute, only the clock moves
                self.model.time = target
        self.series.add(float(t), rates_m_s)
        cur = self.series.current()
        self._rates = np.where(np.isfinite(cur), cur, 0.0)

    def forecast(self, external=None) -> FloodForecast:
        """Run a copy of the analysis ``horizon_s`` ahead on the forecast rain."""
        now = self.t_model0 + self.model.time if self.t_model0 is not None else 0.0
        lead = np.arange(0.0, self.horizon_s + 0.5 * self.snapshot_s, self.snapshot_s)
        rates = self.series.forecast(lead, external)
        samples = [self._sample(self.model.depth)]
        if rates.max(initial=0.0) <= 0.0:
            # no rain ahead: water only spreads and drains, so the depths now bound the
            # coming hour closely enough; skipping the run keeps dry spells cheap
            samples *= len(lead)
        else:
            fc = _independent_copy(self.model)
            for k in range(1, len(lead)):
                # rain of the interval (lead[k-1], lead[k]]: its mid-interval forecast
                mid = 0.5 * (rates[k - 1] + rates[k])
                fc.run_one_step(self.snapshot_s, rain=self.rain_field(mid))
                samples.append(self._sample(fc.depth))
        s = np.stack([x[0] for x in samples]) * self.depth_scale
        r = np.stack([x[1] for x in samples]) * self.depth_scale
        b = np.stack([x[2] for x in samples]) * self.depth_scale
        self.last = FloodForecast(now, lead, s, r, b)
        return self.last

    def _sample(self, h: np.ndarray):
        return (
            self.sensor_sampler.max_of(h),
            self.road_sampler.max_of(h),
            self.building_sampler.max_of(h),
        )


def _independent_copy(model: FloodModel) -> FloodModel:
    """A copy of the model whose state arrays are its own (the forecast must not move the
    analysis)."""
    if hasattr(model, "copy"):
        fc = model.copy()
    else:
        fc = copy.copy(model)
        for name, value in vars(model).items():
            if isinstance(value, np.ndarray):
                setattr(fc, name, value.copy())
        fc.volumes = dict(model.volumes)
    fc.snapshots = []
    return fc


def grid_of_dem(registry, cell_m: float = CELL_M) -> xr.DataArray:
    """The nowcast grid of a district (for maps and tests)."""
    return coarsen_dem(registry.dem, cell_m)
