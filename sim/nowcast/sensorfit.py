"""Per-sensor depth factors: how much deeper each road sensor reads than the nowcast predicts.

The nowcast's coarse grid gathers a street's water into its lowest cells, but it cannot see
that some streets collect runoff from a far larger area than others (in the demo district
the two lowest roads drain about 12× their own area, the others 7–8×). One depth scale for
all sensors then warns all of them or none. The twin keeps each sensor's history, so each
sensor's own factor is fitted on past storms: per storm, the sensor's peak reading ``t``
against the peak depth of the nowcast's analysis run at it, ``m`` (unscaled, m).

Method — a ratio through the origin shrunk toward the pooled ratio (a ridge fit):

* pooled ratio ``a = Σ m·t / Σ m²`` over all sensors and storms;
* sensor ratio ``a_i = (Σ_k m_ik·t_ik + λ·a) / (Σ_k m_ik² + λ)``, with ``λ = prior_storms ×
  mean(m²)``: the pooled ratio counts as ``prior_storms`` typical storms of evidence, so a
  sensor that stayed dry in every past storm keeps ``a_i = a``;
* factor ``f_i = a_i / a`` (mean near 1): the relative pattern only. The overall level stays
  with the global depth scale, fitted for warning skill (``streettwin bench warning``); the
  sensor's scale is ``global × f_i``.
"""

from __future__ import annotations

import numpy as np

#: weight of the pooled ratio in each sensor's fit, in typical storms
PRIOR_STORMS = 1.0


def fit_sensor_factors(
    model_peak: np.ndarray, true_peak: np.ndarray, prior_storms: float = PRIOR_STORMS
) -> np.ndarray:
    """Relative depth factor per sensor from past storms (module docstring).

    Parameters
    ----------
    model_peak : numpy.ndarray (n_storms, n_sensors)
        Peak unscaled depth of the nowcast's analysis run at each sensor, per storm, m.
    true_peak : numpy.ndarray (n_storms, n_sensors)
        Peak depth the sensor read, per storm, m.
    prior_storms : float
        Weight of the pooled ratio, in typical storms (0: each sensor's own ratio).

    Returns
    -------
    numpy.ndarray (n_sensors,)
        ``f_i = a_i / a``; all ones when the model never had water.

    >>> m = np.array([[1.0, 1.0], [2.0, 2.0]])
    >>> t = np.array([[1.0, 2.0], [2.0, 4.0]])
    >>> fit_sensor_factors(m, t, prior_storms=0.0).round(4).tolist()
    [0.6667, 1.3333]
    """
    m = np.asarray(model_peak, float)
    t = np.asarray(true_peak, float)
    mm = float((m * m).sum())
    if mm <= 0.0:
        return np.ones(m.shape[1])
    a = float((m * t).sum()) / mm
    if a <= 0.0:
        return np.ones(m.shape[1])
    lam = float(prior_storms) * mm / m.size
    num = (m * t).sum(axis=0) + lam * a
    den = (m * m).sum(axis=0) + lam
    with np.errstate(invalid="ignore", divide="ignore"):
        ai = np.where(den > 0.0, num / den, a)
    return ai / a
