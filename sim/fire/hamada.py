"""Hamada's empirical rate of urban fire spread: downwind, sideways and upwind speeds.

Hamada (1951) fitted the spread of Japanese town conflagrations to the mean building side
``a`` (m), the mean gap between buildings ``d`` (m), the wind speed ``V`` (m/s) and the share
``a'`` of fire-protected buildings. The time (minutes) the fire takes to advance one building
pitch ``a + d`` is, in the form given by Himoto & Tanaka (2008, Fire Safety Journal 43(7),
477-494) and implemented by the ``firebench`` package (``firebench.ros_models.Hamada_1``)::

    T_d = [(1-a')(3 + 3a/8 + 8d/(25 + 2.5V)) + a'(5 + 5a/8 + 16d/(25 + 2.5V))]
          / (1.5 (1 + 0.1V + 0.007V^2))                                  (downwind)
    T_s = [(1-a')(3 + 3a/8 + 8d/(5 + 0.25V)) + a'(5 + 5a/8 + 16d/(5 + 0.25V))]
          / (1 + 0.005V^2)                                               (sideways)
    T_u = [(1-a')(3 + 3a/8 + 8d/(5 + 0.2V))  + a'(5 + 5a/8 + 16d/(5 + 0.2V))]
          / (1 + 0.002V^2)                                               (upwind)

and the spreading speeds are ``v = (a + d) / T`` (m/min). The first terms, ``3 + 3a/8`` (bare
wooden) and ``5 + 5a/8`` (fire-protected, mortar-clad), are the time a building of side ``a``
takes from ignition to full involvement; the ``d`` terms the time to cross the gap.

Between the three axes the speed follows two half-ellipses, the directional extension used
by firebench (WIRC-SJSU): with ``k = cos`` of the angle between spread and downwind
directions, ``k >= 0`` uses the ellipse through ``v_d`` and ``v_s`` with the ignition point
at a focus, ``k < 0`` the ellipse centred on it with semi-axes ``v_s`` and ``v_u``. In calm
air (``V = 0``) firebench, and so this module, spreads at ``v_d(0)`` in every direction.

Worked case (checked in the tests and ``streettwin validate fire``): ``a = 10 m``,
``d = 3 m``, ``V = 5 m/s``, ``a' = 0``::

    T_d = (3 + 3.75 + 24/37.5) / (1.5 * 1.675) = 7.39 / 2.5125 = 2.941294 min
    T_s = (6.75 + 24/6.25) / 1.125 = 10.59 / 1.125             = 9.413333 min
    T_u = (6.75 + 24/6) / 1.05 = 10.75 / 1.05                   = 10.238095 min
    v_d = 13 / 2.941294 = 4.41982 m/min;  v_s = 1.38102;  v_u = 1.26977 m/min

Validity. The formula was fitted on low-rise wooden towns; the envelope below
(:data:`HAMADA_RANGE`) is our operating range, read from the secondary literature (wind up to
about 10 m/s; block-scale buildings and gaps), not a figure we could check in Hamada (1951)
offline. Outside it :func:`clamp_to_range` freezes each input at the boundary, i.e. the rate
is held constant beyond the range (a constant-rate fallback); whether a gap can be crossed at
all is decided separately by the radiation-based critical separation
(:mod:`sim.fire.radiation`).
"""

from __future__ import annotations

import numpy as np

#: operating envelope (min, max) of Hamada's formula; inputs outside are clamped to it
HAMADA_RANGE: dict[str, tuple[float, float]] = {
    "wind_speed_m_s": (0.0, 10.0),
    "side_m": (4.0, 25.0),
    "gap_m": (0.0, 15.0),
}

SECONDS_PER_MINUTE = 60.0


def _wind_factors(wind_m_s):
    """Per-direction gap-crossing divisors and overall wind factors (Hamada's constants)."""
    V = np.asarray(wind_m_s, dtype=float)
    gap_div = (25.0 + 2.5 * V, 5.0 + 0.25 * V, 5.0 + 0.2 * V)
    overall = (1.5 * (1.0 + 0.1 * V + 0.007 * V**2), 1.0 + 0.005 * V**2, 1.0 + 0.002 * V**2)
    return gap_div, overall


def full_involvement_min(side_m, protected):
    """Minutes from ignition to full involvement of a building (Hamada's first term).

    Parameters
    ----------
    side_m : array_like
        Building side (m).
    protected : array_like
        Share of fire-protected construction, 0 (bare wooden) .. 1 (mortar-clad).

    Returns
    -------
    numpy.ndarray
        ``(1-p)(3 + 3a/8) + p(5 + 5a/8)`` in minutes.

    >>> float(full_involvement_min(8.0, 0.0)), float(full_involvement_min(8.0, 1.0))
    (6.0, 10.0)
    """
    a = np.asarray(side_m, dtype=float)
    p = np.asarray(protected, dtype=float)
    return (1.0 - p) * (3.0 + 0.375 * a) + p * (5.0 + 0.625 * a)


def hamada_times_min(side_m, gap_m, wind_m_s, protected_ratio, receiver_protected=None):
    """Hamada's times (min) to advance one pitch ``a + d`` downwind, sideways and upwind.

    Parameters
    ----------
    side_m : array_like
        Mean building side ``a`` (m).
    gap_m : array_like
        Mean gap between buildings ``d`` (m).
    wind_m_s : array_like
        Wind speed ``V`` (m/s).
    protected_ratio : array_like
        Share ``a'`` of fire-protected buildings (0..1). Applied to the involvement term.
    receiver_protected : array_like, optional
        Share applied to the gap-crossing term; defaults to ``protected_ratio`` (Hamada's
        form). Between two buildings the model passes the burning building's share here as
        ``protected_ratio`` and the exposed building's as ``receiver_protected``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(T_d, T_s, T_u)`` in minutes.

    >>> [round(float(t), 6) for t in hamada_times_min(10.0, 3.0, 5.0, 0.0)]
    [2.941294, 9.413333, 10.238095]
    """
    a = np.asarray(side_m, dtype=float)
    d = np.asarray(gap_m, dtype=float)
    p = np.asarray(protected_ratio, dtype=float)
    r = p if receiver_protected is None else np.asarray(receiver_protected, dtype=float)
    involve = full_involvement_min(a, p)
    gap_div, overall = _wind_factors(wind_m_s)
    gap_coef = (1.0 - r) * 8.0 + r * 16.0
    return tuple((involve + gap_coef * d / g) / c for g, c in zip(gap_div, overall, strict=True))


def hamada_speeds(side_m, gap_m, wind_m_s, protected_ratio, receiver_protected=None):
    """Hamada's downwind, sideways and upwind spreading speeds (m/s).

    Parameters are those of :func:`hamada_times_min`.

    Returns
    -------
    tuple of numpy.ndarray
        ``(v_d, v_s, v_u)`` in m/s, each ``(a + d) / (60 T)``.

    >>> [round(float(v) * 60, 5) for v in hamada_speeds(10.0, 3.0, 5.0, 0.0)]
    [4.41982, 1.38102, 1.26977]
    """
    pitch = np.asarray(side_m, dtype=float) + np.asarray(gap_m, dtype=float)
    times = hamada_times_min(side_m, gap_m, wind_m_s, protected_ratio, receiver_protected)
    return tuple(pitch / (SECONDS_PER_MINUTE * t) for t in times)


def directional_speed(v_d, v_s, v_u, cos_downwind, wind_m_s):
    """Spreading speed in a direction at ``cos_downwind`` to the downwind axis.

    Parameters
    ----------
    v_d, v_s, v_u : array_like
        Downwind, sideways and upwind speeds (any unit; the result has the same).
    cos_downwind : array_like
        Cosine of the angle between the spread direction and the direction the wind blows to.
    wind_m_s : array_like
        Wind speed (m/s); where it is 0 the speed is ``v_d`` in every direction (firebench).

    Returns
    -------
    numpy.ndarray
        Speed along the direction.

    >>> [float(directional_speed(4.0, 2.0, 1.0, k, 5.0)) for k in (1.0, 0.0, -1.0)]
    [4.0, 2.0, 1.0]
    """
    v_d, v_s, v_u, k, V = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (v_d, v_s, v_u, cos_downwind, wind_m_s))
    )
    k = np.where(V > 0.0, k, 1.0)
    ecc = (v_d - v_s) / v_d
    semi = v_d**2 / (2.0 * v_d - v_s)
    ahead = semi * (1.0 - ecc**2) / (1.0 - ecc * np.clip(k, 0.0, 1.0))
    behind = v_s * v_u / np.sqrt(v_u**2 * (1.0 - k**2) + v_s**2 * k**2)
    return np.where(k >= 0.0, ahead, behind)


def clamp_to_range(side_m, gap_m, wind_m_s):
    """Clamp Hamada's inputs to :data:`HAMADA_RANGE` and say which were outside.

    Returns
    -------
    tuple
        ``(side, gap, wind, outside)``; ``outside`` is a boolean array.

    >>> s, g, w, out = clamp_to_range(40.0, 3.0, 12.0)
    >>> float(s), float(w), bool(out)
    (25.0, 10.0, True)
    """
    a, d, wind = np.broadcast_arrays(
        *(np.asarray(x, dtype=float) for x in (side_m, gap_m, wind_m_s))
    )
    lo_a, hi_a = HAMADA_RANGE["side_m"]
    lo_d, hi_d = HAMADA_RANGE["gap_m"]
    lo_v, hi_v = HAMADA_RANGE["wind_speed_m_s"]
    outside = (a < lo_a) | (a > hi_a) | (d < lo_d) | (d > hi_d) | (wind < lo_v) | (wind > hi_v)
    return np.clip(a, lo_a, hi_a), np.clip(d, lo_d, hi_d), np.clip(wind, lo_v, hi_v), outside
