"""The durable warning store: events survive a reopen; acknowledgements keep who and when."""

from __future__ import annotations

import sqlite3

from sim.warning.engine import WarningEngine
from twin.alertstore import AlertStore

T0 = 1_782_864_000.0


def test_events_survive_reopen_and_ack_records_who_and_when(tmp_path) -> None:
    path = tmp_path / "alerts.sqlite"
    engine = WarningEngine()
    store = AlertStore(path)
    (issued,) = engine.update("flood", {"G1": {"level": 2}}, T0)
    assert store.append(issued)
    assert not store.append(issued)  # at-least-once producers: the same event is stored once
    ack = engine.acknowledge(issued["warning_id"], "duty-officer-7", T0 + 90)
    store.append(ack)
    store.close()

    reopened = AlertStore(path)
    (active,) = reopened.active()
    assert active["warning_id"] == issued["warning_id"]
    assert active["acknowledged_by"] == "duty-officer-7"
    assert active["acknowledged_at"] == "2026-07-01T08:01:30+08:00"
    # the CAP message stays the Alert, not the Ack
    assert reopened.message(issued["warning_id"])["msg_type"] == "Alert"
    assert [e["action"] for e in reopened.history(issued["warning_id"])] == [
        "issued",
        "acknowledged",
    ]
    assert len(reopened) == 2


def test_a_cancelled_warning_leaves_the_active_list_but_stays_in_history(tmp_path) -> None:
    engine = WarningEngine()
    store = AlertStore(tmp_path / "a.sqlite")
    for ev in engine.update("fire", {"G2": {"level": 4}}, T0):
        store.append(ev)
    # level 0 for the hold time (900 s) all-clears it
    for ev in engine.update("fire", {"G2": {"level": 0}}, T0 + 60):
        store.append(ev)
    for ev in engine.update("fire", {"G2": {"level": 0}}, T0 + 1000):
        store.append(ev)
    assert store.active() == []
    (w,) = store.all()
    assert (w["status"], w["msg_type"], w["action"]) == ("cancelled", "Cancel", "cancelled")


def test_the_store_is_in_wal_mode_with_full_sync(tmp_path) -> None:
    path = tmp_path / "w.sqlite"
    AlertStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
