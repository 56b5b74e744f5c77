"""Crowd forecast skill: forecaster MAE vs persistence and flag lead times on a seeded series.

``run_crowd_bench(...)`` trains :class:`~sim.crowd.forecast.CrowdForecaster` on the first
``days − test_days`` days of :func:`~sim.crowd.synthetic.synthetic_crowd_series` and scores
the held-out last ``test_days``: MAE per horizon for the model and for persistence, and the
lead time of the danger flag (5 p/m²) before each crossing. ``bench_crowd(args)`` is the CLI
entry (``streettwin bench crowd --json`` once registered).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sim.crowd.flags import crowding_flags, false_flag_runs, flag_lead_times, upward_crossings
from sim.crowd.forecast import CrowdForecaster, mae, persistence_path, truth_path
from sim.crowd.synthetic import synthetic_crowd_series


def run_crowd_bench(
    *,
    seed: int = 7,
    days: int = 35,
    test_days: int = 7,
    horizons_s: tuple[float, ...] = (300, 600, 900, 1200, 1500, 1800),
    train_every: int = 2,
    step_s: float = 60.0,
) -> dict[str, Any]:
    """Train on a seeded synthetic series and score the held-out days.

    Returns
    -------
    dict
        ``horizons_min``, ``mae_model``, ``mae_persistence`` (p/m², per horizon),
        ``mae_model_30min``/``mae_persistence_30min`` (last horizon), ``crossings``,
        ``flag_lead_min`` (per crossing), ``median_flag_lead_min``, ``false_flag_runs``,
        ``fit_predict_s``.
    """
    rng = np.random.default_rng(seed)
    t, y, _ = synthetic_crowd_series(rng, days=days, step_s=step_s)
    n_train = int((days - test_days) * 86400 / step_s)
    start = time.perf_counter()
    model = CrowdForecaster(
        step_s=step_s, horizons_s=horizons_s, train_every=train_every, random_state=seed
    )
    model.fit(t[:n_train], y[:n_train])
    path = model.predict_path(t, y)
    elapsed = time.perf_counter() - start
    steps = [int(round(h / step_s)) for h in horizons_s]
    truth = truth_path(y, steps)
    held = slice(n_train, None)
    m_model = mae(path[held], truth[held])
    m_pers = mae(persistence_path(y, len(steps))[held], truth[held])
    flags = crowding_flags(y, path)
    leads = flag_lead_times(flags[held], y[held], step_s) / 60.0
    return {
        "seed": seed,
        "days_train": days - test_days,
        "days_test": test_days,
        "horizons_min": [h / 60.0 for h in horizons_s],
        "mae_model": [round(float(v), 4) for v in m_model],
        "mae_persistence": [round(float(v), 4) for v in m_pers],
        "mae_model_30min": round(float(m_model[-1]), 4),
        "mae_persistence_30min": round(float(m_pers[-1]), 4),
        "crossings": int(upward_crossings(y[held]).size),
        "flag_lead_min": [float(v) for v in leads],
        "median_flag_lead_min": float(np.median(leads)) if leads.size else None,
        "false_flag_runs": false_flag_runs(flags[held], y[held], step_s),
        "fit_predict_s": round(elapsed, 2),
    }


def bench_crowd(args) -> dict[str, Any]:
    """CLI entry: the full bench, or a small one with ``--smoke``/``--quick``."""
    if getattr(args, "smoke", False) or getattr(args, "quick", False):
        return run_crowd_bench(days=10, test_days=3, horizons_s=(900, 1800), train_every=6)
    return run_crowd_bench()
