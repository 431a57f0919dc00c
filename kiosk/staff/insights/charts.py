"""Charts drawn on the server as inline SVG: no JavaScript library, no network, printable.

Each chart is readable without colour: every cell and bar carries its number as text, and
the SVG has a ``<title>``/``<desc>`` (``role="img"``) plus a ``<title>`` per mark that
browsers show on hover and screen readers announce. The callers pass already-translated
labels; this module only draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Okabe–Ito: told apart by people with any common colour-vision deficiency.
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442")
HEAT_LOW = (0xF2, 0xF6, 0xFA)
HEAT_HIGH = (0x0B, 0x3C, 0x6E)
INK = "#1a1a1a"
GRID = "#d0d0d0"
FONT = "font-family=\"system-ui, 'PingFang SC', 'Noto Sans CJK SC', sans-serif\""


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _e(text: object) -> str:
    return str(escape(str(text)))


def _open_svg(
    chart_id: str, width: int, height: int, title: str, description: str, font_size: int = 14
) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{_e(chart_id)}" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc" {FONT} '
        f'font-size="{font_size}">',
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-desc">{_e(description)}</desc>',
    ]


def _text(x: float, y: float, text: str, **attrs: object) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{_e(text)}</text>'


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def readable_ink(rgb: tuple[int, int, int]) -> str:
    """Black or white, whichever contrasts more with the background ``rgb`` (WCAG ratio)."""
    lum = _luminance(rgb)
    on_black = (lum + 0.05) / 0.05
    on_white = 1.05 / (lum + 0.05)
    return INK if on_black >= on_white else "#ffffff"


def heat_colour(share: float) -> tuple[int, int, int]:
    share = min(max(share, 0.0), 1.0)
    return (
        round(HEAT_LOW[0] + (HEAT_HIGH[0] - HEAT_LOW[0]) * share),
        round(HEAT_LOW[1] + (HEAT_HIGH[1] - HEAT_LOW[1]) * share),
        round(HEAT_LOW[2] + (HEAT_HIGH[2] - HEAT_LOW[2]) * share),
    )


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def heatmap(
    *,
    chart_id: str,
    title: str,
    description: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    shares: Sequence[Sequence[float]],
    cell_texts: Sequence[Sequence[str]],
    cell_titles: Sequence[Sequence[str]],
    x_label: str,
    y_label: str,
    legend_label: str,
) -> Markup:
    """A grid of cells shaded by ``shares`` (0–1), each with its text written inside."""
    cell_w, cell_h, left, top = 46, 34, 96, 40
    width = left + cell_w * len(column_labels) + 16
    grid_bottom = top + cell_h * len(row_labels)
    height = grid_bottom + 110
    parts = _open_svg(chart_id, width, height, title, description)
    for col, label in enumerate(column_labels):
        parts.append(_text(left + col * cell_w + cell_w / 2, top - 10, label, text_anchor="middle"))
    for row, label in enumerate(row_labels):
        y = top + row * cell_h
        parts.append(_text(left - 10, y + cell_h / 2 + 5, label, text_anchor="end"))
        for col in range(len(column_labels)):
            x = left + col * cell_w
            fill = heat_colour(shares[row][col])
            parts.append(
                f'<g class="cell"><title>{_e(cell_titles[row][col])}</title>'
                f'<rect x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{_hex(fill)}"/>'
                + _text(
                    x + (cell_w - 2) / 2,
                    y + cell_h / 2 + 4,
                    cell_texts[row][col],
                    text_anchor="middle",
                    font_size=12,
                    fill=readable_ink(fill),
                )
                + "</g>"
            )
    parts.append(
        _text(
            left + cell_w * len(column_labels) / 2,
            grid_bottom + 28,
            x_label,
            text_anchor="middle",
            font_weight=600,
        )
    )
    parts.append(_text(8, top - 10, y_label, font_weight=600))
    # The legend: five steps of the scale, each with its number.
    legend_y = grid_bottom + 50
    parts.append(f'<g class="legend">{_text(left, legend_y + 17, legend_label, font_weight=600)}')
    for step in range(5):
        share = step / 4
        x = left + 170 + step * 70
        fill = heat_colour(share)
        parts.append(
            f'<rect x="{x}" y="{legend_y}" width="64" height="24" fill="{_hex(fill)}" '
            f'stroke="{GRID}"/>'
            + _text(
                x + 32,
                legend_y + 17,
                f"{round(share * 100)}%",
                text_anchor="middle",
                font_size=12,
                fill=readable_ink(fill),
            )
        )
    parts.append("</g></svg>")
    return Markup("".join(parts))


def nice_step(value: float) -> float:
    """A round step (1, 2 or 5 × a power of ten, at least 1) at or above ``value``: counts
    and percentages get whole-number ticks."""
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    bar_titles: Sequence[str],
    totals: Sequence[Sequence[str]],
    tick_format: Callable[[float], str] = lambda v: f"{v:g}",
    empty_text: str = "",
) -> Markup:
    """Bars per category, the series stacked bottom-up in order, the lines of ``totals``
    written above each bar and every segment tall enough for it labelled with its value."""
    left, top, right = 70, 40, 16
    plot_h = 260
    bar_w = max(24, min(64, 720 // max(len(categories), 1)))
    slot = bar_w + 18
    width = left + slot * len(categories) + right
    width = max(width, 420)
    legend_rows = (len(series) + 2) // 3 if len(series) > 1 else 0
    height = top + plot_h + 70 + legend_rows * 26
    base = top + plot_h
    stacked = [sum(s.values[i] for s in series) for i in range(len(categories))]
    maximum = 4 * nice_step(max(stacked, default=0) / 4)
    scale = plot_h / maximum if maximum else 0

    parts = _open_svg(chart_id, width, height, title, description)
    for tick in range(5):
        value = maximum * tick / 4
        y = base - value * scale
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(_text(left - 8, y + 5, tick_format(value), text_anchor="end", font_size=12))
    for i, category in enumerate(categories):
        x = left + i * slot + 9
        y = float(base)
        parts.append(f'<g class="bar"><title>{_e(bar_titles[i])}</title>')
        for k, one in enumerate(series):
            value = one.values[i]
            if value <= 0:
                continue
            h = value * scale
            y -= h
            colour = PALETTE[k % len(PALETTE)]
            parts.append(
                f'<rect x="{x}" y="{y:.1f}" width="{bar_w}" height="{h:.1f}" fill="{colour}" '
                f'stroke="#ffffff" stroke-width="1"/>'
            )
            if len(series) > 1 and h >= 18:
                rgb = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
                parts.append(
                    _text(
                        x + bar_w / 2,
                        y + h / 2 + 5,
                        f"{value:g}",
                        text_anchor="middle",
                        font_size=12,
                        fill=readable_ink(rgb),
                    )
                )
        for n, line in enumerate(reversed(totals[i])):
            parts.append(
                _text(
                    x + bar_w / 2,
                    y - 6 - n * 17,
                    line,
                    text_anchor="middle",
                    font_weight=600 if n == len(totals[i]) - 1 else 400,
                    font_size=14 if n == len(totals[i]) - 1 else 12,
                )
            )
        parts.append(
            _text(x + bar_w / 2, base + 20, category, text_anchor="middle", font_size=12) + "</g>"
        )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{base}" y2="{base}" stroke="{INK}"/>')
    if empty_text and not any(stacked):
        parts.append(
            _text(
                left + (width - left) / 2,
                top + plot_h / 2,
                empty_text,
                text_anchor="middle",
                font_size=18,
            )
        )
    parts.append(
        _text(
            left + (width - left - right) / 2,
            base + 46,
            x_label,
            text_anchor="middle",
            font_weight=600,
        )
    )
    # Horizontal, above the axis: Chinese set sideways is hard to read.
    parts.append(_text(8, 16, y_label, font_weight=600))
    if legend_rows:
        parts.append('<g class="legend">')
        for k, one in enumerate(series):
            lx = left + (k % 3) * 220
            ly = base + 62 + (k // 3) * 26
            parts.append(
                f'<rect x="{lx}" y="{ly}" width="18" height="18" '
                f'fill="{PALETTE[k % len(PALETTE)]}"/>' + _text(lx + 26, ly + 15, one.name)
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


# --- small pictures for pages that compare many centres ---------------------------------------


def meter(parts: Sequence[tuple[float, str]], *, scale: float, width: int = 120) -> Markup:
    """A thin horizontal bar: ``parts`` (value, colour) laid end to end over a track worth
    ``scale``. Decorative (``aria-hidden``): the page writes the same numbers beside it."""
    height = 14
    parts_svg = []
    x = 0.0
    for value, colour in parts:
        if value <= 0 or scale <= 0:
            continue
        w = min(value / scale, 1.0) * width
        w = min(w, width - x)
        parts_svg.append(
            f'<rect x="{x:.1f}" y="1" width="{w:.1f}" height="{height - 2}" fill="{colour}"/>'
        )
        x += w
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="meter" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-hidden="true" focusable="false">'
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#ffffff" '
        f'stroke="{GRID}"/>' + "".join(parts_svg) + "</svg>"
    )


def small_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    values: Sequence[int],
    maximum: float,
    first_label: str,
    last_label: str,
    bar_titles: Sequence[str],
    colour: str = PALETTE[0],
) -> Markup:
    """One of a row of small multiples: a bar per week, every chart of the row on the same
    ``maximum`` so their heights compare; each bar carries its number."""
    width, top, plot_h, left = 280, 18, 72, 4
    base = top + plot_h
    height = base + 22
    slot = (width - 2 * left) / max(len(values), 1)
    bar_w = max(slot - 4, 2)
    scale = plot_h / maximum if maximum else 0
    parts = _open_svg(chart_id, width, height, title, description, font_size=11)
    # Lean markup, as a district draws five of these for each of up to 200 centres: the
    # numbers share one ink and anchor, and an empty week draws no rectangle.
    parts.append(f'<g fill="{INK}" text-anchor="middle">')
    for i, value in enumerate(values):
        x = left + i * slot + 2
        # At least 2 px for any count: on a scale set by a busy centre, a quiet centre's 1
        # must still look different from 0.
        h = max(value * scale, 2.0) if value > 0 else 0.0
        bar = (
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{colour}"/>'
        )
        parts.append(
            f'<g class="bar"><title>{_e(bar_titles[i])}</title>'
            + (bar if value > 0 else "")
            + _text(x + bar_w / 2, base - h - 4, str(value))
            + "</g>"
        )
    parts.append("</g>")
    parts.append(f'<line x1="0" x2="{width}" y1="{base}" y2="{base}" stroke="{INK}"/>')
    parts.append(_text(left, base + 16, first_label, fill=INK))
    parts.append(_text(width - left, base + 16, last_label, text_anchor="end", fill=INK))
    parts.append("</svg>")
    return Markup("".join(parts))
