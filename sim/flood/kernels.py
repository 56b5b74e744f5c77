"""Numba kernels of the local-inertial flood model: face fluxes, positivity limiter, depth update.

The scheme is Bates et al. (2010) with the θ-weighted flux of de Almeida et al. (2012)::

    q' = [θ q + (1-θ)/2 (q_l + q_r) - g h_f Δt ∂η/∂x] / [1 + g Δt n² |q| / h_f^(7/3)]

on a staggered grid: depths ``h`` at cell centres (ny, nx), unit-width discharges ``qx`` on
x-faces (ny, nx+1) and ``qy`` on y-faces (ny+1, nx), all in SI units. The flow depth of a face is
``h_f = max(η_a, η_b) - max(z_a, z_b)``, which keeps a lake at rest at rest over any bed.

Three passes per step, each parallel over rows (``prange``) and free of cross-row races, so the
parallel and serial builds give bit-identical results:

1. ``_faces``: new fluxes from old depths and fluxes (double-buffered).
2. ``_limit``: per-cell factor ``f ≤ 1`` scaling a cell's outflows so its depth cannot go below
   zero; every face is then scaled by its donor cell's factor, which keeps the scheme exactly
   conservative (what leaves one cell enters its neighbour).
3. ``_update``: depth update with rain and drains, per-row sums for the mass balance, the
   per-row maximum depth for the next CFL step, and max-depth / first-exceedance tracking.
4. ``_scale_faces``: store the scaled fluxes, only in the (few) rows next to a limited cell.

Fields broadcast from scalars by zero strides (``r[i * ri, j * rj]``), so a uniform rain or a
single Manning's n costs no memory traffic. ``h^(1/3)`` uses a bit-level first guess and two
Halley iterations instead of ``cbrt``: without Intel SVML numba cannot vectorise ``cbrt``/``pow``,
and the friction term would dominate the step (see shared/pitfalls.md).
"""

from __future__ import annotations

import types as types_mod

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

G = 9.81  # m s-2

#: no reassociation or FMA contraction: the parallel and serial builds must agree bit for bit
FASTMATH = {"nnan", "ninf", "nsz"}

#: boundary kinds per edge
CLOSED, LEVEL, FREE = 0, 1, 2

# Kahan's cube-root seed for IEEE singles: bits / 3 + B1 (≈3 % error)
_CBRT_MAGIC32 = np.int32(709921077)


@intrinsic
def _f32_bits(typingctx, x):
    sig = types.int32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int32))

    return sig, codegen


@intrinsic
def _bits_f32(typingctx, x):
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return sig, codegen


@njit(inline="always", fastmath=FASTMATH)
def fast_cbrt(x):
    """Cube root of a positive float64 to 3e-5 relative error, vectorisable.

    A bit-level seed on the float32 pattern (3 % error) and one Halley step. In the friction
    term this changes h^(7/3) by less than 1e-4 relative, far below the uncertainty of n.
    """
    y = np.float64(_bits_f32(_f32_bits(np.float32(x)) // np.int32(3) + _CBRT_MAGIC32))
    y3 = y * y * y
    return y * (y3 + 2.0 * x) / (2.0 * y3 + x)


@njit(inline="always", fastmath=FASTMATH)
def _face_flux(q0, ql, qr, eta_a, eta_b, z_a, z_b, n2f, dt, inv_dist, theta, hdry):
    hf = max(eta_a, eta_b) - max(z_a, z_b)
    hs = max(hf, hdry)  # branch-free: computed everywhere, then selected, so loops vectorise
    qavg = theta * q0 + 0.5 * (1.0 - theta) * (ql + qr)
    q = (qavg - G * hs * dt * (eta_b - eta_a) * inv_dist) / (
        1.0 + G * dt * n2f * abs(q0) / (hs * hs * fast_cbrt(hs))
    )
    return q if hf > hdry else 0.0


def _faces_py(h, z, qx, qy, qx_new, qy_new, n2, bc_kind, bc_level, dt, dx, dy, theta, hdry):
    """Pass 1: new face fluxes into ``qx_new``/``qy_new``.

    ``n2`` is n² per cell (ny, nx) or one value (1, 1). ``bc_kind`` = kinds of the [west, east,
    south, north] edges; ``bc_level`` rows 0/1 (west/east, length ny) and 2/3 (south/north,
    length nx) hold their LEVEL elevations or FREE slopes.
    """
    ny, nx = h.shape
    one = n2.shape[0] == 1 and n2.shape[1] == 1
    n2s = n2[0, 0]
    idx, idy = 1.0 / dx, 1.0 / dy
    for i in prange(ny + 1):
        if i < ny:
            # x-faces of row i; interior face j lies between cells j-1 and j
            if one:
                for j in range(1, nx):
                    qx_new[i, j] = _face_flux(
                        qx[i, j],
                        qx[i, j - 1],
                        qx[i, j + 1],
                        z[i, j - 1] + h[i, j - 1],
                        z[i, j] + h[i, j],
                        z[i, j - 1],
                        z[i, j],
                        n2s,
                        dt,
                        idx,
                        theta,
                        hdry,
                    )
            else:
                for j in range(1, nx):
                    qx_new[i, j] = _face_flux(
                        qx[i, j],
                        qx[i, j - 1],
                        qx[i, j + 1],
                        z[i, j - 1] + h[i, j - 1],
                        z[i, j] + h[i, j],
                        z[i, j - 1],
                        z[i, j],
                        0.5 * (n2[i, j - 1] + n2[i, j]),
                        dt,
                        idx,
                        theta,
                        hdry,
                    )
            qx_new[i, 0] = _edge_flux(
                bc_kind[0],
                bc_level[0, i],
                qx[i, 0],
                h[i, 0],
                z[i, 0],
                n2s if one else n2[i, 0],
                dt,
                dx,
                hdry,
                1.0,
            )
            qx_new[i, nx] = _edge_flux(
                bc_kind[1],
                bc_level[1, i],
                qx[i, nx],
                h[i, nx - 1],
                z[i, nx - 1],
                n2s if one else n2[i, nx - 1],
                dt,
                dx,
                hdry,
                -1.0,
            )
        # y-faces: face i lies between rows i-1 and i
        if i == 0:
            for j in range(nx):
                qy_new[0, j] = _edge_flux(
                    bc_kind[2],
                    bc_level[2, j],
                    qy[0, j],
                    h[0, j],
                    z[0, j],
                    n2s if one else n2[0, j],
                    dt,
                    dy,
                    hdry,
                    1.0,
                )
        elif i == ny:
            for j in range(nx):
                qy_new[ny, j] = _edge_flux(
                    bc_kind[3],
                    bc_level[3, j],
                    qy[ny, j],
                    h[ny - 1, j],
                    z[ny - 1, j],
                    n2s if one else n2[ny - 1, j],
                    dt,
                    dy,
                    hdry,
                    -1.0,
                )
        elif one:
            for j in range(nx):
                qy_new[i, j] = _face_flux(
                    qy[i, j],
                    qy[i - 1, j],
                    qy[i + 1, j],
                    z[i - 1, j] + h[i - 1, j],
                    z[i, j] + h[i, j],
                    z[i - 1, j],
                    z[i, j],
                    n2s,
                    dt,
                    idy,
                    theta,
                    hdry,
                )
        else:
            for j in range(nx):
                qy_new[i, j] = _face_flux(
                    qy[i, j],
                    qy[i - 1, j],
                    qy[i + 1, j],
                    z[i - 1, j] + h[i - 1, j],
                    z[i, j] + h[i, j],
                    z[i - 1, j],
                    z[i, j],
                    0.5 * (n2[i - 1, j] + n2[i, j]),
                    dt,
                    idy,
                    theta,
                    hdry,
                )


@njit(inline="always", fastmath=FASTMATH)
def _edge_flux(kind, level, q0, h_in, z_in, n2, dt, dist, hdry, inward):
    """Flux through a domain edge face; ``inward`` = +1 if positive q enters the domain.

    LEVEL: the water-surface elevation ``level`` is imposed on the edge itself, half a cell
    from the centre. FREE: a ghost cell continues the inner surface with slope ``level``
    (dimensionless, e.g. 0.001), so water leaves at the normal-flow rate and never enters.
    """
    if kind == CLOSED:
        return 0.0
    eta_in = z_in + h_in
    if kind == LEVEL:
        hf = max(eta_in, level) - z_in
        if hf <= hdry:
            return 0.0
        grad_in = (eta_in - level) / (0.5 * dist)  # surface drop from the inside to the edge
    else:
        hf = h_in
        if hf <= hdry:
            return 0.0
        grad_in = level  # FREE: surface falls outward with the given slope
    hf73 = hf * hf * fast_cbrt(hf)
    # positive "outward" discharge from the inner surface gradient, then signed
    q_out = -inward * q0
    q_out = (q_out + G * hf * dt * grad_in) / (1.0 + G * dt * n2 * abs(q0) / hf73)
    if kind == FREE and q_out < 0.0:
        q_out = 0.0
    return -inward * q_out


def _limit_py(h, qx, qy, rain, f, row_limited, dt, dx, dy):
    """Pass 2: outflow scaling factor per cell, so no depth goes negative.

    ``row_limited[i]`` is set when some cell of row i needs a factor below one (rare: drying
    fronts), so the next passes take their fast path elsewhere.
    """
    ny, nx = h.shape
    one = rain.shape[0] == 1 and rain.shape[1] == 1
    r0 = rain[0, 0]
    for i in prange(ny):
        n_lim = 0
        for j in range(nx):
            out = dt * (
                dy * (max(qx[i, j + 1], 0.0) - min(qx[i, j], 0.0))
                + dx * (max(qy[i + 1, j], 0.0) - min(qy[i, j], 0.0))
            )
            avail = (h[i, j] + (r0 if one else rain[i, j]) * dt) * (dx * dy)
            lim = out > avail
            f[i, j] = avail / out if lim else 1.0
            n_lim += lim
        row_limited[i] = n_lim > 0


@njit(inline="always", fastmath=FASTMATH)
def _scaled(q, f_pos, f_neg):
    """A face flux scaled by its donor cell's factor (``f_pos`` if q > 0, else ``f_neg``)."""
    return q * (f_pos if q > 0.0 else f_neg)


def _update_py(
    h,
    qx,
    qy,
    f,
    row_limited,
    rain,
    drain,
    dt,
    dx,
    dy,
    t_end,
    threshold,
    max_depth,
    t_first,
    row_drained,
    row_hmax,
):
    """Pass 3: depths from the donor-scaled fluxes, rain and drains; tracking of maxima.

    Fluxes are scaled on the fly (edge inflows are never scaled: the outside has no limit);
    rows far from any limited cell take the fast path without reading ``f``.
    """
    ny, nx = h.shape
    rone = rain.shape[0] == 1 and rain.shape[1] == 1
    done = drain.shape[0] == 1 and drain.shape[1] == 1
    r0 = rain[0, 0]
    d0 = drain[0, 0]
    idx, idy = 1.0 / dx, 1.0 / dy
    for i in prange(ny):
        near = (
            row_limited[i] or (i > 0 and row_limited[i - 1]) or (i < ny - 1 and row_limited[i + 1])
        )
        drained = 0.0
        hmax = 0.0
        for j in range(nx):
            qw = qx[i, j]
            qe = qx[i, j + 1]
            qs = qy[i, j]
            qn = qy[i + 1, j]
            if near:
                fc = f[i, j]
                qw = _scaled(qw, f[i, j - 1] if j > 0 else 1.0, fc)
                qe = _scaled(qe, fc, f[i, j + 1] if j < nx - 1 else 1.0)
                qs = _scaled(qs, f[i - 1, j] if i > 0 else 1.0, fc)
                qn = _scaled(qn, fc, f[i + 1, j] if i < ny - 1 else 1.0)
            hn = h[i, j] + dt * ((r0 if rone else rain[i, j]) + (qw - qe) * idx + (qs - qn) * idy)
            hn = max(hn, 0.0)
            removed = min(hn, (d0 if done else drain[i, j]) * dt)
            hn = hn - removed
            drained += removed
            h[i, j] = hn
            hmax = max(hmax, hn)
            hn32 = np.float32(hn)
            max_depth[i, j] = max(max_depth[i, j], hn32)
            if hn >= threshold and not t_first[i, j] <= t_end:  # NaN: not yet exceeded
                t_first[i, j] = t_end
        row_drained[i] = drained
        row_hmax[i] = hmax


def _scale_faces_py(qx, qy, f, row_limited):
    """Pass 4: store the donor-scaled fluxes, only in rows next to a limited cell.

    Iteration k owns x-face row k and y-face row k, so no two iterations write the same face.
    """
    ny = f.shape[0]
    nx = f.shape[1]
    for k in prange(ny + 1):
        below = k > 0 and row_limited[k - 1]
        here = k < ny and row_limited[k]
        if here:
            for j in range(nx + 1):
                qx[k, j] = _scaled(
                    qx[k, j], f[k, j - 1] if j > 0 else 1.0, f[k, j] if j < nx else 1.0
                )
        if below or here:
            for j in range(nx):
                qy[k, j] = _scaled(
                    qy[k, j], f[k - 1, j] if k > 0 else 1.0, f[k, j] if k < ny else 1.0
                )


def _renamed(func, suffix: str):
    """A copy of ``func`` under another qualified name, so each build has its own disk cache."""
    copy = types_mod.FunctionType(func.__code__, func.__globals__, func.__name__ + suffix)
    copy.__qualname__ = func.__qualname__ + suffix
    return copy


def _build(parallel: bool):
    opts = {"parallel": parallel, "fastmath": FASTMATH, "cache": True, "nogil": True}
    suffix = "_par" if parallel else "_ser"
    return tuple(
        njit(**opts)(_renamed(f, suffix))
        for f in (_faces_py, _limit_py, _update_py, _scale_faces_py)
    )


KERNELS_PARALLEL = _build(True)
KERNELS_SERIAL = _build(False)
