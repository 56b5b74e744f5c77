"""The warning engine: per-area risk levels over time → warning events with a lifecycle.

Rules (times from the ``[engine]`` thresholds):

* **De-duplication**: at most one active warning per (hazard, area); repeated assessments at
  the same level emit nothing (they only push ``expires`` forward, silently).
* **Raise at threshold**: a new level ≥ blue issues an ``Alert``; a higher level than the
  active one escalates at once (``Update``, action ``escalated``) and clears the
  acknowledgement, because operators must see the worse news.
* **Hysteresis / hold**: a lower level only takes effect after it has lasted ``hold_s``
  without interruption; then the warning is downgraded to the highest level seen during the
  hold (``Update``, ``downgraded``), or all-cleared (``Cancel``, ``cancelled``) if that is 0.
  Continuous hazards add a second hysteresis in
  :func:`sim.warning.thresholds.classify_with_hysteresis`.
* **Expiry**: a warning not confirmed by any assessment for ``ttl_s`` expires (``Cancel``,
  action ``expired``): the model feeding it has stopped, so it must not linger.
* **Acknowledgement** (ThingsBoard-style: active unacknowledged → active acknowledged →
  cleared): :meth:`WarningEngine.acknowledge` records who and when (event ``Ack``).

The engine is pure and in memory: every call takes ``now`` (aware datetime or UTC epoch s),
nothing reads the wall clock; durable storage and pushing belong to the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import shapely.geometry

from sim.warning.levels import LEVEL_MAP, WarningLevel
from sim.warning.texts import compose
from sim.warning.thresholds import Thresholds, default_thresholds

#: China Standard Time, the offset written in every timestamp
CST = timezone(timedelta(hours=8))
#: sender written into events and CAP messages unless configured
DEFAULT_SENDER = "streettwin@command-centre.example"


def to_datetime(now: datetime | float, tz: timezone = CST) -> datetime:
    """Aware datetime in ``tz`` from an aware datetime or a UTC epoch in seconds.

    >>> to_datetime(0.0).isoformat()
    '1970-01-01T08:00:00+08:00'
    """
    if isinstance(now, datetime):
        if now.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime or epoch seconds")
        return now.astimezone(tz)
    return datetime.fromtimestamp(float(now), UTC).astimezone(tz)


def iso(t: datetime) -> str:
    """ISO 8601 with seconds and offset (never ``Z``)."""
    return t.isoformat(timespec="seconds")


def _safe(text: str) -> str:
    # CAP identifiers must not contain spaces, commas or restricted characters
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", text)


@dataclass
class _Warning:
    warning_id: str
    hazard: str
    area_id: str
    level: WarningLevel
    issued: datetime
    updated: datetime
    expires: datetime
    last_seen: datetime
    assessment: dict[str, Any]
    seq: int = 0
    status: str = "active"
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    below_since: datetime | None = None
    hold_max: int = 0
    refs: list[dict[str, str]] = field(default_factory=list)


class WarningEngine:
    """Turn per-area risk levels over time into warning events.

    Parameters
    ----------
    thresholds : Thresholds, optional
        ``engine.hold_s`` (s) and ``engine.ttl_s`` (s) are used.
    sender : str
        Sender written into every event (CAP ``sender``).
    tz : datetime.timezone
        Offset of all timestamps (default +08:00).
    id_prefix : str
        Prefix of warning and message ids.

    Examples
    --------
    >>> eng = WarningEngine()
    >>> ev = eng.update("flood", {"G1": {"level": 2}}, now=0.0)
    >>> ev[0]["msg_type"], ev[0]["level"], ev[0]["sent"]
    ('Alert', 2, '1970-01-01T08:00:00+08:00')
    >>> eng.update("flood", {"G1": {"level": 2}}, now=60.0)
    []
    """

    def __init__(
        self,
        *,
        thresholds: Thresholds | None = None,
        sender: str = DEFAULT_SENDER,
        tz: timezone = CST,
        id_prefix: str = "ST",
    ) -> None:
        th = thresholds or default_thresholds()
        self.hold = timedelta(seconds=float(th.engine["hold_s"]))
        self.ttl = timedelta(seconds=float(th.engine["ttl_s"]))
        self.sender = sender
        self.tz = tz
        self.id_prefix = _safe(id_prefix)
        self._active: dict[tuple[str, str], _Warning] = {}
        self._all: dict[str, _Warning] = {}
        #: every event emitted, in order (the caller persists them)
        self.log: list[dict[str, Any]] = []
        self._counter = 0

    # -- queries ---------------------------------------------------------------------
    def active(self) -> list[dict[str, Any]]:
        """Current state of every active warning (as its latest event, action ``state``)."""
        return [self._event(w, self._msg_type_of(w), "state", w.updated) for w in self._sorted()]

    def get(self, warning_id: str) -> dict[str, Any] | None:
        """Current state of one warning (active or ended)."""
        w = self._all.get(warning_id)
        return None if w is None else self._event(w, self._msg_type_of(w), "state", w.updated)

    def latest_message(self, warning_id: str) -> dict[str, Any] | None:
        """Latest Alert/Update/Cancel event of a warning (what its CAP export shows)."""
        for ev in reversed(self.log):
            if ev["warning_id"] == warning_id and ev["msg_type"] != "Ack":
                return ev
        return None

    # -- transitions -----------------------------------------------------------------
    def update(
        self, hazard: str, assessments: Mapping[str, Mapping[str, Any]], now: datetime | float
    ) -> list[dict[str, Any]]:
        """Feed one round of area assessments for a hazard; return the events it causes.

        Parameters
        ----------
        hazard : str
            Hazard key (``rainstorm``, ``flood``, ``fire``, ``crowd``, ``utility`` …).
        assessments : mapping
            ``{area_id: {"level": int, "affected": {...}, "polygon": shapely geometry or
            GeoJSON dict, "name_zh": str, "name_en": str}}`` (only ``level`` is required);
            see :func:`sim.warning.risk.to_assessments`.
        now : datetime or float
            Time of the assessment (aware datetime or UTC epoch s).

        Returns
        -------
        list of dict
            New events (also appended to :attr:`log`), including expiries.
        """
        t = to_datetime(now, self.tz)
        events: list[dict[str, Any]] = []
        for area_id, assessment in assessments.items():
            area_id = str(area_id)
            level = WarningLevel(max(0, min(4, int(assessment.get("level", 0)))))
            key = (hazard, area_id)
            w = self._active.get(key)
            if w is None:
                if level > WarningLevel.NONE:
                    events.append(self._issue(hazard, area_id, level, dict(assessment), t))
                continue
            w.last_seen = t
            w.expires = t + self.ttl
            if level >= w.level:
                w.assessment.update(assessment)
                w.below_since, w.hold_max = None, 0
                if level > w.level:
                    w.level = level
                    w.acknowledged_by = w.acknowledged_at = None
                    events.append(self._emit(w, "Update", "escalated", t))
                continue
            # lower level: wait for the hold time before believing it
            if w.below_since is None:
                w.below_since, w.hold_max = t, int(level)
            else:
                w.hold_max = max(w.hold_max, int(level))
            if t - w.below_since >= self.hold:
                w.assessment.update(assessment)
                if w.hold_max == 0:
                    events.append(self._end(w, "cancelled", t))
                else:
                    w.level = WarningLevel(w.hold_max)
                    w.below_since, w.hold_max = None, 0
                    events.append(self._emit(w, "Update", "downgraded", t))
        events.extend(self.expire(t))
        return events

    def expire(self, now: datetime | float) -> list[dict[str, Any]]:
        """End warnings whose ``expires`` time has passed; return the events."""
        t = to_datetime(now, self.tz)
        return [self._end(w, "expired", t) for w in self._sorted() if t >= w.expires]

    def acknowledge(self, warning_id: str, by: str, now: datetime | float) -> dict[str, Any]:
        """Record that ``by`` acknowledged an active warning at ``now``; return the event.

        Raises
        ------
        KeyError
            If the warning does not exist or is no longer active.
        """
        w = self._all.get(warning_id)
        if w is None or w.status != "active":
            raise KeyError(f"no active warning {warning_id!r}")
        t = to_datetime(now, self.tz)
        w.acknowledged_by, w.acknowledged_at = str(by), t
        return self._emit(w, "Ack", "acknowledged", t)

    # -- internals -------------------------------------------------------------------
    def _sorted(self) -> list[_Warning]:
        return sorted(self._active.values(), key=lambda w: (w.issued, w.warning_id))

    def _issue(
        self, hazard: str, area_id: str, level: WarningLevel, assessment: dict, t: datetime
    ) -> dict[str, Any]:
        self._counter += 1
        wid = f"{self.id_prefix}-{t:%Y%m%d%H%M%S}-{_safe(hazard)}-{_safe(area_id)}-{self._counter}"
        w = _Warning(wid, hazard, area_id, level, t, t, t + self.ttl, t, assessment)
        self._active[(hazard, area_id)] = w
        self._all[wid] = w
        return self._emit(w, "Alert", "issued", t)

    def _end(self, w: _Warning, action: str, t: datetime) -> dict[str, Any]:
        w.status = action
        del self._active[(w.hazard, w.area_id)]
        if action == "expired":
            w.expires = min(w.expires, t)
        return self._emit(w, "Cancel", action, t)

    def _msg_type_of(self, w: _Warning) -> str:
        if w.status != "active":
            return "Cancel"
        return "Alert" if w.seq <= 1 else "Update"

    def _emit(self, w: _Warning, msg_type: str, action: str, t: datetime) -> dict[str, Any]:
        if msg_type != "Ack":
            w.updated = t
        w.seq += 1
        event = self._event(w, msg_type, action, t)
        event["id"] = f"{w.warning_id}.{w.seq}"
        if msg_type != "Ack":
            w.refs.append({"sender": self.sender, "id": event["id"], "sent": event["sent"]})
        self.log.append(event)
        return event

    def _event(self, w: _Warning, msg_type: str, action: str, t: datetime) -> dict[str, Any]:
        a = w.assessment
        area_zh = str(a.get("name_zh") or w.area_id)
        area_en = str(a.get("name_en") or w.area_id)
        cancel = msg_type == "Cancel"
        text = compose(w.hazard, w.level, area_zh, area_en, a.get("affected", {}), cancel=cancel)
        poly = a.get("polygon")
        if poly is not None and not isinstance(poly, Mapping):
            poly = shapely.geometry.mapping(poly)
        refs = [r for r in w.refs if msg_type != "Alert"]
        mapping = LEVEL_MAP[w.level]
        return {
            "id": f"{w.warning_id}.{w.seq}",
            "warning_id": w.warning_id,
            "sender": self.sender,
            "hazard": w.hazard,
            "area_id": w.area_id,
            "area_name_zh": area_zh,
            "area_name_en": area_en,
            "level": int(w.level),
            "level_colour": w.level.name_en,
            "level_roman": w.level.roman,
            "cap_severity": mapping.cap_severity,
            "sdm_severity": mapping.sdm_severity,
            "msg_type": msg_type,
            "action": action,
            "status": w.status,
            "sent": iso(t),
            "issued": iso(w.issued),
            "updated": iso(w.updated),
            "expires": iso(w.expires),
            **text,
            "affected": {k: int(v) for k, v in dict(a.get("affected", {})).items()},
            "polygon": poly,
            "acknowledged_by": w.acknowledged_by,
            "acknowledged_at": iso(w.acknowledged_at) if w.acknowledged_at else None,
            "references": [dict(r) for r in refs],
        }
