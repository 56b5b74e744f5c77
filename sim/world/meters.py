"""Utility demand per building: electric power, water and gas, with daily and weekly cycles.

Demand = mean rate(use, size) × daily profile(use, local hour) × weekly factor(use, weekday)
× (1 + cooling when hot, power only) × slow multiplicative noise, and power × availability
(a feeder outage gives 0 W). Mean rates are order-of-magnitude values for Chinese cities
(power intensity W/m² of floor area; water and gas per occupant per day; cf. GB 50013 water
norms of 150–250 L/person/day for homes); daily profiles are Gaussian bumps normalised to
mean 1 over the day, so the daily volume honours the mean rate.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.world.base import WORLD, FieldSpec, WorldComponent
from sim.world.clock import PROFILE_HOURS, at_hour, local_hour, local_weekday, profile_table

#: use → (power W per m² floor, water m³ per occupant per day, gas m³ per occupant per day)
RATES: dict[str, tuple[float, float, float]] = {
    "residential": (8.0, 0.20, 0.25),
    "commercial": (35.0, 0.08, 0.30),
    "office": (30.0, 0.05, 0.01),
    "industrial": (40.0, 0.10, 0.20),
    "school": (15.0, 0.04, 0.05),
    "hospital": (50.0, 0.50, 0.15),
    "elderly_home": (15.0, 0.20, 0.25),
    "market": (40.0, 0.10, 0.30),
    "public": (20.0, 0.05, 0.02),
    "warehouse": (8.0, 0.02, 0.0),
    "mixed": (20.0, 0.15, 0.20),
    "garage": (5.0, 0.005, 0.0),
}
#: daily shape per use: (centre h, width h, height) bumps over a base; normalised to mean 1
_HOME = ((7.5, 1.2, 1.0), (12.0, 1.0, 0.6), (20.0, 2.0, 1.6))
_WORK = ((10.0, 2.0, 1.5), (15.0, 2.2, 1.5))
_SHOP = ((11.0, 2.5, 1.2), (18.5, 2.5, 1.5))
SHAPES: dict[str, tuple[float, tuple[tuple[float, float, float], ...]]] = {
    "residential": (0.35, _HOME),
    "elderly_home": (0.5, _HOME),
    "mixed": (0.4, _HOME + _SHOP),
    "office": (0.2, _WORK),
    "school": (0.15, _WORK),
    "industrial": (0.4, _WORK),
    "commercial": (0.2, _SHOP),
    "market": (0.15, ((7.5, 1.5, 1.8), (17.5, 1.5, 1.0))),
    "hospital": (0.8, _WORK),
    "public": (0.2, _WORK),
    "warehouse": (0.5, _WORK),
    "garage": (0.5, _WORK),
}
#: gas is for cooking: meal-time peaks for every use
GAS_SHAPE = (0.1, ((7.0, 0.8, 0.8), (11.8, 0.8, 1.5), (18.3, 1.0, 2.0)))
#: weekend factor per use (others 1)
WEEKEND: dict[str, float] = {
    "office": 0.35,
    "school": 0.15,
    "industrial": 0.6,
    "commercial": 1.15,
    "market": 1.15,
    "residential": 1.08,
}
#: cooling: extra power per K above the threshold, and the threshold (degC)
COOLING_PER_K, COOLING_FROM_C = 0.04, 24.0
#: noise: stationary log-sd and correlation time (s)
NOISE_SD, NOISE_TAU_S = 0.05, 1800.0


def daily_shape(hour: float, shape: tuple[float, tuple]) -> float:
    """Normalised daily profile (mean 1 over 24 h) at local ``hour``.

    >>> hours = np.arange(0, 24, 0.05)
    >>> round(float(np.mean([daily_shape(h, SHAPES["office"]) for h in hours])), 3)
    1.0
    """
    return float(at_hour(_table(shape), hour))


@functools.lru_cache(maxsize=64)
def _table(shape: tuple[float, tuple]) -> np.ndarray:
    """The normalised daily table of a (base, bumps) shape (cached; shapes are tuples)."""
    return profile_table(shape[1], base=shape[0], normalise=True)


class Demand(WorldComponent):
    """Power, water and gas demand of every building."""

    _name = "Demand"
    FIELDS = {
        "air__temperature": FieldSpec("degC", "in", "outdoor air temperature", WORLD),
        "building__power_available": FieldSpec("1", "in", "1 supplied, 0 outage", "building"),
        "building__gas_leak_flow": FieldSpec("m3 s-1", "in", "gas lost by a leak", "building"),
        "building__demand_noise": FieldSpec("1", "inout", "state: log noise (power)", "building"),
        "building__water_noise": FieldSpec("1", "inout", "state: log noise (water)", "building"),
        "building__gas_noise": FieldSpec("1", "inout", "state: log noise (gas)", "building"),
        "building__power_demand": FieldSpec("W", "out", "electric power demand", "building"),
        "building__water_demand": FieldSpec("m3 s-1", "out", "water demand", "building"),
        "building__gas_flow_rate": FieldSpec("m3 s-1", "out", "gas consumption", "building"),
    }

    def __init__(self, sites, schedule, *, utc_offset_s=0.0):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        b = sites["building"]
        use = np.array([u if u in RATES else "mixed" for u in b["use"].to_numpy()], dtype=object)
        self._use = use
        rates = np.array([RATES[u] for u in use], float).reshape(-1, 3)
        people = b["occupants"].to_numpy(float)
        people = np.where(people > 0, people, b["floor_m2"].to_numpy(float) / 30.0)
        self.mean_power = rates[:, 0] * b["floor_m2"].to_numpy(float)
        self.mean_water = rates[:, 1] * people / 86400.0
        self.mean_gas = rates[:, 2] * people / 86400.0
        self._uses = sorted(set(use))
        self._use_index = np.array([self._uses.index(u) for u in use], int)
        self._tables = np.array([_table(SHAPES[u]) for u in self._uses]).reshape(
            len(self._uses), PROFILE_HOURS.size
        )
        self._weekend = np.array([WEEKEND.get(u, 1.0) for u in self._uses])

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def factors(self, t: float) -> tuple[np.ndarray, float]:
        """Daily × weekly factor of each building (power, water) and the gas factor at ``t``."""
        hour = local_hour(t, self._utc_offset_s)
        per_use = at_hour(self._tables, hour)
        if local_weekday(t, self._utc_offset_s) >= 5:
            per_use = per_use * self._weekend
        return per_use[self._use_index], float(at_hour(_table(GAS_SHAPE), hour))

    def run_one_step(self, dt: float) -> None:
        f, t = self._fields, self._t
        if dt > 0:
            n_p = self.ou_step("building__demand_noise", dt, NOISE_TAU_S, NOISE_SD)
            n_w = self.ou_step("building__water_noise", dt, NOISE_TAU_S, NOISE_SD)
            n_g = self.ou_step("building__gas_noise", dt, NOISE_TAU_S, NOISE_SD)
        else:
            n_p, n_w, n_g = (f[f"building__{k}_noise"] for k in ("demand", "water", "gas"))
        main, gas = self.factors(t)
        cooling = 1.0 + COOLING_PER_K * max(0.0, float(f["air__temperature"]) - COOLING_FROM_C)
        f["building__power_demand"] = (
            self.mean_power * main * cooling * np.exp(n_p) * f["building__power_available"]
        )
        f["building__water_demand"] = self.mean_water * main * np.exp(n_w)
        f["building__gas_flow_rate"] = (
            self.mean_gas * gas * np.exp(n_g) + f["building__gas_leak_flow"]
        )


def mean_water_demand(sites) -> np.ndarray:
    """Mean water demand of each building over a day, m³/s (used to size the network)."""
    b = sites["building"]
    use = [u if u in RATES else "mixed" for u in b["use"].to_numpy()]
    per_person = np.array([RATES[u][1] for u in use], float)
    people = b["occupants"].to_numpy(float)
    people = np.where(people > 0, people, b["floor_m2"].to_numpy(float) / 30.0)
    return per_person * people / 86400.0
