"""Radiant heat from a burning facade: the critical separation beyond which fire cannot jump.

A fully involved facade of width ``W`` and height ``H`` radiating ``E`` (kW/m²) gives a
target on its centre-normal at distance ``s`` the flux ``q = E F(s)``, with the configuration
factor of a parallel rectangle seen from a point opposite its centre (four corner rectangles;
SFPE Handbook, Drysdale *An Introduction to Fire Dynamics*, BRE BR 187)::

    F = (2/pi) [ x/sqrt(1+x^2) atan(y/sqrt(1+x^2)) + y/sqrt(1+y^2) atan(x/sqrt(1+y^2)) ],
    x = W / (2 s),  y = H / (2 s).

The *spreading distance* of a building is the gap ``s`` at which ``q`` falls to the piloted
ignition flux of timber, 12.6 kW/m² (BR 187, *External fire spread: building separation and
boundary distances*, BRE 2nd ed. 2014). Emitted intensities follow BR 187: 84 kW/m² for
residential, office and assembly uses and 168 kW/m² for shops, industry and storage
(:mod:`sim.fire.properties`). A gap wider than this distance stops the spread.
"""

from __future__ import annotations

import numpy as np

#: piloted ignition of timber under prolonged exposure (kW/m², BR 187)
PILOTED_IGNITION_FLUX_KW_M2 = 12.6
#: flux above which people and crews cannot pass for long (kW/m², common tenability limit)
TENABLE_FLUX_KW_M2 = 2.5
_BISECTION_STEPS = 40


def view_factor(width_m, height_m, distance_m):
    """Configuration factor from a ``W`` x ``H`` facade to a point opposite its centre.

    Parameters
    ----------
    width_m, height_m : array_like
        Facade width and height (m).
    distance_m : array_like
        Normal distance from the facade (m), > 0.

    Returns
    -------
    numpy.ndarray
        Factor in (0, 1].

    >>> round(float(view_factor(10.0, 6.0, 11.0)), 4)
    0.1333
    """
    s = np.asarray(distance_m, dtype=float)
    x = np.asarray(width_m, dtype=float) / (2.0 * s)
    y = np.asarray(height_m, dtype=float) / (2.0 * s)
    rx = np.sqrt(1.0 + x * x)
    ry = np.sqrt(1.0 + y * y)
    return (2.0 / np.pi) * (x / rx * np.arctan(y / rx) + y / ry * np.arctan(x / ry))


def critical_distance(width_m, height_m, emitted_kw_m2, threshold_kw_m2, max_m=200.0):
    """Distance (m) at which the flux from a burning facade falls to ``threshold_kw_m2``.

    Solved by bisection, vectorised over buildings; 0 where the facade never reaches the
    threshold (``E <= threshold``), ``max_m`` if it still exceeds it there.

    Parameters
    ----------
    width_m, height_m : array_like
        Facade width and height (m).
    emitted_kw_m2 : array_like
        Emitted intensity ``E`` (kW/m²).
    threshold_kw_m2 : float
        Flux at the target (kW/m²), e.g. :data:`PILOTED_IGNITION_FLUX_KW_M2`.
    max_m : float
        Upper end of the search (m).

    Returns
    -------
    numpy.ndarray
        Distance (m), to about 1e-9 of ``max_m``.

    >>> round(float(critical_distance(10.0, 6.0, 84.0, 12.6)), 2)
    10.25
    """
    W, H, emitted = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (width_m, height_m, emitted_kw_m2))
    )
    target = threshold_kw_m2 / np.where(emitted > 0.0, emitted, np.inf)
    lo = np.full(W.shape, 1e-6)
    hi = np.full(W.shape, float(max_m))
    for _ in range(_BISECTION_STEPS):  # F falls monotonically with distance
        mid = 0.5 * (lo + hi)
        above = view_factor(W, H, mid) > target
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return np.where(emitted > threshold_kw_m2, 0.5 * (lo + hi), 0.0)
