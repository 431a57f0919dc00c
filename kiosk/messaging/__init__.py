"""The channels the worker sends residents' messages through: Tencent Cloud SMS by its
official SDK, or the log for the demo; chosen by ``LINLI_SMS_*`` (docs/operations.md)."""
