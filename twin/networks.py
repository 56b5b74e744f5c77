"""Graphs of the district's networks: the routable road graph and the water supply network."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

#: speed assumed when a road has none (km/h): urban lane speed
DEFAULT_SPEED_KMH = 30.0


def road_graph(roads_metric: gpd.GeoDataFrame) -> nx.MultiGraph:
    """Build the road graph from the roads layer in a metric CRS.

    Parameters
    ----------
    roads_metric : geopandas.GeoDataFrame
        The ``roads`` layer reprojected to a metric CRS.

    Returns
    -------
    networkx.MultiGraph
        Nodes are junction ids with ``x``, ``y`` (m, metric CRS) taken from the first and last
        vertex of each segment; one edge per road keyed by ``road_id`` with ``length_m`` (m),
        ``travel_time_s`` (s), ``kind``, ``name_zh`` and ``width_m``.
    """
    g = nx.MultiGraph()
    geoms = roads_metric.geometry.to_numpy()
    parts = shapely.get_parts(geoms, return_index=True)
    # endpoints: first vertex of the first part, last vertex of the last part
    first = np.full((len(geoms), 2), np.nan)
    last = np.full((len(geoms), 2), np.nan)
    coords, idx = shapely.get_coordinates(parts[0], return_index=True)
    owner = parts[1][idx]
    if len(owner):
        starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
        ends = np.r_[starts[1:] - 1, len(owner) - 1]
        first[owner[starts]] = coords[starts]
        last[owner[ends]] = coords[ends]
    speed = roads_metric["speed_kmh"].to_numpy(dtype=float)
    speed = np.where(speed > 0, speed, DEFAULT_SPEED_KMH)
    length = roads_metric["length_m"].to_numpy(dtype=float)
    travel = length / (speed / 3.6)
    cols = ["road_id", "from_node", "to_node", "kind", "name_zh", "width_m"]
    values = {c: roads_metric[c].to_numpy() for c in cols}
    for i in range(len(roads_metric)):
        u, v = str(values["from_node"][i]), str(values["to_node"][i])
        if u not in g:
            g.add_node(u, x=float(first[i, 0]), y=float(first[i, 1]))
        if v not in g:
            g.add_node(v, x=float(last[i, 0]), y=float(last[i, 1]))
        g.add_edge(
            u,
            v,
            key=str(values["road_id"][i]),
            length_m=float(length[i]),
            travel_time_s=float(travel[i]),
            kind=str(values["kind"][i]),
            name_zh=str(values["name_zh"][i]),
            width_m=float(values["width_m"][i]),
        )
    return g


def water_graph(nodes_metric: gpd.GeoDataFrame, pipes: gpd.GeoDataFrame) -> nx.Graph:
    """Build the water network graph.

    Parameters
    ----------
    nodes_metric : geopandas.GeoDataFrame
        ``water_nodes`` in a metric CRS.
    pipes : geopandas.GeoDataFrame
        ``water_pipes`` (any CRS; only attributes are used).

    Returns
    -------
    networkx.Graph
        Nodes keyed by ``node_id`` with ``kind``, ``elevation_m`` (m), ``x``, ``y`` (m);
        edges with ``pipe_id``, ``diameter_m`` (m) and ``length_m`` (m).
    """
    g = nx.Graph()
    xs = shapely.get_x(nodes_metric.geometry.to_numpy())
    ys = shapely.get_y(nodes_metric.geometry.to_numpy())
    for nid, kind, elev, x, y in zip(
        nodes_metric["node_id"].to_numpy(),
        nodes_metric["kind"].to_numpy(),
        nodes_metric["elevation_m"].to_numpy(dtype=float),
        xs,
        ys,
        strict=True,
    ):
        g.add_node(str(nid), kind=str(kind), elevation_m=float(elev), x=float(x), y=float(y))
    for pid, u, v, d, length in zip(
        pipes["pipe_id"].to_numpy(),
        pipes["from_node"].to_numpy(),
        pipes["to_node"].to_numpy(),
        pipes["diameter_m"].to_numpy(dtype=float),
        pipes["length_m"].to_numpy(dtype=float),
        strict=True,
    ):
        g.add_edge(str(u), str(v), pipe_id=str(pid), diameter_m=float(d), length_m=float(length))
    return g
