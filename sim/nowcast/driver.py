"""The live nowcaster: every cycle, the twin's sensor state → hazard models → warning events.

:class:`Nowcaster` reads **only** the twin's live state (values of sensors whose quality is
GOOD; anything else counts as no reading) and never the world. One :meth:`Nowcaster.cycle`:

1. **rainstorm** — gauge intensities are recorded in the :class:`~.rainfc.GaugeSeries`; the
   CMA signal (:func:`sim.warning.thresholds.rainstorm_level`) is computed on the observed
   rain of the last 12 h followed by the forecast of the horizon (the signals read "expected
   or reached"), highest gauge, street-wide;
2. **flood** — :class:`~.flood.FloodNowcast` advances on the observed rain and runs ahead;
   per road-water sensor and building, :func:`~sim.warning.thresholds.flood_level` of the
   peak depth and the lead time to the blue band; buildings → risk → grids, and a grid is
   at least as high as its road-water sensors' levels;
3. **fire** — buildings whose smoke alarm reads 1 are ignited in
   :class:`sim.fire.model.FireSpreadModel` at the time the alarm was first seen; arrival
   times → :func:`~sim.warning.thresholds.fire_level` → risk → grids;
4. **crowd** — people counters / walkable area → density → crowd level → place risk → grids;
5. **utility** — if a fault detector is given (``update(t, values) -> events`` with ``open``
   faults, e.g. :class:`sim.utility.detector.UtilityFaultDetector`), each open fault raises
   :func:`~sim.warning.thresholds.utility_level` of its kind in the grid where it is located.

Each hazard's assessments cover every grid, then go to
:meth:`sim.warning.engine.WarningEngine.update`; the events it returns are the cycle's result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sim.nowcast.flood import FloodNowcast
from sim.nowcast.hazards import grid_assessments, street_assessment
from sim.warning.engine import WarningEngine
from sim.warning.thresholds import (
    Thresholds,
    crowd_level,
    default_thresholds,
    fire_level,
    flood_level,
    rainstorm_level,
    utility_level,
)

#: hazards a nowcaster runs by default
HAZARDS = ("rainstorm", "flood", "fire", "crowd", "utility")
#: quality code of a good reading (twin.state.Quality.GOOD)
GOOD = 0
#: step of the rain series given to the CMA classifier, s
RAIN_STEP_S = 300.0


class Nowcaster:
    """Hazard nowcasts and warnings from the twin's live sensor state.

    Parameters
    ----------
    registry : twin.registry.Registry
    state : twin.state.LiveState
        The live state (rows in registry sensor order). Only GOOD values are used.
    engine : WarningEngine, optional
        Where assessments go (a new one by default).
    thresholds : Thresholds, optional
    flood : FloodNowcast, optional
        A prepared flood nowcast; by default one is built with ``flood_kwargs``.
    forecast_rain : callable, optional
        ``forecast_rain(t_epoch_s) -> m/s`` (scalar or per gauge; ``None`` = no forecast for
        that time) overriding the extrapolated gauge rain.
    utility_detector : object, optional
        Utility fault detector (see the module docstring); skipped when ``None``.
    wind : (speed m/s, from-direction degrees)
        Wind for fire spread.
    hazards : sequence of str
        Which of :data:`HAZARDS` to run.
    """

    def __init__(
        self,
        registry,
        state,
        *,
        engine: WarningEngine | None = None,
        thresholds: Thresholds | None = None,
        flood: FloodNowcast | None = None,
        flood_kwargs: dict[str, Any] | None = None,
        forecast_rain: Callable[[float], Any] | None = None,
        utility_detector: Any = None,
        wind: tuple[float, float] = (0.0, 0.0),
        hazards: tuple[str, ...] = HAZARDS,
    ) -> None:
        self.registry = registry
        self.state = state
        self.thresholds = thresholds or default_thresholds()
        self.engine = engine or WarningEngine(thresholds=self.thresholds)
        self.hazards = tuple(hazards)
        s = registry.sensors
        self.kind = s["kind"].astype(str).to_numpy()
        self.entity = s["entity_id"].astype(str).to_numpy()
        self.sensor_grid = s["grid_id"].astype(str).to_numpy()
        self.flood = None
        if "flood" in self.hazards or "rainstorm" in self.hazards:
            self.flood = flood or FloodNowcast(registry, **(flood_kwargs or {}))
        self.forecast_rain = forecast_rain
        self.utility_detector = utility_detector
        self.wind = wind
        self.smoke_rows = np.flatnonzero(self.kind == "smoke")
        self.counter_rows = np.flatnonzero(self.kind == "people_counter")
        self._fire = None
        self._fire_t0: float | None = None
        self._burning: dict[str, float] = {}
        #: latest outputs per hazard (for maps and tests)
        self.latest: dict[str, Any] = {}

    # -- reading the twin --------------------------------------------------------------
    def readings(self) -> np.ndarray:
        """Live values with everything not GOOD as NaN (a copy)."""
        v = np.array(self.state.value, dtype=float, copy=True)
        v[np.asarray(self.state.quality) != GOOD] = np.nan
        return v

    # -- one cycle ---------------------------------------------------------------------
    def cycle(self, now: float) -> list[dict[str, Any]]:
        """Run every hazard on the current state at UTC epoch s ``now``; return new events."""
        values = self.readings()
        events: list[dict[str, Any]] = []
        runners = {
            "rainstorm": self._rainstorm,
            "flood": self._flood,
            "fire": self._fire_hazard,
            "crowd": self._crowd,
            "utility": self._utility,
        }
        if self.flood is not None:
            self.flood.observe(now, values[self.flood.gauge_rows])
        for hazard in self.hazards:
            assessments = runners[hazard](now, values)
            if assessments is not None:
                events.extend(self.engine.update(hazard, assessments, now))
        return events

    def _rainstorm(self, now: float, values: np.ndarray):
        if self.flood is None or len(self.flood.gauge_rows) == 0:
            return None
        series = self.flood.series
        observed = series.accumulation_series(RAIN_STEP_S)
        lead = np.arange(RAIN_STEP_S, self.flood.horizon_s + 1.0, RAIN_STEP_S)
        fc = series.forecast(lead, self.forecast_rain).max(axis=1) * RAIN_STEP_S * 1e3
        level = rainstorm_level(np.r_[observed, fc], RAIN_STEP_S, self.thresholds)
        self.latest["rainstorm"] = {"level": level, "observed_mm": float(observed.sum())}
        return street_assessment(self.registry, level)

    def flood_levels(self, fc) -> dict[str, np.ndarray]:
        """Flood hazard levels per road sensor, road and building of a forecast."""
        blue = float(self.thresholds.section("flood")["depth_m"]["blue"])
        out = {}
        for name, depth in (
            ("sensor", fc.sensor_depth),
            ("road", fc.road_depth),
            ("building", fc.building_depth),
        ):
            out[name] = flood_level(fc.peak(depth), fc.time_to(depth, blue), self.thresholds)
        return out

    def _flood(self, now: float, values: np.ndarray):
        fc = self.flood.forecast(self.forecast_rain)
        levels = self.flood_levels(fc)
        self.latest["flood"] = {"forecast": fc, "levels": levels}
        grids = self.sensor_grid[self.flood.road_sensor_rows]
        extra = pd.Series(levels["sensor"], index=grids)
        return grid_assessments(
            self.registry, levels["building"], extra_levels=extra, thresholds=self.thresholds
        )

    def _fire_hazard(self, now: float, values: np.ndarray):
        alarm = values[self.smoke_rows] >= 0.5
        burning = set(self.entity[self.smoke_rows][alarm])
        for b in burning - set(self._burning):
            self._burning[b] = now
        changed = False
        for b in set(self._burning) - burning:
            del self._burning[b]
            changed = True
        b_ids = self.registry.buildings["building_id"].astype(str).to_numpy()
        if not self._burning:
            self._fire, self._fire_t0 = None, None
            self.latest["fire"] = {"burning": []}
            return grid_assessments(self.registry, None, thresholds=self.thresholds)
        if self._fire is None:
            from sim.fire.model import FireSpreadModel

            self._fire = FireSpreadModel(
                self.registry.metric("buildings"),
                wind_speed_m_s=self.wind[0],
                wind_dir_deg=self.wind[1],
            )
            changed = True
        if self._fire_t0 is None:
            self._fire_t0 = min(self._burning.values())
        if changed or len(self._fire._ignitions) != len(self._burning):
            self._fire.reset()
            ids = sorted(self._burning)
            self._fire.ignite(ids, [self._burning[b] - self._fire_t0 for b in ids])
        horizon = float(self.thresholds.section("fire")["arrival_s"]["blue"])
        elapsed = now - self._fire_t0
        self._fire.run_until(elapsed + horizon)
        arrival = np.asarray(self._fire.arrival_time_s, float) - elapsed
        arrival = np.where(np.isnan(arrival), np.inf, np.maximum(arrival, 0.0))
        hz = fire_level(arrival, self.thresholds)
        order = pd.Index(self._fire.ids).get_indexer(b_ids)
        hz_rows = np.where(order >= 0, hz[np.maximum(order, 0)], 0)
        self.latest["fire"] = {"burning": sorted(self._burning), "levels": hz_rows}
        return grid_assessments(self.registry, hz_rows, thresholds=self.thresholds)

    def _crowd(self, now: float, values: np.ndarray):
        if len(self.counter_rows) == 0:
            return None
        fac = self.registry.facilities
        pos = pd.Index(fac["facility_id"].astype(str)).get_indexer(self.entity[self.counter_rows])
        ok = pos >= 0
        places = fac.iloc[pos[ok]].reset_index(drop=True)
        people = values[self.counter_rows][ok]
        area = places["area_m2"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            density = np.where(area > 0, people / area, np.nan)
        hz = crowd_level(density, self.thresholds)
        self.latest["crowd"] = {"density": dict(zip(places["facility_id"], density, strict=True))}
        return grid_assessments(
            self.registry,
            None,
            places=places,
            place_hazard=hz,
            place_people=np.nan_to_num(people),
            thresholds=self.thresholds,
        )

    def _utility(self, now: float, values: np.ndarray):
        det = self.utility_detector
        if det is None:
            return None
        det.update(now, values)
        faults = list(getattr(det, "open", {}).values())
        grid_ids = self.registry.grids["grid_id"].astype(str).to_numpy()
        levels = []
        for f in faults:
            lon, lat = f.get("location", (np.nan, np.nan))
            _, g = self.registry.locate([lon], [lat])
            if g[0] >= 0:
                levels.append((grid_ids[g[0]], utility_level(f["kind"], self.thresholds)))
        extra = pd.Series([lv for _, lv in levels], index=[g for g, _ in levels], dtype=int)
        self.latest["utility"] = {"open": faults}
        return grid_assessments(self.registry, None, extra_levels=extra, thresholds=self.thresholds)
