"""The utility fault detector: live meter readings in, fault events with their impacts out.

:class:`UtilityFaultDetector` watches every sensor row of a registry. It first learns
(:meth:`~UtilityFaultDetector.fit`, or automatically from the first ``learn_s`` seconds it is
fed) the daily/weekly baseline of each meter, then turns each batch of readings into events:

========================= ============================================================
``pipe_burst``            pressure/flow change pattern explained by a pipe (:mod:`.water`)
``feeder_outage``         many meters of one feeder dead together (:mod:`.power`)
``gas_leak``              detector over its alarm level, or a gas meter jumping (:mod:`.gas`)
``device_silent``         no reading from any sensor of a device (:mod:`.devices`)
``sensor_stuck`` / ``_drift`` a sensor fault, told apart from real change (:mod:`.sensor_faults`)
========================= ============================================================

Each event is a dict ``{id, kind, target, detected_at, location: (lon, lat), affected,
evidence, cleared_at}``; ``affected`` is :class:`.impacts.ImpactIndex` exposure. The
detector sees readings only, never the world's truth.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.utility.baseline import MeterBaseline, time_features
from sim.utility.devices import DeviceWatch
from sim.utility.gas import GasAlarm
from sim.utility.impacts import ImpactIndex, line_midpoints
from sim.utility.power import CLEAR_FRACTION, dead_feeders
from sim.utility.sensor_faults import STEP_Z, SensorFaultTracker
from sim.utility.water import SupplyTree, glr_scores, locate_by_signatures

#: quantities given a baseline
WATCHED = (
    "building__power_demand",
    "building__gas_flow_rate",
    "water_node__pressure",
    "water_pipe__flow_rate",
    "building__air_temperature",
    "building__relative_humidity",
    "building__gas_concentration",
)
PRESSURE, FLOW = "water_node__pressure", "water_pipe__flow_rate"
POWER, GAS_FLOW, GAS_CONC = (
    "building__power_demand",
    "building__gas_flow_rate",
    "building__gas_concentration",
)
#: smallest explained χ² of a burst, and its margin over the largest seen in training
BURST_CHI2_MIN, BURST_NULL_MARGIN = 60.0, 2.0
#: a burst ends when the explained χ² of its signature on the levels falls to this share
BURST_CLEAR_SHARE = 0.1
#: a gas meter jump (robust sd, up) that alone raises a gas leak
GAS_METER_Z = 10.0
#: default learning period, s
LEARN_S = 7 * 86400.0


class UtilityFaultDetector:
    """Detects utility faults on the live readings of a district.

    Parameters
    ----------
    registry : twin.registry.Registry
    learn_s : float
        Seconds of readings learnt before detection starts (when :meth:`fit` is not called).
    lag : int
        Readings spanned by the change score (a step shows within ``lag`` readings).
    utc_offset_s : float, optional
        Local offset east of UTC, s; default from ``registry.meta["utc_offset"]``.
    """

    def __init__(
        self,
        registry: Any,
        *,
        learn_s: float = LEARN_S,
        lag: int = 5,
        utc_offset_s: float | None = None,
    ) -> None:
        s = registry.sensors
        self.registry = registry
        self.sensor_ids = s["sensor_id"].astype(str).to_numpy()
        self.quantity = s["quantity"].astype(str).to_numpy()
        self.entity = s["entity_id"].astype(str).to_numpy()
        self.device = s["device_id"].astype(str).to_numpy()
        if utc_offset_s is None:
            text = str(registry.meta.get("utc_offset", "+08:00"))
            sign = -1.0 if text.startswith("-") else 1.0
            hh, _, mm = text.lstrip("+-").partition(":")
            utc_offset_s = sign * (int(hh) * 3600 + int(mm or 0) * 60)
        self.watch = np.flatnonzero(np.isin(self.quantity, WATCHED))
        wq = self.quantity[self.watch]
        self.baseline = MeterBaseline(wq, utc_offset_s=utc_offset_s, lag=lag)
        self.lag = int(lag)
        self.learn_s = float(learn_s)
        self.impacts = ImpactIndex(registry)
        sm = registry.metric("sensors").geometry
        self.sensor_xy = np.c_[sm.x.to_numpy(), sm.y.to_numpy()]
        # water network
        self.tree = SupplyTree.from_registry(registry)
        px, py = line_midpoints(registry.metric("water_pipes").geometry.to_numpy())
        self.pipe_xy = np.c_[px, py]
        self.p_cols = np.flatnonzero(wq == PRESSURE)
        self.f_cols = np.flatnonzero(wq == FLOW)
        self.wcols = np.r_[self.p_cols, self.f_cols]
        # power
        feeder_of = dict(
            zip(
                registry.buildings["building_id"].astype(str),
                registry.buildings["feeder_id"].astype(str),
                strict=True,
            )
        )
        self.m_cols = np.flatnonzero(wq == POWER)
        self.m_feeder = np.array(
            [feeder_of.get(e, "") for e in self.entity[self.watch[self.m_cols]]]
        )
        self.feeders = np.array(sorted(set(self.m_feeder) - {""}))
        fm = registry.metric("power_feeders")
        fx, fy = line_midpoints(fm.geometry.to_numpy()) if len(fm) else (np.zeros(0),) * 2
        self.feeder_xy = dict(
            zip(fm["feeder_id"].astype(str), zip(fx, fy, strict=True), strict=True)
        )
        # gas
        self.g_rows = np.flatnonzero(self.quantity == GAS_CONC)
        self.gas_alarm = GasAlarm(len(self.g_rows))
        self.gm_cols = np.flatnonzero(wq == GAS_FLOW)
        self.events: list[dict[str, Any]] = []
        self.open: dict[tuple[str, str], dict[str, Any]] = {}
        self.fitted = False
        self._train_t: list[float] = []
        self._train_v: list[np.ndarray] = []
        self._heard = np.zeros(len(self.sensor_ids))
        self._n_train = 0

    # -- learning ------------------------------------------------------------------------
    def fit(self, times: np.ndarray, values: np.ndarray) -> UtilityFaultDetector:
        """Learn baselines and calibrate thresholds from a fault-free history.

        Parameters
        ----------
        times : numpy.ndarray
            (n_times,) UTC epoch s, one batch per reading interval.
        values : numpy.ndarray
            (n_times, n_sensors) readings of every registry sensor row (SI, NaN = missing),
            or (n_times, n_watched) readings of the watched rows only.
        """
        times = np.asarray(times, float)
        values = np.asarray(values, float)
        if values.shape[1] == len(self.sensor_ids):
            reporting = np.isfinite(values).mean(axis=0) > 0.5
            values = values[:, self.watch]
        else:
            reporting = self._heard / max(self._n_train, 1) > 0.5
        self.baseline.fit(times, values)
        self.tracker = SensorFaultTracker(self.baseline.quantities, self.baseline.varies)
        self.devices = DeviceWatch(self.device, reporting)
        level = np.abs(self.baseline.level[self.p_cols])
        self.sig = self.tree.signatures(
            self.entity[self.watch[self.p_cols]], self.entity[self.watch[self.f_cols]], level
        )
        self.sig_d = self.sig / self.baseline.sigma_d[self.wcols][:, None, None]
        self.sig_z = self.sig / self.baseline.sigma[self.wcols][:, None, None]
        # the burst threshold: a margin over the largest χ² explained in the clean history
        self.burst_chi2 = BURST_CHI2_MIN
        if len(self.wcols) and len(times) > self.lag + 1:
            X = time_features(times, self.baseline.utc_offset_s)
            resid = self.baseline.transform(values) - self.baseline.model.predict(X)
            resid = resid[:, self.wcols]
            dz = (resid[self.lag :] - resid[: -self.lag]) / self.baseline.sigma_d[self.wcols]
            rows = np.flatnonzero(np.nanmax(np.abs(dz), axis=1) > STEP_Z / 2)
            null = 0.0
            for k in rows[:: max(1, len(rows) // 300)]:
                null = max(
                    null,
                    locate_by_signatures(dz[k], self.sig_d, self.pipe_xy, sign=np.array([1, 1, 1]))[
                        1
                    ],
                )
            self.burst_chi2 = max(BURST_CHI2_MIN, BURST_NULL_MARGIN * null)
        self._ring = np.full((self.lag + 1, len(self.watch)), np.nan)
        self._k = 0
        self.fitted = True
        self._train_t, self._train_v = [], []
        return self

    # -- detection -----------------------------------------------------------------------
    def process(self, times, values) -> list[dict[str, Any]]:
        """Feed several batches (rows of ``values`` at ``times``); returns new events."""
        out: list[dict[str, Any]] = []
        for t, v in zip(np.asarray(times, float), np.asarray(values, float), strict=True):
            out.extend(self.update(float(t), v))
        return out

    def update(self, t: float, values: np.ndarray) -> list[dict[str, Any]]:
        """Feed the readings of every registry sensor row at UTC epoch s ``t``.

        Returns the events raised by this batch (``cleared_at`` is set later on the same
        dict objects, which stay in :attr:`events`).
        """
        values = np.asarray(values, float)
        if not self.fitted:
            self._train_t.append(t)
            self._train_v.append(values[self.watch].astype(np.float32))
            self._heard += np.isfinite(values)
            self._n_train += 1
            if t - self._train_t[0] >= self.learn_s:
                self.fit(np.array(self._train_t), np.array(self._train_v, float))
            return []
        raw = values[self.watch]
        r, z = self.baseline.score(t, raw)
        self._ring[self._k % (self.lag + 1)] = r
        past = self._ring[(self._k + 1) % (self.lag + 1)]
        self._k += 1
        dz = (r - past) / self.baseline.sigma_d if self._k > self.lag else np.zeros_like(r)
        new: list[dict[str, Any]] = []
        explained = np.zeros(len(self.watch), bool)
        self._devices(t, values, new)
        self._power(t, raw, explained, new)
        self._gas(t, values, z, dz, explained, new)
        self._water(t, z, dz, explained, new)
        self._sensors(t, raw, z, dz, explained, new)
        return new

    # -- helpers -------------------------------------------------------------------------
    def _raise(self, t, kind, target, xy, affected, **evidence) -> dict[str, Any] | None:
        if (kind, target) in self.open:
            return None
        lon, lat = self.impacts.lonlat(*xy)
        ev = {
            "id": f"uf-{len(self.events) + 1:05d}",
            "kind": kind,
            "target": target,
            "detected_at": float(t),
            "location": (lon, lat),
            "xy": (float(xy[0]), float(xy[1])),
            "affected": affected,
            "evidence": evidence,
            "cleared_at": None,
        }
        self.events.append(ev)
        self.open[(kind, target)] = ev
        return ev

    def _clear(self, t, kind, target) -> None:
        ev = self.open.pop((kind, target), None)
        if ev is not None:
            ev["cleared_at"] = float(t)

    def _open_of(self, kind: str) -> list[dict[str, Any]]:
        return [e for (k, _), e in self.open.items() if k == kind]

    def _devices(self, t, values, new) -> None:
        silent, back = self.devices.update(values)
        for d in back:
            self._clear(t, "device_silent", str(d))
        for d in silent:
            rows = np.flatnonzero(self.device == d)
            xy = self.sensor_xy[rows].mean(axis=0)
            monitored = set(self.entity[rows])
            b = np.flatnonzero(np.isin(self.impacts.building_ids, list(monitored)))
            ev = self._raise(
                t, "device_silent", str(d), xy, self.impacts.of_buildings(b, sensors=len(rows))
            )
            if ev:
                new.append(ev)

    def _power(self, t, raw, explained, new) -> None:
        if not len(self.feeders):
            return
        expected = self.baseline.expected_si(t)[self.m_cols]
        share, out = dead_feeders(raw[self.m_cols], expected, self.m_feeder, self.feeders)
        for f, s, o in zip(self.feeders, share, out, strict=True):
            if ("feeder_outage", f) in self.open:
                if s < CLEAR_FRACTION:
                    self._clear(t, "feeder_outage", f)
            elif o:
                xy = self.feeder_xy.get(f, tuple(self.sensor_xy[self.watch[self.m_cols]].mean(0)))
                ev = self._raise(
                    t,
                    "feeder_outage",
                    str(f),
                    xy,
                    self.impacts.of_feeder(str(f)),
                    dead_share=float(s),
                )
                new.append(ev)
        for ev in self._open_of("feeder_outage"):
            explained[self.m_cols[self.m_feeder == ev["target"]]] = True

    def _gas(self, t, values, z, dz, explained, new) -> None:
        faulty = set(self.sensor_ids[self.watch[self.tracker.stuck | self.tracker.drift]])
        raised, cleared = self.gas_alarm.update(values[self.g_rows])
        for i in cleared:
            self._clear(t, "gas_leak", self.entity[self.g_rows[i]])
        for i in raised:
            row = self.g_rows[i]
            if self.sensor_ids[row] in faulty:
                continue
            b = self.entity[row]
            if b in self.impacts.pos:
                ev = self._raise(
                    t,
                    "gas_leak",
                    b,
                    self.impacts.building_xy(b),
                    self.impacts.around_building(b),
                    sensor=self.sensor_ids[row],
                    concentration=float(values[row]),
                )
                if ev:
                    new.append(ev)
        jump = (dz[self.gm_cols] > GAS_METER_Z) & (z[self.gm_cols] > GAS_METER_Z)
        for c in self.gm_cols[jump]:
            b = self.entity[self.watch[c]]
            if b in self.impacts.pos and not (self.tracker.stuck[c] or self.tracker.drift[c]):
                ev = self._raise(
                    t,
                    "gas_leak",
                    b,
                    self.impacts.building_xy(b),
                    self.impacts.around_building(b),
                    sensor=self.sensor_ids[self.watch[c]],
                    meter_z=float(z[c]),
                )
                if ev:
                    new.append(ev)
        for ev in self._open_of("gas_leak"):
            rows = self.entity[self.watch] == ev["target"]
            gas_cols = rows & np.isin(self.baseline.quantities, (GAS_FLOW, GAS_CONC))
            explained[gas_cols] = True
            meters = gas_cols & (self.baseline.quantities == GAS_FLOW)
            detectors = self.g_rows[self.entity[self.g_rows] == ev["target"]]
            if not detectors.size and meters.any() and np.nanmax(z[meters]) < 3.0:
                self._clear(t, "gas_leak", ev["target"])

    def _water(self, t, z, dz, explained, new) -> None:
        if not len(self.wcols):
            return
        faulty = (self.tracker.stuck | self.tracker.drift)[self.wcols]
        weight = (~faulty).astype(float)
        for ev in self._open_of("pipe_burst"):
            p = ev["evidence"]["pipe_index"]
            chi2, _ = glr_scores(z[self.wcols], self.sig_z[:, p : p + 1], weight)
            if chi2[0] < BURST_CLEAR_SHARE * ev["evidence"]["chi2_level"]:
                self._clear(t, "pipe_burst", ev["target"])
            else:
                explained[self.wcols[np.abs(self.sig[:, p]).sum(1) > 0]] = True
        recent = any(t - e["detected_at"] <= self.lag * 90.0 for e in self._open_of("pipe_burst"))
        obs = dz[self.wcols]
        if recent or not np.nanmax(np.abs(obs) * weight, initial=0.0) > STEP_Z:
            return
        best, chi2, _ = locate_by_signatures(
            obs, self.sig_d, self.pipe_xy, weight=weight, sign=np.array([1, 1, 1])
        )
        if chi2 < self.burst_chi2:
            return
        level, _ = glr_scores(z[self.wcols], self.sig_z[:, best : best + 1], weight)
        pipe = self.tree.pipe_ids[best]
        nodes = np.array(self.tree.node_ids)[self.tree.below[:, best]]
        ev = self._raise(
            t,
            "pipe_burst",
            pipe,
            self.pipe_xy[best],
            self.impacts.of_water_nodes(nodes, nodes_downstream=len(nodes)),
            pipe_index=int(best),
            chi2=float(chi2),
            chi2_level=float(level[0]),
        )
        if ev:
            new.append(ev)
            explained[self.wcols[np.abs(self.sig[:, best]).sum(1) > 0]] = True

    def _sensors(self, t, raw, z, dz, explained, new) -> None:
        silent = np.isin(self.device[self.watch], self._silent_devices())
        res = self.tracker.update(raw, z, dz, explained | silent)
        for c in res["cleared"]:
            sid = self.sensor_ids[self.watch[c]]
            self._clear(t, "sensor_stuck", sid)
            self._clear(t, "sensor_drift", sid)
        for kind, cols in (("sensor_stuck", res["stuck"]), ("sensor_drift", res["drift"])):
            for c in cols:
                row = self.watch[c]
                ent = self.entity[row]
                b = np.flatnonzero(self.impacts.building_ids == ent)
                ev = self._raise(
                    t,
                    kind,
                    self.sensor_ids[row],
                    self.sensor_xy[row],
                    self.impacts.of_buildings(b, entity_id=ent),
                    residual_z=float(res["residual"][c]),
                )
                if ev:
                    new.append(ev)

    def _silent_devices(self) -> np.ndarray:
        return self.devices.devices[self.devices.silent]
