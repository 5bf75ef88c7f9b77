"""A line chart as inline SVG: no charting library, no script, prints and screenshots as is.

Each series gets its own y scale (loss, a validation metric and events/s differ by orders
of magnitude), drawn over a shared x axis (the epoch); points carry `data-x`/`data-y` so a
test (or a user's devtools) reads the plotted values back.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.console.html import esc

COLOURS = ["#0972d3", "#d45b07", "#037f0c", "#8d36c9", "#b0081e"]
WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_Y = 640, 220, 48, 160, 24


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]   # (x, y)


def _ticks(low: float, high: float) -> tuple[float, float]:
    if high - low < 1e-12:
        pad = abs(high) * 0.05 or 1.0
        return low - pad, high + pad
    return low, high


def line_chart(series: list[Series], x_label: str = "epoch") -> str:
    drawn = [s for s in series if s.points]
    if not drawn:
        return '<p class="muted">Nothing to plot yet.</p>'
    xs = [x for s in drawn for x, _ in s.points]
    x_low, x_high = _ticks(min(xs), max(xs))
    plot_width = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = HEIGHT - 2 * PAD_Y

    def sx(x: float) -> float:
        return PAD_LEFT + (x - x_low) / (x_high - x_low) * plot_width

    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
             f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
             f'<rect x="{PAD_LEFT}" y="{PAD_Y}" width="{plot_width}" height="{plot_height}" '
             'fill="#fafafa" stroke="#d5dbdb"/>']
    for x in sorted(set(xs)):
        parts.append(f'<text x="{sx(x):.1f}" y="{HEIGHT - 6}" text-anchor="middle">'
                     f"{x:g}</text>")
    parts.append(f'<text x="{PAD_LEFT + plot_width / 2:.1f}" y="{PAD_Y - 8}" '
                 f'text-anchor="middle" fill="#687078">{esc(x_label)}</text>')
    for k, s in enumerate(drawn):
        colour = COLOURS[k % len(COLOURS)]
        ys = [y for _, y in s.points]
        y_low, y_high = _ticks(min(ys), max(ys))

        def sy(y: float) -> float:
            return PAD_Y + plot_height - (y - y_low) / (y_high - y_low) * plot_height

        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}"
                        for i, (x, y) in enumerate(s.points))
        parts.append(f'<path class="series" data-series="{esc(s.name)}" d="{path}" '
                     f'fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in s.points:
            parts.append(f'<circle class="point" data-series="{esc(s.name)}" data-x="{x:g}" '
                         f'data-y="{y:.6g}" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" '
                         f'fill="{colour}"><title>{esc(s.name)} {y:.4g} at {x:g}</title>'
                         "</circle>")
        legend_y = PAD_Y + 14 + 34 * k
        parts.append(f'<text x="{WIDTH - PAD_RIGHT + 10}" y="{legend_y}" fill="{colour}">'
                     f"{esc(s.name)}</text>")
        parts.append(f'<text x="{WIDTH - PAD_RIGHT + 10}" y="{legend_y + 14}" '
                     f'fill="#687078">{min(ys):.4g} – {max(ys):.4g}</text>')
    parts.append("</svg>")
    return "".join(parts)
