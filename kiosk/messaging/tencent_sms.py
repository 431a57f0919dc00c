"""Tencent Cloud SMS through its official SDK (tencentcloud-sdk-python-sms, API 2021-01-11).

The SDK signs each request (TC3-HMAC-SHA256) and raises TencentCloudSDKException for an
error answer; an accepted request still reports each phone's own outcome in SendStatusSet,
whose Code is "Ok" only when that phone's message was taken.
"""

from __future__ import annotations

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from booking.messages.sending import Outgoing, SendFailed
from kiosk.messaging.sms_config import SmsConfig

# A provider that does not answer in this time is a failed attempt, tried again later.
TIMEOUT_SECONDS = 10


class TencentSmsChannel:
    def __init__(self, config: SmsConfig) -> None:
        self.config = config
        http = HttpProfile(reqTimeout=TIMEOUT_SECONDS)
        if config.endpoint:
            scheme, _, host = config.endpoint.rpartition("://")
            http.endpoint = host
            http.protocol = http.scheme = scheme or "https"
        self.client = sms_client.SmsClient(
            credential.Credential(config.secret_id, config.secret_key),
            config.region,
            ClientProfile(signMethod="TC3-HMAC-SHA256", httpProfile=http),
        )

    def template_id(self, message: Outgoing) -> str:
        ids = self.config.templates.get(message.kind) or self.config.templates["generic"]
        return ids["zh_CN" if message.language.startswith("zh") else "en"]

    def send(self, message: Outgoing) -> str:
        request = models.SendSmsRequest()
        request.SmsSdkAppId = self.config.app_id
        request.SignName = self.config.sign_name
        request.TemplateId = self.template_id(message)
        # A kind without its own template (the generic one) has no parameters to fill.
        request.TemplateParamSet = (
            list(message.params) if message.kind in self.config.templates else []
        )
        request.PhoneNumberSet = [f"+86{message.phone}"]
        request.SessionContext = f"linli:{message.message_id}"
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            raise SendFailed(f"{exc.get_code()}: {exc.get_message()}") from exc
        [status] = response.SendStatusSet or [None]
        if status is None:
            raise SendFailed("the provider answered without a status for the phone")
        if status.Code != "Ok":
            raise SendFailed(f"{status.Code}: {status.Message}")
        return str(status.SerialNo or response.RequestId)
