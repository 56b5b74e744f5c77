"""MQTT push ingestion: a paho-mqtt 2.x subscriber feeding the ingest pipeline.

Devices publish the same JSON as ``POST /api/readings`` (``{"readings": [...]}`` or a bare
array) to ``streettwin/<district>/readings`` with QoS 1. The subscriber keeps a persistent
session (fixed client id, ``clean_session=False``), so messages published while it is away
wait at the broker; it acknowledges a message (PUBACK) only after the pipeline has durably
logged its readings. A message the pipeline cannot take at all (not JSON, too big) is
acknowledged too — redelivering it would fail the same way — but logged and counted.
Rejected readings are logged by reason and counted in the pipeline's counters under
source ``"mqtt"``; payloads and credentials never go to the log.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from twin.ingest.pipeline import IngestPipeline
from twin.readings import BATCH_TOO_LARGE, MALFORMED, MalformedBatchError, decode_batch

log = logging.getLogger(__name__)

MQTT_SOURCE = "mqtt"
DEFAULT_TOPIC = "streettwin/+/readings"
QOS = 1


def readings_topic(district: str) -> str:
    """Topic a district's devices publish readings to.

    >>> readings_topic("old-town")
    'streettwin/old-town/readings'
    """
    return f"streettwin/{district}/readings"


@dataclass
class MqttSettings:
    """Where and how to subscribe.

    Parameters
    ----------
    host, port : broker address
    client_id : str
        Fixed, so the broker keeps the session (and queued QoS 1 messages) across reconnects.
    topic : str
        Subscription filter (default: every district's readings).
    username, password : str, optional
    keepalive_s : int
        Seconds between pings.
    reconnect_min_s, reconnect_max_s : float
        Backoff bounds of automatic reconnects, s.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = "streettwin-ingest"
    topic: str = DEFAULT_TOPIC
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0


class MqttIngest:
    """Subscribe to readings topics and submit each message's batch to the pipeline.

    Parameters
    ----------
    pipeline : IngestPipeline
    settings : MqttSettings

    Attributes
    ----------
    messages : collections.Counter
        ``received``, ``acked``, ``malformed``, ``too_large``, ``failed`` message counts.
    connected : threading.Event
        Set while connected and subscribed.
    """

    def __init__(self, pipeline: IngestPipeline, settings: MqttSettings | None = None) -> None:
        self.pipeline = pipeline
        self.settings = settings or MqttSettings()
        self.messages: Counter[str] = Counter()
        self.connected = threading.Event()
        self._lock = threading.Lock()
        s = self.settings
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=s.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,  # PUBACK only once the readings are durable
        )
        if s.username is not None:
            self.client.username_pw_set(s.username, s.password)
        self.client.reconnect_delay_set(s.reconnect_min_s, s.reconnect_max_s)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    name = "mqtt"

    def connect(self) -> None:
        """Connect (asynchronously) and run the network loop in a background thread."""
        s = self.settings
        self.client.connect_async(s.host, s.port, keepalive=s.keepalive_s)
        self.client.loop_start()

    def disconnect(self) -> None:
        """Disconnect and stop the loop thread (the broker keeps the session)."""
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    # the shared adapter interface (twin.ingest.adapter.IngestAdapter)
    async def start(self) -> None:
        """Start: paho runs its own network thread, so this only connects."""
        self.connect()

    async def stop(self) -> None:
        """Stop without blocking the event loop on the loop thread's exit."""
        await asyncio.to_thread(self.disconnect)

    def stale_sensors(self, now: float) -> np.ndarray:
        """Push sensors have no poll schedule here: staleness is judged from live state."""
        return np.empty(0, dtype=object)

    def health(self) -> list[dict[str, Any]]:
        """One status dict for the broker connection."""
        s = self.settings
        with self._lock:
            counts = dict(self.messages)
        return [
            {
                "device_id": f"mqtt://{s.host}:{s.port}/{s.topic}",
                "available": self.connected.is_set(),
                "messages": counts,
            }
        ]

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT connect refused: %s", reason_code)
            return
        log.info(
            "MQTT connected to %s:%d (session present: %s)",
            self.settings.host,
            self.settings.port,
            flags.session_present,
        )
        # subscribe on every connect: harmless when the session kept it, needed when not
        client.subscribe(self.settings.topic, qos=QOS)
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if reason_code != 0:
            log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages["received"] += 1
        try:
            self.handle_payload(message.payload, message.topic)
        except Exception:  # e.g. the disk is full: no PUBACK, the broker redelivers
            log.exception("MQTT message on %s not stored; left for redelivery", message.topic)
            with self._lock:
                self.messages["failed"] += 1
            return
        client.ack(message.mid, message.qos)
        with self._lock:
            self.messages["acked"] += 1

    def handle_payload(self, payload: bytes, topic: str) -> int:
        """Decode and submit one message's readings; return how many were accepted."""
        pipe = self.pipeline
        try:
            raw = decode_batch(payload, typed=True)
        except MalformedBatchError as exc:
            log.warning("MQTT message on %s rejected: %s (%d bytes)", topic, exc, len(payload))
            pipe.counters.count(MQTT_SOURCE, 0, [{"reason": MALFORMED}])
            with self._lock:
                self.messages["malformed"] += 1
            return 0
        if len(raw) > pipe.max_batch:
            log.warning(
                "MQTT message on %s rejected: %d readings > max %d",
                topic,
                len(raw),
                pipe.max_batch,
            )
            pipe.counters.count(MQTT_SOURCE, 0, [{"reason": BATCH_TOO_LARGE}])
            with self._lock:
                self.messages["too_large"] += 1
            return 0
        result = pipe.submit(raw, source=MQTT_SOURCE)
        if result.rejected:
            reasons = Counter(r["reason"] for r in result.rejected)
            first = result.rejected[0]
            log.warning(
                "MQTT message on %s: %d accepted, %d rejected %s (first: index %s sensor %r: %s)",
                topic,
                result.accepted,
                len(result.rejected),
                dict(reasons),
                first["index"],
                first["sensor_id"] if isinstance(first["sensor_id"], str) else None,
                first["reason"],
            )
        return result.accepted
