"""Smoke run of ``streettwin bench dispatch`` (figures are printed, never asserted on time)."""

from __future__ import annotations

import argparse

import pytest

from twin.events.bench import bench_dispatch


@pytest.mark.bench
def test_dispatch_bench_smoke_reports_its_figures():
    out = bench_dispatch(argparse.Namespace(smoke=True, repeat=1))
    assert out["history_tickets"] == 20_000
    assert out["transitions_per_s"] > 0 and out["kpi_query_ms"] > 0
    # ~90 % of synthetic tickets are closed; found excludes merged and dismissed (5 %)
    assert out["history_handling_rate"] == pytest.approx(0.90 / 0.95, abs=0.01)
