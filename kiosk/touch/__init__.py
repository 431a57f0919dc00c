"""The resident kiosk: the touchscreen pages at ``/kiosk``."""

from __future__ import annotations

from kiosk.touch.blueprint import bp

__all__ = ["bp"]
