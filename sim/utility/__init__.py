"""Utility fault detection: meter baselines, sensor faults, water bursts, outages, gas, devices.

The entry point is :class:`sim.utility.detector.UtilityFaultDetector`; the benchmark against
faults injected by the world is :func:`sim.utility.bench.bench_faults`.
"""

from sim.utility.baseline import MeterBaseline
from sim.utility.detector import UtilityFaultDetector

__all__ = ["MeterBaseline", "UtilityFaultDetector"]
