"""A batch's PUBACKs go to the broker in one write (devices.mqtt_client.Client.ack_many), and the
broker takes each as the PUBACK of its own message: those acknowledged are never delivered
again, and those not acknowledged are (a malformed packet would have ended the connection, and
every one of them would come again)."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from broker_waits import wait_until
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from devices.mqtt_client import BrokerUrl, Client

# Below Mosquitto's default window of 20 unacknowledged messages a client, which CI's broker keeps.
MESSAGES = 16
LEFT = 6


def _server(url: str, client_id: str, received: list[mqtt.MQTTMessage]) -> Client:
    """A persistent session acknowledging by hand, as the bridge's client does."""
    broker = BrokerUrl(url)
    client = Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
        manual_ack=True,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    client.on_message = lambda _client, _userdata, message: received.append(message)
    return client


def _connect_and_subscribe(client: Client, url: str, topic: str) -> None:
    broker = BrokerUrl(url)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    client.on_connect = lambda *_args: client.subscribe(topic, qos=1)
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    assert subscribed.wait(10), "the broker did not grant the subscription"


def _publish(url: str, topic: str, payloads: list[bytes]) -> None:
    broker = BrokerUrl(url)
    # The server's client, whose loop_stop() closes paho's wake-up pair (no ResourceWarning).
    device = Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    if broker.username:
        device.username_pw_set(broker.username, broker.password)
    device.connect(broker.host, broker.port)
    device.loop_start()
    infos = [device.publish(topic, payload, qos=1) for payload in payloads]
    for info in infos:
        info.wait_for_publish(10)
    device.disconnect()
    device.loop_stop()


# Mosquitto's redelivery to a returning session is what is looked at; amqtt's differs (here the
# new message never came after the returning session's).
@pytest.mark.mosquitto
def test_the_messages_acknowledged_together_are_not_delivered_again(
    mqtt_url: str, mqtt_site: str
) -> None:
    topic = f"linli/v1/{mqtt_site}/acks-{uuid.uuid4().hex[:6]}/event"
    client_id = f"linli-acks-{uuid.uuid4().hex[:8]}"
    received: list[mqtt.MQTTMessage] = []
    server = _server(mqtt_url, client_id, received)
    _connect_and_subscribe(server, mqtt_url, topic)
    _publish(mqtt_url, topic, [str(n).encode() for n in range(MESSAGES)])
    wait_until(lambda: len(received) == MESSAGES, f"{MESSAGES} messages")

    acknowledged = received[: MESSAGES - LEFT]
    assert (
        server.ack_many(message.mid for message in acknowledged) == MQTTErrorCode.MQTT_ERR_SUCCESS
    )
    assert server.ack_many([]) == MQTTErrorCode.MQTT_ERR_SUCCESS  # nothing to send, nothing sent
    # Taken by the broker before the session goes: a round trip after the PUBACKs (the broker
    # reads a connection's packets in order, so its SUBACK comes after it took every PUBACK).
    # Disconnecting at once, under -n 3, the broker came back with acknowledged messages
    # again; and waiting for paho's want_write() to turn False was not enough either (once in
    # CI's clock-shifted run): paho's thread takes a packet off its queue before it sends it.
    fenced = threading.Event()
    server.on_subscribe = lambda *_args: fenced.set()
    server.subscribe(f"{topic}/fence", qos=0)
    assert fenced.wait(10), "the broker did not answer after the PUBACKs"
    server.disconnect()
    server.loop_stop()

    # The same session again: only what was not acknowledged comes back.
    again: list[mqtt.MQTTMessage] = []
    returning = _server(mqtt_url, client_id, again)
    _connect_and_subscribe(returning, mqtt_url, topic)
    try:
        # The broker delivers a session's unacknowledged messages before anything newer, so once
        # a message published now has come, whatever was to come again has.
        _publish(mqtt_url, topic, [b"new"])
        wait_until(lambda: any(m.payload == b"new" for m in again), "the new message")
        assert [m.payload.decode() for m in again] == [
            *(str(n) for n in range(MESSAGES - LEFT, MESSAGES)),
            "new",
        ]
        returning.ack_many(message.mid for message in again)
    finally:
        returning.disconnect()
        returning.loop_stop()
        # Leave no session of the test's behind on a shared broker.
        cleaner = Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        broker = BrokerUrl(mqtt_url)
        if broker.username:
            cleaner.username_pw_set(broker.username, broker.password)
        cleaner.connect(broker.host, broker.port)
        cleaner.loop_start()
        wait_until(cleaner.is_connected, "the session cleared")
        cleaner.disconnect()
        cleaner.loop_stop()
