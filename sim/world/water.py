"""Water supply network: node pressures and pipe flows from building demand and bursts.

A stand-in for EPANET that is cheap and monotone: flow follows the **shortest-path tree**
from the sources (pipe length as weight), so each tree pipe carries the demand of everything
downstream of it (pipes closing loops carry none — documented simplification). Head loss per
pipe is Hazen–Williams (C = 120); the resistances are scaled down if needed so that the worst
node loses at most ``max_mean_loss_m`` at mean demand (the network is assumed sized for its
load). Pressure at a node = ρ g (source head − node elevation − path losses). A burst adds
its leak flow at the pipe's downstream end (flows upstream rise) and removes a fraction of
the pressure of every node downstream of the pipe — the way a real burst drains its branch.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
from scipy import sparse

from sim.world.base import FieldSpec, WorldComponent
from sim.world.meters import mean_water_demand

RHO_G = 1000.0 * 9.81  # Pa per m of water
HAZEN_C = 120.0
#: node kinds that feed the network
SOURCE_KINDS = ("source", "reservoir", "tank")


def hazen_williams_r(length_m: np.ndarray, diameter_m: np.ndarray) -> np.ndarray:
    """Hazen–Williams resistance ``r`` (head loss m = r · Q^1.852, Q in m³/s).

    >>> round(float(hazen_williams_r(np.array([1000.0]), np.array([0.3]))[0]), 1)
    529.6
    """
    return 10.67 * length_m / (HAZEN_C**1.852 * np.maximum(diameter_m, 0.01) ** 4.87)


class WaterNetwork(WorldComponent):
    """Pressure at every water node and flow in every pipe.

    Parameters
    ----------
    source_head_m : float
        Pressure head the sources supply above their own elevation, m.
    max_mean_loss_m : float
        Largest path head loss allowed at mean demand (resistances scaled to honour it), m.
    unaffected_loss : float
        Fraction of a burst's pressure loss felt by nodes *not* downstream of it.
    """

    _name = "WaterNetwork"
    FIELDS = {
        "building__water_demand": FieldSpec("m3 s-1", "in", "water demand", "building"),
        "water_pipe__leak_flow": FieldSpec("m3 s-1", "in", "burst leak flow", "water_pipe"),
        "water_pipe__pressure_loss": FieldSpec(
            "1", "in", "fraction of pressure lost downstream", "water_pipe"
        ),
        "water_node__demand": FieldSpec("m3 s-1", "out", "demand drawn at the node", "water_node"),
        "water_node__pressure": FieldSpec("Pa", "out", "water pressure", "water_node"),
        "water_pipe__flow_rate": FieldSpec(
            "m3 s-1", "out", "flow, positive from from_node to to_node", "water_pipe"
        ),
    }

    def __init__(
        self,
        sites,
        schedule,
        *,
        utc_offset_s=0.0,
        source_head_m: float = 38.0,
        max_mean_loss_m: float = 8.0,
        unaffected_loss: float = 0.05,
    ):
        super().__init__(sites, schedule, utc_offset_s=utc_offset_s)
        nodes, pipes = sites["water_node"], sites["water_pipe"]
        n, m = len(nodes), len(pipes)
        pos = sites.position("water_node")
        self.unaffected_loss = unaffected_loss
        z = nodes["elevation_m"].to_numpy(float)
        u = np.array([pos.get(a, -1) for a in pipes["from_node"]], int)
        v = np.array([pos.get(b, -1) for b in pipes["to_node"]], int)
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        length = pipes["length_m"].to_numpy(float)
        for p in range(m):
            valid = u[p] >= 0 and v[p] >= 0 and u[p] != v[p]
            if valid and (not graph.has_edge(u[p], v[p]) or graph[u[p]][v[p]]["w"] > length[p]):
                graph.add_edge(u[p], v[p], w=length[p], pipe=p)
        kinds = nodes["kind"].to_numpy()
        root = np.full(n, -1)
        parent_pipe = np.full(n, -1)
        rows, cols = [], []
        for comp in nx.connected_components(graph):
            comp = sorted(comp)
            srcs = [i for i in comp if kinds[i] in SOURCE_KINDS] or [
                i for i in comp if kinds[i] == "pump"
            ]
            if not srcs:
                srcs = [max(comp, key=lambda i: (z[i], -i))]
            _, paths = nx.multi_source_dijkstra(graph, srcs, weight="w")
            for i in comp:
                path = paths[i]
                root[i] = path[0]
                for a, b in zip(path[:-1], path[1:], strict=True):
                    rows.append(i)
                    cols.append(graph[a][b]["pipe"])
                if len(path) > 1:
                    parent_pipe[i] = graph[path[-2]][path[-1]]["pipe"]
        # path incidence: M[i, p] = 1 when pipe p lies on the supply path of node i
        self.M = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, m))
        self.MT = self.M.T.tocsr()
        depth = np.asarray(self.M.sum(axis=1)).ravel()
        u_c, v_c = np.maximum(u, 0), np.maximum(v, 0)
        # downstream end of each pipe = the endpoint farther (in pipes) from its source
        self.down_node = np.where(depth[v_c] >= depth[u_c], v_c, u_c)
        forward = self.down_node == v_c
        self.sign = np.where(forward, 1.0, -1.0)
        # nodes downstream of each pipe: those whose path passes its downstream end
        Mc = self.M.tocsc()
        down = sparse.lil_matrix((n, m))
        for p in range(m):
            d = self.down_node[p]
            pp = parent_pipe[d]
            if pp >= 0:
                down[:, p] = Mc[:, pp]
            else:  # the downstream end is a source: the whole component hangs below it
                down[:, p] = (root == root[d]).astype(float).reshape(-1, 1)
        self.downstream = down.tocsc()
        self.root = root
        self.static_head = np.where(root >= 0, z[np.maximum(root, 0)] + source_head_m - z, 0.0)
        # building → supplying node (named, else nearest)
        b = sites["building"]
        bx, by = sites.xy("building")
        nx_, ny_ = sites.xy("water_node")
        named = np.array([pos.get(w, -1) for w in b["water_node_id"].to_numpy()], int)
        if n:
            near = np.argmin(
                (bx[:, None] - nx_[None, :]) ** 2 + (by[:, None] - ny_[None, :]) ** 2, 1
            )
            self.b_node = np.where(named >= 0, named, near)
        else:
            self.b_node = np.zeros(len(b), int)
        self.r = hazen_williams_r(length, pipes["diameter_m"].to_numpy(float))
        if n and m:
            mean_loss = self.M @ (
                self.r * np.abs(self._tree_flow(mean_water_demand(sites))) ** 1.852
            )
            worst = float(mean_loss.max()) if len(mean_loss) else 0.0
            if worst > max_mean_loss_m:
                self.r = self.r * (max_mean_loss_m / worst)

    def _node_demand(self, building_demand: np.ndarray) -> np.ndarray:
        n = self._sites.size("water_node")
        if n == 0:
            return np.zeros(0)
        return np.bincount(self.b_node, weights=building_demand, minlength=n).astype(float)

    def _tree_flow(self, building_demand: np.ndarray, leak: np.ndarray | None = None) -> np.ndarray:
        q = self._node_demand(building_demand)
        if leak is not None and len(leak):
            q = q + np.bincount(self.down_node, weights=leak, minlength=len(q))
        return self.MT @ q

    def set_initial_state(self) -> None:
        self.run_one_step(0.0)

    def run_one_step(self, dt: float) -> None:
        f = self._fields
        if self._sites.size("water_node") == 0:
            return
        demand = self._node_demand(f["building__water_demand"])
        leak = f["water_pipe__leak_flow"]
        q = self.MT @ (demand + np.bincount(self.down_node, weights=leak, minlength=len(demand)))
        head = self.static_head - self.M @ (self.r * q**1.852)
        pressure = RHO_G * head
        loss = f["water_pipe__pressure_loss"]
        for p in np.flatnonzero(loss > 0):
            below = self.downstream[:, p].toarray().ravel() > 0
            same = self.root == self.root[self.down_node[p]]
            factor = np.where(
                below, 1.0 - loss[p], np.where(same, 1 - self.unaffected_loss * loss[p], 1.0)
            )
            pressure = pressure * factor
        f["water_node__demand"] = demand
        f["water_node__pressure"] = np.maximum(pressure, 0.0)
        f["water_pipe__flow_rate"] = self.sign * q
