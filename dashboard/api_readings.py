"""Push ingestion and sensor look-up over HTTP: ``POST /api/readings``, ``GET /api/sensors/<id>``.

The handlers reach the twin through one :class:`IngestContext` that the app factory passes to
:func:`register_readings_api`; they never import the app. Bad input never gives a 5xx:

* no or wrong bearer token → 401; a body that is not a batch → 400; too many bytes or
  readings → 413 — each a JSON ``{"error": code, "detail": text}``;
* a batch that parses → 200 with ``accepted`` (readings durably logged and applied before the
  response is sent) and ``rejected`` (one entry per bad reading, with its reason).
"""

from __future__ import annotations

import hmac
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import flask
import numpy as np

from twin.ingest import IngestPipeline
from twin.readings import (
    BATCH_TOO_LARGE,
    MALFORMED,
    MalformedBatchError,
    decode_batch,
)
from twin.schema import LOCAL_UTC_OFFSET
from twin.state import QUALITY_NAMES

log = logging.getLogger(__name__)

CONFIG_KEY = "STREETTWIN_INGEST"
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024  # 10,000 verbose readings take about 1.5 MB
DEFAULT_HISTORY_MINUTES = 60.0
MAX_HISTORY_MINUTES = 7 * 24 * 60.0
HTTP_SOURCE = "http"

readings_api = flask.Blueprint("readings_api", __name__, url_prefix="/api")


@dataclass(eq=False)
class IngestContext:
    """What the readings API needs from the running twin.

    Parameters
    ----------
    pipeline : twin.ingest.IngestPipeline
        Validation, durable log, live state and history (its catalogue names the sensors).
    token : str
        Bearer token devices send as ``Authorization: Bearer <token>``; empty refuses all.
    max_body_bytes : int
        Largest request body, bytes (413 beyond).
    utc_offset : str
        Offset of local times in responses, ``"+08:00"`` style (the district's).
    source : str
        Source name counted for HTTP pushes.
    """

    pipeline: IngestPipeline
    token: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    utc_offset: str = LOCAL_UTC_OFFSET
    source: str = HTTP_SOURCE

    @property
    def tz(self) -> timezone:
        """The local time zone as a fixed offset."""
        return offset_timezone(self.utc_offset)


def offset_timezone(offset: str) -> timezone:
    """A fixed-offset zone from ``"+08:00"``-style text.

    >>> offset_timezone("+08:00").utcoffset(None)
    datetime.timedelta(seconds=28800)
    """
    sign = -1 if offset.startswith("-") else 1
    hours, _, minutes = offset.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def iso_local(epoch_s: float, tz: timezone) -> str | None:
    """ISO 8601 text with the zone's offset (ms precision); None for NaN.

    >>> iso_local(0.0, offset_timezone("+08:00"))
    '1970-01-01T08:00:00.000+08:00'
    """
    if epoch_s is None or not math.isfinite(epoch_s):
        return None
    return datetime.fromtimestamp(epoch_s, tz).isoformat(timespec="milliseconds")


def register_readings_api(server: flask.Flask, context: IngestContext) -> None:
    """Add ``POST /api/readings`` and ``GET /api/sensors/<id>`` to a Flask app."""
    server.config[CONFIG_KEY] = context
    server.register_blueprint(readings_api)


def register_api_errors(server: flask.Flask) -> None:
    """Answer HTTP errors under ``/api`` (unknown path, wrong method, ...) as JSON errors.

    Other paths keep Flask's default pages. Without this, a mistyped API URL gets an HTML
    page, which API clients (and the OpenAPI contract) do not expect.
    """
    from werkzeug.exceptions import HTTPException

    def handle(exc: HTTPException):
        if not flask.request.path.startswith("/api"):
            return exc
        code = (exc.name or "error").lower().replace(" ", "_")
        response = error(exc.code or 500, code, exc.description or exc.name or "")
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    server.register_error_handler(HTTPException, handle)


def _context() -> IngestContext:
    return flask.current_app.config[CONFIG_KEY]


def error(status: int, code: str, detail: str, **headers: str) -> flask.Response:
    """A JSON error response ``{"error": code, "detail": detail}``."""
    response = flask.jsonify(error=code, detail=detail)
    response.status_code = status
    response.headers.update(headers)
    return response


def _authorised(ctx: IngestContext) -> bool:
    header = flask.request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not ctx.token:
        return False
    # constant-time comparison, so the token cannot be guessed byte by byte
    return hmac.compare_digest(given.strip().encode(), ctx.token.encode())


def _text_or_none(x: object) -> str | None:
    return x if isinstance(x, str) else None


@readings_api.post("/readings")
def post_readings() -> flask.Response:
    """``POST /api/readings``: ingest a batch of readings pushed by a device or gateway.

    Returns
    -------
    JSON
        200 ``{"received": n, "accepted": k, "rejected": [{index, reading_id, sensor_id,
        reason, detail}, ...]}``; 400/401/413 ``{"error", "detail"}``.
    """
    ctx = _context()
    pipe = ctx.pipeline
    if not _authorised(ctx):
        log.info("readings push refused: missing or wrong bearer token")
        return error(
            401,
            "unauthorized",
            "send Authorization: Bearer <token>",
            **{"WWW-Authenticate": 'Bearer realm="streettwin"'},
        )
    length = flask.request.content_length
    if length is not None and length > ctx.max_body_bytes:
        pipe.counters.count(ctx.source, 0, [{"reason": BATCH_TOO_LARGE}])
        return error(413, BATCH_TOO_LARGE, f"body of {length} bytes > max {ctx.max_body_bytes}")
    body = flask.request.stream.read(ctx.max_body_bytes + 1)
    if len(body) > ctx.max_body_bytes:  # chunked upload without a length
        pipe.counters.count(ctx.source, 0, [{"reason": BATCH_TOO_LARGE}])
        return error(413, BATCH_TOO_LARGE, f"body > max {ctx.max_body_bytes} bytes")
    try:
        raw = decode_batch(body, typed=True)
    except MalformedBatchError as exc:
        pipe.counters.count(ctx.source, 0, [{"reason": MALFORMED}])
        return error(400, MALFORMED, str(exc))
    if len(raw) > pipe.max_batch:
        pipe.counters.count(ctx.source, 0, [{"reason": BATCH_TOO_LARGE}])
        return error(413, BATCH_TOO_LARGE, f"{len(raw)} readings > max {pipe.max_batch}")
    result = pipe.submit(raw, source=ctx.source)
    rejected = [
        {
            "index": r["index"],
            "reading_id": _text_or_none(r["reading_id"]),
            "sensor_id": _text_or_none(r["sensor_id"]),
            "reason": r["reason"],
            "detail": str(r["detail"])[:300],
        }
        for r in result.rejected
    ]
    if rejected:
        log.info(
            "readings push: %d accepted, %d rejected (%s)",
            result.accepted,
            len(rejected),
            ", ".join(sorted({r["reason"] for r in rejected})),
        )
    return flask.jsonify(received=len(raw), accepted=result.accepted, rejected=rejected)


def _minutes_arg() -> float | None:
    text = flask.request.args.get("minutes")
    if text is None:
        return DEFAULT_HISTORY_MINUTES
    try:
        minutes = float(text)
    except ValueError:
        return None
    return minutes if math.isfinite(minutes) and 0 < minutes <= MAX_HISTORY_MINUTES else None


def _number(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


@readings_api.get("/sensors/<path:sensor_id>")
def get_sensor(sensor_id: str) -> flask.Response:
    """``GET /api/sensors/<id>``: live value, times, quality and recent history of a sensor.

    Query ``minutes`` (default 60, at most a week) sets the history window.

    Returns
    -------
    JSON
        ``{sensor_id, quantity, unit, display_unit, value, quality, observed_at,
        observed_at_epoch, received_at, received_at_epoch, age_s, history: {minutes,
        points: [{observed_at, observed_at_epoch, value}]}}``; values SI; times ISO 8601
        with the local offset and epoch s UTC; 404 for an unknown sensor.
    """
    ctx = _context()
    pipe = ctx.pipeline
    row = pipe.catalogue.row_of(sensor_id)
    if row < 0:
        return error(404, "not_found", f"no sensor {sensor_id[:200]!r}")
    minutes = _minutes_arg()
    if minutes is None:
        return error(400, "bad_request", f"minutes must be a number in (0, {MAX_HISTORY_MINUTES}]")
    tz = ctx.tz
    now = pipe.clock()
    live = pipe.state.snapshot(np.array([row])).iloc[0]
    # readings up to the allowed clock skew ahead are part of "recent"
    end = now + pipe.max_future_s
    times, values = pipe.history.last(row, 60.0 * minutes + pipe.max_future_s, end)
    points = [
        {
            "observed_at": iso_local(t, tz),
            "observed_at_epoch": t,
            # history keeps float32: print the digits it holds, not float32 noise
            "value": float(f"{v:.7g}"),
        }
        for t, v in zip(times.tolist(), values.tolist(), strict=True)
    ]
    observed = float(live["observed_at"])
    received = float(live["received_at"])
    return flask.jsonify(
        sensor_id=sensor_id,
        quantity=str(pipe.catalogue.quantity[row]),
        unit=str(pipe.catalogue.unit[row]),
        display_unit=str(pipe.catalogue.display_unit[row]),
        value=_number(float(live["value"])),
        quality=QUALITY_NAMES[int(live["quality"])],
        observed_at=iso_local(observed, tz),
        observed_at_epoch=_number(observed),
        received_at=iso_local(received, tz),
        received_at_epoch=_number(received),
        age_s=_number(now - observed),
        history={"minutes": minutes, "points": points},
    )
