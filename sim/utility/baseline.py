"""Daily and weekly baselines of meter streams (scikit-learn ridge regression) and residual scores.

Each watched sensor gets an expected value as a function of local time: a ridge regression
(:class:`sklearn.linear_model.Ridge`, one multi-output fit for all sensors) on Fourier
harmonics of the hour of day, plus the same harmonics times a weekend indicator (the weekly
part; shrunk to zero when the training history holds no weekend). Multiplicative meters
(power, gas flow) are modelled in log space. The fit is robust: a second pass refits after
clipping outliers to ±4 robust standard deviations.

Residuals are scored in robust standard deviations (``z``); the change of the residual over
``lag`` readings is scored separately (``dz``): abrupt changes (a burst, a leak, an outage)
show in ``dz``, slow ones (a drifting sensor) do not.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

DAY_S = 86400.0
#: quantities modelled in log space (multiplicative daily shape and noise)
LOG_QUANTITIES = ("building__power_demand", "building__gas_flow_rate")
#: smallest residual standard deviation per quantity in model units (instrument accuracy
#: order: log units for LOG_QUANTITIES, SI otherwise); keeps flat series from dividing by 0
SIGMA_FLOOR: dict[str, float] = {
    "building__power_demand": 0.01,
    "building__gas_flow_rate": 0.01,
    "water_node__pressure": 300.0,
    "water_pipe__flow_rate": 2e-5,
    "building__air_temperature": 0.05,
    "building__relative_humidity": 0.005,
    "building__gas_concentration": 0.002,
}
#: log offset as a fraction of the sensor's median level (keeps zero readings finite)
LOG_EPS_FRACTION = 0.05
#: daily Fourier harmonics
HARMONICS = 6
#: robust scale of the median absolute deviation of a normal variable
MAD_SCALE = 1.4826


def time_features(t: np.ndarray, utc_offset_s: float, harmonics: int = HARMONICS) -> np.ndarray:
    """Daily harmonics and their weekend copy at UTC epoch seconds ``t``.

    Returns an array (n_times, 4 · harmonics + 1): sin/cos of each harmonic of the local
    hour, the same times a weekend (Saturday, Sunday) indicator, and the weekend indicator.

    >>> time_features(np.array([0.0]), 0.0, 1).round(3).tolist()  # Thursday 00:00 UTC
    [[0.0, 1.0, 0.0, 0.0, 0.0]]
    """
    t = np.asarray(t, float).reshape(-1)
    local = t + utc_offset_s
    phase = 2.0 * np.pi * (local % DAY_S) / DAY_S
    weekday = (np.floor(local / DAY_S) + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
    weekend = (weekday >= 5).astype(float)[:, None]
    k = np.arange(1, harmonics + 1)[None, :]
    daily = np.concatenate(
        [np.sin(k * phase[:, None]), np.cos(k * phase[:, None])], axis=1
    ).reshape(len(t), 2, harmonics)
    daily = daily.transpose(0, 2, 1).reshape(len(t), 2 * harmonics)
    return np.concatenate([daily, daily * weekend, weekend], axis=1)


def _mad(x: np.ndarray, axis: int = 0) -> np.ndarray:
    med = np.nanmedian(x, axis=axis, keepdims=True)
    return MAD_SCALE * np.nanmedian(np.abs(x - med), axis=axis)


class MeterBaseline:
    """Expected value of each watched sensor by local time of day and weekday/weekend.

    Parameters
    ----------
    quantities : sequence of str
        Field name of each watched sensor (:mod:`twin.fields`), one per column.
    utc_offset_s : float
        Local time offset east of UTC, s.
    lag : int
        Readings between the two ends of a ``dz`` change score.
    alpha : float
        Ridge penalty.
    """

    def __init__(
        self, quantities, *, utc_offset_s: float = 0.0, lag: int = 5, alpha: float = 1.0
    ) -> None:
        self.quantities = np.asarray(quantities, dtype=object)
        self.utc_offset_s = float(utc_offset_s)
        self.lag = int(lag)
        self.alpha = float(alpha)
        n = len(self.quantities)
        self.log = np.isin(self.quantities, LOG_QUANTITIES)
        self.floor = np.array([SIGMA_FLOOR.get(q, 1e-6) for q in self.quantities])
        self.eps = np.ones(n)
        self.sigma = np.ones(n)
        self.sigma_d = np.ones(n)
        self.level = np.zeros(n)
        self.varies = np.zeros(n, bool)
        self.reporting = np.zeros(n, bool)
        self.model: Ridge | None = None
        self._cached: tuple[float, np.ndarray] = (np.nan, np.zeros(n))

    # -- transforms ----------------------------------------------------------------------
    def transform(self, values: np.ndarray) -> np.ndarray:
        """Raw SI readings → model units (log for multiplicative meters)."""
        v = np.asarray(values, float)
        return np.where(self.log, np.log(np.maximum(v, 0.0) + self.eps), v)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Model units → SI."""
        return np.where(self.log, np.exp(np.minimum(y, 700.0)) - self.eps, y)

    # -- fitting -------------------------------------------------------------------------
    def fit(self, times: np.ndarray, values: np.ndarray) -> MeterBaseline:
        """Learn the profiles and residual scales from a clean history.

        Parameters
        ----------
        times : numpy.ndarray
            (n_times,) UTC epoch s, regularly spaced readings.
        values : numpy.ndarray
            (n_times, n_sensors) SI readings; NaN = missing.
        """
        times = np.asarray(times, float)
        values = np.asarray(values, float)
        n = values.shape[1]
        finite = np.isfinite(values)
        self.reporting = finite.mean(axis=0) > 0.5
        med = np.where(self.reporting, np.nanmedian(np.where(finite, values, np.nan), 0), 0.0)
        med = np.nan_to_num(med)
        self.eps = np.where(self.log, np.maximum(LOG_EPS_FRACTION * np.abs(med), 1e-9), 1.0)
        Y = self.transform(values)
        Y = np.where(finite, Y, np.nan)
        fill = np.nan_to_num(np.nanmedian(Y, axis=0))
        Y = np.where(finite, Y, fill)
        X = time_features(times, self.utc_offset_s)
        model = Ridge(alpha=self.alpha).fit(X, Y)
        resid = Y - model.predict(X)
        s = np.maximum(_mad(resid), self.floor)
        clipped = model.predict(X) + np.clip(resid, -4 * s, 4 * s)
        self.model = Ridge(alpha=self.alpha).fit(X, clipped)
        self._cached = (np.nan, np.zeros(n))
        resid = np.where(finite, Y - self.model.predict(X), np.nan)
        self.sigma = np.maximum(np.nan_to_num(_mad(resid), nan=0.0), self.floor)
        if len(times) > self.lag:
            d = resid[self.lag :] - resid[: -self.lag]
            self.sigma_d = np.maximum(np.nan_to_num(_mad(d), nan=0.0), self.floor)
        else:
            self.sigma_d = self.sigma.copy()
        self.level = med
        # a sensor "varies" when consecutive readings are almost never exactly equal
        same = np.diff(values, axis=0) == 0
        self.varies = self.reporting & (same.mean(axis=0) < 0.01 if len(values) > 1 else False)
        return self

    # -- scoring -------------------------------------------------------------------------
    def expected(self, t: float) -> np.ndarray:
        """Expected reading of every sensor at UTC epoch s ``t``, in model units."""
        if self.model is None:
            raise RuntimeError("MeterBaseline: fit() first")
        if self._cached[0] != t:  # plain matrix product: sklearn's predict checks cost ms
            x = time_features(np.array([t]), self.utc_offset_s)[0]
            self._cached = (t, self.model.coef_ @ x + self.model.intercept_)
        return self._cached[1]

    def expected_si(self, t: float) -> np.ndarray:
        """Expected reading at ``t`` in SI units."""
        return self.inverse(self.expected(t))

    def score(self, t: float, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residual (model units) and its z score for readings at ``t`` (NaN where missing)."""
        r = self.transform(values) - self.expected(t)
        r = np.where(np.isfinite(values), r, np.nan)
        return r, r / self.sigma

    def raw_sigma(self) -> np.ndarray:
        """Residual standard deviation of each sensor in SI units (for sizing test faults)."""
        return np.where(self.log, self.sigma * (np.abs(self.level) + self.eps), self.sigma)
