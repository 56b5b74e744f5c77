"""The world's physics: storm totals, river and drain response, ponding, crowds, cycles."""

from __future__ import annotations

import numpy as np
import pytest

from sim.world import World
from sim.world.clock import periodic_bumps
from sim.world.crowds import PROFILES
from sim.world.weather import make_storm
from tests.sim.test_world import T0, make_world, sensor_index
from twin.samples import tiny_registry


@pytest.fixture(scope="module")
def registry():
    return tiny_registry()


def record(w: World, until: float, every: float, fn):
    """Advance ``w`` to ``until`` in steps of ``every`` seconds, collecting ``fn(w)``."""
    times, values = [], []
    t = w.t
    while t < until - 1e-9:
        t = min(t + every, until)
        w.advance_to(t)
        times.append(t)
        values.append(fn(w))
    return np.array(times), np.array(values)


def test_storm_total_at_its_centre_is_the_design_total_within_5_percent(registry):
    w = make_world(registry, background_rain=False)
    gx, gy = w.sites.xy("gauge")
    w.start_storm(total_mm=60, duration_s=3600, center=(gx[0], gy[0]), speed_m_s=3.0, at=T0 + 600)
    t, rain = record(w, T0 + 600 + 3600 + 60, 60.0, lambda w: w.truth()["gauges"].iloc[0, 0])
    total_mm = np.trapezoid(rain, t) * 1e3
    assert total_mm == pytest.approx(60.0, rel=0.05)


def test_storm_centre_may_be_given_in_lon_lat(registry):
    w = make_world(registry, background_rain=False)
    gauge = registry.sensors.geometry.iloc[0]  # SN001, the rain gauge, in WGS 84
    sid = w.start_storm(total_mm=10, duration_s=600, center=(gauge.x, gauge.y))
    cx, cy = next(e for e in w.events() if e["event_id"] == sid)["params"]["center"]
    gx, gy = w.sites.xy("gauge")
    assert np.hypot(cx - gx[0], cy - gy[0]) < 0.01


def test_moving_cell_rains_less_away_from_its_centre():
    storm = make_storm(
        "S",
        start=0,
        total_mm=50,
        duration_s=7200,
        center=(0.0, 0.0),
        speed_m_s=2.0,
        direction_deg=90.0,
        radius_m=3000.0,
    )
    t = np.linspace(0, 7200, 7201)
    at_centre = np.trapezoid(
        [storm.intensity(s, np.array([0.0]), np.array([0.0]))[0] for s in t], t
    )
    aside = np.trapezoid([storm.intensity(s, np.array([0.0]), np.array([5000.0]))[0] for s in t], t)
    assert at_centre * 1e3 == pytest.approx(50.0, rel=1e-3)
    # 5 km off the track: exp(-5000²/(2·3000²)) = 0.25 of the centre's total
    assert aside / at_centre == pytest.approx(np.exp(-(5000**2) / (2 * 3000**2)), rel=1e-3)


def run_storm(registry, total_mm: float):
    """A ``total_mm`` / 1 h storm over the district, sampled every 5 min for 6 h."""
    w = make_world(registry, background_rain=False)
    w.start_storm(total_mm=total_mm, duration_s=3600, at=T0 + 600, speed_m_s=1.0)

    def sample(w):
        tr = w.truth()
        return (
            w.field("catchment__mean_rain_intensity").item(),
            tr["rivers"]["water_level"].iloc[0],
            tr["drains"]["water_depth"].iloc[0],
            tr["roads"]["water_depth"].max(),
            w.field("drain__rain_intensity")[0],
        )

    t, v = record(w, T0 + 6 * 3600, 300.0, sample)
    return w, t, v


@pytest.fixture(scope="module")
def storm_run(registry):
    return run_storm(registry, 60.0)


@pytest.fixture(scope="module")
def shower_run(registry):
    return run_storm(registry, 15.0)  # peak 30 mm/h: within the drains' capacity


def test_river_rises_and_peaks_with_a_lag_after_the_rain(storm_run, shower_run):
    _, t, v = shower_run
    rain, river = v[:, 0], v[:, 1]
    lag_min = (t[np.argmax(river)] - t[np.argmax(rain)]) / 60
    assert 45 <= lag_min <= 180  # two 45 min reservoirs in series
    w, _, v = storm_run
    assert v[:, 1].max() - v[0, 1] > 0.3  # 60 mm on 8 km² is a real flood wave
    # dry weather: the stage is the channel's water surface in the DEM (0 m in the sample)
    assert v[0, 1] == pytest.approx(0.0, abs=1e-6)
    assert v[:, 1].max() < w.truth()["rivers"]["bank_m"].iloc[0]  # 60 mm stays in its banks


def test_drains_respond_faster_than_the_river(shower_run):
    _, t, v = shower_run
    river, drain, drain_rain = v[:, 1], v[:, 2], v[:, 4]
    drain_lag = t[np.argmax(drain)] - t[np.argmax(drain_rain)]
    river_lag = t[np.argmax(river)] - t[np.argmax(v[:, 0])]
    assert 0 <= drain_lag <= 20 * 60  # a 15 min reservoir
    assert drain_lag < river_lag - 30 * 60
    assert drain.max() < 1.0  # no surcharge in a shower
    # the drain is back near its dry depth when the river is still up
    late = t >= T0 + 4 * 3600
    assert drain[late].max() < 0.05 and river[late].max() > river[0] + 0.02


def test_low_roads_pond_first_and_drain_after_the_storm(registry, storm_run):
    w, t, v = storm_run
    roads = w.truth()["roads"]
    assert v[:, 3].max() > 0.15  # the lowest roads reach the 15 cm warning depth
    assert roads["water_depth"].max() < 0.02  # gone 2 h after the rain
    # during the storm, depth ordered by how low the road lies
    w2 = make_world(registry, background_rain=False)
    w2.start_storm(total_mm=60, duration_s=3600, at=T0 + 600, speed_m_s=1.0)
    w2.advance_to(T0 + 600 + 2400)
    r = w2.truth()["roads"]
    low, high = r["low_factor"].idxmax(), r["low_factor"].idxmin()
    assert r.loc[low, "water_depth"] > 0.1 > r.loc[high, "water_depth"]


def test_a_storm_beyond_capacity_surcharges_the_drain(registry):
    w = make_world(registry, background_rain=False)
    w.start_storm(total_mm=100, duration_s=3600, at=T0, speed_m_s=0.5)
    w.advance_to(T0 + 1800)
    drains = w.truth()["drains"]
    assert drains["surcharge"].iloc[0] == 1 and drains["water_depth"].iloc[0] > 1.0
    # a light shower stays within capacity
    w = make_world(registry, background_rain=False)
    w.start_storm(total_mm=5, duration_s=3600, at=T0, speed_m_s=0.5)
    w.advance_to(T0 + 1800)
    assert w.truth()["drains"]["surcharge"].iloc[0] == 0


def test_square_busiest_in_the_evening_market_in_the_morning():
    sq = [periodic_bumps(h, PROFILES["square"]) for h in (8.0, 14.0, 20.0)]
    mk = [periodic_bumps(h, PROFILES["market"]) for h in (8.0, 14.0, 20.0)]
    assert sq[2] > sq[0] and sq[2] > sq[1]
    assert mk[0] > mk[1] and mk[0] > mk[2]


def test_scheduled_crowd_event_reaches_its_peak(registry):
    w = make_world(registry)
    w.schedule_crowd_event("F03", T0 + 10 * 3600, 3600, 2500)
    w.advance_to(T0 + 10 * 3600 + 1800)  # mid-plateau
    assert w.truth()["places"].loc["F03", "people_count"] == pytest.approx(2500)
    reading = w.sensor_values()[sensor_index(registry, "SN009")]
    assert reading == pytest.approx(2500, rel=0.12) and reading == round(reading)
    w.advance_to(T0 + 11 * 3600 + 600)
    assert w.truth()["places"].loc["F03", "people_count"] < 1500


def test_rain_empties_the_square(registry):
    dry = make_world(registry, t0=T0 + 19 * 3600, background_rain=False)
    wet = make_world(registry, t0=T0 + 19 * 3600, background_rain=False)
    wet.start_storm(total_mm=40, duration_s=3600, at=T0 + 19 * 3600, speed_m_s=0.5)
    for w in (dry, wet):
        w.advance_to(T0 + 19.5 * 3600)
    people = [w.truth()["places"].loc["F03", "people_count"] for w in (dry, wet)]
    assert people[1] < 0.2 * people[0]


def test_night_pressure_above_evening_peak_pressure(registry):
    def pressure(t_start):
        w = make_world(registry, t0=t_start, sensor_noise=False)
        w.advance_to(t_start + 1800)
        return w.truth()["water_nodes"]["pressure"]

    night, evening = pressure(T0 + 3 * 3600), pressure(T0 + 20 * 3600)
    assert (night.drop("W01") > evening.drop("W01")).all()
    # a plausible municipal supply: 0.2-0.6 MPa everywhere
    assert ((evening > 2e5) & (evening < 6e5)).all()


def test_spontaneous_elevator_faults_are_recorded_as_not_injected(registry):
    w = make_world(registry, params={"Elevators": {"fault_rate_per_day": 100.0}})
    w.advance_to(T0 + 3 * 3600)
    spontaneous = [e for e in w.events() if not e["injected"]]
    assert spontaneous and spontaneous[0]["target"] == "SN014"
    assert spontaneous[0]["kind"] in ("elevator_fault", "elevator_trapped")


def test_indoor_temperature_and_humidity_are_plausible(registry):
    w = make_world(registry)
    w.advance_to(T0 + 14 * 3600)
    b = w.truth()["buildings"]
    assert b["air_temperature"].between(20, 35).all()
    assert b["relative_humidity"].between(0.3, 0.9).all()
