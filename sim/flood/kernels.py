"""Numba kernel of the local-inertial flood model: one fused, row-swept pass per time step.

The scheme is Bates et al. (2010) with the θ-weighted flux of de Almeida et al. (2012)::

    q' = [θ q + (1-θ)/2 (q_l + q_r) - g h_f Δt ∂η/∂x] / [1 + g Δt n² |q| / h_f^(7/3)]

on a staggered grid: depths ``h`` at cell centres (ny, nx), unit-width discharges ``qx`` on
x-faces (ny, nx+1) and ``qy`` on y-faces (ny+1, nx), all in SI units. The flow depth of a face is
``h_f = max(η_a, η_b) - max(z_a, z_b)``, which keeps a lake at rest at rest over any bed.

Positivity: a cell whose outflows would take more than its water gets a factor ``f < 1``; every
face is scaled by its donor cell's factor, so what leaves one cell enters its neighbour exactly.

Speed (the step is memory-bound: 1000 × 1000 float32 fields do not fit in cache). Each block of
rows is swept once per step, bottom to top, with a one-row look-ahead held in small ring buffers
(``QX``, ``QY``, ``F``: a few rows, in L1/L2): at row ``i`` the new fluxes and factors of row
``i + 1`` are computed, then row ``i``'s depth is updated and its scaled fluxes stored in place.
Every field is read and written once per step. Blocks run in parallel (``prange``); the few rows
next to a block edge that a neighbour overwrites are copied into *halo snapshots* before the
sweep, so each block sees only old values and the result does not depend on the number of blocks:
serial and parallel runs agree bit for bit. Reductions (drained volume, rain, edge flows) are per
row and summed in row order outside the kernel; the maximum depth is order-free.

``h^(-1/3)`` uses a bit-level first guess and two Newton iterations instead of ``cbrt``: without
Intel SVML numba cannot vectorise ``cbrt``/``pow``, and the friction term would dominate the step
(see shared/pitfalls.md). Arithmetic is float64 whatever the storage precision.
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

#: columns of the per-row output table of :func:`step`
OUT_DRAINED, OUT_HMAX, OUT_RAIN, OUT_W, OUT_E, OUT_S, OUT_N = range(7)
N_OUT = 7
#: halo snapshot rows around a block edge b: h rows b-2..b+1, qx rows b-1..b, qy faces b-2..b+2
HALO_H, HALO_QX, HALO_QY = 4, 2, 5
MIN_BLOCK_ROWS = 4  # a block must be taller than the halo reach

# inverse-cube-root seed for IEEE singles, C - bits/3 (fitted here: 3.5 % error before Newton)
_RCBRT_MAGIC32 = np.int32(0x54A22000)
_THIRD = 1.0 / 3.0
_DIV3 = np.int64(0x55555556)  # ceil(2**32 / 3)


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


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def fast_rcbrt(x, four, third):
    """x^(-1/3) of a positive float to 1.1e-5 relative error, vectorisable, no division.

    A bit-level seed on the float32 pattern (``C - bits/3``, 3.5 % error) and two Newton steps
    ``r (4 - x r³) / 3``, in the type of ``x`` (``four`` and ``third`` given in that type, so
    float32 stays float32: twice the SIMD lanes). The friction term needs h^(-7/3) = r^7
    (error < 1e-4 relative, far below the uncertainty of n): one division per face is left.
    """
    # bits // 3 as a multiply-shift (exact for non-negative int32): Python's floor division
    # checks would stop the loop from vectorising
    b = np.int64(_f32_bits(np.float32(x)))
    r = (x - x) + _bits_f32(_RCBRT_MAGIC32 - np.int32((b * _DIV3) >> 32))
    r = r * (four - x * r * r * r) * third
    return r * (four - x * r * r * r) * third


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _pow_m73(h, four, third):
    """h^(-7/3) for the Manning friction term."""
    r = fast_rcbrt(h, four, third)
    r2 = r * r
    return r2 * r2 * r2 * r


@njit(fastmath={"nnan", "ninf", "nsz", "reassoc"}, cache=True, error_model="numpy")
def row_sum(a):
    """Sum of a 1-D array; one compiled function for every caller, so always the same order."""
    s = 0.0
    for j in range(a.shape[0]):
        s += a[j]
    return s


#: indices of the per-step constants given to the face loops in the storage type
CT_GDT, CT_IDX, CT_IDY, CT_THETA, CT_W, CT_HDRY, CT_ONE, CT_FOUR, CT_THIRD, CT_HALF = range(10)
N_CT = 10


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _face_flux(q0, ql, qr, eta_a, eta_b, z_a, z_b, n2f, k):
    """New interior face flux; every argument and constant in one type (float32 or float64).

    With float32 storage the arithmetic is float32 too (8 SIMD lanes): the new flux is stored
    in float32 anyway, and the bed and surface of a lake at rest are exact in float32 (the
    model snaps them to one quantum), so it stays at rest.
    """
    gdt, inv_dist, theta, w, hdry, one, four, third = k
    hf = max(eta_a, eta_b) - max(z_a, z_b)
    hs = max(hf, hdry)  # branch-free: computed everywhere, then selected, so loops vectorise
    qavg = theta * q0 + w * (ql + qr)
    q = (qavg - gdt * hs * (eta_b - eta_a) * inv_dist) / (
        one + gdt * n2f * abs(q0) * _pow_m73(hs, four, third)
    )
    return q if hf > hdry else one - one


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _edge_flux(kind, level, q0, h_in, z_in, n2, dt, dist, hdry, inward):
    """Flux through a domain edge face; ``inward`` = +1 if positive q enters the domain.

    LEVEL: the water-surface elevation ``level`` is imposed on the edge itself, half a cell
    from the centre. FREE: a ghost cell continues the inner surface with slope ``level``
    (dimensionless, e.g. 0.001), so water leaves at the normal-flow rate and never enters.
    """
    if kind == CLOSED:
        return 0.0
    h_in = np.float64(h_in)
    z_in = np.float64(z_in)
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
    q_out = -inward * q0  # positive "outward" discharge from the inner surface gradient
    q_out = (q_out + G * hf * dt * grad_in) / (
        1.0 + G * dt * n2 * abs(q0) * _pow_m73(hf, 4.0, _THIRD)
    )
    if kind == FREE and q_out < 0.0:
        q_out = 0.0
    return -inward * q_out


@njit(inline="always", fastmath=FASTMATH, error_model="numpy")
def _scaled(q, f_pos, f_neg):
    """A face flux scaled by its donor cell's factor (``f_pos`` if q > 0, else ``f_neg``)."""
    return q * (f_pos if q > 0.0 else f_neg)


# ------------------------------------------------------------------ row accessors (old values)
@njit(cache=True)
def _h_row(h, hs, i, k, r0, r1):
    if i < r0:
        return hs[k, i - r0 + 2]
    if i >= r1:
        return hs[k + 1, i - r1 + 2]
    return h[i]


@njit(cache=True)
def _qx_row(qx, qxs, i, k, r0, r1):
    if i < r0:
        return qxs[k, i - r0 + 1]
    if i >= r1:
        return qxs[k + 1, i - r1 + 1]
    return qx[i]


@njit(cache=True)
def _qy_row(qy, qys, i, k, r0, r1, ny):
    if i < r0:
        return qys[k, i - r0 + 2]
    if i >= r1 and r1 < ny:
        return qys[k + 1, i - r1 + 2]
    return qy[i]


@njit(cache=True)
def _sel(a, i):
    """Row ``i`` of a per-cell field, or its only row when it is uniform (shape (1, nx))."""
    return a[i] if a.shape[0] > 1 else a[0]


# ------------------------------------------------------------------ new fluxes of one row
@njit(fastmath=FASTMATH, cache=True, error_model="numpy")
def _new_qx(dst, hr, zr, qr, n2r, bck, bcl, i, dt, dx, hdry, ct):
    nx = hr.shape[0]
    half = ct[CT_HALF]
    # constants as scalars (a tuple), so the loop need not reload them after each store
    kc = (ct[CT_GDT], ct[CT_IDX], ct[CT_THETA], ct[CT_W], ct[CT_HDRY], ct[CT_ONE], ct[CT_FOUR],
          ct[CT_THIRD])  # fmt: skip
    for j in range(1, nx):
        za, zb = zr[j - 1], zr[j]
        dst[j] = _face_flux(
            qr[j], qr[j - 1], qr[j + 1], za + hr[j - 1], zb + hr[j], za, zb,
            half * (n2r[j - 1] + n2r[j]), kc,
        )  # fmt: skip
    dst[0] = _edge_flux(bck[0], bcl[0, i], qr[0], hr[0], zr[0], n2r[0], dt, dx, hdry, 1.0)
    dst[nx] = _edge_flux(
        bck[1], bcl[1, i], qr[nx], hr[nx - 1], zr[nx - 1], n2r[nx - 1], dt, dx, hdry, -1.0
    )


@njit(fastmath=FASTMATH, cache=True, error_model="numpy")
def _new_qy(dst, m, k, r0, r1, h, hs, z, qy, qys, n2, bck, bcl, dt, dy, hdry, ct):
    """New flux of y-face row ``m`` (between cell rows m-1 and m) into ``dst``."""
    ny, nx = h.shape
    if m == 0 or m == ny:
        c = 0 if m == 0 else ny - 1
        hr = _h_row(h, hs, c, k, r0, r1)
        zr = z[c]
        n2r = _sel(n2, c)
        q0 = _qy_row(qy, qys, m, k, r0, r1, ny)
        kind = bck[2] if m == 0 else bck[3]
        lv = bcl[2] if m == 0 else bcl[3]
        inward = 1.0 if m == 0 else -1.0
        for j in range(nx):
            dst[j] = _edge_flux(kind, lv[j], q0[j], hr[j], zr[j], n2r[j], dt, dy, hdry, inward)
        return
    hb = _h_row(h, hs, m - 1, k, r0, r1)
    ha = _h_row(h, hs, m, k, r0, r1)
    zb, za = z[m - 1], z[m]
    nb, na = _sel(n2, m - 1), _sel(n2, m)
    q0 = _qy_row(qy, qys, m, k, r0, r1, ny)
    ql = _qy_row(qy, qys, m - 1, k, r0, r1, ny)
    qr = _qy_row(qy, qys, m + 1, k, r0, r1, ny)
    half = ct[CT_HALF]
    kc = (ct[CT_GDT], ct[CT_IDY], ct[CT_THETA], ct[CT_W], ct[CT_HDRY], ct[CT_ONE], ct[CT_FOUR],
          ct[CT_THIRD])  # fmt: skip
    for j in range(nx):
        dst[j] = _face_flux(
            q0[j], ql[j], qr[j], zb[j] + hb[j], za[j] + ha[j], zb[j], za[j],
            half * (nb[j] + na[j]), kc,
        )  # fmt: skip


@njit(fastmath=FASTMATH, cache=True, error_model="numpy")
def _factors(dst, qxr, qylo, qyhi, hr, rr, dt, dx, dy):
    """Outflow factors of one cell row; returns whether any is below one."""
    n_lim = 0
    area = dx * dy
    for j in range(hr.shape[0]):
        out = dt * (
            dy * (max(qxr[j + 1], 0.0) - min(qxr[j], 0.0))
            + dx * (max(qyhi[j], 0.0) - min(qylo[j], 0.0))
        )
        avail = (hr[j] + rr[j] * dt) * area
        lim = out > avail
        dst[j] = avail / out if lim else 1.0
        n_lim += lim
    return n_lim > 0


@njit(fastmath=FASTMATH, cache=True, error_model="numpy")
def _row_ahead(r, k, r0, r1, h, hs, z, qx, qxs, qy, qys, n2, rain, bck, bcl, QX, QY, F, LIM, c,
               ct):  # fmt: skip
    """New x-fluxes of row r, new y-fluxes of face r+1 and outflow factors of row r."""
    dt, dx, dy, hdry = c[0], c[1], c[2], c[4]
    hr = _h_row(h, hs, r, k, r0, r1)
    _new_qx(QX[r % 4], hr, z[r], _qx_row(qx, qxs, r, k, r0, r1), _sel(n2, r), bck, bcl, r,
            dt, dx, hdry, ct)  # fmt: skip
    _new_qy(QY[(r + 1) % 4], r + 1, k, r0, r1, h, hs, z, qy, qys, n2, bck, bcl, dt, dy, hdry, ct)
    LIM[r % 4] = _factors(F[r % 4], QX[r % 4], QY[r % 4], QY[(r + 1) % 4], hr, _sel(rain, r),
                          dt, dx, dy)  # fmt: skip


@njit(fastmath=FASTMATH, cache=True, error_model="numpy")
def _scale_qy(qyr, flo, fhi):
    for j in range(qyr.shape[0]):
        qyr[j] = _scaled(qyr[j], flo[j], fhi[j])


@njit(fastmath=FASTMATH, cache=True, error_model="numpy")
def _scale_qx(qxr, fr):
    nx = fr.shape[0]
    for j in range(nx + 1):
        qxr[j] = _scaled(qxr[j], fr[j - 1] if j > 0 else 1.0, fr[j] if j < nx else 1.0)


def _sweep_block(k, bnd, h, z, qx, qy, n2, rain, drain, bck, bcl, c, ct, max_depth, t_first,
                 hs, qxs, qys, QX, QY, F, LIM, REM, out):  # fmt: skip
    """Advance rows [bnd[k], bnd[k+1]) by one step; see the module docstring."""
    ny, nx = h.shape
    dt, dx, dy = c[0], c[1], c[2]
    t_end, thr, has_drain = c[5], np.float32(c[6]), c[7] > 0.0
    rain_field = rain.shape[0] > 1
    r0, r1 = bnd[k], bnd[k + 1]
    QXk, QYk, Fk, Lk, rem = QX[k], QY[k], F[k], LIM[k], REM[k]
    _new_qy(QYk[r0 % 4], r0, k, r0, r1, h, hs, z, qy, qys, n2, bck, bcl, dt, dy, c[4], ct)
    if r0 > 0:
        _new_qy(QYk[(r0 - 1) % 4], r0 - 1, k, r0, r1, h, hs, z, qy, qys, n2, bck, bcl, dt, dy,
                c[4], ct)  # fmt: skip
        _row_ahead(r0 - 1, k, r0, r1, h, hs, z, qx, qxs, qy, qys, n2, rain, bck, bcl, QXk, QYk,
                   Fk, Lk, c, ct)  # fmt: skip
    else:
        Fk[(r0 - 1) % 4, :] = 1.0
        Lk[(r0 - 1) % 4] = False
    _row_ahead(r0, k, r0, r1, h, hs, z, qx, qxs, qy, qys, n2, rain, bck, bcl, QXk, QYk, Fk, Lk, c,
               ct)  # fmt: skip
    if Lk[(r0 - 1) % 4] or Lk[r0 % 4]:
        _scale_qy(QYk[r0 % 4], Fk[(r0 - 1) % 4], Fk[r0 % 4])
    idx, idy = 1.0 / dx, 1.0 / dy
    for i in range(r0, r1):
        s0, s1 = i % 4, (i + 1) % 4
        if i + 1 < ny:
            _row_ahead(i + 1, k, r0, r1, h, hs, z, qx, qxs, qy, qys, n2, rain, bck, bcl, QXk,
                       QYk, Fk, Lk, c, ct)  # fmt: skip
        else:
            Fk[s1, :] = 1.0
            Lk[s1] = False
        if Lk[s0] or Lk[s1]:
            _scale_qy(QYk[s1], Fk[s0], Fk[s1])
        if Lk[s0]:
            _scale_qx(QXk[s0], Fk[s0])
        qxr, qlo, qhi = QXk[s0], QYk[s0], QYk[s1]
        hr, rr, dr = h[i], _sel(rain, i), _sel(drain, i)
        md = max_depth[i]
        hmax = 0.0
        n_cross = 0
        # two short loops rather than one: few pointers per loop keep LLVM's alias checks
        # cheap enough that both vectorise (the row is in L1 between them)
        for j in range(nx):
            hn = hr[j] + dt * (rr[j] + (qxr[j] - qxr[j + 1]) * idx + (qlo[j] - qhi[j]) * idy)
            rem[j] = max(hn, 0.0)
        for j in range(nx):
            hn = rem[j]
            removed = min(hn, dr[j] * dt)
            rem[j] = removed
            hnew = hn - removed
            hr[j] = hnew
            hmax = max(hmax, hnew)
            n_cross += 1 if (np.float32(hnew) >= thr and md[j] < thr) else 0
        if n_cross > 0:  # first exceedance: the old maximum was below the threshold
            tf = t_first[i]
            for j in range(nx):
                if np.float32(hr[j]) >= thr and md[j] < thr:
                    tf[j] = t_end
        for j in range(nx):
            md[j] = max(md[j], np.float32(hr[j]))
        qxo, qyo = qx[i], qy[i]
        for j in range(nx + 1):
            qxo[j] = qxr[j]
        for j in range(nx):
            qyo[j] = qlo[j]
        o = out[i]
        o[OUT_DRAINED] = row_sum(rem) if has_drain else 0.0
        o[OUT_HMAX] = hmax
        o[OUT_RAIN] = row_sum(rr) if rain_field else 0.0
        o[OUT_W] = qxr[0] * dy
        o[OUT_E] = -qxr[nx] * dy
        o[OUT_S] = row_sum(qlo) * dx if i == 0 else 0.0
        o[OUT_N] = 0.0
    if r1 == ny:
        qhi = QYk[ny % 4]
        qyo = qy[ny]
        for j in range(nx):
            qyo[j] = qhi[j]
        out[ny - 1, OUT_N] = -row_sum(qhi) * dx


def _step_py(h, z, qx, qy, n2, rain, drain, bck, bcl, c, ct, max_depth, t_first, bnd, hs, qxs,
             qys, QX, QY, F, LIM, REM, out):  # fmt: skip
    """One time step over the whole grid (see :func:`step`)."""
    nb = bnd.shape[0] - 1
    for k in range(1, nb):  # halo snapshots: old rows that a neighbouring block overwrites
        b = bnd[k]
        hs[k] = h[b - 2 : b + 2]
        qxs[k] = qx[b - 1 : b + 1]
        qys[k] = qy[b - 2 : b + 3]
    for k in prange(nb):
        _sweep_block(k, bnd, h, z, qx, qy, n2, rain, drain, bck, bcl, c, ct, max_depth, t_first,
                     hs, qxs, qys, QX, QY, F, LIM, REM, out)  # fmt: skip


def step_constants(out: np.ndarray, dt: float, dx: float, dy: float, theta: float, hdry: float):
    """Fill ``out`` (length ``N_CT``, storage dtype) with the face-loop constants."""
    out[:] = (G * dt, 1.0 / dx, 1.0 / dy, theta, 0.5 * (1.0 - theta), hdry, 1.0, 4.0, _THIRD, 0.5)
    return out


def _renamed(func, suffix: str):
    """A copy of ``func`` under another qualified name, so each build has its own disk cache."""
    copy = types_mod.FunctionType(func.__code__, func.__globals__, func.__name__ + suffix)
    copy.__qualname__ = func.__qualname__ + suffix
    return copy


_sweep_block = njit(fastmath=FASTMATH, cache=True)(_sweep_block)


def _build(parallel: bool):
    opts = {
        "parallel": parallel,
        "fastmath": FASTMATH,
        "cache": True,
        "nogil": True,
        "error_model": "numpy",  # no ZeroDivisionError checks: they stop vectorisation
    }
    return njit(**opts)(_renamed(_step_py, "_par" if parallel else "_ser"))


#: ``step(h, z, qx, qy, n2, rain, drain, bc_kind, bc_level, consts, consts_t, max_depth,
#: t_first, block_edges, halo_h, halo_qx, halo_qy, QX, QY, F, LIM, REM, out)``; ``consts`` =
#: [dt, dx, dy, theta, h_dry, t_end, threshold, has_drain] (float64), ``consts_t`` the
#: ``CT_*`` constants in the storage type (see :func:`step_constants`). Scratch shapes: see
#: :func:`sim.flood.model.FloodModel` (``_alloc_scratch``).
STEP_PARALLEL = _build(True)
STEP_SERIAL = _build(False)
