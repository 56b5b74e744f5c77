"""Crowds: people in squares, markets and other counted places, with daily and event peaks.

People at a place = capacity × daily profile(kind, local hour) × weekly factor × rain factor
× slow random fluctuation, blended with scheduled events. Profiles (fractions of capacity,
Gaussian bumps on the local clock, hand-set from common observation in Chinese cities):

* market (菜市场): busiest 07:00–09:00 (0.7), a smaller 17:30 peak (0.35), shut at night;
* square (广场): morning exercise ≈ 06:30 (0.25), 广场舞 evening peak ≈ 20:00 (0.6);
* anything else counted: a daytime plateau.

Rain empties outdoor places: factor ``1 / (1 + (r / 2 mm/h)²)`` (markets keep half their
people). A scheduled :class:`CrowdEvent` ramps the count to ``peak_people`` over a quarter of
its duration (at most 15 min), holds it, and ramps back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.base import FieldSpec, WorldComponent
from sim.world.clock import at_hour, local_hour, local_weekday, profile_table

#: daily profile per place kind: (centre h, width h, height as a fraction of capacity)
PROFILES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "market": ((8.0, 1.2, 0.7), (17.5, 1.3, 0.35), (12.0, 2.5, 0.1)),
    "square": ((6.5, 1.0, 0.25), (20.0, 1.2, 0.6), (15.0, 3.0, 0.1)),
    "default": ((10.5, 2.5, 0.3), (16.0, 2.5, 0.3)),
}
#: weekend factor per kind
WEEKEND: dict[str, float] = {"market": 1.15, "square": 1.3, "default": 1.1}
#: rain at which outdoor crowds halve, m/s (2 mm/h)
RAIN_HALF_M_S = 2e-3 / 3600.0
#: random fluctuation: stationary log-sd and correlation time (s)
NOISE_SD, NOISE_TAU_S = 0.08, 900.0


@dataclass(frozen=True)
class CrowdEvent:
    """A scheduled gathering at a place (truth for scoring).

    Attributes
    ----------
    event_id, facility_id : str
    start, duration_s : float
        UTC epoch s and s.
    peak_people : float
        People present at the plateau.
    """

    event_id: str
    facility_id: str
    start: float
    duration_s: float
    peak_people: float

    @property
    def end(self) -> float:
        return self.start + self.duration_s

    def weight(self, t: float) -> float:
        """Share of the event in the count at ``t``: 0 outside, 1 on the plateau.

        >>> e = CrowdEvent("E", "F", 0.0, 3600.0, 100.0)
        >>> e.weight(-1.0), e.weight(450.0), e.weight(1800.0), e.weight(3600.0)
        (0.0, 0.5, 1.0, 0.0)
        """
        if t <= self.start or t >= self.end:
            return 0.0
        ramp = min(900.0, self.duration_s / 4.0)
        up = (t - self.start) / ramp
        down = (self.end - t) / ramp
        return float(min(1.0, up, down))


class Crowds(WorldComponent):
    """People present at each crowd place."""

    _name = "Crowds"
    FIELDS = {
        "place__rain_intensity": FieldSpec("m s-1", "in", "rain at the place", "place"),
        "place__noise": FieldSpec("1", "inout", "state: log fluctuation of the count", "place"),
        "place__people_count": FieldSpec("1", "out", "people present (true)", "place"),
    }

    def __init__(self, sites, schedule, *, utc_offset_s=0.0):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        p = sites["place"]
        kinds = p["kind"].to_numpy()
        self._capacity = p["capacity"].to_numpy(float)
        self._kind = np.array([k if k in PROFILES else "default" for k in kinds], dtype=object)
        self._outdoor_keep = np.where(self._kind == "market", 0.5, 0.0)
        self._pos = sites.position("place")
        kinds = sorted(PROFILES)
        self._kind_index = np.array([kinds.index(k) for k in self._kind], int)
        self._tables = np.array([profile_table(PROFILES[k]) for k in kinds])
        self._weekend = np.array([WEEKEND[k] for k in kinds])

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def baseline(self, t: float) -> np.ndarray:
        """Expected people at each place without rain, noise or events."""
        level = at_hour(self._tables, local_hour(t, self._utc_offset_s))
        if local_weekday(t, self._utc_offset_s) >= 5:
            level = level * self._weekend
        return level[self._kind_index] * self._capacity

    def run_one_step(self, dt: float) -> None:
        f, t = self._fields, self._t
        noise = (
            self.ou_step("place__noise", dt, NOISE_TAU_S, NOISE_SD)
            if dt > 0
            else (f["place__noise"])
        )
        r = f["place__rain_intensity"]
        rain = self._outdoor_keep + (1 - self._outdoor_keep) / (1.0 + (r / RAIN_HALF_M_S) ** 2)
        count = self.baseline(t) * rain * np.exp(noise)
        for event in self._schedule.crowd_events:
            w = event.weight(t)
            i = self._pos.get(event.facility_id)
            if w > 0 and i is not None:
                count[i] = (1.0 - w) * count[i] + w * event.peak_people
        f["place__people_count"] = np.maximum(count, 0.0)
