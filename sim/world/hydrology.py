"""Hydrology: river stage, storm-drain depth and road ponding, driven by the rain fields.

Three deliberately simple lumped models (all parameters keyword arguments, SI units):

* **River** — catchment rain → runoff (coefficient ``C``) through a Nash cascade of two linear
  reservoirs, each with time constant ``k`` (default 45 min, so the mean lag is 2k = 1.5 h,
  a typical urban-fringe catchment of a few km²). Discharge ``Q = C · A · S₂ / k`` plus base
  flow, stage from a power-law rating ``Q = a (h - h_bed)^b`` (a = 15, b = 1.6). The DEM of a
  channel shows its usual water surface, so the bed is placed such that base flow gives the
  lowest DEM value near the gauge; the stage overtops the bank (DEM at the gauge) in floods.
* **Drains** — one linear reservoir per inlet (k = 15 min) over a contributing area; outflow is
  capped at the pipe capacity (design rain 36 mm/h, ≈ a 2–3 year storm in Guangdong); when
  storage exceeds ``capacity · k`` the drain **surcharges**: depth reaches the pipe crown and
  rises up to ``surcharge_head_m`` into the manhole.
* **Road ponding** — a bucket per road fed by ``rain × low_factor`` (low-lying roads, by their
  lowest DEM point relative to the district, collect runoff from up to ``max_factor`` times
  their own area) and emptied by inlets up to a capacity that grows like an orifice with the
  standing water (× √(1 + h / 5 cm)) and shrinks when drains surcharge.
"""

from __future__ import annotations

import numpy as np

from sim.world.base import WORLD, FieldSpec, WorldComponent

#: design rain intensity of drains and road inlets, m/s (36 mm/h)
DESIGN_RAIN_M_S = 36e-3 / 3600.0
#: head over a road inlet at which its capacity has grown by √2, m
INLET_HEAD_M = 0.05


class River(WorldComponent):
    """River stage from catchment rain (two linear reservoirs in series, power-law rating).

    Parameters
    ----------
    catchment_km2 : float
        Catchment area, km².
    runoff_coefficient : float
        Fraction of rain that runs off.
    k_s : float
        Time constant of each reservoir, s.
    base_flow_m3_s : float
        Dry-weather flow, m³/s; its stage is the DEM water surface near the gauge.
    """

    _name = "River"
    FIELDS = {
        "catchment__mean_rain_intensity": FieldSpec("m s-1", "in", "catchment rain", WORLD),
        "river__storage_1": FieldSpec("m", "inout", "state: runoff depth, reservoir 1", WORLD),
        "river__storage_2": FieldSpec("m", "inout", "state: runoff depth, reservoir 2", WORLD),
        "river__discharge": FieldSpec("m3 s-1", "out", "river discharge", WORLD),
        "river__water_level": FieldSpec("m", "out", "stage above datum", "river"),
    }
    RATING_A, RATING_B = 15.0, 1.6

    def __init__(
        self,
        sites,
        schedule,
        *,
        utc_offset_s=0.0,
        catchment_km2: float = 8.0,
        runoff_coefficient: float = 0.5,
        k_s: float = 2700.0,
        base_flow_m3_s: float = 2.0,
    ):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        self.area_m2 = catchment_km2 * 1e6
        self.c = runoff_coefficient
        self.k = k_s
        self.base_flow = base_flow_m3_s
        base_depth = (base_flow_m3_s / self.RATING_A) ** (1.0 / self.RATING_B)
        self.bed = sites["river"]["surface_m"].to_numpy(float) - base_depth

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def run_one_step(self, dt: float) -> None:
        f = self._fields
        rain = float(f["catchment__mean_rain_intensity"])
        s1, s2 = float(f["river__storage_1"]), float(f["river__storage_2"])
        # exact exponential update of each reservoir over dt with its inflow held constant
        a = np.exp(-dt / self.k)
        s1_new = s1 * a + rain * self.k * (1.0 - a)
        out1 = (s1 + rain * dt - s1_new) / dt if dt > 0 else s1 / self.k
        s2 = s2 * a + out1 * self.k * (1.0 - a)
        f["river__storage_1"], f["river__storage_2"] = np.array(s1_new), np.array(s2)
        q = self.base_flow + self.c * self.area_m2 * s2 / self.k
        f["river__discharge"] = np.array(q)
        f["river__water_level"] = self.bed + (q / self.RATING_A) ** (1.0 / self.RATING_B)


class Drains(WorldComponent):
    """Storm-drain water depth per inlet: a capped linear reservoir that can surcharge.

    Parameters
    ----------
    area_m2 : float
        Contributing area of one inlet, m².
    runoff_coefficient : float
    k_s : float
        Reservoir time constant, s (default 15 min).
    design_rain_m_s : float
        Rain intensity the pipe carries at capacity, m/s.
    pipe_depth_m, surcharge_head_m, dry_depth_m : float
        Pipe crown depth, extra head in the manhole when surcharged, dry-weather depth (m).
    """

    _name = "Drains"
    FIELDS = {
        "drain__rain_intensity": FieldSpec("m s-1", "in", "rain over the inlet", "drain"),
        "drain__storage": FieldSpec("m3", "inout", "state: water stored in the drain", "drain"),
        "drain__water_depth": FieldSpec("m", "out", "water depth in the drain", "drain"),
        "drain__surcharge": FieldSpec("1", "out", "1 when the drain is surcharged", "drain"),
        "drain__surcharged_fraction": FieldSpec("1", "out", "fraction of drains surcharged", WORLD),
    }

    def __init__(
        self,
        sites,
        schedule,
        *,
        utc_offset_s=0.0,
        area_m2: float = 3000.0,
        runoff_coefficient: float = 0.8,
        k_s: float = 900.0,
        design_rain_m_s: float = DESIGN_RAIN_M_S,
        pipe_depth_m: float = 1.0,
        surcharge_head_m: float = 1.5,
        dry_depth_m: float = 0.03,
    ):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        self.inflow_per_rain = runoff_coefficient * area_m2
        self.k = k_s
        self.capacity = runoff_coefficient * area_m2 * design_rain_m_s
        self.full = self.capacity * k_s  # storage at which outflow reaches capacity
        self.pipe_depth, self.head, self.dry = pipe_depth_m, surcharge_head_m, dry_depth_m

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def run_one_step(self, dt: float) -> None:
        f = self._fields
        inflow = self.inflow_per_rain * f["drain__rain_intensity"]
        s = f["drain__storage"]
        # implicit linear reservoir (stable for any dt) while outflow stays below capacity;
        # above it the pipe runs full and storage grows by the excess inflow
        s_lin = (s + inflow * dt) / (1.0 + dt / self.k)
        s_cap = s + (inflow - self.capacity) * dt
        s = np.where(s_lin <= self.full, s_lin, np.maximum(s_cap, self.full))
        s = np.clip(s, 0.0, 1.3 * self.full)  # beyond that water leaves through the inlet
        fill = s / self.full
        over = np.clip((fill - 1.0) / 0.3, 0.0, 1.0)
        depth = self.dry + (self.pipe_depth - self.dry) * np.minimum(fill, 1.0) + self.head * over
        f["drain__storage"] = s
        f["drain__water_depth"] = depth
        f["drain__surcharge"] = (fill >= 1.0).astype(float)
        n = len(s)
        f["drain__surcharged_fraction"] = np.array(
            float(f["drain__surcharge"].mean()) if n else 0.0
        )


class RoadPonding(WorldComponent):
    """Water depth on each road: rain × low-lying factor in, inlet capacity out.

    Parameters
    ----------
    max_factor : float
        Contributing-area factor of the lowest road (the highest has 1).
    exponent : float
        How fast the factor falls with relative height (larger: only the lowest roads pond).
    inlet_capacity_m_s : float
        Water depth per second the road's inlets take away, m/s.
    tau_s : float
        Time to drain standing water when inlets have spare capacity, s.
    surcharge_loss : float
        Fraction of inlet capacity lost when all drains surcharge.
    """

    _name = "RoadPonding"
    FIELDS = {
        "road__rain_intensity": FieldSpec("m s-1", "in", "rain over the road", "road"),
        "drain__surcharged_fraction": FieldSpec("1", "in", "drains surcharged", WORLD),
        "road__water_depth": FieldSpec("m", "inout", "ponding depth on the road", "road"),
    }

    def __init__(
        self,
        sites,
        schedule,
        *,
        utc_offset_s=0.0,
        max_factor: float = 12.0,
        exponent: float = 3.0,
        inlet_capacity_m_s: float = 1.5 * DESIGN_RAIN_M_S,
        tau_s: float = 600.0,
        surcharge_loss: float = 0.5,
    ):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        z = sites["road"]["elev_m"].to_numpy(float)
        span = float(z.max() - z.min()) if len(z) else 0.0
        rel = (z - z.min()) / span if span > 0 else np.zeros_like(z)
        self.low_factor = 1.0 + (max_factor - 1.0) * (1.0 - rel) ** exponent
        self.cap = inlet_capacity_m_s
        self.tau = tau_s
        self.surcharge_loss = surcharge_loss

    def run_one_step(self, dt: float) -> None:
        f = self._fields
        inflow = f["road__rain_intensity"] * self.low_factor
        cap = self.cap * (1.0 - self.surcharge_loss * float(f["drain__surcharged_fraction"]))
        h = f["road__water_depth"]
        # inlets take more under a head of water (orifice flow grows with √head)
        cap = cap * np.sqrt(1.0 + h / INLET_HEAD_M)
        drain = np.minimum(cap, inflow + h / self.tau)
        f["road__water_depth"] = np.maximum(h + (inflow - drain) * dt, 0.0)

    @property
    def factors(self) -> np.ndarray:
        """Contributing-area factor of each road (1 = its own area only)."""
        return self.low_factor
