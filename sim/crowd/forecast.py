"""Short-range crowd forecast (5–30 min ahead) from a place's counter history, with scikit-learn.

Direct multi-horizon regression: one model per horizon predicts the **change** of density
from now, ``y(t + h) − y(t)``, from

* recent values and trends: ``y(t − lag)`` for :data:`LAGS_S` and differences over 5, 15
  and 30 min (a building crowd keeps building);
* the same time yesterday: ``y(t + h − 1 d)`` and ``y(t − 1 d)`` (the daily cycle), NaN
  without a day of history (the gradient-boosting model handles missing values natively);
* the local time of day of the target (sin/cos) and a weekend flag.

The default model is :class:`sklearn.ensemble.HistGradientBoostingRegressor` (seeded);
``model="ridge"`` uses a linear :class:`~sklearn.linear_model.Ridge` on the same features
(missing values filled with the current value). The baseline is persistence,
``y(t + h) = y(t)``; :func:`mae` scores both.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

#: lags of the recent values, s
LAGS_S = (0, 60, 120, 300, 600, 900, 1800, 3600)
#: default horizons, s
HORIZONS_S = (300, 600, 900, 1200, 1500, 1800)
DAY_S = 86400.0


def _shift(y: np.ndarray, k: int) -> np.ndarray:
    """``out[i] = y[i − k]`` (NaN where out of range); negative ``k`` looks ahead."""
    out = np.full(y.shape, np.nan)
    if k == 0:
        return y.copy()
    if k > 0:
        if k < y.size:
            out[k:] = y[:-k]
    elif -k < y.size:
        out[:k] = y[-k:]
    return out


class CrowdForecaster:
    """Forecast a place's density 5–30 min ahead.

    Parameters
    ----------
    step_s : float
        Sampling step of the series, s (the series must be regular).
    horizons_s : tuple of float
        Lead times, s (multiples of ``step_s``).
    utc_offset_s : float
        Local time offset for the time-of-day features, s.
    model : {"hgb", "ridge"}
        Regressor family.
    random_state : int
        Seed of the gradient-boosting model.
    train_every : int
        Use every n-th sample for training (neighbouring minutes are nearly duplicates).
    """

    def __init__(
        self,
        *,
        step_s: float = 60.0,
        horizons_s: tuple[float, ...] = HORIZONS_S,
        utc_offset_s: float = 8 * 3600.0,
        model: str = "hgb",
        random_state: int = 0,
        train_every: int = 2,
    ) -> None:
        self.step_s = float(step_s)
        self.horizons_s = tuple(float(h) for h in horizons_s)
        self.utc_offset_s = float(utc_offset_s)
        self.model = model
        self.random_state = random_state
        self.train_every = max(1, int(train_every))
        self._models: list = []

    # -- features --------------------------------------------------------------------
    def _steps(self, seconds: float) -> int:
        return int(round(seconds / self.step_s))

    def features(self, t: np.ndarray, y: np.ndarray, horizon_s: float) -> np.ndarray:
        """Feature matrix (n × k) at every sample for one horizon."""
        t = np.asarray(t, dtype=float)
        y = np.asarray(y, dtype=float)
        h = self._steps(horizon_s)
        day = self._steps(DAY_S)
        cols = [_shift(y, self._steps(lag)) for lag in LAGS_S]
        for span in (300, 900, 1800):
            cols.append(y - _shift(y, self._steps(span)))
        cols.append(_shift(y, day - h))  # same time of day as the target, yesterday
        cols.append(_shift(y, day))
        local = t + horizon_s + self.utc_offset_s
        phase = 2 * np.pi * (local % DAY_S) / DAY_S
        cols += [np.sin(phase), np.cos(phase)]
        weekday = ((local // DAY_S).astype(int) + 3) % 7
        cols.append((weekday >= 5).astype(float))
        return np.column_stack(cols)

    def _new_model(self):
        if self.model == "ridge":
            return Ridge(alpha=1.0)
        return HistGradientBoostingRegressor(
            max_iter=200, learning_rate=0.08, max_leaf_nodes=31, random_state=self.random_state
        )

    def _prepare(self, X: np.ndarray, y_now: np.ndarray) -> np.ndarray:
        if self.model != "ridge":
            return X
        # linear model: a missing lag is best guessed by the current value
        return np.where(np.isnan(X), y_now[:, None], X)

    # -- fit / predict ---------------------------------------------------------------
    def fit(self, t, y) -> CrowdForecaster:
        """Fit one model per horizon on a regular series (UTC epoch s, p/m²)."""
        t = np.asarray(t, dtype=float)
        y = np.asarray(y, dtype=float)
        if t.size > 1 and not np.allclose(np.diff(t), self.step_s):
            raise ValueError("series must be regular with step_s")
        self._models = []
        for horizon in self.horizons_s:
            h = self._steps(horizon)
            X = self.features(t, y, horizon)
            target = _shift(y, -h) - y
            ok = ~np.isnan(target) & ~np.isnan(X[:, 0])
            ok &= np.arange(ok.size) % self.train_every == 0
            model = self._new_model()
            # one thread: OpenMP spin-waiting on a busy 2-core machine is ~15x slower
            with threadpool_limits(1):
                model.fit(self._prepare(X[ok], y[ok]), target[ok])
            self._models.append(model)
        return self

    def predict_path(self, t, y) -> np.ndarray:
        """Forecasts at every sample: array (n, len(horizons)) of density, p/m² (≥ 0)."""
        if not self._models:
            raise RuntimeError("fit the forecaster first")
        y = np.asarray(y, dtype=float)
        out = np.empty((y.size, len(self.horizons_s)))
        for j, (horizon, model) in enumerate(zip(self.horizons_s, self._models, strict=True)):
            X = self._prepare(self.features(t, y, horizon), y)
            with threadpool_limits(1):
                out[:, j] = y + model.predict(X)
        return np.maximum(out, 0.0)

    def predict(self, t, y) -> np.ndarray:
        """Forecast from the last sample: density at each horizon, p/m²."""
        return self.predict_path(t, y)[-1]


def persistence_path(y, n_horizons: int) -> np.ndarray:
    """Persistence forecast (n, n_horizons): every horizon equals the current value."""
    y = np.asarray(y, dtype=float)
    return np.repeat(y[:, None], n_horizons, axis=1)


def truth_path(y, horizon_steps) -> np.ndarray:
    """What actually happened at each horizon (n, len(horizon_steps)); NaN past the end."""
    y = np.asarray(y, dtype=float)
    return np.column_stack([_shift(y, -int(k)) for k in horizon_steps])


def mae(forecast: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Mean absolute error per horizon (column), ignoring NaN; p/m².

    >>> mae(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[2.0, 2.0], [3.0, np.nan]])).tolist()
    [0.5, 0.0]
    """
    err = np.abs(np.asarray(forecast) - np.asarray(truth))
    return np.nanmean(err, axis=0)
