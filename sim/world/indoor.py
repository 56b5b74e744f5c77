"""Indoor conditions of buildings: air temperature, humidity, smoke alarm and gas concentration.

Indoor temperature sits between the outdoor air and the air-conditioning set point
(``0.4 T_out + 0.6 × 26 °C``); a fire (smoke fault) adds heat at ``fire_heat_k_s`` up to
``fire_max_k`` and the excess decays with a 30 min time constant after it ends. Smoke density
follows its source with a 30 s time constant and the alarm sounds above 0.3 (detectors need
a little smoke). Gas concentration (fraction of the lower explosive limit) tends to the leak
level with a 10 min time constant (room filling) and back to 0 when the leak stops.
"""

from __future__ import annotations

import numpy as np

from sim.world.base import WORLD, FieldSpec, WorldComponent

SET_POINT_C, OUTDOOR_WEIGHT = 26.0, 0.4
SMOKE_TAU_S, SMOKE_ALARM_AT = 30.0, 0.3
GAS_TAU_S = 600.0
FIRE_COOL_TAU_S = 1800.0


class IndoorClimate(WorldComponent):
    """Temperature, humidity, smoke and gas inside each building.

    Parameters
    ----------
    fire_heat_k_s : float
        Heating rate of a fire, K/s.
    fire_max_k : float
        Largest temperature excess of a fire, K.
    """

    _name = "IndoorClimate"
    FIELDS = {
        "air__temperature": FieldSpec("degC", "in", "outdoor air temperature", WORLD),
        "air__relative_humidity": FieldSpec("1", "in", "outdoor humidity", WORLD),
        "building__smoke_source": FieldSpec("1", "in", "1 while a fire smokes", "building"),
        "building__gas_leak_level": FieldSpec("1", "in", "gas level a leak tends to", "building"),
        "building__fire_heat": FieldSpec(
            "K", "inout", "state: fire temperature excess", "building"
        ),
        "building__smoke_density": FieldSpec("1", "inout", "state: smoke 0..1", "building"),
        "building__gas_concentration": FieldSpec("1", "inout", "gas fraction of LEL", "building"),
        "building__smoke_alarm": FieldSpec("1", "out", "smoke alarm 0/1", "building"),
        "building__air_temperature": FieldSpec("degC", "out", "indoor temperature", "building"),
        "building__relative_humidity": FieldSpec("1", "out", "indoor humidity", "building"),
    }

    def __init__(self, sites, schedule, *, utc_offset_s=0.0, fire_heat_k_s=0.5, fire_max_k=300.0):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        self.fire_heat, self.fire_max = fire_heat_k_s, fire_max_k
        n = sites.size("building")
        # buildings differ a little (orientation, insulation): a fixed offset per building
        bx, by = sites.xy("building")
        self._offset = 0.8 * np.sin(bx / 37.0) * np.cos(by / 53.0) if n else np.zeros(0)

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def run_one_step(self, dt: float) -> None:
        f = self._fields
        src = f["building__smoke_source"]
        a_smoke = np.exp(-dt / SMOKE_TAU_S)
        smoke = src + (f["building__smoke_density"] - src) * a_smoke
        heat = f["building__fire_heat"]
        heat = np.where(
            src > 0,
            np.minimum(heat + self.fire_heat * dt, self.fire_max),
            heat * np.exp(-dt / FIRE_COOL_TAU_S),
        )
        target = f["building__gas_leak_level"]
        gas = target + (f["building__gas_concentration"] - target) * np.exp(-dt / GAS_TAU_S)
        t_out = float(f["air__temperature"])
        f["building__smoke_density"] = smoke
        f["building__fire_heat"] = heat
        f["building__gas_concentration"] = gas
        f["building__smoke_alarm"] = (smoke > SMOKE_ALARM_AT).astype(float)
        f["building__air_temperature"] = (
            OUTDOOR_WEIGHT * t_out + (1 - OUTDOOR_WEIGHT) * SET_POINT_C + self._offset + heat
        )
        rh_out = float(f["air__relative_humidity"])
        # air conditioning dries the air; a fire dries it far more
        f["building__relative_humidity"] = np.clip(
            (0.45 + 0.35 * rh_out + 0.02 * self._offset) / (1.0 + heat / 50.0), 0.05, 1.0
        )
