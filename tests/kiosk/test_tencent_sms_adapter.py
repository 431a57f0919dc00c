"""The SMS adapter: Tencent Cloud's own SDK sends each message to a local fake of the API,
which checks the TC3-HMAC-SHA256 signature with the test secret and the template fields, and
answers as the API does. Its settings come from LINLI_SMS_* and a wrong one is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_tencent_sms import SECRET_ID, SECRET_KEY, FakeTencentSms, fake_tencent_sms

from booking.messages.sending import Outgoing, SendFailed
from booking.messages.templates import TEMPLATES
from kiosk.config import ConfigError
from kiosk.messaging.channels import channels_from_env
from kiosk.messaging.sms_config import sms_config
from kiosk.messaging.tencent_sms import TencentSmsChannel


def templates_file(tmp_path: Path) -> str:
    ids = {kind: {"zh_CN": f"{100 + n}", "en": f"{200 + n}"} for n, kind in enumerate(TEMPLATES)}
    ids["generic"] = {"zh_CN": "100000", "en": "200000"}
    path = tmp_path / "sms_templates.json"
    path.write_text(json.dumps(ids))
    return str(path)


def environ(tmp_path: Path, fake: FakeTencentSms, secret: str = SECRET_KEY) -> dict[str, str]:
    return {
        "LINLI_SMS_PROVIDER": "tencent",
        "LINLI_SMS_SECRET_ID": SECRET_ID,
        "LINLI_SMS_SECRET_KEY": secret,
        "LINLI_SMS_APP_ID": "1400000001",
        "LINLI_SMS_SIGN_NAME": "邻里中心",
        "LINLI_SMS_TEMPLATES": templates_file(tmp_path),
        "LINLI_SMS_ENDPOINT": f"http://127.0.0.1:{fake.port}",
    }


REMINDER = Outgoing(7, "booking_reminder", "13900000001", "zh_CN", ("自习室", "11-24 14:00"))


def test_a_message_goes_signed_with_its_template_and_parameters(tmp_path: Path) -> None:
    with fake_tencent_sms() as fake:
        channel = TencentSmsChannel(sms_config(environ(tmp_path, fake)))
        assert channel.send(REMINDER) == "2433:1"
    [request] = fake.received
    zh_id = sms_config(environ(tmp_path, fake)).templates["booking_reminder"]["zh_CN"]
    assert request == {
        "PhoneNumberSet": ["+8613900000001"], "SmsSdkAppId": "1400000001", "SignName": "邻里中心",
        "TemplateId": zh_id, "TemplateParamSet": ["自习室", "11-24 14:00"],
        "SessionContext": "linli:7",
    }  # fmt: skip


def test_an_english_speaker_gets_the_english_template(tmp_path: Path) -> None:
    with fake_tencent_sms() as fake:
        config = sms_config(environ(tmp_path, fake))
        TencentSmsChannel(config).send(
            Outgoing(8, "booking_reminder", "13900000002", "en", ("Study room", "11-24 14:00"))
        )
    assert fake.received[0]["TemplateId"] == config.templates["booking_reminder"]["en"]


def test_a_wrong_secret_fails_the_signature_check_and_the_send(tmp_path: Path) -> None:
    with fake_tencent_sms() as fake:
        channel = TencentSmsChannel(sms_config(environ(tmp_path, fake, secret="not-the-key")))
        with pytest.raises(SendFailed, match="AuthFailure.SignatureFailure"):
            channel.send(REMINDER)
    assert (fake.received, fake.refused) == ([], ["AuthFailure.SignatureFailure"])


def test_a_phone_the_provider_refuses_fails_the_send_with_its_code(tmp_path: Path) -> None:
    with fake_tencent_sms() as fake:
        fake.answers.append("LimitExceeded.PhoneNumberDailyLimit")
        channel = TencentSmsChannel(sms_config(environ(tmp_path, fake)))
        with pytest.raises(SendFailed, match="LimitExceeded.PhoneNumberDailyLimit"):
            channel.send(REMINDER)
        assert channel.send(REMINDER) == "2433:2"


def test_a_provider_that_does_not_answer_fails_the_send(tmp_path: Path) -> None:
    with fake_tencent_sms() as fake:
        settings = environ(tmp_path, fake)
    channel = TencentSmsChannel(sms_config(settings))  # the fake has stopped
    with pytest.raises(SendFailed):
        channel.send(REMINDER)


def test_the_demo_and_an_unset_provider_use_the_log() -> None:
    assert type(channels_from_env({})["sms"]).__name__ == "LogChannel"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"LINLI_SMS_PROVIDER": "carrier-pigeon"}, "LINLI_SMS_PROVIDER"),
        ({"LINLI_SMS_SECRET_KEY": ""}, "LINLI_SMS_SECRET_KEY"),
        ({"LINLI_SMS_TEMPLATES": "/nonexistent/templates.json"}, "LINLI_SMS_TEMPLATES"),
    ],
)
def test_a_wrong_setting_is_named(tmp_path: Path, change: dict[str, str], named: str) -> None:
    with fake_tencent_sms() as fake:
        settings = {**environ(tmp_path, fake), **change}
    with pytest.raises(ConfigError, match=named):
        sms_config(settings)


def test_a_templates_file_missing_a_kind_is_refused(tmp_path: Path) -> None:
    with fake_tencent_sms() as fake:
        settings = environ(tmp_path, fake)
    ids = json.loads(Path(settings["LINLI_SMS_TEMPLATES"]).read_text())
    del ids["loan_overdue"]
    Path(settings["LINLI_SMS_TEMPLATES"]).write_text(json.dumps(ids))
    with pytest.raises(ConfigError, match="loan_overdue"):
        sms_config(settings)
