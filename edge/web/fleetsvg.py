"""A kit's history as an SVG line chart drawn on the server, so the fleet page works offline and
without a chart library: the same look as the kit's device charts (app.css `svg.chart`).

Samples are averaged into at most BUCKETS time buckets; an empty bucket (the kit was off or out
of reach) is a gap in the line.
"""

from __future__ import annotations

import time
from html import escape

from markupsafe import Markup

W, H = 360, 170  # about the width it is drawn at (a phone, a grid column): text stays legible
TOP, BOTTOM, LEFT, RIGHT = 10, H - 24, 66, W - 8
BUCKETS = 120


def buckets(points: list[tuple[float, float]], t0: float, t1: float) -> list[float | None]:
    sums = [0.0] * BUCKETS
    counts = [0] * BUCKETS
    span = max(t1 - t0, 1.0)
    for t, v in points:
        i = min(BUCKETS - 1, max(0, int((t - t0) / span * BUCKETS)))
        sums[i] += v
        counts[i] += 1
    return [s / n if n else None for s, n in zip(sums, counts, strict=True)]


def y_range(values: list[float], fixed: tuple[float, float] | None) -> tuple[float, float]:
    if fixed:
        return fixed
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 1.0
    return lo - pad, hi + pad


def chart(points: list[tuple[float, float]], t0: float, t1: float, unit: str,
          fixed: tuple[float, float] | None = None, label: str = "") -> Markup:
    """The SVG of one series between t0 and t1 (Unix times); empty when there is no point."""
    if not points:
        return Markup("")
    lo, hi = y_range([v for _, v in points], fixed)

    def x(t: float) -> float:
        return LEFT + (RIGHT - LEFT) * (t - t0) / max(t1 - t0, 1.0)

    def y(v: float) -> float:
        return TOP + (BOTTOM - TOP) * (hi - v) / (hi - lo)

    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="{escape(label)}">']
    for v in (hi, (lo + hi) / 2, lo):
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{RIGHT}" y1="{y(v):.1f}" '
                     f'y2="{y(v):.1f}"/><text x="{LEFT - 6}" y="{y(v) + 4:.1f}" '
                     f'text-anchor="end">{_number(v)} {escape(unit)}</text>')
    for t, anchor in ((t0, "start"), ((t0 + t1) / 2, "middle"), (t1, "end")):
        parts.append(f'<line class="tick" x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{BOTTOM}" '
                     f'y2="{BOTTOM + 4}"/><text x="{x(t):.1f}" y="{H - 4}" '
                     f'text-anchor="{anchor}">{time.strftime("%d/%m", time.localtime(t))}</text>')
    run: list[str] = []
    step = (t1 - t0) / BUCKETS
    for i, v in enumerate([*buckets(points, t0, t1), None]):
        if v is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}"/>')
            run = []
        else:
            run.append(f"{x(t0 + (i + 0.5) * step):.1f},{y(v):.1f}")
    t_last, v_last = points[-1]
    parts.append(f'<circle cx="{x(t_last):.1f}" cy="{y(v_last):.1f}" r="4"/></svg>')
    return Markup("".join(parts))


def _number(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 10 else f"{v:.1f}"
