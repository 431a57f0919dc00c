"""A resident's page on their own phone at ``/m``: same account, same rules, no app."""

from __future__ import annotations

from kiosk.mobile.blueprint import bp

__all__ = ["bp"]
