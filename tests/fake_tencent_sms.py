"""A local stand-in for Tencent Cloud's SMS API (sms.tencentcloudapi.com, 2021-01-11) that
checks what the real SDK sends: the TC3-HMAC-SHA256 signature, recomputed here from the
request with the test's secret key as Tencent's documentation describes it, and the SendSms
fields. It answers as the API does: an error object for a bad signature, and a status per
phone (``Ok``, or the code the test asks for)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_ID = "AKIDlinlitest0000000000000000000000"
SECRET_KEY = "linli-test-secret-key-00000000000"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def expected_signature(method: str, path: str, headers: Any, body: bytes, secret: str) -> str:
    timestamp = headers["X-TC-Timestamp"]
    date = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    canonical = "\n".join([
        method, path, "",
        f"content-type:{headers['Content-Type']}\nhost:{headers['Host']}\n",
        "content-type;host", hashlib.sha256(body).hexdigest(),
    ])  # fmt: skip
    to_sign = "\n".join([
        "TC3-HMAC-SHA256", timestamp, f"{date}/sms/tc3_request",
        hashlib.sha256(canonical.encode()).hexdigest(),
    ])  # fmt: skip
    key = _hmac(_hmac(_hmac(("TC3" + secret).encode(), date), "sms"), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


@dataclass
class FakeTencentSms:
    port: int = 0
    # The code the next sends answer per phone ("Ok" sends), taken in order; then "Ok".
    answers: list[str] = field(default_factory=list)
    # Template ids the provider refuses every time, with the code it answers.
    refuse_templates: dict[str, str] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> dict[str, Any]:
        headers = handler.headers
        auth = headers.get("Authorization", "")
        prefix = f"TC3-HMAC-SHA256 Credential={SECRET_ID}/"
        signature = auth.rpartition("Signature=")[2]
        wanted = expected_signature(handler.command, handler.path, headers, body, SECRET_KEY)
        if (
            not auth.startswith(prefix)
            or "SignedHeaders=content-type;host" not in auth
            or (not hmac.compare_digest(signature, wanted))
        ):
            self.refused.append("AuthFailure.SignatureFailure")
            return {
                "Error": {
                    "Code": "AuthFailure.SignatureFailure",
                    "Message": "The provided credentials could not be validated.",
                }
            }
        if (headers["X-TC-Action"], headers["X-TC-Version"]) != ("SendSms", "2021-01-11"):
            return {"Error": {"Code": "InvalidAction", "Message": "no such action"}}
        request = json.loads(body)
        self.received.append(request)
        if request["TemplateId"] in self.refuse_templates:
            code = self.refuse_templates[request["TemplateId"]]
        else:
            code = self.answers.pop(0) if self.answers else "Ok"
        return {"SendStatusSet": [{
            "SerialNo": f"2433:{len(self.received)}", "PhoneNumber": request["PhoneNumberSet"][0],
            "Fee": 1, "SessionContext": request.get("SessionContext", ""), "Code": code,
            "Message": "send success" if code == "Ok" else "refused by the test", "IsoCode": "CN",
        }]}  # fmt: skip


@contextmanager
def fake_tencent_sms() -> Iterator[FakeTencentSms]:
    fake = FakeTencentSms()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            response = {**fake.answer(self, body), "RequestId": "fake-request"}
            data = json.dumps({"Response": response}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
