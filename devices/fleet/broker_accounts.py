"""Device accounts on the broker, kept by Mosquitto's dynamic security plugin ("dynsec").

The server signs in as ``linli-server`` and publishes the plugin's JSON commands to
``$CONTROL/dynamic-security/v1``; the plugin answers every command on
``$CONTROL/dynamic-security/v1/response`` (to every subscriber, so each command carries a
correlation id of ours). The broker applies a change at once, saves it in its own JSON file
and disconnects a client whose account is deleted, disabled or given a new password
(mosquitto 2.0, plugins/dynamic-security/clients.c), so no shell and no reload are needed.

Each device gets a role of its own with exactly the ACL of the password-file mode
(:mod:`devices.fleet.provisioning`): it publishes only its six topics, subscribes only to its
``cmd`` and ``ack`` and the server's status, and receives nothing else. Its client id is pinned
to its device id, so its password is useless for taking anyone else's session, on any listener.

Deployments whose Mosquitto has no plugin keep the generated files
(``LINLI_BROKER_ACCOUNTS=files``, :class:`FileAccounts`): nothing happens here, and the operator
regenerates the files and reloads the broker.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from booking.core.errors import DomainError
from devices.fleet import provisioning
from devices.mqtt_client import BrokerUrl, Client, disable_nagle

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = "$CONTROL/dynamic-security/v1/response"
DYNSEC = "dynsec"
FILES = "files"
MODES = (DYNSEC, FILES)
# The server's role in the plugin's file (`linli devices dynsec-init`).
SERVER_ROLE = "linli-server"
TIMEOUT_S = 5.0


class BrokerAccountsError(DomainError):
    """The broker did not make the account change; the message says what the broker did."""

    code = "broker_accounts"
    status = 503


class BrokerUnreachable(BrokerAccountsError):
    code = "broker_unreachable"


class BrokerRefused(BrokerAccountsError):
    code = "broker_refused"
    status = 502


def device_role(device_id: str) -> str:
    return f"device-{device_id}"


def _acl(acltype: str, topic: str) -> dict[str, Any]:
    return {"acltype": acltype, "topic": topic, "priority": 0, "allow": True}


def device_acls(site: str, device_id: str) -> list[dict[str, Any]]:
    """The device's ACL: :data:`provisioning.DEVICE_WRITES` to publish, its reads and the
    server's status to subscribe to and receive, nothing else (the default denies)."""
    prefix = f"linli/v1/{site}/{device_id}"
    reads = [f"{prefix}/{suffix}" for suffix in provisioning.DEVICE_READS]
    reads.append(f"linli/v1/{site}/server/status")
    return (
        [_acl("publishClientSend", f"{prefix}/{s}") for s in provisioning.DEVICE_WRITES]
        + [_acl("subscribeLiteral", topic) for topic in reads]
        + [_acl("publishClientReceive", topic) for topic in reads]
    )


def server_acls() -> list[dict[str, Any]]:
    """What the bridge and the console need: all of ``linli/v1`` and the plugin's topics."""
    acls = []
    for topic in ("linli/v1/#", "$CONTROL/dynamic-security/#"):
        acls += [
            _acl("publishClientSend", topic),
            _acl("publishClientReceive", topic),
            _acl("subscribePattern", topic),
            _acl("unsubscribePattern", topic),
        ]
    # Several workers share the device traffic (devices/sharing.py), and Mosquitto checks a
    # shared subscription against the ACL as written, "$share/{group}/linli/v1/…": without
    # these, every worker of a PostgreSQL deployment is refused its share and hears no event.
    acls += [
        _acl("subscribePattern", "$share/+/linli/v1/#"),
        _acl("unsubscribePattern", "$share/+/linli/v1/#"),
    ]
    return acls


# Least privilege by default: a client may do only what one of its roles allows. Unsubscribing
# is harmless and stays open.
DEFAULT_ACL_ACCESS = {
    "publishClientSend": False,
    "publishClientReceive": False,
    "subscribe": False,
    "unsubscribe": True,
}


def _dynsec_password(mosquitto_hash: str) -> dict[str, Any]:
    """The plugin's three password fields from a ``$7$`` hash: both are PBKDF2-HMAC-SHA512
    with a 12-byte salt, so a device keeps its password when a deployment moves to the plugin."""
    _, seven, iterations, salt, digest = mosquitto_hash.split("$")
    if seven != "7":
        raise ValueError("not a Mosquitto $7$ hash")
    base64.b64decode(salt, validate=True)
    base64.b64decode(digest, validate=True)
    return {"password": digest, "salt": salt, "iterations": int(iterations)}


def initial_config(
    server_password: str, devices: Iterable[tuple[str, str, str, str, bool]]
) -> dict[str, Any]:
    """The plugin's starting file: the server's account and role, and each registered device
    (``(device_id, site, name, mosquitto_hash, revoked)``) with its role and current password.
    """
    clients: list[dict[str, Any]] = [
        {
            "username": provisioning.SERVER_USERNAME,
            "textname": "Linli server (bridge and console)",
            "roles": [{"rolename": SERVER_ROLE}],
            **_dynsec_password(provisioning.mosquitto_hash(server_password)),
        }
    ]
    roles: list[dict[str, Any]] = [{"rolename": SERVER_ROLE, "acls": server_acls()}]
    for device_id, site, name, password_hash, revoked in devices:
        roles.append({"rolename": device_role(device_id), "acls": device_acls(site, device_id)})
        clients.append(
            {
                "username": device_id,
                "clientid": device_id,
                "textname": name,
                "disabled": revoked,
                "roles": [{"rolename": device_role(device_id)}],
                **_dynsec_password(password_hash),
            }
        )
    return {
        "defaultACLAccess": DEFAULT_ACL_ACCESS,
        "clients": clients,
        "groups": [],
        "roles": roles,
    }


class BrokerAccounts(Protocol):
    """Where device accounts live. ``immediate``: whether a change is in force on return."""

    immediate: bool

    def create_device(self, site: str, device_id: str, name: str, password: str) -> None: ...

    def set_password(self, device_id: str, password: str) -> None: ...

    def disable(self, device_id: str) -> None: ...

    def delete_device(self, device_id: str) -> None: ...


class FileAccounts:
    """The password-file mode: the registry is written to files by `linli devices
    mosquitto-config`, and the broker learns a change when it is reloaded."""

    immediate = False

    def create_device(self, site: str, device_id: str, name: str, password: str) -> None:
        return None

    def set_password(self, device_id: str, password: str) -> None:
        return None

    def disable(self, device_id: str) -> None:
        return None

    def delete_device(self, device_id: str) -> None:
        return None


class DynsecAccounts:
    """Accounts changed through the plugin, each call one short connection as ``linli-server``.

    Every method waits for the plugin's answer to each command it sent, and raises
    :class:`BrokerRefused` (the plugin said no) or :class:`BrokerUnreachable` (no broker, or no
    answer within ``timeout``).
    """

    immediate = True

    def __init__(self, url: str, *, timeout: float = TIMEOUT_S) -> None:
        self.broker = BrokerUrl(url)
        self.timeout = timeout

    def create_device(self, site: str, device_id: str, name: str, password: str) -> None:
        """The device's role and account. A leftover of an earlier registration that did not
        finish (an account the registry does not know, whose password nobody was shown) is
        replaced: the caller has checked that no registered device has this id."""
        role = device_role(device_id)
        self.run(
            [
                {"command": "deleteClient", "username": device_id},
                {"command": "deleteRole", "rolename": role},
            ],
            tolerate=("Client not found", "Role not found"),
        )
        self.run(
            [
                {
                    "command": "createRole",
                    "rolename": role,
                    "acls": device_acls(site, device_id),
                },
                {
                    "command": "createClient",
                    "username": device_id,
                    "password": password,
                    "clientid": device_id,
                    "textname": name,
                    "roles": [{"rolename": role}],
                },
            ]
        )

    def set_password(self, device_id: str, password: str) -> None:
        """A new password, and the account enabled; a connected device is disconnected."""
        self.run(
            [
                {"command": "setClientPassword", "username": device_id, "password": password},
                {"command": "enableClient", "username": device_id},
            ]
        )

    def disable(self, device_id: str) -> None:
        """No sign-in with this account any more; a connected device is disconnected."""
        self.run([{"command": "disableClient", "username": device_id}])

    def delete_device(self, device_id: str) -> None:
        self.run(
            [
                {"command": "deleteClient", "username": device_id},
                {"command": "deleteRole", "rolename": device_role(device_id)},
            ],
            tolerate=("Client not found", "Role not found"),
        )

    def run(
        self, commands: Sequence[dict[str, Any]], *, tolerate: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Send ``commands`` in one message and return the plugin's answers, in order."""
        tag = secrets.token_hex(8)
        sent = [{**command, "correlationData": f"{tag}-{i}"} for i, command in enumerate(commands)]
        answers = self._exchange(json.dumps({"commands": sent}).encode(), tag, len(sent))
        for command, answer in zip(sent, answers, strict=True):
            error = answer.get("error")
            if error and error not in tolerate:
                raise BrokerRefused(
                    f"the broker refused {command['command']}: {error}",
                    command=command["command"],
                    broker_error=str(error),
                )
        return answers

    def _exchange(self, payload: bytes, tag: str, expected: int) -> list[dict[str, Any]]:
        where = f"{self.broker.host}:{self.broker.port}"
        answers: dict[str, dict[str, Any]] = {}
        refused: list[str] = []
        # A server client id (devices may not take the prefix): unique, so that two consoles
        # changing accounts at once do not take each other's session.
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"linli-server-accounts-{secrets.token_hex(6)}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
            reconnect_on_failure=False,
        )
        client.username_pw_set(self.broker.username or provisioning.SERVER_USERNAME,
                               self.broker.password)  # fmt: skip
        if self.broker.tls:
            client.tls_set()
        client.on_socket_open = disable_nagle

        def on_connect(c: mqtt.Client, u: Any, flags: Any, reason: Any, props: Any) -> None:
            if reason.is_failure:
                refused.append(
                    f"the broker at {where} refused the server account "
                    f"{provisioning.SERVER_USERNAME}: {reason}"
                )
                return
            c.subscribe(RESPONSE_TOPIC, qos=1)

        def on_subscribe(c: mqtt.Client, u: Any, mid: int, reasons: Any, props: Any) -> None:
            if any(reason.is_failure for reason in reasons):
                refused.append(
                    f"the broker at {where} does not let {provisioning.SERVER_USERNAME} read "
                    f"{RESPONSE_TOPIC}: see docs/operations.md, “Provisioning devices”"
                )
                return
            c.publish(CONTROL_TOPIC, payload, qos=1)

        def on_message(c: mqtt.Client, u: Any, message: mqtt.MQTTMessage) -> None:
            try:
                responses = json.loads(message.payload)["responses"]
            except (ValueError, KeyError, TypeError):
                return
            for response in responses if isinstance(responses, list) else []:
                if isinstance(response, dict):
                    correlation = str(response.get("correlationData", ""))
                    if correlation.startswith(f"{tag}-"):
                        answers[correlation] = response

        client.on_connect = on_connect
        client.on_subscribe = on_subscribe
        client.on_message = on_message
        try:
            try:
                client.connect(self.broker.host, self.broker.port, keepalive=30)
            except OSError as error:
                raise BrokerUnreachable(
                    f"cannot reach the broker at {where}: {error}", broker=where
                ) from None
            deadline = time.monotonic() + self.timeout
            while len(answers) < expected and not refused and time.monotonic() < deadline:
                if client.loop(timeout=0.05) not in (MQTTErrorCode.MQTT_ERR_SUCCESS,):
                    break
        finally:
            client.disconnect()
            client.loop(timeout=0.01)
            # paho keeps the socket until the next loop; close it now, not at collection.
            sock = client.socket()
            if sock is not None:
                sock.close()
        if refused:
            raise BrokerRefused(refused[0], broker=where)
        if len(answers) < expected:
            raise BrokerUnreachable(
                f"the broker at {where} did not answer on {RESPONSE_TOPIC} within "
                f"{self.timeout:g} s: is Mosquitto's dynamic security plugin loaded, and may "
                f"{provisioning.SERVER_USERNAME} publish to {CONTROL_TOPIC}?",
                broker=where,
            )
        return [answers[f"{tag}-{i}"] for i in range(expected)]


def accounts_for(mode: str, server_url: str | None) -> BrokerAccounts:
    """The accounts of a deployment: ``dynsec`` needs the server's broker URL."""
    if mode == FILES:
        return FileAccounts()
    if mode != DYNSEC:
        raise BrokerUnreachable(
            f"LINLI_BROKER_ACCOUNTS must be one of {', '.join(MODES)}, not {mode!r}"
        )
    try:
        return DynsecAccounts(server_url or "")
    except ValueError:
        raise BrokerUnreachable(
            "LINLI_BROKER_ACCOUNTS=dynsec needs LINLI_MQTT_URL, the server's account on the "
            "broker (mqtt://linli-server:PASSWORD@host:port)"
        ) from None
