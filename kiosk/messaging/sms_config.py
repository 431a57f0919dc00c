"""The SMS settings of a deployment, read from ``LINLI_SMS_*`` environment variables.

``LINLI_SMS_PROVIDER`` is ``log`` (the default: messages go to the worker's log, as in the
demo) or ``tencent``. For Tencent Cloud SMS every other setting below is required except the
endpoint; the templates file is JSON, ``{"kind": {"zh_CN": "template id", "en": "…"}}``, one
entry per kind of message (booking.messages.templates has each template's text to register).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from booking.messages.templates import TEMPLATES
from kiosk.config import ConfigError

PROVIDERS = ("log", "tencent")
LANGUAGES = ("zh_CN", "en")
TENCENT_REQUIRED = (
    "LINLI_SMS_SECRET_ID",
    "LINLI_SMS_SECRET_KEY",
    "LINLI_SMS_APP_ID",
    "LINLI_SMS_SIGN_NAME",
    "LINLI_SMS_TEMPLATES",
)


@dataclass(frozen=True)
class SmsConfig:
    provider: str = "log"
    secret_id: str = ""
    secret_key: str = field(default="", repr=False)
    region: str = "ap-guangzhou"
    app_id: str = ""
    sign_name: str = ""
    # kind -> language -> the provider's template id
    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Only for a private endpoint or a test's fake provider: host[:port]; with http://, plain.
    endpoint: str = ""


def _templates(path: str) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"LINLI_SMS_TEMPLATES: cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("LINLI_SMS_TEMPLATES: the file must hold a JSON object")
    templates: dict[str, dict[str, str]] = {}
    for kind, ids in data.items():
        if not isinstance(ids, dict) or any(
            not isinstance(ids.get(lang), str) or not ids.get(lang) for lang in LANGUAGES
        ):
            raise ConfigError(f"LINLI_SMS_TEMPLATES: {kind} needs a template id for zh_CN and en")
        templates[kind] = {lang: ids[lang] for lang in LANGUAGES}
    missing = sorted(set(TEMPLATES) - set(templates) - {"generic"})
    if "generic" not in templates:
        missing.append("generic")
    if missing:
        raise ConfigError(f"LINLI_SMS_TEMPLATES: no template for {', '.join(missing)}")
    return templates


def sms_config(environ: Mapping[str, str]) -> SmsConfig:
    """The settings in ``environ``; :class:`ConfigError` naming what is missing or wrong."""
    provider = environ.get("LINLI_SMS_PROVIDER", "log").strip().lower() or "log"
    if provider not in PROVIDERS:
        raise ConfigError(f"LINLI_SMS_PROVIDER: {provider!r} is not one of {', '.join(PROVIDERS)}")
    if provider == "log":
        return SmsConfig()
    missing = [name for name in TENCENT_REQUIRED if not environ.get(name, "").strip()]
    if missing:
        raise ConfigError(f"LINLI_SMS_PROVIDER=tencent needs {', '.join(missing)}")
    return SmsConfig(
        provider=provider,
        secret_id=environ["LINLI_SMS_SECRET_ID"].strip(),
        secret_key=environ["LINLI_SMS_SECRET_KEY"].strip(),
        region=environ.get("LINLI_SMS_REGION", "").strip() or "ap-guangzhou",
        app_id=environ["LINLI_SMS_APP_ID"].strip(),
        sign_name=environ["LINLI_SMS_SIGN_NAME"].strip(),
        templates=_templates(environ["LINLI_SMS_TEMPLATES"].strip()),
        endpoint=environ.get("LINLI_SMS_ENDPOINT", "").strip(),
    )


def reaches_phones() -> bool:
    """Whether this deployment's SMS reaches phones (``LINLI_SMS_PROVIDER=tencent``): only then
    is a code offered by SMS. The demo's log channel reaches nobody, and a button that sends
    nothing would leave a resident waiting for a message that never comes."""
    return str(current_app.config.get("SMS_PROVIDER", "log")).strip().lower() == "tencent"
