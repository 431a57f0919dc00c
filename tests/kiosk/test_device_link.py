"""The web process's command publisher: none without a broker, one per process with one."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
import pytest
from flask import Flask
from paho.mqtt.enums import CallbackAPIVersion

from devices.command_publisher import BrokerUrl
from kiosk import device_link


def test_commanding_a_device_without_a_configured_broker_is_a_clear_error(app: Flask) -> None:
    app.config["MQTT_URL"] = None
    with app.app_context(), pytest.raises(device_link.DevicesUnavailable):
        device_link.command_publisher()


def test_the_process_keeps_one_publisher_and_it_reaches_the_broker(
    app: Flask, mqtt_url: str, mqtt_site: str
) -> None:
    app.config["MQTT_URL"] = mqtt_url
    topic = f"linli/v1/{mqtt_site}/locker-x/cmd"
    received = threading.Event()
    subscribed = threading.Event()
    broker = BrokerUrl(mqtt_url)
    listener = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    listener.on_message = lambda client, userdata, message: received.set()
    listener.on_subscribe = lambda *args: subscribed.set()
    listener.connect(broker.host, broker.port)
    listener.subscribe(topic, qos=1)
    listener.loop_start()
    try:
        assert subscribed.wait(5.0)
        with app.app_context():
            first = device_link.command_publisher()
            assert device_link.command_publisher() is first
            assert first.publish(topic, b"{}", 5.0)
            device_link.stop_publisher()
        assert received.wait(5.0)
    finally:
        listener.loop_stop()
        listener.disconnect()
