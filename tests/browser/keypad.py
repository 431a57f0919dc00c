"""Typing on the kiosk's number keys as a resident does, once the keys are ready.

The keypad's script is deferred: a tap that lands before it has bound the keys types
nothing, and under CI's load a first digit was lost that way (a phone number one digit
short, a sign-in refused). ``touch/keypad.js`` marks the keypad ready once the keys type.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect


def tap_digits(page: Page, digits: str) -> None:
    expect(page.locator(".keypad").first).to_have_attribute("data-keypad-ready", "true")
    for digit in digits:
        page.locator(f'.keypad [data-key="{digit}"]').tap()
