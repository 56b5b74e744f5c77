"""Compiled fire-arrival search: Dijkstra from the ignitions, edge times computed on the fly.

The same Hamada rate as :func:`sim.fire.model.FireSpreadModel.edge_times_s` (which is the
vectorised reference; a test checks both give the same arrival times), but evaluated only for
the edges leaving buildings the fire actually reaches before ``t_end``. One hour of spread in
a registry of millions of buildings thus touches a few thousand edges, not all of them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.fire.hamada import HAMADA_RANGE

_A_LO, _A_HI = HAMADA_RANGE["side_m"]
_D_LO, _D_HI = HAMADA_RANGE["gap_m"]
_V_LO, _V_HI = HAMADA_RANGE["wind_speed_m_s"]


@njit(cache=True)
def _clip(v, lo, hi):
    return min(max(v, lo), hi)


@njit(cache=True)
def edge_time(side_i, side_j, gap, dx, dy, prot_i, prot_j, wind, wx, wy, min_time):
    """Seconds for fire to go from a burning building to a neighbour (Hamada, clamped)."""
    a = _clip(0.5 * (side_i + side_j), _A_LO, _A_HI)
    d = _clip(gap, _D_LO, _D_HI)
    V = _clip(wind, _V_LO, _V_HI)
    involve = (1.0 - prot_i) * (3.0 + 0.375 * a) + prot_i * (5.0 + 0.625 * a)
    gc = (1.0 - prot_j) * 8.0 + prot_j * 16.0
    t_d = (involve + gc * d / (25.0 + 2.5 * V)) / (1.5 * (1.0 + 0.1 * V + 0.007 * V * V))
    t_s = (involve + gc * d / (5.0 + 0.25 * V)) / (1.0 + 0.005 * V * V)
    t_u = (involve + gc * d / (5.0 + 0.2 * V)) / (1.0 + 0.002 * V * V)
    pitch = a + d
    v_d = pitch / (60.0 * t_d)
    v_s = pitch / (60.0 * t_s)
    v_u = pitch / (60.0 * t_u)
    dist = np.hypot(dx, dy)
    k = 1.0
    if V > 0.0 and dist > 0.0:
        k = (dx * wx + dy * wy) / dist
    if k >= 0.0:
        ecc = (v_d - v_s) / v_d
        semi = v_d * v_d / (2.0 * v_d - v_s)
        v = semi * (1.0 - ecc * ecc) / (1.0 - ecc * min(k, 1.0))
    else:
        v = v_s * v_u / np.sqrt(v_u * v_u * (1.0 - k * k) + v_s * v_s * k * k)
    return max(dist / v, min_time)


@njit(cache=True)
def _push(heap_t, heap_i, size, t, i):
    if size == heap_t.size:
        new_t = np.empty(2 * size)
        new_i = np.empty(2 * size, dtype=np.int64)
        new_t[:size] = heap_t
        new_i[:size] = heap_i
        heap_t, heap_i = new_t, new_i
    pos = size
    heap_t[pos] = t
    heap_i[pos] = i
    while pos > 0:
        parent = (pos - 1) >> 1
        # ties broken on the node index, so the order (and any draws) never depends on luck
        if heap_t[parent] < t or (heap_t[parent] == t and heap_i[parent] <= i):
            break
        heap_t[pos] = heap_t[parent]
        heap_i[pos] = heap_i[parent]
        pos = parent
    heap_t[pos] = t
    heap_i[pos] = i
    return heap_t, heap_i, size + 1


@njit(cache=True)
def _pop(heap_t, heap_i, size):
    t0 = heap_t[0]
    i0 = heap_i[0]
    size -= 1
    t = heap_t[size]
    i = heap_i[size]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and (
            heap_t[child + 1] < heap_t[child]
            or (heap_t[child + 1] == heap_t[child] and heap_i[child + 1] < heap_i[child])
        ):
            child += 1
        if t < heap_t[child] or (t == heap_t[child] and i <= heap_i[child]):
            break
        heap_t[pos] = heap_t[child]
        heap_i[pos] = heap_i[child]
        pos = child
    if size > 0:
        heap_t[pos] = t
        heap_i[pos] = i
    return t0, i0, size


@njit(cache=True)
def arrival_times(
    indptr,
    dst,
    gap,
    x,
    y,
    side,
    protected,
    resistive,
    burn_s,
    factor,
    uniform,
    resistive_prob,
    wind,
    wx,
    wy,
    start_nodes,
    start_times,
    t_end,
    min_time,
):
    """First arrival time (s) of fire at every building, ``inf`` beyond ``t_end``.

    ``factor`` (per-edge time multipliers) and ``uniform`` (per-edge draws for fire-resistive
    targets) may be empty arrays, meaning 1 and "never ignite".
    """
    n = x.size
    arrival = np.full(n, np.inf)
    heap_t = np.empty(max(64, 4 * start_nodes.size))
    heap_i = np.empty(heap_t.size, dtype=np.int64)
    size = 0
    for s in range(start_nodes.size):
        i = start_nodes[s]
        t = start_times[s]
        if t <= t_end and t < arrival[i]:
            arrival[i] = t
            heap_t, heap_i, size = _push(heap_t, heap_i, size, t, i)
    while size > 0:
        t, i, size = _pop(heap_t, heap_i, size)
        if t > arrival[i]:
            continue  # a stale entry: the building was reached earlier
        for e in range(indptr[i], indptr[i + 1]):
            j = dst[e]
            if arrival[j] <= t:
                continue
            if resistive[j] and (uniform.size == 0 or uniform[e] >= resistive_prob):
                continue
            te = edge_time(
                side[i],
                side[j],
                gap[e],
                x[j] - x[i],
                y[j] - y[i],
                protected[i],
                protected[j],
                wind,
                wx,
                wy,
                min_time,
            )
            if factor.size > 0:
                te *= factor[e]
            if te > burn_s[i]:
                continue  # the source burns out before the fire crosses
            tj = t + te
            if tj <= t_end and tj < arrival[j]:
                arrival[j] = tj
                heap_t, heap_i, size = _push(heap_t, heap_i, size, tj, j)
    return arrival
