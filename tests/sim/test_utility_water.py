"""Burst location: the supply tree of the tiny network, and a WNTR leak located by signatures."""

from __future__ import annotations

from importlib.resources import files

import numpy as np

from sim.utility.water import SupplyTree, locate_by_signatures
from twin.samples import tiny_registry


def test_supply_tree_of_the_tiny_network():
    tree = SupplyTree.from_registry(tiny_registry())
    below = {
        p: sorted(np.array(tree.node_ids)[tree.below[:, k]]) for k, p in enumerate(tree.pipe_ids)
    }
    assert below == {
        "P01": ["W02", "W03", "W04", "W05"],
        "P02": ["W03", "W05"],
        "P03": ["W04"],
        "P04": ["W05"],
    }
    assert tree.sign.tolist() == [1.0, 1.0, 1.0, 1.0]  # every pipe is drawn source → end


def _wntr_pressures(inp, leak_node=None, area=0.0):
    import wntr  # a declared dependency: missing, it must fail, not skip

    wn = wntr.network.WaterNetworkModel(inp)
    wn.options.time.duration = 0
    wn.options.hydraulic.demand_model = "PDD"
    if leak_node is not None:
        wn.get_node(leak_node).add_leak(wn, area=area, start_time=0)
    res = wntr.sim.WNTRSimulator(wn).run_sim()
    return wn, res.node["pressure"].iloc[0]


def test_wntr_net1_leak_is_located_at_the_right_junction_by_sensitivity_signatures():
    import wntr  # a declared dependency: missing, it must fail, not skip

    inp = str(files(wntr).joinpath("library/networks/Net1.inp"))  # shipped with wntr
    wn, base = _wntr_pressures(inp)
    junctions = list(wn.junction_name_list)
    sensors = junctions[::2]  # pressure loggers on every other junction
    xy = np.array([wn.get_node(j).coordinates for j in junctions], float)
    # sensitivity signatures: pressure change per small leak at each candidate junction
    sig = np.zeros((len(sensors), len(junctions), 1))
    for k, j in enumerate(junctions):
        _, p = _wntr_pressures(inp, j, area=0.005)
        sig[:, k, 0] = (p[sensors] - base[sensors]).to_numpy()
    errors = []
    for true in junctions:
        _, p = _wntr_pressures(inp, true, area=0.02)  # a bigger burst than the signatures
        observed = (p[sensors] - base[sensors]).to_numpy() + np.random.default_rng(0).normal(
            0, 0.02, len(sensors)
        )
        best, chi2, _ = locate_by_signatures(observed / 0.02, sig / 0.02, xy, sign=np.array([1]))
        errors.append(float(np.hypot(*(xy[best] - xy[junctions.index(true)]))))
    # Net1 coordinates are in map units (feet-like, pipes ~ 5000 ft = 1524 m): rescale
    errors_m = np.array(errors) * 0.3048
    assert np.median(errors_m) == 0.0
    assert (errors_m == 0).mean() >= 0.75
