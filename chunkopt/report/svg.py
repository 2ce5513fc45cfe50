"""Small SVG charts for the report: lines, points with error bars, real ticks, a legend beside the plot.

Written out (about 150 lines) rather than taken from a plotting library, so the core install stays
light and the report stays one offline file; every text is escaped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
_MUTED = "#bbbbbb"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]."""
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < hi:
        ticks.append(round(value, 12))
    return ticks


def log2_ticks(lo: float, hi: float) -> list[float]:
    """Powers of two covering [lo, hi] (both positive)."""
    first, last = math.floor(math.log2(lo)), math.ceil(math.log2(hi))
    if first == last:
        last += 1
    return [2.0 ** e for e in range(first, last + 1)]


def _tick_text(value: float) -> str:
    if value >= 1000 and value == int(value):
        return f"{int(value):,}"
    return f"{value:.6g}"


@dataclass
class Chart:
    """One chart: add lines and points, then `svg()` fits the axes to everything added."""

    x_label: str
    y_label: str
    x_log2: bool = False
    width: int = 520
    height: int = 320
    _lines: list[tuple] = field(default_factory=list)
    _points: list[tuple] = field(default_factory=list)
    _legend: list[tuple[str, str, str]] = field(default_factory=list)

    def line(self, xs: list[float], ys: list[float], colour: str = _MUTED, width: float = 1.2, title: str = "") -> None:
        self._lines.append((xs, ys, colour, width, title))

    def point(self, x: float, y: float, colour: str, *, low: float | None = None, high: float | None = None,
              shape: str = "circle", ring: bool = False, title: str = "") -> None:
        """A point; `low`/`high` draw a vertical error bar; `shape` is "circle" or "star"."""
        self._points.append((x, y, colour, low, high, shape, ring, title))

    def legend(self, label: str, colour: str, shape: str = "circle") -> None:
        self._legend.append((label, colour, shape))

    def svg(self) -> str:
        pad_left, pad_right, pad_top, pad_bottom = 56, 12, 12, 44
        xs = [x for line in self._lines for x in line[0]] + [p[0] for p in self._points]
        ys = [y for line in self._lines for y in line[1]] + [p[1] for p in self._points]
        ys += [v for p in self._points for v in (p[3], p[4]) if v is not None]
        if self.x_log2:
            xs = [x for x in xs if x > 0] or [1.0]
            x_ticks = log2_ticks(min(xs), max(xs))
        else:
            x_ticks = nice_ticks(min(xs), max(xs))
        y_ticks = nice_ticks(min(ys), max(ys))
        x_lo, x_hi, y_lo, y_hi = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
        plot_w = self.width - pad_left - pad_right
        plot_h = self.height - pad_top - pad_bottom

        def px(x: float) -> float:
            if self.x_log2:
                x = math.log2(max(x, 2.0 ** -30))
                lo, hi = math.log2(x_lo), math.log2(x_hi)
            else:
                lo, hi = x_lo, x_hi
            return pad_left + (x - lo) / ((hi - lo) or 1.0) * plot_w

        def py(y: float) -> float:
            return pad_top + plot_h - (y - y_lo) / ((y_hi - y_lo) or 1.0) * plot_h

        out = []
        for t in y_ticks:
            out.append(f"<line x1='{pad_left}' x2='{pad_left + plot_w}' y1='{py(t):.1f}' y2='{py(t):.1f}' stroke='#eee'/>"
                       f"<text x='{pad_left - 6}' y='{py(t) + 4:.1f}' font-size='11' text-anchor='end'>{_tick_text(t)}</text>")
        for t in x_ticks:
            out.append(f"<line x1='{px(t):.1f}' x2='{px(t):.1f}' y1='{pad_top}' y2='{pad_top + plot_h}' stroke='#eee'/>"
                       f"<text x='{px(t):.1f}' y='{pad_top + plot_h + 16}' font-size='11' text-anchor='middle'>{_tick_text(t)}</text>")
        out.append(f"<rect x='{pad_left}' y='{pad_top}' width='{plot_w}' height='{plot_h}' fill='none' stroke='#444'/>")
        out.append(f"<text x='{pad_left + plot_w / 2}' y='{self.height - 8}' font-size='12' text-anchor='middle'>{escape(self.x_label)}</text>")
        out.append(f"<text x='14' y='{pad_top + plot_h / 2}' font-size='12' text-anchor='middle' "
                   f"transform='rotate(-90 14 {pad_top + plot_h / 2})'>{escape(self.y_label)}</text>")
        for xs_, ys_, colour, width, title in sorted(self._lines, key=lambda line: line[3]):  # emphasised on top
            path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs_, ys_))
            out.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='{width}'>"
                       f"<title>{escape(title)}</title></polyline>")
            out.extend(_marker(px(x), py(y), colour, "circle", False, 2.5, title) for x, y in zip(xs_, ys_))
        for x, y, colour, low, high, shape, ring, title in self._points:
            if low is not None and high is not None:
                out.append(f"<line x1='{px(x):.1f}' x2='{px(x):.1f}' y1='{py(low):.1f}' y2='{py(high):.1f}' "
                           f"stroke='{colour}' stroke-opacity='0.6'/>")
            out.append(_marker(px(x), py(y), colour, shape, ring, 8 if shape == "star" else 4.5, title))
        for i, (label, colour, shape) in enumerate(self._legend):
            lx, ly = self.width + 12, pad_top + 10 + 18 * i
            out.append(_marker(lx, ly - 4, colour, shape, False, 6 if shape == "star" else 4.5, label))
            out.append(f"<text x='{lx + 12}' y='{ly}' font-size='11'>{escape(label)}</text>")
        # About 6.5 pixels a character at font size 11, beside a marker.
        legend_width = 40 + max((len(label) for label, _, _ in self._legend), default=0) * 6.5
        total = int(self.width + (legend_width if self._legend else 0))
        return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{total}' height='{self.height}' "
                f"viewBox='0 0 {total} {self.height}' role='img'>{''.join(out)}</svg>")


def _marker(x: float, y: float, colour: str, shape: str, ring: bool, size: float, title: str) -> str:
    stroke = " stroke='#000' stroke-width='1.5'" if ring else ""
    tip = f"<title>{escape(title)}</title>" if title else ""
    if shape == "star":
        points = []
        for k in range(10):
            r = size if k % 2 == 0 else size * 0.45
            angle = math.pi / 2 + k * math.pi / 5
            points.append(f"{x + r * math.cos(angle):.1f},{y - r * math.sin(angle):.1f}")
        return f"<polygon points='{' '.join(points)}' fill='{colour}' stroke='#000' stroke-width='1'>{tip}</polygon>"
    return f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{size}' fill='{colour}'{stroke}>{tip}</circle>"
