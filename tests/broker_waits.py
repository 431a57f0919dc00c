"""For tests that drive a simulated device over the shared test broker: wait for what the
server records, and leave no retained topic of the test behind."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from devices.mqtt_client import BrokerUrl

WAIT_S = 10.0


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll ``condition`` until it is truthy and return its value, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def clear_retained(url: str, site: str, device_id: str) -> None:
    """A shared broker keeps retained topics forever: leave none of this test's behind."""
    broker = BrokerUrl(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    client.connect(broker.host, broker.port)
    client.loop_start()
    for topic in (
        f"linli/v1/{site}/{device_id}/status",
        f"linli/v1/{site}/{device_id}/state",
        f"linli/v1/{site}/server/status",
    ):
        client.publish(topic, b"", qos=1, retain=True).wait_for_publish(WAIT_S)
    client.disconnect()
    client.loop_stop()
