"""The worker's channels, by name, as the deployment's settings choose them."""

from __future__ import annotations

from collections.abc import Mapping

from booking.messages import outbox
from booking.messages.log_channel import LogChannel
from booking.messages.sending import Channel
from kiosk.messaging.sms_config import sms_config
from kiosk.messaging.tencent_sms import TencentSmsChannel


def channels_from_env(environ: Mapping[str, str]) -> dict[str, Channel]:
    """The SMS channel ``LINLI_SMS_PROVIDER`` names (the log by default)."""
    config = sms_config(environ)
    if config.provider == "tencent":
        return {outbox.SMS: TencentSmsChannel(config)}
    return {outbox.SMS: LogChannel()}
