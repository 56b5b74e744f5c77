"""Ensembles on an in-process Dask LocalCluster: probabilities are member fractions."""

from __future__ import annotations

import numpy as np
import pytest

from sim.scenario.certainty import cap_certainty
from sim.scenario.ensemble import BUILDING_THRESHOLDS_M, perturbations, run_ensemble
from sim.scenario.spec import parse_scenario
from twin.samples import tiny_registry

STORM = {
    "hazard": "flood",
    "duration_min": 15,
    "flood": {
        "cell_size_m": 10,
        "drain_capacity_mm_h": 0,
        "rain": {"kind": "uniform", "total_mm": 40, "duration_min": 15},
    },
    "ensemble": {"members": 4, "seed": 5, "rain_intensity_cv": 0.6, "rain_shift_min": 5},
}


@pytest.fixture(scope="module")
def client():
    import distributed  # a declared dependency: missing, it must fail, not skip

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_flood_ensemble_probabilities_equal_member_fractions(client):
    registry = tiny_registry()
    scenario = parse_scenario(STORM, "storm.toml")
    ds, summary = run_ensemble(scenario, registry, client=client)
    members = ds["building_member"].to_numpy()
    assert members.shape == (4, len(registry.buildings))
    assert len(np.unique(members.max(axis=1))) == 4  # the members really differ
    prob = ds["building_probability"].to_numpy()
    assert ((prob >= 0) & (prob <= 1)).all()
    for k, thr in enumerate(BUILDING_THRESHOLDS_M):
        by_hand = [sum(m[b] >= thr for m in members) / 4 for b in range(members.shape[1])]
        np.testing.assert_array_equal(prob[:, k], by_hand)
    road = ds["road_member"].to_numpy()
    np.testing.assert_array_equal(
        ds["road_probability"].sel(road_threshold=0.15), (road >= 0.15).mean(axis=0)
    )
    # expected people = member mean = Σ P(water at the doors) × occupants
    occupants = registry.buildings["occupants"].to_numpy(float)
    assert summary["expected_people_affected"] == pytest.approx(ds["people_member"].mean())
    assert summary["expected_people_affected"] == pytest.approx(float(prob[:, 0] @ occupants))
    assert summary["members"] == 4 and summary["workers"] == 1


def test_an_existing_scheduler_is_reached_by_its_tcp_address(client):
    """``--scheduler tcp://…``: the members run on that cluster's workers, same results."""
    import distributed

    registry = tiny_registry()
    scenario = parse_scenario(STORM, "storm.toml")
    ref, _ = run_ensemble(scenario, registry, members=2, client=client)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        before = cluster.scheduler.transition_counter
        # workers=3 would start a LocalCluster of three; the address wins
        ds, summary = run_ensemble(scenario, registry, members=2, workers=3, scheduler=address)
        assert cluster.scheduler.transition_counter > before  # its scheduler ran the members
    assert summary["members"] == 2 and summary["workers"] == 1
    np.testing.assert_array_equal(ds["building_member"], ref["building_member"])


def test_fire_ensemble_moves_ignitions_within_the_radius(client):
    registry = tiny_registry()
    scenario = parse_scenario(
        {
            "hazard": "fire",
            "duration_min": 30,
            "fire": {"ignition": "B0001", "wind_speed_m_s": 5, "wind_from_deg": 90},
            "ensemble": {"members": 6, "seed": 2, "ignition_radius_m": 60},
        }
    )
    ds, summary = run_ensemble(scenario, registry, client=client)
    reached = ds["building_member"].to_numpy()
    np.testing.assert_array_equal(ds["building_probability"][:, 0], reached.mean(axis=0))
    perts = perturbations(scenario, 6, buildings=registry.metric("buildings"))
    cent = registry.metric("buildings").set_index("building_id").geometry.centroid
    for p in perts:
        assert cent[p.ignition[0]].distance(cent["B0001"]) <= 60.0
    assert len({p.ignition for p in perts}) > 1
    assert len({round(p.wind_from_deg) for p in perts}) == 6


def test_same_seed_same_members():
    scenario = parse_scenario(STORM, "storm.toml")
    a, b = perturbations(scenario, 3), perturbations(scenario, 3)
    assert a == b
    scales = [p.rain_scale for p in perturbations(scenario, 4000)]
    assert np.mean(scales) == pytest.approx(1.0, abs=0.03)  # mean-one log-normal


@pytest.mark.parametrize(
    ("p", "code"),
    [(0.0, "Unlikely"), (0.049, "Unlikely"), (0.05, "Possible"), (0.5, "Possible"),
     (0.51, "Likely"), (1.0, "Likely"), (float("nan"), "Unknown")],
)  # fmt: skip
def test_cap_certainty_follows_the_cap_wording(p, code):
    assert cap_certainty(p) == code


def test_cap_certainty_observed_and_bad_probability():
    assert cap_certainty(0.1, observed=True) == "Observed"
    with pytest.raises(ValueError):
        cap_certainty(1.2)
