"""CAP 1.2 (OASIS Common Alerting Protocol, ITU-T X.1303) export of warning events.

One ``alert`` per event with two ``info`` blocks, ``zh-CN`` and ``en``, and the affected area
as ``polygon`` elements (space-separated ``lat,lon`` pairs, first = last, WGS 84). Times carry
the ``+08:00`` offset (the schema rejects ``Z``). ``Update``/``Cancel`` messages reference all
earlier messages of the same warning (``sender,identifier,sent`` triples); ``incidents`` holds
the warning id so receivers can group them. Level codes come from
:data:`sim.warning.levels.LEVEL_MAP` only; an all-clear uses
:data:`sim.warning.levels.ALL_CLEAR` with ``responseType`` ``AllClear``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import shapely
import shapely.geometry
from lxml import etree

from sim.warning.levels import ALL_CLEAR, LEVEL_MAP, WarningLevel, level_label
from sim.warning.texts import hazard_text

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
#: MIME type of a CAP document
CAP_MIME = "application/cap+xml"
#: decimal places of coordinates (≈ 0.1 m)
COORD_DECIMALS = 6
#: padding (degrees) turning a point or line into an area
POINT_PAD_DEG = 3e-4


def _el(parent, tag: str, text: str | None = None):
    node = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        node.text = text
    return node


def cap_polygons(geometry: Any) -> list[str]:
    """CAP ``polygon`` texts of a geometry (shapely or GeoJSON dict, lon/lat EPSG:4326).

    Exterior rings only (CAP has no holes); points and lines are padded into small areas.

    >>> from shapely.geometry import box
    >>> text = cap_polygons(box(114.0, 22.5, 114.01, 22.51))[0]
    >>> text.split()[:2], text.split()[0] == text.split()[-1]
    (['22.500000,114.010000', '22.510000,114.010000'], True)
    """
    if geometry is None:
        return []
    geom = shapely.geometry.shape(geometry) if isinstance(geometry, Mapping) else geometry
    if geom.is_empty:
        return []
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        geom = geom.buffer(POINT_PAD_DEG)
    parts = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    out = []
    for poly in parts:
        coords = list(poly.exterior.coords)
        if coords[0] != coords[-1]:
            coords.append(coords[0])
        d = COORD_DECIMALS
        out.append(" ".join(f"{lat:.{d}f},{lon:.{d}f}" for lon, lat, *_ in coords))
    return out


def _info(alert, event: Mapping[str, Any], lang: str) -> None:
    zh = lang == "zh-CN"
    h = hazard_text(event["hazard"])
    level = WarningLevel(int(event["level"]))
    cancel = event["msg_type"] == "Cancel"
    codes = ALL_CLEAR if cancel else LEVEL_MAP[level]
    info = _el(alert, "info")
    _el(info, "language", lang)
    _el(info, "category", h.cap_category)
    _el(info, "event", h.name_zh if zh else h.name_en)
    if cancel:
        _el(info, "responseType", "AllClear")
    elif level > WarningLevel.NONE:
        _el(info, "responseType", h.response[int(level) - 1])
    _el(info, "urgency", codes.cap_urgency)
    _el(info, "severity", codes.cap_severity)
    _el(info, "certainty", codes.cap_certainty)
    code = _el(info, "eventCode")
    _el(code, "valueName", "StreetTwin:hazard")
    _el(code, "value", event["hazard"])
    _el(info, "effective", event["updated"])
    _el(info, "expires", event["expires"])
    _el(info, "senderName", "StreetTwin 街道指挥中心" if zh else "StreetTwin street command centre")
    suffix = "zh" if zh else "en"
    _el(info, "headline", event[f"headline_{suffix}"])
    _el(info, "description", event[f"description_{suffix}"])
    _el(info, "instruction", event[f"instruction_{suffix}"])
    for name, value in (
        ("StreetTwin:level", str(int(level))),
        ("StreetTwin:levelLabel", level_label(level, "zh" if zh else "en")),
        ("StreetTwin:colour", level.name_en),
        ("SmartDataModels:Alert.severity", codes.sdm_severity),
    ):
        param = _el(info, "parameter")
        _el(param, "valueName", name)
        _el(param, "value", value)
    area = _el(info, "area")
    _el(area, "areaDesc", event["area_name_zh"] if zh else event["area_name_en"])
    for text in cap_polygons(event.get("polygon")):
        _el(area, "polygon", text)
    geocode = _el(area, "geocode")
    _el(geocode, "valueName", "StreetTwin:area_id")
    _el(geocode, "value", event["area_id"])


def to_cap(
    event: Mapping[str, Any],
    *,
    status: str = "Actual",
    scope: str = "Public",
    sender: str | None = None,
) -> str:
    """CAP 1.2 XML text of one warning event (from :class:`~sim.warning.engine.WarningEngine`).

    Parameters
    ----------
    event : mapping
        Event dict (``msg_type`` Alert, Update, Cancel or Ack).
    status : str
        CAP status: Actual, Exercise, System, Test or Draft (use ``Exercise`` for drills
        and the simulated world).
    scope : str
        CAP scope: Public, Restricted or Private.
    sender : str, optional
        Overrides the event's sender.

    Returns
    -------
    str
        UTF-8 XML text with declaration.
    """
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _el(root, "identifier", event["id"])
    _el(root, "sender", sender or event["sender"])
    _el(root, "sent", event["sent"])
    _el(root, "status", status)
    _el(root, "msgType", event["msg_type"])
    _el(root, "scope", scope)
    refs = event.get("references") or []
    if refs:
        _el(root, "references", " ".join(f"{r['sender']},{r['id']},{r['sent']}" for r in refs))
    _el(root, "incidents", event["warning_id"])
    if event["msg_type"] != "Ack":
        _info(root, event, "zh-CN")
        _info(root, event, "en")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data.decode("utf-8")
