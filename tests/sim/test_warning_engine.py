"""Warning engine: issue, de-duplicate, escalate, hold then downgrade, all-clear, expiry, ack."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from shapely.geometry import box

from sim.warning.engine import WarningEngine
from sim.warning.thresholds import load_thresholds

T0 = datetime(2026, 7, 1, 14, 0, tzinfo=timezone(timedelta(hours=8)))
MIN = timedelta(minutes=1)


def area(level: int, **extra) -> dict:
    return {
        "level": level,
        "name_zh": "幸福社区",
        "name_en": "Xingfu",
        "affected": {"buildings": 3, "people": 120, "elderly_alone": 4},
        "polygon": box(114.0, 22.5, 114.01, 22.51),
        **extra,
    }


@pytest.fixture
def engine() -> WarningEngine:
    th = load_thresholds(overrides={"engine": {"hold_s": 600.0, "ttl_s": 3600.0}})
    return WarningEngine(thresholds=th)


def test_first_level_issues_one_alert_with_full_fields(engine) -> None:
    (ev,) = engine.update("flood", {"C1": area(2)}, T0)
    assert ev["msg_type"] == "Alert" and ev["action"] == "issued" and ev["status"] == "active"
    assert ev["level"] == 2 and ev["level_colour"] == "yellow"
    assert ev["issued"] == ev["sent"] == ev["updated"] == "2026-07-01T14:00:00+08:00"
    assert ev["expires"] == "2026-07-01T15:00:00+08:00"
    assert ev["headline_zh"] == "幸福社区内涝黄色预警"
    assert ev["headline_en"] == "Yellow urban flooding warning for Xingfu"
    assert "120" in ev["description_zh"] and "120" in ev["description_en"]
    assert ev["affected"]["elderly_alone"] == 4
    assert ev["polygon"]["type"] == "Polygon"
    assert ev["references"] == []
    assert ev["acknowledged_by"] is None


def test_same_level_again_is_deduplicated(engine) -> None:
    engine.update("flood", {"C1": area(2)}, T0)
    assert engine.update("flood", {"C1": area(2)}, T0 + MIN) == []
    assert engine.update("flood", {"C1": area(1)}, T0 + 2 * MIN) == []  # hold running
    assert len(engine.active()) == 1
    assert len(engine.log) == 1


def test_other_hazard_in_same_area_is_a_separate_warning(engine) -> None:
    engine.update("flood", {"C1": area(2)}, T0)
    (ev,) = engine.update("crowd", {"C1": area(1)}, T0)
    assert ev["msg_type"] == "Alert"
    assert {w["hazard"] for w in engine.active()} == {"flood", "crowd"}


def test_escalation_updates_at_once_and_clears_acknowledgement(engine) -> None:
    (first,) = engine.update("flood", {"C1": area(2)}, T0)
    ack = engine.acknowledge(first["warning_id"], "duty_officer_li", T0 + MIN)
    assert ack["msg_type"] == "Ack"
    assert ack["acknowledged_by"] == "duty_officer_li"
    assert ack["acknowledged_at"] == "2026-07-01T14:01:00+08:00"
    (up,) = engine.update("flood", {"C1": area(4)}, T0 + 2 * MIN)
    assert up["msg_type"] == "Update" and up["action"] == "escalated" and up["level"] == 4
    assert up["warning_id"] == first["warning_id"] and up["id"] != first["id"]
    assert up["issued"] == first["issued"]
    assert up["acknowledged_by"] is None
    assert up["references"] == [
        {"sender": first["sender"], "id": first["id"], "sent": first["sent"]}
    ]


def test_lower_level_takes_effect_only_after_hold(engine) -> None:
    engine.update("flood", {"C1": area(4)}, T0)
    assert engine.update("flood", {"C1": area(2)}, T0 + 1 * MIN) == []
    assert engine.update("flood", {"C1": area(1)}, T0 + 6 * MIN) == []
    (down,) = engine.update("flood", {"C1": area(1)}, T0 + 11 * MIN)
    # downgraded to the highest level seen during the hold (yellow), not to blue
    assert down["action"] == "downgraded" and down["level"] == 2
    assert down["msg_type"] == "Update"


def test_a_rise_during_the_hold_restarts_it(engine) -> None:
    engine.update("flood", {"C1": area(3)}, T0)
    engine.update("flood", {"C1": area(0)}, T0 + 1 * MIN)
    engine.update("flood", {"C1": area(3)}, T0 + 5 * MIN)  # back up: hold reset
    assert engine.update("flood", {"C1": area(0)}, T0 + 6 * MIN) == []
    assert engine.update("flood", {"C1": area(0)}, T0 + 12 * MIN) == []
    (ev,) = engine.update("flood", {"C1": area(0)}, T0 + 16 * MIN)
    assert ev["action"] == "cancelled"


def test_all_clear_cancels_after_hold_and_allows_a_new_alert(engine) -> None:
    (first,) = engine.update("flood", {"C1": area(2)}, T0)
    engine.update("flood", {"C1": area(0)}, T0 + MIN)
    (ev,) = engine.update("flood", {"C1": area(0)}, T0 + 11 * MIN)
    assert ev["msg_type"] == "Cancel" and ev["action"] == "cancelled"
    assert ev["status"] == "cancelled"
    assert ev["headline_zh"] == "幸福社区内涝预警解除"
    assert [r["id"] for r in ev["references"]] == [first["id"]]
    assert engine.active() == []
    assert engine.get(first["warning_id"])["status"] == "cancelled"
    (again,) = engine.update("flood", {"C1": area(1)}, T0 + 20 * MIN)
    assert again["msg_type"] == "Alert" and again["warning_id"] != first["warning_id"]


def test_warning_not_confirmed_expires(engine) -> None:
    (first,) = engine.update("flood", {"C1": area(2)}, T0)
    engine.update("flood", {"C1": area(2)}, T0 + 30 * MIN)  # confirmation pushes expiry
    assert engine.expire(T0 + 80 * MIN) == []
    (ev,) = engine.update("flood", {}, T0 + 90 * MIN)
    assert ev["action"] == "expired" and ev["msg_type"] == "Cancel"
    assert ev["expires"] == "2026-07-01T15:30:00+08:00"
    assert engine.get(first["warning_id"])["status"] == "expired"
    with pytest.raises(KeyError):
        engine.acknowledge(first["warning_id"], "someone", T0 + 91 * MIN)


def test_epoch_seconds_are_written_in_china_time() -> None:
    eng = WarningEngine()
    (ev,) = eng.update("fire", {"G1": {"level": 4}}, 1_782_885_600.0)  # 06:00 UTC
    assert ev["sent"] == "2026-07-01T14:00:00+08:00"
    assert ev["area_name_en"] == "G1"
    assert ev["polygon"] is None


def test_latest_message_skips_acks(engine) -> None:
    (first,) = engine.update("flood", {"C1": area(2)}, T0)
    engine.acknowledge(first["warning_id"], "op", T0 + MIN)
    assert engine.latest_message(first["warning_id"])["id"] == first["id"]
