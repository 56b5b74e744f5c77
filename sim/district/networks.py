"""Utility networks of a district: water mains along the main roads and 10 kV power feeders.

Water: one node per junction of the arterial/secondary road graph, one pipe per road segment,
fed from a source (waterworks inlet) at the district edge through a pump. Power: each building
is served by the nearest substation; its buildings are split into feeders by k-means and each
feeder's line runs from the substation along the roads to its area.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from sim.district.hierarchy import kmeans

PIPE_DIAMETER_M = {"arterial": 0.6, "secondary": 0.3, "lane": 0.15}
FEEDERS_PER_SUBSTATION = 6
FEEDER_KV = 10.0


def main_graph(roads: pd.DataFrame) -> tuple[pd.DataFrame, nx.Graph]:
    """Arterial + secondary segments of the largest connected part (lanes if that is all)."""
    major = roads[roads["kind"] != "lane"]
    if len(major) < 2:
        major = roads
    g = nx.Graph()
    for i, r in major.iterrows():
        g.add_edge(r["from_node"], r["to_node"], idx=i, length=float(r["length_m"]))
    comp = max(nx.connected_components(g), key=len)
    sub = g.subgraph(comp).copy()
    return major[major["from_node"].isin(comp) & (major["from_node"] != major["to_node"])], sub


def water_network(roads: pd.DataFrame, node_xy: dict, elev) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Water nodes and pipes following the main roads.

    Parameters
    ----------
    roads : DataFrame
        Road segments (metric) with ``from_node, to_node, kind, length_m, geometry``.
    node_xy : dict
        Junction id → (x, y) m.
    elev : callable
        ``elev(x, y) -> z`` ground elevation (m).
    """
    major, g = main_graph(roads)
    nodes = sorted(g.nodes)
    xy = np.array([node_xy[n] for n in nodes])
    z = elev(xy[:, 0], xy[:, 1])
    wid = {n: f"W{i + 1:05d}" for i, n in enumerate(nodes)}
    kind = np.full(len(nodes), "junction", dtype=object)
    # the source: the lowest-degree edge node that is highest (a reservoir main enters uphill)
    edge = [i for i, n in enumerate(nodes) if g.degree(n) == 1] or list(range(len(nodes)))
    src = max(edge, key=lambda i: (z[i], -i))
    kind[src] = "source"
    pump = nodes.index(min(g.neighbors(nodes[src])))
    kind[pump] = "pump"
    wn = pd.DataFrame(
        {
            "node_id": [wid[n] for n in nodes],
            "kind": kind,
            "elevation_m": z.round(2),
            "geometry": shapely.points(xy),
            "junction": nodes,
        }
    )
    pipes = pd.DataFrame(
        {
            "pipe_id": [f"P{i + 1:05d}" for i in range(len(major))],
            "from_node": major["from_node"].map(wid).to_numpy(),
            "to_node": major["to_node"].map(wid).to_numpy(),
            "diameter_m": major["kind"].map(PIPE_DIAMETER_M).to_numpy(),
            "length_m": major["length_m"].round(2).to_numpy(),
            "geometry": major["geometry"].to_numpy(),
        }
    )
    pipes = pipes.dropna(subset=["from_node", "to_node"]).reset_index(drop=True)
    return wn, pipes


def nearest_ids(points_xy: np.ndarray, target_xy: np.ndarray, ids) -> np.ndarray:
    """For each point, the id of the nearest target."""
    _, j = cKDTree(target_xy).query(points_xy)
    return np.asarray(ids, dtype=object)[j]


def power_feeders(
    rng: np.random.Generator,
    substations: pd.DataFrame,
    building_xy: np.ndarray,
    roads: pd.DataFrame,
    node_xy: dict,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Feeders from each substation and the feeder of each building.

    Parameters
    ----------
    substations : DataFrame
        ``facility_id`` and ``x, y`` (m).
    building_xy : (n, 2) array
        Building centroids (m).

    Returns
    -------
    feeders : DataFrame
        ``feeder_id, substation_id, voltage_kv, geometry`` (LineString along roads).
    feeder_of : array of str
        Per building.
    """
    major, g = main_graph(roads)
    nodes = list(g.nodes)
    nxy = np.array([node_xy[n] for n in nodes])
    ntree = cKDTree(nxy)
    sxy = substations[["x", "y"]].to_numpy()
    sub_of = cKDTree(sxy).query(building_xy)[1]
    feeders, feeder_of = [], np.empty(len(building_xy), dtype=object)
    for s, sid in enumerate(substations["facility_id"]):
        members = np.flatnonzero(sub_of == s)
        if members.size == 0:
            continue
        lab = kmeans(rng, building_xy[members], FEEDERS_PER_SUBSTATION)
        start = nodes[ntree.query(sxy[s])[1]]
        for f in range(lab.max() + 1):
            fid = f"{sid}-L{f + 1}"
            mem = members[lab == f]
            feeder_of[mem] = fid
            far = building_xy[mem][np.argmax(np.hypot(*(building_xy[mem] - sxy[s]).T))]
            end = nodes[ntree.query(far)[1]]
            path = nx.shortest_path(g, start, end, weight="length") if start != end else [start]
            coords = [tuple(sxy[s])] + [node_xy[n] for n in path] + [tuple(far)]
            line = shapely.LineString(_dedupe(coords))
            feeders.append(
                {"feeder_id": fid, "substation_id": sid, "voltage_kv": FEEDER_KV, "geometry": line}
            )
    return pd.DataFrame(feeders), feeder_of


def _dedupe(coords: list) -> list:
    out = [coords[0]]
    for c in coords[1:]:
        if np.hypot(c[0] - out[-1][0], c[1] - out[-1][1]) > 1e-6:
            out.append(c)
    if len(out) == 1:
        out.append((out[0][0] + 1.0, out[0][1]))
    return out
