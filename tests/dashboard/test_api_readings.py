"""POST /api/readings and GET /api/sensors/<id>: every bad-input case, auth, durability, look-up."""

from __future__ import annotations

import json

import flask
import numpy as np
import pytest

from dashboard.api_readings import IngestContext, register_readings_api
from tests.twin.test_pipeline import make_pipeline, reading
from tests.twin.test_readings import NOW, sensors_frame
from twin.readings import Catalogue, TypedReadings, decode_batch, validate_batch

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(pipe, **kw) -> flask.Flask:
    app = flask.Flask(__name__)
    register_readings_api(app, IngestContext(pipe, TOKEN, **kw))
    return app


@pytest.fixture
def pipe(tmp_path):
    p = make_pipeline(tmp_path / "readings.sqlite")
    yield p
    p.log.close()


@pytest.fixture
def client(pipe):
    return make_app(pipe).test_client()


def post(client, body, headers=AUTH):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/api/readings", data=data, headers=headers, content_type="application/json")


def reasons(resp) -> list[tuple[int, str]]:
    return [(r["index"], r["reason"]) for r in resp.get_json()["rejected"]]


def test_valid_batch_is_durable_and_applied_before_the_response(client, pipe):
    resp = post(client, {"readings": [reading("a", value=2.0), reading("b", sensor="ROAD-1")]})
    assert resp.status_code == 200
    assert resp.get_json() == {"received": 2, "accepted": 2, "rejected": []}
    assert pipe.log.contains(["a", "b"]).tolist() == [True, True]
    assert pipe.state.snapshot().loc["RIV-1", "value"] == 2.0
    assert pipe.counters.snapshot()["accepted_by_source"] == {"http": 2}


def test_bare_list_is_a_batch_too(client, pipe):
    resp = post(client, [reading("a")])
    assert resp.status_code == 200 and resp.get_json()["accepted"] == 1


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (reading("x", sensor="NOPE"), "unknown_sensor"),
        (reading("x", value=31.0), "out_of_range"),  # RIV-1 range is [-5, 30] m
        (reading("x", value="1.25"), "wrong_type"),
        (reading("x", value=True), "wrong_type"),
        (reading("x", value=1.0, unit="ft"), "wrong_unit"),
        (reading("x", dt=+61.0), "future_timestamp"),  # skew allowed: 60 s
        (reading("x", dt=-3601.0), "too_old"),  # retention: 3600 s
        (reading("x", value=None), "malformed"),
        ("not an object", "malformed"),
    ],
)
def test_each_bad_reading_is_rejected_with_its_reason_while_valid_ones_land(
    client, pipe, bad, reason
):
    resp = post(client, [reading("ok1", value=1.0), bad, reading("ok2", value=3.0, dt=-5)])
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["accepted"] == 2 and body["received"] == 3
    assert reasons(resp) == [(1, reason)]
    assert pipe.state.snapshot().loc["RIV-1", "value"] == 3.0
    assert pipe.log.contains(["ok1", "ok2", "x"]).tolist() == [True, True, False]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_tokens_reject_only_their_reading(client, pipe, token):
    # JSON has no NaN/Infinity, but Python's encoder and many devices emit them: we parse them
    # so the one reading is rejected as not_a_number and the rest of the batch still lands
    ok = {"reading_id": "ok", "sensor_id": "RIV-1", "value": 1.5, "observed_at": NOW - 3}
    bad = json.dumps({**ok, "reading_id": "bad", "value": 0.0}).replace("0.0", token)
    body = f"[{json.dumps(ok)}, {bad}]"
    resp = post(client, body)
    assert resp.status_code == 200
    assert resp.get_json()["accepted"] == 1 and reasons(resp) == [(1, "not_a_number")]
    assert pipe.state.snapshot().loc["RIV-1", "value"] == 1.5


def test_integer_beyond_float64_is_out_of_range(client):
    big = {"reading_id": "big", "sensor_id": "RIV-1", "value": 0.0, "observed_at": NOW - 1}
    body = "[" + json.dumps(big).replace("0.0", "1" + "0" * 400) + "]"
    assert reasons(post(client, body)) == [(0, "out_of_range")]


def test_duplicate_reading_id_within_a_batch_and_on_retry(client, pipe):
    resp = post(client, [reading("d1", value=1.0), reading("d1", value=2.0)])
    assert resp.get_json()["accepted"] == 1 and reasons(resp) == [(1, "duplicate_reading")]
    retry = post(client, [reading("d1", value=1.0), reading("d2", value=2.0)])
    assert retry.status_code == 200
    assert retry.get_json()["accepted"] == 1 and reasons(retry) == [(0, "duplicate_reading")]
    assert len(pipe.log) == 2
    assert pipe.history.count[0] == 2


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b'{"readings": 5}', b'"text"', b"\xff\xfe\x00", b"[" * 100_000],
)
def test_malformed_body_is_400_json(client, pipe, body):
    resp = post(client, body)
    assert resp.status_code == 400
    assert resp.is_json and resp.get_json()["error"] == "malformed"
    assert len(pipe.log) == 0
    assert pipe.counters.by_source_reason() == {("http", "malformed"): 1}


def test_oversize_batch_is_413(tmp_path):
    p = make_pipeline(tmp_path / "r.sqlite")
    p.max_batch = 3
    client = make_app(p).test_client()
    resp = post(client, [reading(f"r{i}") for i in range(4)])
    assert resp.status_code == 413 and resp.get_json()["error"] == "batch_too_large"
    assert post(client, [reading(f"r{i}") for i in range(3)]).get_json()["accepted"] == 3
    p.log.close()


def test_oversize_body_is_413_before_parsing(pipe):
    client = make_app(pipe, max_body_bytes=1000).test_client()
    resp = post(client, [reading(f"r{i}") for i in range(50)])
    assert resp.status_code == 413 and resp.get_json()["error"] == "batch_too_large"
    assert len(pipe.log) == 0


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Bearer"}],
)
def test_missing_or_wrong_token_is_401(client, pipe, headers):
    resp = post(client, [reading("a")], headers=headers)
    assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert len(pipe.log) == 0


def test_empty_configured_token_refuses_everyone(pipe):
    app = flask.Flask(__name__)
    register_readings_api(app, IngestContext(pipe, token=""))
    resp = post(app.test_client(), [reading("a")], headers={"Authorization": "Bearer "})
    assert resp.status_code == 401


def test_sensor_lookup_gives_value_times_quality_and_history(client, pipe):
    post(
        client,
        [
            reading("h1", value=1.0, dt=-4000),  # beyond retention: rejected, not in history
            reading("h2", value=1.5, dt=-1800),
            reading("h3", value=2.25, dt=-10),
        ],
    )
    resp = client.get("/api/sensors/RIV-1")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["sensor_id"] == "RIV-1" and body["quantity"] == "river__water_level"
    assert body["unit"] == "m" and body["value"] == 2.25 and body["quality"] == "good"
    # NOW = 2025-06-15T15:06:40Z; observed 10 s earlier, shown at +08:00
    assert body["observed_at"] == "2025-06-15T23:06:30.000+08:00"
    assert body["observed_at_epoch"] == NOW - 10
    assert body["received_at_epoch"] == NOW and body["age_s"] == 10.0
    points = body["history"]["points"]
    assert body["history"]["minutes"] == 60
    assert [p["value"] for p in points] == [1.5, 2.25]
    assert points[0]["observed_at"] == "2025-06-15T22:36:40.000+08:00"
    short = client.get("/api/sensors/RIV-1?minutes=5").get_json()["history"]
    assert [p["value"] for p in short["points"]] == [2.25] and short["minutes"] == 5


def test_sensor_without_readings_has_null_value_and_stale_quality(client):
    body = client.get("/api/sensors/PRES-1").get_json()
    assert body["value"] is None and body["quality"] == "stale"
    assert body["observed_at"] is None and body["history"]["points"] == []


def test_unknown_sensor_is_404_json_and_bad_minutes_400(client):
    resp = client.get("/api/sensors/NOPE")
    assert resp.status_code == 404 and resp.get_json()["error"] == "not_found"
    for bad in ("abc", "0", "-5", "nan", "inf", "99999999"):
        resp = client.get(f"/api/sensors/RIV-1?minutes={bad}")
        assert resp.status_code == 400 and resp.get_json()["error"] == "bad_request"


def test_typed_decoding_gives_the_same_outcome_as_the_general_path():

    cat = Catalogue(sensors_frame())
    batch = [
        reading("a", value=1),  # integer value
        {"sensor_id": "ROAD-1", "value": 12.5, "observed_at": NOW - 5, "unit": "cm"},  # no id
        reading("b", sensor="NOPE"),
        reading("c", value=99.0),
        reading("d", unit="ft"),
        reading("e", dt=+120),
        reading("", value=1.0),  # empty id: malformed
        reading("f", quality="stale"),  # malformed
        reading("g", source="gw-2", quality="simulated"),
        reading("a", value=2.0),  # duplicate
        {**reading("h"), "observed_at": "2025-06-15T23:06:00+08:00", "extra": [1, 2]},
        {**reading("i"), "observed_at": "yesterday"},
    ]
    body = json.dumps({"readings": batch}).encode()
    typed = decode_batch(body, typed=True)
    plain = decode_batch(body)
    assert type(typed) is TypedReadings and type(plain) is list
    got = [
        validate_batch(raw, cat, NOW, retention_s=3600.0, source="http") for raw in (typed, plain)
    ]
    (acc_t, rej_t), (acc_p, rej_p) = got
    assert rej_t == rej_p
    assert [r["reason"] for r in rej_t] == [
        "unknown_sensor",
        "out_of_range",
        "wrong_unit",
        "future_timestamp",
        "malformed",
        "malformed",
        "duplicate_reading",
        "malformed",
    ]
    for name in ("reading_id", "sensor_id", "row", "value", "observed_at", "quality", "source"):
        assert np.array_equal(getattr(acc_t, name), getattr(acc_p, name)), name
    assert acc_t.source.tolist() == ["http", "http", "gw-2", "http"]
    assert acc_t.value.tolist() == pytest.approx([1.0, 0.125, 1.0, 1.0])
