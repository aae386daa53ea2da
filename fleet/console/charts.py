"""Small charts drawn on the server as SVG markup: horizontal bars (movers, margins,
shares), two series by day (this period against the one compared) and a heat map of
weekday by hour.

Written by hand rather than taken from a chart library: the console works offline
behind a strict Content-Security-Policy and without JavaScript, and the libraries that
draw in the browser need scripts, those that draw on the server bring inline styles
(which the policy refuses) and a dependency for a few rectangles. So: presentation
attributes only (``fill=``, ``font-size=``; never ``style``), every text escaped, each
chart ``role="img"`` with an ``aria-label``, and each mark carrying its exact figure in a
``<title>`` (the browser's tooltip) and ``data-value`` (what the tests compare with the
CSV). Amounts arrive already formatted by the caller (:func:`fleet.console.web.money`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

INK, MUTED, LINE, ACCENT, BAD = "#1d2330", "#5c6677", "#d9dee7", "#1f6feb", "#b42318"
FONT = 'font-family="system-ui, sans-serif"'
LOW, HIGH = (238, 242, 248), (31, 111, 235)  # the heat map's palest and strongest cell


@dataclass(frozen=True)
class Bar:
    label: str  # left of the bar (cut short when long; whole in the tooltip)
    value: float  # the bar's length; below zero: drawn left of the zero line
    text: str  # the figure written beside the bar, e.g. "Rp 12.500" or "24 (+6)"
    key: str = ""  # data-key: what the row is (a SKU, a tender kind)


def _n(x: float) -> str:
    """A coordinate: short, and the same text for the same number."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _exact(value: float) -> str:
    """A figure as data: whole numbers without a point, never in exponent notation."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _short(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _svg(width: float, height: float, label: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'role="img" aria-label="{escape(label)}" {FONT} font-size="11" fill="{INK}">'
        f"<title>{escape(label)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def bar_chart(bars: Sequence[Bar], *, label: str, width: int = 560) -> Markup:
    """One bar per row, against a zero line that sits where the values need it: at the
    left when all are at least zero, further right when some are below."""
    left, right, row = 170, 120, 22
    plot = width - left - right
    low = min([0.0, *(b.value for b in bars)])
    high = max([0.0, *(b.value for b in bars)])
    span = (high - low) or 1.0
    zero = left + plot * (-low) / span
    height = max(1, len(bars)) * row + 10
    body = [f'<line x1="{_n(zero)}" y1="2" x2="{_n(zero)}" y2="{height - 4}" stroke="{MUTED}"/>']
    for i, bar in enumerate(bars):
        y = 6 + i * row
        length = abs(bar.value) * plot / span
        x = zero - length if bar.value < 0 else zero
        fill = BAD if bar.value < 0 else ACCENT
        tip = escape(f"{bar.label}: {bar.text}")
        body.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(_short(bar.label, 26))}<title>{tip}</title></text>"
            f'<rect x="{_n(x)}" y="{y + 2}" width="{_n(max(length, 0.5))}" height="{row - 6}"'
            f' fill="{fill}" data-key="{escape(bar.key)}" data-value="{_exact(bar.value)}">'
            f"<title>{tip}</title></rect>"
            # a bar's figure beyond its end; a negative bar's right of the zero line
            f'<text x="{_n((zero + length if bar.value >= 0 else zero) + 4)}" y="{y + 13}"'
            f' fill="{MUTED}">{escape(bar.text)}</text>'
        )
    return _svg(width, height, label, body)


def series_chart(
    keys: Sequence[str],
    ticks: Sequence[str],
    current: Sequence[float],
    compared: Sequence[float],
    *,
    label: str,
    names: tuple[str, str],
    texts: tuple[Sequence[str], Sequence[str]],
    width: int = 640,
) -> Markup:
    """This period as columns, the period compared as a line over them, both on one
    scale from zero. ``keys``: each column's day (data-key), ``ticks``: its short label
    on the axis (some are left out when there are many), ``texts``: each figure as the
    tooltips write it."""
    left, top, bottom, height = 8, 24, 22, 220
    plot_w, plot_h = width - left - 8, height - top - bottom
    n = max(1, len(keys))
    step = plot_w / n
    peak = max([1, *current, *compared])

    def y(value: float) -> float:
        return top + plot_h - max(0, value) * plot_h / peak

    second = left + 34 + len(names[0]) * 7  # the second legend after the first's words
    body = [
        f'<rect x="{left}" y="4" width="10" height="10" fill="{ACCENT}"/>'
        f'<text x="{left + 14}" y="13">{escape(names[0])}</text>'
        f'<line x1="{second}" y1="9" x2="{second + 16}" y2="9" stroke="{INK}" '
        f'stroke-width="2"/><text x="{second + 20}" y="13">{escape(names[1])}</text>',
        f'<line x1="{left}" y1="{_n(y(0))}" x2="{width - 8}" y2="{_n(y(0))}" stroke="{LINE}"/>',
    ]
    figures = [*zip(current, texts[0], strict=True), *zip(compared, texts[1], strict=True)]
    if figures:  # the scale's top: a faint line at the largest figure, written at its end
        most, most_text = max(figures, key=lambda f: f[0])
        body.append(
            f'<line x1="{left}" y1="{_n(y(most))}" x2="{width - 8}" y2="{_n(y(most))}" '
            f'stroke="{LINE}" stroke-dasharray="3 3"/><text x="{width - 8}" '
            f'y="{_n(y(most) - 3)}" text-anchor="end" fill="{MUTED}">{escape(most_text)}</text>'
        )
    every = max(1, -(-n // 10))  # about ten ticks at most
    for i, key in enumerate(keys):
        x = left + i * step
        value = current[i] if i < len(current) else 0
        body.append(
            f'<rect x="{_n(x + step * 0.15)}" y="{_n(y(value))}" width="{_n(step * 0.7)}" '
            f'height="{_n(y(0) - y(value))}" fill="{ACCENT}" data-series="current" '
            f'data-key="{escape(key)}" data-value="{_exact(value)}">'
            f"<title>{escape(f'{names[0]} {key}: {texts[0][i]}')}</title></rect>"
        )
        if i % every == 0:
            body.append(
                f'<text x="{_n(x + step / 2)}" y="{height - 6}" text-anchor="middle" '
                f'fill="{MUTED}" font-size="10">{escape(ticks[i])}</text>'
            )
    points = [(left + (i + 0.5) * step, y(v)) for i, v in enumerate(compared)]
    if points:
        line = " ".join(f"{_n(px)},{_n(py)}" for px, py in points)
        body.append(f'<polyline points="{line}" fill="none" stroke="{INK}" stroke-width="2"/>')
    for i, (px, py) in enumerate(points):
        body.append(
            f'<circle cx="{_n(px)}" cy="{_n(py)}" r="3" fill="{INK}" data-series="compared" '
            f'data-key="{escape(keys[i])}" data-value="{_exact(compared[i])}">'
            f"<title>{escape(f'{names[1]}: {texts[1][i]}')}</title></circle>"
        )
    return _svg(width, height, label, body)


def _shade(value: int, peak: int) -> str:
    if value <= 0 or peak <= 0:
        return "#f5f7fa"
    share = 0.15 + 0.85 * min(1.0, value / peak)  # the smallest sale still shows
    r, g, b = (round(lo + (hi - lo) * share) for lo, hi in zip(LOW, HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map(
    values: Sequence[Sequence[int]],
    titles: Sequence[Sequence[str]],
    *,
    rows: Sequence[str],
    label: str,
    legend: tuple[str, str],
) -> Markup:
    """Rows (weekdays) by 24 columns (local hours), the stronger the colour the larger
    the value; each cell's ``<title>`` gives its exact figures (``titles[row][hour]``)."""
    left, top, cell_w, cell_h = 92, 22, 22, 20
    width, height = left + 24 * cell_w + 8, top + len(rows) * cell_h + 30
    peak = max([0, *(v for row in values for v in row)])
    body = [
        f'<text x="{left + h * cell_w + cell_w / 2}" y="{top - 8}" text-anchor="middle" '
        f'fill="{MUTED}" font-size="10">{h:02d}</text>'
        for h in range(0, 24, 3)
    ]
    for r, name in enumerate(rows):
        y = top + r * cell_h
        body.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(name)}</text>')
        for h in range(24):
            value = values[r][h]
            body.append(
                f'<rect x="{left + h * cell_w}" y="{y}" width="{cell_w - 2}" '
                f'height="{cell_h - 2}" fill="{_shade(value, peak)}" stroke="{LINE}" '
                f'stroke-width="0.5" data-row="{r}" data-column="{h}" data-value="{value}">'
                f"<title>{escape(titles[r][h])}</title></rect>"
            )
    y = top + len(rows) * cell_h + 8
    body.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">{escape(legend[0])}</text>')
    for i, share in enumerate((0, 0.25, 0.5, 0.75, 1.0)):
        shade = _shade(round(share * 100), 100) if share else _shade(0, 1)
        body.append(
            f'<rect x="{left + i * 16}" y="{y}" width="14" height="14" fill="{shade}" '
            f'stroke="{LINE}" stroke-width="0.5"/>'
        )
    body.append(f'<text x="{left + 86}" y="{y + 11}">{escape(legend[1])}</text>')
    return _svg(width, height, label, body)
