"""A slip's QR code as inline SVG (no image file, nothing loaded from elsewhere): the booking
slip's and the loan slip's, each carrying its slip token (booking.core.slip_codes)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def svg(text: str, *, label: str) -> Markup:
    """The QR code of ``text``, labelled for screen readers."""
    drawn = segno.make(text, error="m").svg_inline(
        scale=6, dark="#111111", light="#ffffff", svgclass="qr-code"
    )
    # segno writes only numbers and paths, so its markup is safe; the label is escaped.
    labelled = drawn.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)
    return Markup(labelled)
