"""MQTT ingest against a real Mosquitto broker: QoS 1, bad payloads, persistent session."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.twin.test_pipeline import make_pipeline, reading
from twin.ingest.mqtt import MqttIngest, MqttSettings, readings_topic

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"  # Debian's package
TOPIC = readings_topic("tiny")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A mosquitto process with its own config and persistence folder."""

    def __init__(self, folder) -> None:
        self.port = free_port()
        self.folder = folder
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            "log_dest stderr\n"
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # SIGTERM: mosquitto saves its persistence file
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()


def publish(port: int, payloads: list[bytes]) -> None:
    """Publish with QoS 1 and wait until the broker acknowledged each message."""
    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="test-pub")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    try:
        for p in payloads:
            pub.publish(TOPIC, p, qos=1).wait_for_publish(timeout=5)
    finally:
        pub.disconnect()
        pub.loop_stop()


def wait_for(cond, timeout=10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def settings(port: int) -> MqttSettings:
    return MqttSettings(port=port, client_id="twin-test", reconnect_min_s=0.1, reconnect_max_s=0.5)


def test_qos1_messages_land_and_bad_payloads_are_counted(broker, tmp_path):
    pipe = make_pipeline(tmp_path / "r.sqlite")
    sub = MqttIngest(pipe, settings(broker.port))
    sub.connect()
    try:
        assert sub.connected.wait(10)
        time.sleep(0.2)  # the SUBACK follows the CONNACK
        good = json.dumps({"readings": [reading("m1", value=2.5), reading("m2", sensor="NOPE")]})
        bare = json.dumps([reading("m3", sensor="ROAD-1", value=30, unit="cm")])
        publish(broker.port, [good.encode(), b"{not json", bare.encode(), b'{"x": 1}'])
        wait_for(lambda: sub.messages["acked"] == 4)
    finally:
        sub.disconnect()
    assert len(pipe.log) == 2
    snap = pipe.state.snapshot()
    assert snap.loc["RIV-1", "value"] == 2.5
    assert snap.loc["ROAD-1", "value"] == pytest.approx(0.3)
    assert sub.messages["malformed"] == 2
    c = pipe.counters.snapshot()
    assert c["accepted_by_source"] == {"mqtt": 2}
    assert c["rejected_by_reason"] == {"unknown_sensor": 1, "malformed": 2}
    assert pipe.counters.by_source_reason() == {
        ("mqtt", "unknown_sensor"): 1,
        ("mqtt", "malformed"): 2,
    }
    pipe.log.close()


def test_message_published_while_away_arrives_after_reconnect(broker, tmp_path):
    pipe = make_pipeline(tmp_path / "r.sqlite")
    first = MqttIngest(pipe, settings(broker.port))
    first.connect()
    assert first.connected.wait(10)
    time.sleep(0.2)
    first.disconnect()  # the broker keeps the persistent session and queues QoS 1 messages
    publish(broker.port, [json.dumps([reading("away", value=7.0)]).encode()])
    again = MqttIngest(pipe, settings(broker.port))  # same client id
    again.connect()
    try:
        wait_for(lambda: again.messages["acked"] == 1)
    finally:
        again.disconnect()
    assert pipe.state.snapshot().loc["RIV-1", "value"] == 7.0
    assert pipe.log.contains(["away"]).tolist() == [True]
    pipe.log.close()


def test_subscriber_reconnects_after_broker_restart(broker, tmp_path):
    pipe = make_pipeline(tmp_path / "r.sqlite")
    sub = MqttIngest(pipe, settings(broker.port))
    sub.connect()
    try:
        assert sub.connected.wait(10)
        time.sleep(0.2)
        broker.stop()
        wait_for(lambda: not sub.connected.is_set())
        broker.start()  # same port and persistence: the session survives
        assert sub.connected.wait(10)
        time.sleep(0.2)
        publish(broker.port, [json.dumps([reading("after", value=4.0)]).encode()])
        wait_for(lambda: sub.messages["acked"] == 1)
    finally:
        sub.disconnect()
    assert pipe.state.snapshot().loc["RIV-1", "value"] == 4.0
    pipe.log.close()


def test_subscriber_fits_the_shared_adapter_interface(broker, tmp_path):
    import asyncio

    pipe = make_pipeline(tmp_path / "r.sqlite")
    sub = MqttIngest(pipe, settings(broker.port))

    async def run() -> list[dict]:
        await sub.start()
        assert await asyncio.to_thread(sub.connected.wait, 10)
        health = sub.health()
        await sub.stop()
        return health

    (health,) = asyncio.run(run())
    assert health["available"] is True and sub.name == "mqtt"
    assert health["device_id"] == f"mqtt://127.0.0.1:{broker.port}/streettwin/+/readings"
    assert sub.stale_sensors(0.0).size == 0 and not sub.connected.is_set()
    pipe.log.close()
