"""Water main bursts: detection and location from pressure/flow changes over the pipe topology.

The twin knows its network (nodes, pipes, lengths, sources) but not the flows. It assumes the
usual supply picture: water reaches each node along the shortest path from a source
(:class:`SupplyTree`). A burst on pipe *p* then leaves a signature on the sensors:

* pressure drops strongly at the nodes downstream of *p* (the subtree below its downstream
  end) and a little everywhere else on the same supply component;
* flow rises, in the supply direction, on every pipe between the source and *p*.

:func:`locate_by_signatures` fits each candidate's signature to the observed changes (least
squares with one amplitude per regressor, a generalised likelihood ratio) and keeps the best;
candidates that explain the changes equally well are resolved to their medoid, which keeps
the distance error small when the sensors cannot tell them apart. The same function takes
signatures computed by a hydraulic model (e.g. WNTR leak runs, see the tests), the classic
sensitivity-matrix method of model-based leak localisation.
"""

from __future__ import annotations

import networkx as nx
import numpy as np

#: node kinds that feed the network (pumps only where no source exists)
SOURCE_KINDS = ("source", "reservoir", "tank")
#: candidates within this explained-χ² of the best are treated as indistinguishable
TIE_CHI2 = 4.0
#: ridge added to the normal equations (keeps empty regressors from being singular)
_RIDGE = 1e-6


class SupplyTree:
    """Shortest-path supply tree of a water network.

    Parameters
    ----------
    node_ids : sequence of str
    node_kinds : sequence of str
    pipe_ids, from_nodes, to_nodes : sequence of str
    lengths : sequence of float
        Pipe lengths, m (the path weight).
    """

    def __init__(self, node_ids, node_kinds, pipe_ids, from_nodes, to_nodes, lengths) -> None:
        self.node_ids = [str(v) for v in node_ids]
        self.pipe_ids = [str(v) for v in pipe_ids]
        n, m = len(self.node_ids), len(self.pipe_ids)
        pos = {k: i for i, k in enumerate(self.node_ids)}
        self.node_pos, self.pipe_pos = pos, {k: i for i, k in enumerate(self.pipe_ids)}
        u = np.array([pos.get(str(a), -1) for a in from_nodes], int)
        v = np.array([pos.get(str(b), -1) for b in to_nodes], int)
        length = np.asarray(lengths, float)
        kinds = np.asarray([str(k) for k in node_kinds], dtype=object)
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        for p in range(m):
            ok = u[p] >= 0 and v[p] >= 0 and u[p] != v[p]
            if ok and (not graph.has_edge(u[p], v[p]) or graph[u[p]][v[p]]["w"] > length[p]):
                graph.add_edge(u[p], v[p], w=length[p], pipe=p)
        self.root = np.full(n, -1)
        self.parent_pipe = np.full(n, -1)
        #: on_path[i, p]: pipe p lies on the supply path of node i
        self.on_path = np.zeros((n, m), bool)
        for comp in nx.connected_components(graph):
            comp = sorted(comp)
            srcs = [i for i in comp if kinds[i] in SOURCE_KINDS] or [
                i for i in comp if kinds[i] == "pump"
            ]
            if not srcs:
                srcs = [comp[0]]
            _, paths = nx.multi_source_dijkstra(graph, srcs, weight="w")
            for i in comp:
                path = paths[i]
                self.root[i] = path[0]
                for a, b in zip(path[:-1], path[1:], strict=True):
                    self.on_path[i, graph[a][b]["pipe"]] = True
                if len(path) > 1:
                    self.parent_pipe[i] = graph[path[-2]][path[-1]]["pipe"]
        depth = self.on_path.sum(axis=1)
        uc, vc = np.maximum(u, 0), np.maximum(v, 0)
        #: downstream end of each pipe, and +1 when supply flows from_node → to_node
        self.down_node = np.where(depth[vc] >= depth[uc], vc, uc)
        self.sign = np.where(self.down_node == vc, 1.0, -1.0)
        #: below[i, p]: node i is downstream of pipe p
        self.below = np.zeros((n, m), bool)
        for p in range(m):
            d = self.down_node[p]
            pp = self.parent_pipe[d]
            self.below[:, p] = self.on_path[:, pp] if pp >= 0 else self.root == self.root[d]
        self.same_component = self.root[:, None] == self.root[self.down_node][None, :]

    @classmethod
    def from_registry(cls, registry) -> SupplyTree:
        """The supply tree of a :class:`twin.registry.Registry`'s water network."""
        nodes, pipes = registry.water_nodes, registry.water_pipes
        return cls(
            nodes["node_id"].astype(str),
            nodes["kind"].astype(str),
            pipes["pipe_id"].astype(str),
            pipes["from_node"].astype(str),
            pipes["to_node"].astype(str),
            pipes["length_m"].to_numpy(float),
        )

    def signatures(self, pressure_nodes, flow_pipes, pressure_level: np.ndarray) -> np.ndarray:
        """Burst signatures of every pipe on the given sensors.

        Parameters
        ----------
        pressure_nodes : sequence of str
            Node id of each pressure sensor (n_p).
        flow_pipes : sequence of str
            Pipe id of each flow sensor (n_f).
        pressure_level : numpy.ndarray
            Normal pressure at each pressure sensor, Pa (a fractional loss scales with it).

        Returns
        -------
        numpy.ndarray
            (n_p + n_f, n_pipes, 3): expected change per unit amplitude of each regressor —
            downstream pressure loss (fraction), component-wide pressure loss (fraction) and
            leak flow (m³/s).
        """
        pn = np.array([self.node_pos.get(str(k), -1) for k in pressure_nodes], int)
        fp = np.array([self.pipe_pos.get(str(k), -1) for k in flow_pipes], int)
        m = len(self.pipe_ids)
        S = np.zeros((len(pn) + len(fp), m, 3))
        level = np.asarray(pressure_level, float)[:, None]
        ok = pn >= 0
        S[: len(pn), :, 0] = np.where(ok[:, None], -level * self.below[np.maximum(pn, 0)], 0.0)
        S[: len(pn), :, 1] = np.where(
            ok[:, None], -level * self.same_component[np.maximum(pn, 0)], 0.0
        )
        okf = fp >= 0
        path = self.on_path[self.down_node][:, np.maximum(fp, 0)].T  # (n_f, m)
        S[len(pn) :, :, 2] = np.where(okf[:, None], path * self.sign[np.maximum(fp, 0)][:, None], 0)
        return S


def glr_scores(
    observed: np.ndarray, signatures: np.ndarray, weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Explained χ² and fitted amplitudes of each candidate signature.

    Parameters
    ----------
    observed : numpy.ndarray
        (n_sensors,) observed changes in standard deviations (NaN = missing).
    signatures : numpy.ndarray
        (n_sensors, n_candidates, k) expected changes per unit amplitude, in the same
        standard-deviation units.
    weight : numpy.ndarray, optional
        (n_sensors,) 0/1 mask of sensors to use.

    Returns
    -------
    chi2 : numpy.ndarray
        (n_candidates,) χ² explained by the candidate's least-squares fit.
    amplitude : numpy.ndarray
        (n_candidates, k) fitted amplitudes.

    >>> S = np.array([[[1.0], [1.0]], [[0.0], [1.0]]])  # 2 sensors, 2 candidates, k = 1
    >>> chi2, a = glr_scores(np.array([3.0, 0.0]), S)
    >>> chi2.round(2).tolist(), a[:, 0].round(2).tolist()
    ([9.0, 4.5], [3.0, 1.5])
    """
    d = np.nan_to_num(np.asarray(observed, float))
    w = np.isfinite(observed).astype(float) if weight is None else weight * np.isfinite(observed)
    X = signatures * w[:, None, None]
    G = np.einsum("snk,snl->nkl", X, X) + _RIDGE * np.eye(X.shape[2])
    b = np.einsum("snk,s->nk", X, d * w)
    a = np.linalg.solve(G, b[..., None])[..., 0]
    return np.einsum("nk,nk->n", a, b), a


def medoid(points: np.ndarray) -> int:
    """Index of the point with the least summed distance to the others.

    >>> medoid(np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]]))
    1
    """
    diff = points[:, None, :] - points[None, :, :]
    return int(np.argmin(np.sqrt((diff**2).sum(-1)).sum(1)))


def locate_by_signatures(
    observed: np.ndarray,
    signatures: np.ndarray,
    xy: np.ndarray,
    *,
    weight: np.ndarray | None = None,
    sign: np.ndarray | None = None,
    tie_chi2: float = TIE_CHI2,
) -> tuple[int, float, np.ndarray]:
    """The candidate that best explains observed changes.

    Parameters
    ----------
    observed, signatures, weight
        As in :func:`glr_scores`.
    xy : numpy.ndarray
        (n_candidates, 2) candidate positions, m (ties are resolved to their medoid).
    sign : numpy.ndarray, optional
        (k,) required sign of each amplitude (+1 / -1 / 0 for free); a candidate whose fit
        has an amplitude of the wrong sign on a regressor it uses scores 0.

    Returns
    -------
    best : int
        Candidate index.
    chi2 : float
        Its explained χ².
    scores : numpy.ndarray
        Explained χ² of every candidate.
    """
    chi2, a = glr_scores(observed, signatures, weight)
    if sign is not None:
        used = np.abs(signatures).sum(axis=0) > 0  # (n, k)
        bad = (used & (np.asarray(sign)[None, :] * a < 0)).any(axis=1)
        chi2 = np.where(bad, 0.0, chi2)
    top = float(chi2.max()) if len(chi2) else 0.0
    tied = np.flatnonzero(chi2 >= top - tie_chi2)
    best = int(tied[medoid(xy[tied])]) if len(tied) > 1 else int(np.argmax(chi2))
    return best, float(chi2[best]), chi2
