"""Charts drawn by the server as SVG, with pygal: no script runs in the page or the image.

pygal adds a finder of its own to ``sys.meta_path`` on import, for map plugins loaded
as ``pygal.maps.*``; it implements only the legacy ``find_module``, so every later
import anywhere warns (``ImportWarning``). The portal draws no maps: the finder is
taken out again right after the import.
"""

from __future__ import annotations

import re
import sys

import pygal
from pygal.style import Style

sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#d5dbe1",
    colors=("#1e7b4f", "#b3261e", "#8a96a3"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=13,
)


def bar_chart_height(bars: int) -> int:
    return max(160, 70 + 56 * bars)


def stacked_bars(labels: list[str], series: list[tuple[str, list[int]]]) -> str:
    """Horizontal stacked bars, one per label, one colour per series; the SVG as text."""
    chart = pygal.HorizontalStackedBar(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=720,
        height=bar_chart_height(len(labels)),
        legend_at_bottom=True,
        legend_at_bottom_columns=len(series),
        print_values=True,
        show_y_guides=False,
        margin=8,
        spacing=12,
        truncate_label=-1,
        print_zeroes=False,
    )
    chart.x_labels = labels
    top = max((sum(values) for values in zip(*(v for _, v in series), strict=True)), default=0)
    step = max(1, -(-top // 10))  # whole tickets on the axis, at most about ten marks
    chart.y_labels = list(range(0, max(top, 1) + step, step))
    for name, values in series:
        chart.add(name, [value or None for value in values])
    # Its tooltips' configuration, for a script the portal never sends: nothing runs.
    return _SCRIPT.sub("", chart.render(is_unicode=True))
