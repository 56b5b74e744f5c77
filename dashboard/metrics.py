"""``GET /metrics``: the twin's health in Prometheus text format, read from small providers.

Each figure comes from a zero-argument callable in :class:`MetricsProviders`, so parts of the
runtime that do not exist yet (a websocket hub, the Modbus pollers) plug in later without
this module knowing them. A provider that is missing is left out; one that fails is logged
and left out, and the endpoint still answers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import flask
import numpy as np

from twin.ingest import IngestPipeline
from twin.state import QUALITY_NAMES, Quality

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: (name, type, help) of every metric this module writes
METRICS: tuple[tuple[str, str, str], ...] = (
    ("streettwin_readings_accepted_total", "counter", "Readings durably stored, by source."),
    (
        "streettwin_readings_rejected_total",
        "counter",
        "Readings (or whole batches) rejected, by source and reason.",
    ),
    ("streettwin_poll_latency_seconds", "gauge", "Duration of the last poll of a device."),
    (
        "streettwin_ingest_lag_seconds",
        "gauge",
        "Median over sensors of receipt minus observation time of the live value.",
    ),
    (
        "streettwin_ingest_lag_max_seconds",
        "gauge",
        "Largest receipt minus observation time of a live value.",
    ),
    ("streettwin_sensors", "gauge", "Sensors by the quality of their live value."),
    ("streettwin_stale_sensors", "gauge", "Sensors whose value is stale (or never came)."),
    ("streettwin_devices_offline", "gauge", "Field devices that do not answer."),
    ("streettwin_websocket_clients", "gauge", "Browsers connected to /ws/live."),
)


@dataclass
class MetricsProviders:
    """Sources of the figures; each is a callable with no arguments, or None.

    Attributes
    ----------
    accepted : callable → mapping source → int
    rejected : callable → mapping (source, reason) → int
    poll_latency_s : callable → mapping device id → float (s)
    ingest_lag_s : callable → (median, max) in s, or None when no sensor reported
    sensor_quality : callable → mapping quality name → int (sensors)
    devices_offline : callable → int
    websocket_clients : callable → int
    """

    accepted: Callable[[], Mapping[str, int]] | None = None
    rejected: Callable[[], Mapping[tuple[str, str], int]] | None = None
    poll_latency_s: Callable[[], Mapping[str, float]] | None = None
    ingest_lag_s: Callable[[], tuple[float, float] | None] | None = None
    sensor_quality: Callable[[], Mapping[str, int]] | None = None
    devices_offline: Callable[[], int] | None = None
    websocket_clients: Callable[[], int] | None = None


def providers_from_pipeline(
    pipeline: IngestPipeline,
    *,
    poll_latency_s: Callable[[], Mapping[str, float]] | None = None,
    devices_offline: Callable[[], int] | None = None,
    websocket_clients: Callable[[], int] | None = None,
) -> MetricsProviders:
    """Providers reading the pipeline's counters and live state, plus the given extras."""
    counters = pipeline.counters
    state = pipeline.state

    def accepted() -> dict[str, int]:
        return counters.snapshot()["accepted_by_source"]

    def lag() -> tuple[float, float] | None:
        snap = state.snapshot()
        d = (snap["received_at"] - snap["observed_at"]).to_numpy()
        d = d[np.isfinite(d)]
        return (float(np.median(d)), float(d.max())) if d.size else None

    def quality() -> dict[str, int]:
        counts = np.bincount(state.quality, minlength=len(Quality))
        return {QUALITY_NAMES[q]: int(counts[q]) for q in QUALITY_NAMES}

    return MetricsProviders(
        accepted=accepted,
        rejected=counters.by_source_reason,
        poll_latency_s=poll_latency_s,
        ingest_lag_s=lag,
        sensor_quality=quality,
        devices_offline=devices_offline,
        websocket_clients=websocket_clients,
    )


def escape_label(value: object) -> str:
    r"""A label value escaped for the text format (backslash, quote, newline).

    >>> escape_label('a"b\\c')
    'a\\"b\\\\c'
    """
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def _sample(name: str, labels: Mapping[str, object], value: float) -> str:
    if labels:
        text = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
        return f"{name}{{{text}}} {_number(value)}"
    return f"{name} {_number(value)}"


def _samples(p: MetricsProviders) -> Iterable[tuple[str, dict, float]]:
    """(metric name, labels, value) of every figure the providers give."""
    figures: list[tuple[str, Callable[[], Iterable[tuple[str, dict, float]]]]] = [
        (
            "accepted",
            lambda: (
                ("streettwin_readings_accepted_total", {"source": s}, n)
                for s, n in sorted(p.accepted().items())
            ),
        ),
        (
            "rejected",
            lambda: (
                ("streettwin_readings_rejected_total", {"source": s, "reason": r}, n)
                for (s, r), n in sorted(p.rejected().items())
            ),
        ),
        (
            "poll_latency_s",
            lambda: (
                ("streettwin_poll_latency_seconds", {"device": d}, t)
                for d, t in sorted(p.poll_latency_s().items())
            ),
        ),
        ("ingest_lag_s", lambda: _lag(p.ingest_lag_s())),
        ("sensor_quality", lambda: _quality(p.sensor_quality())),
        (
            "devices_offline",
            lambda: [("streettwin_devices_offline", {}, p.devices_offline())],
        ),
        (
            "websocket_clients",
            lambda: [("streettwin_websocket_clients", {}, p.websocket_clients())],
        ),
    ]
    for attr, make in figures:
        if getattr(p, attr) is None:
            continue
        try:
            yield from list(make())
        except Exception:  # a broken provider must not take /metrics down
            log.exception("metrics provider %s failed", attr)


def _lag(lag: tuple[float, float] | None) -> list[tuple[str, dict, float]]:
    if lag is None:
        return []
    return [
        ("streettwin_ingest_lag_seconds", {}, lag[0]),
        ("streettwin_ingest_lag_max_seconds", {}, lag[1]),
    ]


def _quality(counts: Mapping[str, int]) -> list[tuple[str, dict, float]]:
    out = [("streettwin_sensors", {"quality": q}, n) for q, n in sorted(counts.items())]
    out.append(("streettwin_stale_sensors", {}, counts.get("stale", 0)))
    return out


def render_metrics(providers: MetricsProviders) -> str:
    """The exposition text: HELP and TYPE once per metric that has samples, then samples."""
    by_name: dict[str, list[str]] = {}
    for name, labels, value in _samples(providers):
        by_name.setdefault(name, []).append(_sample(name, labels, float(value)))
    lines: list[str] = []
    for name, kind, help_text in METRICS:
        if name in by_name:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *by_name[name]]
    return "\n".join(lines) + "\n"


def register_metrics(server: flask.Flask, providers: MetricsProviders) -> None:
    """Add ``GET /metrics`` to a Flask app."""

    def metrics() -> flask.Response:
        start = time.perf_counter()
        text = render_metrics(providers)
        log.debug("metrics rendered in %.1f ms", 1e3 * (time.perf_counter() - start))
        return flask.Response(text, mimetype=None, content_type=CONTENT_TYPE)

    server.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])


def runtime_metrics(runtime: Any) -> MetricsProviders:
    """Providers for a running twin (``dashboard.runtime.TwinRuntime``)."""

    def poll_latency() -> dict[str, float]:
        poller = runtime.poller
        if poller is None:
            return {}
        return {h["device_id"]: float(h["latency_s"]["p50"]) for h in poller.health()}

    return providers_from_pipeline(
        runtime.pipeline,
        poll_latency_s=poll_latency,
        devices_offline=lambda: runtime.status()["devices_offline"],
        websocket_clients=lambda: runtime.hub.client_count,
    )
