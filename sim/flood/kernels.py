"""Numba kernel of the local-inertial flood model: one fused, row-swept pass per time step.

The scheme is Bates et al. (2010) with the θ-weighted flux of de Almeida et al. (2012)::

    q' = [θ q + (1-θ)/2 (q_l + q_r) - g h_f Δt ∂η/∂x] / [1 + g Δt n² |q| / h_f^(7/3)]

on a staggered grid: depths ``h`` at cell centres (ny, nx), unit-width discharges ``qx`` on
x-faces (ny, nx+1) and ``qy`` on y-faces (ny+1, nx), all in SI units. The flow depth of a face is
``h_f = max(η_a, η_b) - max(z_a, z_b)``, which keeps a lake at rest at rest over any bed.

Positivity: a cell whose outflows would take more than its water gets a factor ``f < 1``; every
face is scaled by its donor cell's factor, so what leaves one cell enters its neighbour exactly.

Speed (1000 × 1000 float32 fields do not fit in cache; on this 2-core Zen machine the step is
mostly bound by the face arithmetic, but every extra field streamed still costs). Each block of
rows is swept once per step, bottom to top, with a one-row look-ahead held in small ring buffers
(``QX``, ``QY``, ``F``: four rows, in L1/L2): at row ``i`` the new fluxes and factors of row
``i + 1`` are computed, then row ``i``'s depth is updated and its scaled fluxes stored in place.
Every field is read and written once per step, through whole 2-D arrays and row indices (no
per-row array views or calls: everything below is inlined into one loop nest per block).

Blocks run in parallel (``prange``). The new fluxes and factors next to a block edge ``b`` read
old values that a neighbouring block overwrites, so they are computed first, from old values
only, into *edge tables* (y-faces ``b-1 .. b+1``, x-face rows and factors of rows ``b-1, b``);
both blocks take them from there. Every number is computed by the same code whatever the
blocking, so serial and parallel runs agree bit for bit. Reductions (drained volume, rain, edge
flows) are per row, summed after the sweep in numpy's pairwise order; the maximum depth is
order-free.

The loop over time steps is compiled too (:data:`ADVANCE_PARALLEL`): the CFL step, a uniform
rain's rate from its hyetograph, the volume accounting and the clock run between two sweeps
without returning to Python. The Python bookkeeping it replaced took about 0.3 ms per step on a
1000 × 1000 grid (its objects evicted from cache by the sweep): 7-10 % of the one-hour storm.
Forcing that only Python can evaluate (a callable rain, inflows, river or edge levels in time)
still gets one compiled step per call, through the same function.

``h^(-1/3)`` uses a bit-level first guess and two Newton iterations instead of ``cbrt``: without
Intel SVML numba cannot vectorise ``cbrt``/``pow``, and the friction term would dominate the step
(see shared/pitfalls.md); the friction divisor is written ``h² + kf h^(-1/3)`` so that no
``h^(-7/3)`` power is formed. Face fluxes, the positivity factors and the depth update are
computed in the storage type (float32: eight SIMD lanes); accumulators and the volume
accounting are float64.

What made it faster, measured side by side on this 2-core machine (AMD EPYC, Zen 1: 256-bit
operations run as two 128-bit halves, so every vector operation saved counts): the friction
divisor above; one roughness constant instead of a per-face mean when ``n`` is uniform; roofs
recognised by their wall bed level instead of a per-cell drain field (one memory stream less);
the row's x-faces scaled in their ring-buffer row, not copied first; a branch-free depth loop
(the row's maximum depth taken on the float's bits, which vectorises, and the first-exceedance
flag without short-circuit tests); FMA contraction; no float store of ``min``/``max`` of a value
loaded from the same place (LLVM makes it a masked store, microcoded on Zen: the depth loop had
four per eight cells; the maximum depth is now stored as an integer maximum of the float bits,
which LLVM leaves a plain store) and OR-flags instead of int64 counts, which halved the SIMD
width (the two together: about 9.8 -> 8.5 ns per cell on one thread); the depth update, drains
and maximum depth in one loop over the row, no scratch row between them, and that loop also
stores the row's new face fluxes from the ring buffers into ``qx`` and ``qy`` (no separate copy
loops: together 4-6 % on one thread). Tried and dropped, no gain side by side: the face loop
split in two (friction chain apart), two halves of a row interleaved in one face loop (register
spills: slower), software prefetch of the rows ahead, an int32 or float first guess for the cube
root, counting limited cells before dividing, each face's bed maximum kept as a fixed field with
the rows' water surfaces in a ring buffer (two adds and a max fewer per face, but two more
fields to stream: 8.6 ns per cell against 8.0, slower). Compiler settings, tried on the parallel
1000 x 1000 step (medians, ns per cell and step, each against the default 3.9-4.0 in the same
sitting): ``NUMBA_CPU_NAME`` znver2 3.95, haswell 4.09, skylake-avx512 4.42; LLVM
``-force-vector-width`` 4 4.45 and 16 6.75, ``-force-vector-interleave=2`` 4.46;
``OMP_WAIT_POLICY`` active or passive: within the machine's noise. The defaults stay.

Where the time goes (``perf`` samples of the serial sweep, 1000 x 1000): the x- and y-face
loops 32 % and 29 %, the depth loop 18 %, the factors 11 %. A face loop alone, on a row in L1,
takes about 2.2 ns per face; with the cube root left out 1.1 ns, with the division left out
2.0 ns: ``h^(-1/3)`` (seed and two Newton steps) is half of every face, the division little.
Fusing the x-face loop of row ``i + 1`` into the depth loop of row ``i`` (to fill the face
chain's latency with the depth loop's independent work) spilled a third of its registers on
the 16 AVX2 registers: 8.0 ns per cell on one thread against 7.2, slower. More, smaller row
blocks with dynamic scheduling (4 or 8 blocks, chunk size 1): within the noise. In the
one-hour storm on two threads (cycle counter around each part of the compiled loop), the
serial parts (step length, edge tables, volume book) take 0.8 % of a step; each of the two
blocks sweeps for 87-97 % of the parallel region (which block waits changes from one 5-min
stretch to the next: the machine's noise, not a fixed imbalance), and a block sweeps at about
8.1 ns per cell against 7.3 ns on one thread alone. The figures above are from Zen 1 hosts,
where the one-hour storm benchmark took 33.8-38.2 s; the same code on a Zen 3 host (full
256-bit units) took 24.3 and 24.7 s (``streettwin bench flood --json --repeat 3``, medians).
"""

from __future__ import annotations

import types as types_mod

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

G = 9.81  # m s-2

#: no reassociation, so sums keep their order; FMA contraction is allowed: every face and depth
#: is computed by the one compiled block sweep (or the edge-table function, which inlines the
#: same face code), so the serial and parallel builds still agree bit for bit (tested)
FASTMATH = {"nnan", "ninf", "nsz", "contract"}

#: boundary kinds per edge
CLOSED, LEVEL, FREE = 0, 1, 2

#: columns of the per-row output table of :func:`step`
OUT_DRAINED, OUT_HMAX, OUT_RAIN, OUT_W, OUT_E, OUT_S, OUT_N = range(7)
N_OUT = 7
#: edge tables per block edge b: y-faces b-1, b, b+1; x-face rows and factor rows b-1, b
EDGE_QY, EDGE_QX, EDGE_F = 3, 2, 2
MIN_BLOCK_ROWS = 4  # a block must be taller than the reach of its edge tables

# inverse-cube-root seed for IEEE singles, C - bits/3 (fitted here: 3.5 % error before Newton)
_RCBRT_MAGIC32 = np.int32(0x54A22000)
_THIRD = 1.0 / 3.0
_DIV3 = np.int64(0x55555556)  # ceil(2**32 / 3)

_OPTS = {"fastmath": FASTMATH, "error_model": "numpy"}
_INLINE = {"inline": "always", **_OPTS}


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


@intrinsic
def _ord_bits(typingctx, x):
    """The bits of a float as a signed integer of its width: for x >= 0 they order as x does.

    Integer max reductions vectorise; float ones do not here (LLVM wants function-level
    no-NaN attributes that numba does not set), so the row's maximum depth is taken on bits.
    """
    ity = types.int32 if x == types.float32 else types.int64
    sig = ity(x)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(ity))

    return sig, codegen


@intrinsic
def _bits_ord(typingctx, i, like):
    """Inverse of :func:`_ord_bits`: the float (type of ``like``) with the bits of ``i``."""
    sig = like(i, like)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(like))

    return sig, codegen


@njit(**_INLINE)
def _is_nan32(x):
    """Whether a float32 is NaN, on its bits: under ``nnan`` fast-math ``isnan`` folds to False."""
    return (_ord_bits(x) & np.int32(0x7FFFFFFF)) > np.int32(0x7F800000)


@njit(**_INLINE)
def fast_rcbrt(x, four, third):
    """x^(-1/3) of a positive float to 1.1e-5 relative error, vectorisable, no division.

    A bit-level seed on the float32 pattern (``C - bits/3``, 3.5 % error) and two Newton steps
    ``r (4/3 - (x/3) r³)``, in the type of ``x`` (``four`` and ``third`` given in that type, so
    float32 stays float32: twice the SIMD lanes). The friction term needs h^(-7/3) = r^7
    (error < 1e-4 relative, far below the uncertainty of n): one division per face is left.
    The products are grouped as ``(x/3 · r)(r · r)`` so that independent multiplications run
    side by side: the face loops are bound by this chain's latency, not by throughput.
    """
    # bits // 3 as a multiply-shift (exact for non-negative int32): Python's floor division
    # checks would stop the loop from vectorising
    b = np.int64(_f32_bits(np.float32(x)))
    r = (x - x) + _bits_f32(_RCBRT_MAGIC32 - np.int32((b * _DIV3) >> 32))
    x3 = x * third
    c43 = four * third
    r = r * (c43 - (x3 * r) * (r * r))
    return r * (c43 - (x3 * r) * (r * r))


@njit(**_INLINE)
def _pow_m73(h, four, third):
    """h^(-7/3) for the Manning friction term."""
    r = fast_rcbrt(h, four, third)
    r2 = r * r
    return (r2 * r2) * (r2 * r)


@njit(fastmath={"nnan", "ninf", "nsz", "reassoc"}, cache=True, error_model="numpy")
def row_sum(a):
    """Sum of a 1-D array; one compiled function for every caller, so always the same order."""
    s = 0.0
    for j in range(a.shape[0]):
        s += a[j]
    return s


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def max_depth_over(h, r0, r1, c0, c1):
    """Largest depth (m) in ``h[r0:r1, c0:c1]`` (depths >= 0), on all threads.

    Taken on the floats' bits, row by row, so it vectorises (see :func:`_ord_bits`); numpy's
    ``max`` runs on one core while the other waits. Tiled runs need it after every exchange.
    """
    rows = np.zeros(max(r1 - r0, 0), h.dtype)
    for i in prange(r0, r1):
        zero = h[i, 0] - h[i, 0]
        m = _ord_bits(zero)
        for j in range(c0, c1):
            m = max(m, _ord_bits(h[i, j]))
        rows[i - r0] = _bits_ord(m, zero)
    best = 0.0
    for v in rows:
        best = max(best, v)
    return best


#: indices of the per-step constants given to the loops in the storage type
(CT_GDT, CT_IDX, CT_IDY, CT_THETA, CT_W, CT_HDRY, CT_ONE, CT_FOUR, CT_THIRD, CT_HALF, CT_DT,
 CT_DX, CT_DY, CT_AREA, CT_ZERO, CT_ZWALL, CT_NUNI) = range(17)  # fmt: skip
N_CT = 17
#: bed levels at or above this (relative to the lowest open cell) are walls: buildings
ZWALL = 5.0e5


@njit(**_INLINE)
def _face_flux(q0, ql, qr, eta_a, eta_b, z_a, z_b, gn2, k):
    """New interior face flux; every argument and constant in one type (float32 or float64).

    With float32 storage the arithmetic is float32 too (8 SIMD lanes): the new flux is stored
    in float32 anyway, and the bed and surface of a lake at rest are exact in float32 (the
    model snaps them to one quantum), so it stays at rest.
    """
    gdt, inv_dist, theta, w, hdry, one, four, third = k
    hf = max(eta_a, eta_b) - max(z_a, z_b)
    hs = max(hf, hdry)  # branch-free: computed everywhere, then selected, so loops vectorise
    qavg = theta * q0 + w * (ql + qr)
    kf = gn2 * abs(q0)  # g dt n² |q|, off the friction chain: computed while it runs
    # 1 / (1 + kf h^(-7/3)) = h² / (h² + kf h^(-1/3)): the same division, two multiplications fewer
    h2 = hs * hs
    num = qavg - (gdt * inv_dist) * hs * (eta_b - eta_a)
    q = (num * h2) / (h2 + kf * fast_rcbrt(hs, four, third))
    return q if hf > hdry else one - one


@njit(**_INLINE)
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


@njit(**_INLINE)
def _scaled(q, f_pos, f_neg):
    """A face flux scaled by its donor cell's factor (``f_pos`` if q > 0, else ``f_neg``)."""
    return q * (f_pos if q > 0.0 else f_neg)


# ------------------------------------------------------------------ new fluxes and factors
@njit(**_INLINE)
def _new_qx(dst, d, i, h, z, qx, n2, bck, bcl, dt, dx, hdry, ct):
    """New fluxes of the x-faces of cell row ``i`` (old values) into ``dst[d]``."""
    nx = h.shape[1]
    ni = i if n2.shape[0] > 1 else 0
    half = ct[CT_HALF]
    # constants as scalars (a tuple), so the loop need not reload them after each store
    kc = (ct[CT_GDT], ct[CT_IDX], ct[CT_THETA], ct[CT_W], ct[CT_HDRY], ct[CT_ONE], ct[CT_FOUR],
          ct[CT_THIRD])  # fmt: skip
    gdt = ct[CT_GDT]
    if ct[CT_NUNI] > ct[CT_ZERO]:  # one roughness everywhere: g dt n² is a constant
        gn2 = gdt * n2[0, 0]
        for j in range(1, nx):
            za, zb = z[i, j - 1], z[i, j]
            dst[d, j] = _face_flux(
                qx[i, j], qx[i, j - 1], qx[i, j + 1], za + h[i, j - 1], zb + h[i, j], za, zb,
                gn2, kc,
            )  # fmt: skip
    else:
        for j in range(1, nx):
            za, zb = z[i, j - 1], z[i, j]
            dst[d, j] = _face_flux(
                qx[i, j], qx[i, j - 1], qx[i, j + 1], za + h[i, j - 1], zb + h[i, j], za, zb,
                gdt * (half * (n2[ni, j - 1] + n2[ni, j])), kc,
            )  # fmt: skip
    dst[d, 0] = _edge_flux(
        bck[0], bcl[0, i], qx[i, 0], h[i, 0], z[i, 0], n2[ni, 0], dt, dx, hdry, 1.0
    )
    dst[d, nx] = _edge_flux(
        bck[1], bcl[1, i], qx[i, nx], h[i, nx - 1], z[i, nx - 1], n2[ni, nx - 1], dt, dx, hdry,
        -1.0,
    )  # fmt: skip


@njit(**_INLINE)
def _new_qy(dst, d, m, h, z, qy, n2, bck, bcl, dt, dy, hdry, ct):
    """New fluxes of y-face row ``m`` (between cell rows m-1 and m; old values) into ``dst[d]``."""
    ny, nx = h.shape
    if m == 0 or m == ny:
        c = 0 if m == 0 else ny - 1
        nc = c if n2.shape[0] > 1 else 0
        e = 2 if m == 0 else 3
        kind = bck[e]
        inward = 1.0 if m == 0 else -1.0
        for j in range(nx):
            dst[d, j] = _edge_flux(
                kind, bcl[e, j], qy[m, j], h[c, j], z[c, j], n2[nc, j], dt, dy, hdry, inward
            )
        return
    nb = m - 1 if n2.shape[0] > 1 else 0
    na = m if n2.shape[0] > 1 else 0
    half = ct[CT_HALF]
    kc = (ct[CT_GDT], ct[CT_IDY], ct[CT_THETA], ct[CT_W], ct[CT_HDRY], ct[CT_ONE], ct[CT_FOUR],
          ct[CT_THIRD])  # fmt: skip
    gdt = ct[CT_GDT]
    if ct[CT_NUNI] > ct[CT_ZERO]:
        gn2 = gdt * n2[0, 0]
        for j in range(nx):
            zb, za = z[m - 1, j], z[m, j]
            dst[d, j] = _face_flux(
                qy[m, j], qy[m - 1, j], qy[m + 1, j], zb + h[m - 1, j], za + h[m, j], zb, za,
                gn2, kc,
            )  # fmt: skip
    else:
        for j in range(nx):
            zb, za = z[m - 1, j], z[m, j]
            dst[d, j] = _face_flux(
                qy[m, j], qy[m - 1, j], qy[m + 1, j], zb + h[m - 1, j], za + h[m, j], zb, za,
                gdt * (half * (n2[nb, j] + n2[na, j])), kc,
            )  # fmt: skip


@njit(**_INLINE)
def _factors(dst, d, QX, dx_, QY, dlo, dhi, h, i, rain, ct):
    """Outflow factors of cell row ``i`` into ``dst[d]``; returns whether any is below one.

    ``QX[dx_]`` holds the row's new x-face fluxes, ``QY[dlo]``, ``QY[dhi]`` its lower and
    upper y-faces. Arithmetic in the storage type.
    """
    dt, dx, dy, area = ct[CT_DT], ct[CT_DX], ct[CT_DY], ct[CT_AREA]
    zero, one = ct[CT_ZERO], ct[CT_ONE]
    any_lim = False  # an OR, not a count: an int64 count would halve the SIMD width
    ri = i if rain.shape[0] > 1 else 0
    for j in range(h.shape[1]):
        out = dt * (
            dy * (max(QX[dx_, j + 1], zero) - min(QX[dx_, j], zero))
            + dx * (max(QY[dhi, j], zero) - min(QY[dlo, j], zero))
        )
        avail = (h[i, j] + rain[ri, j] * dt) * area
        lim = out > avail
        dst[d, j] = avail / out if lim else one
        any_lim |= lim
    return any_lim


@njit(**_INLINE)
def _copy_row(dst, d, src, s):
    for j in range(dst.shape[1]):
        dst[d, j] = src[s, j]


# ------------------------------------------------------------------ edge tables
def _edge_tables(e, bnd, h, z, qx, qy, n2, rain, bck, bcl, c, ct, EQX, EQY, EF, ELIM):
    """Fluxes and factors around block edge ``b = bnd[e]`` from old values only.

    ``EQY[e, 0..2]`` = new y-faces b-1, b, b+1; ``EQX[e, 0..1]`` = new x-faces of rows b-1, b;
    ``EF[e, 0..1]`` and ``ELIM[e, 0..1]`` = factors of rows b-1, b and whether any is < 1.
    """
    dt, dx, dy, hdry = c[0], c[1], c[2], c[4]
    b = bnd[e]
    Q, X, F = EQY[e], EQX[e], EF[e]
    for t in range(EDGE_QY):
        _new_qy(Q, t, b - 1 + t, h, z, qy, n2, bck, bcl, dt, dy, hdry, ct)
    for t in range(EDGE_QX):
        _new_qx(X, t, b - 1 + t, h, z, qx, n2, bck, bcl, dt, dx, hdry, ct)
        ELIM[e, t] = _factors(F, t, X, t, Q, t, t + 1, h, b - 1 + t, rain, ct)


_edge_tables = njit(**_OPTS, cache=True)(_edge_tables)


# ------------------------------------------------------------------ one block's sweep
def _sweep_block(k, bnd, h, z, qx, qy, n2, rain, drain, bck, bcl, c, ct, max_depth, t_first,
                 EQX, EQY, EF, ELIM, QX, QY, F, LIM, DRN, out):  # fmt: skip
    """Advance rows [bnd[k], bnd[k+1]) by one step; see the module docstring."""
    ny, nx = h.shape
    dt, dx, dy, hdry = c[0], c[1], c[2], c[4]
    t_end, thr, has_drain = c[5], np.float32(c[6]), c[7] > 0.0
    zwall = ct[CT_ZWALL]
    rain_field = rain.shape[0] > 1
    drain_field = drain.shape[0] > 1
    r0, r1 = bnd[k], bnd[k + 1]
    lo, hi = r0 > 0, r1 < ny  # edges shared with a neighbouring block (edge tables k, k+1)
    QXk, QYk, Fk, Lk = QX[k], QY[k], F[k], LIM[k]
    drn = DRN[k]  # the row's drained depths, summed in row order
    # ring slots: QX row r and F row r at r % 4; QY face m at m % 4
    if lo:
        _copy_row(QYk, r0 % 4, EQY[k], 1)
        _copy_row(QYk, (r0 + 1) % 4, EQY[k], 2)
        _copy_row(QXk, r0 % 4, EQX[k], 1)
        _copy_row(Fk, (r0 - 1) % 4, EF[k], 0)
        _copy_row(Fk, r0 % 4, EF[k], 1)
        Lk[(r0 - 1) % 4] = ELIM[k, 0]
        Lk[r0 % 4] = ELIM[k, 1]
    else:
        _new_qy(QYk, 0, 0, h, z, qy, n2, bck, bcl, dt, dy, hdry, ct)
        _new_qx(QXk, 0, 0, h, z, qx, n2, bck, bcl, dt, dx, hdry, ct)
        _new_qy(QYk, 1, 1, h, z, qy, n2, bck, bcl, dt, dy, hdry, ct)
        Lk[0] = _factors(Fk, 0, QXk, 0, QYk, 0, 1, h, 0, rain, ct)
        Fk[3, :] = 1.0
        Lk[3] = False
    if Lk[(r0 - 1) % 4] or Lk[r0 % 4]:
        for j in range(nx):
            QYk[r0 % 4, j] = _scaled(QYk[r0 % 4, j], Fk[(r0 - 1) % 4, j], Fk[r0 % 4, j])
    # the depth update in the storage type (float32: eight SIMD lanes; rounded to it anyway)
    dtt, idx, idy, zero, one = ct[CT_DT], ct[CT_IDX], ct[CT_IDY], ct[CT_ZERO], ct[CT_ONE]
    for i in range(r0, r1):
        s0, s1, s2 = i % 4, (i + 1) % 4, (i + 2) % 4
        r = i + 1  # the look-ahead row
        if r == ny:
            Fk[s1, :] = 1.0
            Lk[s1] = False
        elif hi and r == r1:
            _copy_row(Fk, s1, EF[k + 1], 1)
            Lk[s1] = ELIM[k + 1, 1]
        elif hi and r == r1 - 1:
            _copy_row(QXk, s1, EQX[k + 1], 0)
            _copy_row(QYk, s2, EQY[k + 1], 1)
            _copy_row(Fk, s1, EF[k + 1], 0)
            Lk[s1] = ELIM[k + 1, 0]
        else:
            _new_qx(QXk, s1, r, h, z, qx, n2, bck, bcl, dt, dx, hdry, ct)
            if hi and r == r1 - 2:
                _copy_row(QYk, s2, EQY[k + 1], 0)
            else:
                _new_qy(QYk, s2, r + 1, h, z, qy, n2, bck, bcl, dt, dy, hdry, ct)
            Lk[s1] = _factors(Fk, s1, QXk, s1, QYk, s1, s2, h, r, rain, ct)
        if Lk[s0] or Lk[s1]:
            for j in range(nx):
                QYk[s1, j] = _scaled(QYk[s1, j], Fk[s0, j], Fk[s1, j])
        # the row's x-faces, scaled by their donor cells' factors where any outflow of the
        # row is limited; the depth loop below stores them in ``qx`` (old values no longer
        # needed), and the row's lower y-faces in ``qy``
        if Lk[s0]:
            QXk[s0, 0] = _scaled(QXk[s0, 0], one, Fk[s0, 0])
            for j in range(1, nx):
                QXk[s0, j] = _scaled(QXk[s0, j], Fk[s0, j - 1], Fk[s0, j])
            QXk[s0, nx] = _scaled(QXk[s0, nx], Fk[s0, nx - 1], one)
        ri = i if rain_field else 0
        di = i if drain_field else 0
        hmax_bits = _ord_bits(zero)  # depths are >= 0: their bits order as they do
        crossed = False
        # branch-free, so it vectorises: the new depth, the drained depth, the row's maximum and
        # whether any cell first exceeds the threshold. The maximum depth is stored as the
        # integer maximum of the floats' bits (both >= 0): a float ``max`` of the value just
        # loaded from the same place becomes a masked store, microcoded and slow on AMD Zen.
        for j in range(nx):
            dqx = (QXk[s0, j] - QXk[s0, j + 1]) * idx
            dqy = (QYk[s0, j] - QYk[s1, j]) * idy
            hn = max(h[i, j] + dtt * (rain[ri, j] + dqx + dqy), zero)
            # roofs (bed at the wall sentinel) send all their rain down the downpipes
            dcap = drain[di, j] * dtt  # loaded unconditionally: a conditional load stops SIMD
            cap = hn if z[i, j] >= zwall else dcap
            removed = min(hn, cap)
            drn[j] = removed
            hnew = hn - removed
            h[i, j] = hnew
            hmax_bits = max(hmax_bits, _ord_bits(hnew))
            h32 = np.float32(hnew)
            old = max_depth[i, j]
            crossed |= (h32 >= thr) & (old < thr)
            max_depth[i, j] = _bits_ord(max(_ord_bits(old), _ord_bits(h32)), old)
            qy[i, j] = QYk[s0, j]
            qx[i, j] = QXk[s0, j]
        qx[i, nx] = QXk[s0, nx]
        if crossed:  # first exceedance: never reached before (t_first still NaN)
            for j in range(nx):
                if np.float32(h[i, j]) >= thr and _is_nan32(t_first[i, j]):
                    t_first[i, j] = t_end
        out[i, OUT_DRAINED] = row_sum(drn) if has_drain else 0.0
        out[i, OUT_HMAX] = _bits_ord(hmax_bits, zero)
        out[i, OUT_RAIN] = row_sum(rain[ri]) if rain_field else 0.0
        out[i, OUT_W] = qx[i, 0] * dy
        out[i, OUT_E] = -qx[i, nx] * dy
        out[i, OUT_S] = row_sum(QYk[s0]) * dx if i == 0 else 0.0
        out[i, OUT_N] = 0.0
    if r1 == ny:
        sn = ny % 4
        for j in range(nx):
            qy[ny, j] = QYk[sn, j]
        out[ny - 1, OUT_N] = -row_sum(QYk[sn]) * dx


_sweep_block = njit(**_OPTS, cache=True)(_sweep_block)


#: entries of the ``run`` array of :data:`ADVANCE_PARALLEL` (float64): stop time (s), most
#: steps, a fixed step (s; 0: the CFL step), ``dt_max``, ``alpha_2d``, min(dx, dy), a depth
#: floor for the CFL step (levels imposed at the edges), ``h_dry``, cell area, whether the rain
#: is uniform (1: the rain row is filled here from ``edges`` and ``rates``; 0: a field)
(RUN_T_STOP, RUN_MAX_STEPS, RUN_DT, RUN_DT_MAX, RUN_ALPHA, RUN_DMIN, RUN_HFLOOR, RUN_HDRY,
 RUN_AREA, RUN_UNIFORM) = range(10)  # fmt: skip
N_RUN = 10
#: entries of the ``acc`` array (float64, carried between calls): model time, largest depth
#: after the last step, rain, drained and edge volumes (m3), steps taken, the uniform rain rate
#: in the rain row and whether it is set
(ACC_TIME, ACC_HMAX, ACC_RAIN, ACC_DRAINED, ACC_BIN, ACC_BOUT, ACC_STEPS, ACC_RAIN_RATE,
 ACC_RAIN_SET) = range(9)  # fmt: skip
N_ACC = 9


# The bookkeeping below is float64 without fast-math flags (no FMA contraction, no
# reassociation): the time, step and volumes come out bit for bit as the same formulas in Python.
# ``fastmath=False`` is spelt out: a callee that leaves it unset inherits its caller's flags.
@njit(cache=True, error_model="numpy", fastmath=False)
def cfl_dt(hmax, dt_max, alpha_2d, dmin, hdry):
    """Adaptive step (s): ``alpha_2d · min(dx, dy) / sqrt(g hmax)``, at most ``dt_max``."""
    if hmax <= 10.0 * hdry:
        return dt_max
    return min(dt_max, alpha_2d * dmin / np.sqrt(G * hmax))


@njit(cache=True, error_model="numpy", fastmath=False)
def _block_sum(a, col, i0, n):
    """numpy's ``pairwise_sum`` leaf: n <= 128 values in eight lanes, then the rest in order."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[i0 + i, col]
        return res
    r0, r1, r2, r3 = a[i0, col], a[i0 + 1, col], a[i0 + 2, col], a[i0 + 3, col]
    r4, r5, r6, r7 = a[i0 + 4, col], a[i0 + 5, col], a[i0 + 6, col], a[i0 + 7, col]
    i = 8
    while i < n - n % 8:
        r0 += a[i0 + i, col]
        r1 += a[i0 + i + 1, col]
        r2 += a[i0 + i + 2, col]
        r3 += a[i0 + i + 3, col]
        r4 += a[i0 + i + 4, col]
        r5 += a[i0 + i + 5, col]
        r6 += a[i0 + i + 6, col]
        r7 += a[i0 + i + 7, col]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i0 + i, col]
        i += 1
    return res


@njit(cache=True, error_model="numpy", fastmath=False)
def column_sum(a, col):
    """Sum of ``a[:, col]`` in numpy's pairwise order, so it equals ``a[:, col].sum()``.

    numpy halves a run longer than 128 (the first half a multiple of 8) and adds the halves'
    sums; this walks the same tree with a stack (a recursive function would not cache here).
    The volume accounting thus keeps the bits it had when numpy summed the columns.
    """
    start, size, phase = np.empty(64, np.int64), np.empty(64, np.int64), np.empty(64, np.int64)
    vals = np.empty(64)
    start[0], size[0], phase[0] = 0, a.shape[0], 0
    sp, vp = 0, 0
    while sp >= 0:
        i0, n = start[sp], size[sp]
        if n <= 128:
            vals[vp] = _block_sum(a, col, i0, n)
            vp += 1
            sp -= 1
        elif phase[sp] < 2:  # push the left half, then the right half
            n2 = n // 2
            n2 -= n2 % 8
            left = phase[sp] == 0
            phase[sp] += 1
            sp += 1
            start[sp] = i0 if left else i0 + n2
            size[sp] = n2 if left else n - n2
            phase[sp] = 0
        else:  # both halves summed: left + right
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vp -= 1
            sp -= 1
    return vals[0]


@njit(cache=True, error_model="numpy", fastmath=False)
def _rain_rate(edges, rates, t):
    """A uniform rain rate at time ``t``: ``rates[k]`` on ``[edges[k], edges[k+1])``, else 0.

    The compiled form of :meth:`sim.flood.rain.Hyetograph.__call__` (same lookup, same value).
    """
    k = -1
    for e in range(edges.shape[0]):  # searchsorted(edges, t, side="right") - 1
        if edges[e] <= t:
            k = e
    return rates[k] if 0 <= k < rates.shape[0] else 0.0


@njit(cache=True, error_model="numpy", fastmath=False)
def _begin(run, acc, rain, edges, rates, c, ct):
    """This step's length, times and constants; returns ``dt`` (0: the run is at its end)."""
    time = acc[ACC_TIME]
    t_stop = run[RUN_T_STOP]
    if time >= t_stop - 1e-9:
        return 0.0
    dt = run[RUN_DT]
    if dt <= 0.0:
        hmax = max(acc[ACC_HMAX], run[RUN_HFLOOR])
        dt = min(cfl_dt(hmax, run[RUN_DT_MAX], run[RUN_ALPHA], run[RUN_DMIN], run[RUN_HDRY]),
                 t_stop - time)  # fmt: skip
    if run[RUN_UNIFORM] > 0.0:  # one row, refilled only when the rate changes
        rate = _rain_rate(edges, rates, time + 0.5 * dt)
        if acc[ACC_RAIN_SET] == 0.0 or rate != acc[ACC_RAIN_RATE]:
            rain[0, :] = rate
            acc[ACC_RAIN_RATE] = rate
            acc[ACC_RAIN_SET] = 1.0
    c[0] = dt
    c[5] = time + dt
    ct[CT_GDT] = G * dt
    ct[CT_DT] = dt
    return dt


@njit(cache=True, error_model="numpy", fastmath=False)
def _book(acc, out, rain, dt, run):
    """Add the step's volumes to ``acc`` from the per-row table ``out``; advance the clock."""
    ny, nx, area = out.shape[0], rain.shape[1], run[RUN_AREA]
    if run[RUN_UNIFORM] > 0.0:
        acc[ACC_RAIN] += acc[ACC_RAIN_RATE] * ny * nx * area * dt
    elif rain.shape[0] > 1:
        acc[ACC_RAIN] += column_sum(out, OUT_RAIN) * area * dt
    else:  # a field on a grid of one row: the kernel does not sum it per row
        acc[ACC_RAIN] += row_sum(rain[0]) * area * dt
    acc[ACC_DRAINED] += column_sum(out, OUT_DRAINED) * area
    for col in (OUT_W, OUT_E, OUT_S, OUT_N):  # edge flows (m3/s), positive into the domain
        v = column_sum(out, col)
        if v > 0:
            acc[ACC_BIN] += v * dt
        else:
            acc[ACC_BOUT] -= v * dt
    hmax = out[0, OUT_HMAX]
    for i in range(1, ny):
        hmax = max(hmax, out[i, OUT_HMAX])
    acc[ACC_HMAX] = hmax
    acc[ACC_TIME] = acc[ACC_TIME] + dt
    acc[ACC_STEPS] += 1.0


def _advance_py(h, z, qx, qy, n2, rain, drain, bck, bcl, c, ct, max_depth, t_first, bnd, EQX,
                EQY, EF, ELIM, QX, QY, F, LIM, DRN, out, run, edges, rates, acc):  # fmt: skip
    """Time steps over the whole grid until ``run[RUN_T_STOP]`` (see :data:`ADVANCE_PARALLEL`)."""
    nb = bnd.shape[0] - 1
    for _ in range(int(run[RUN_MAX_STEPS])):
        dt = _begin(run, acc, rain, edges, rates, c, ct)
        if dt == 0.0:
            break
        # edge tables first, serially (a few rows; one parallel region per step is cheaper)
        for e in range(1, nb):
            _edge_tables(e, bnd, h, z, qx, qy, n2, rain, bck, bcl, c, ct, EQX, EQY, EF, ELIM)
        for k in prange(nb):
            _sweep_block(k, bnd, h, z, qx, qy, n2, rain, drain, bck, bcl, c, ct, max_depth,
                         t_first, EQX, EQY, EF, ELIM, QX, QY, F, LIM, DRN, out)  # fmt: skip
        _book(acc, out, rain, dt, run)


def step_constants(
    out: np.ndarray,
    dt: float,
    dx: float,
    dy: float,
    theta: float,
    hdry: float,
    uniform_n: bool = False,
):
    """Fill ``out`` (length ``N_CT``, storage dtype) with the face-loop constants."""
    out[:] = (G * dt, 1.0 / dx, 1.0 / dy, theta, 0.5 * (1.0 - theta), hdry, 1.0, 4.0, _THIRD, 0.5,
              dt, dx, dy, dx * dy, 0.0, ZWALL, 1.0 if uniform_n else 0.0)  # fmt: skip
    return out


def _renamed(func, suffix: str):
    """A copy of ``func`` under another qualified name, so each build has its own disk cache."""
    copy = types_mod.FunctionType(func.__code__, func.__globals__, func.__name__ + suffix)
    copy.__qualname__ = func.__qualname__ + suffix
    return copy


def _build(parallel: bool):
    opts = {
        "parallel": parallel,
        "fastmath": FASTMATH,
        "cache": True,
        "nogil": True,
        "error_model": "numpy",  # no ZeroDivisionError checks: they stop vectorisation
    }
    return njit(**opts)(_renamed(_advance_py, "_par" if parallel else "_ser"))


#: ``ADVANCE_*(h, z, qx, qy, n2, rain, drain, bc_kind, bc_level, consts, consts_t, max_depth,
#: t_first, block_edges, edge_qx, edge_qy, edge_f, edge_lim, QX, QY, F, LIM, DRN, out, run,
#: edges, rates, acc)``: time steps until ``run[RUN_T_STOP]`` or ``run[RUN_MAX_STEPS]`` steps;
#: ``consts`` = [dt, dx, dy, theta, h_dry, t_end, threshold, has_drain] (float64; the step's
#: ``dt`` and ``t_end`` are written here), ``consts_t`` the ``CT_*`` constants in the storage
#: type (see :func:`step_constants`), ``run`` the ``RUN_*`` entries, ``edges``/``rates`` the
#: uniform rain's intervals, ``acc`` the ``ACC_*`` accumulators (time, volumes, steps).
#: Scratch shapes: see :meth:`sim.flood.model.FloodModel._alloc_scratch`.
ADVANCE_PARALLEL = _build(True)
ADVANCE_SERIAL = _build(False)
