"""An Atom (RFC 4287) feed of active warnings, each entry linking to its CAP 1.2 message.

Pure: events in, XML text out. Entries follow the common CAP-index convention (used by
alert hubs): one ``entry`` per active warning, ``link rel="alternate"`` of type
``application/cap+xml`` pointing at ``{base_url}/api/alerts/<id>.cap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

ATOM_NS = "http://www.w3.org/2005/Atom"
_CAP_MIME = "application/cap+xml"


def _el(parent, tag: str, text: str | None = None, **attrs: str):
    node = etree.SubElement(parent, f"{{{ATOM_NS}}}{tag}", **attrs)
    if text is not None:
        node.text = text
    return node


def atom_feed(
    events: Iterable[Mapping[str, Any]],
    *,
    updated: str,
    base_url: str = "http://127.0.0.1:8050",
    feed_id: str = "urn:streettwin:alerts",
    title: str = "StreetTwin active warnings 街道预警",
    lang: str = "zh",
) -> str:
    """Atom feed XML of warning events (normally ``WarningEngine.active()``).

    Parameters
    ----------
    events : iterable of mapping
        Warning events with ``warning_id``, ``updated``, headlines and descriptions.
    updated : str
        Feed ``updated`` time, RFC 3339 with offset (e.g. ``2026-07-01T08:00:00+08:00``).
    base_url : str
        Public root of the twin's web API.
    lang : str
        ``zh`` or ``en``: language of entry titles and summaries.

    >>> xml = atom_feed([], updated="2026-07-01T08:00:00+08:00")
    >>> "<feed" in xml and "urn:streettwin:alerts" in xml
    True
    """
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    _el(root, "id", feed_id)
    _el(root, "title", title)
    _el(root, "updated", updated)
    _el(root, "link", rel="self", href=f"{base_url}/api/alerts.atom")
    author = _el(root, "author")
    _el(author, "name", "StreetTwin")
    suffix = "zh" if lang == "zh" else "en"
    for ev in events:
        entry = _el(root, "entry")
        _el(entry, "id", f"urn:streettwin:warning:{ev['warning_id']}")
        _el(entry, "title", ev[f"headline_{suffix}"])
        _el(entry, "updated", ev["updated"])
        _el(entry, "published", ev["issued"])
        _el(entry, "summary", ev[f"description_{suffix}"])
        _el(entry, "category", term=str(ev["hazard"]))
        _el(entry, "category", term=f"level:{ev['level_colour']}")
        _el(
            entry,
            "link",
            rel="alternate",
            type=_CAP_MIME,
            href=f"{base_url}/api/alerts/{ev['warning_id']}.cap",
        )
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data.decode("utf-8")
