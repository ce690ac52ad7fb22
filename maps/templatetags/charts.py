"""Charts drawn as inline SVG on the server (no chart library, nothing fetched): horizontal bars
with values, optionally with limit markers (e.g. statutory and promised working days)."""

from __future__ import annotations

from django import template

register = template.Library()

BAR_HEIGHT = 22
LABEL_WIDTH = 170
CHART_WIDTH = 560


@register.inclusion_tag("maps/_bar_chart.html")
def bar_chart(rows: list[tuple[str, float]], *, title: str, unit: str = "", digits: int = 0,
              markers: list[tuple[str, float]] | None = None, color: str = "#1677ff") -> dict:
    """`rows`: (label, value) pairs; `markers`: (label, value) vertical lines on the same scale."""
    markers = markers or []
    top = max([v for _l, v in rows] + [v for _l, v in markers] + [0]) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 70
    bars = [{"label": label, "value": value, "y": i * BAR_HEIGHT, "width": max(1, round(span * value / top)),
             "text": f"{value:,.{digits}f}{(' ' + unit) if unit else ''}"} for i, (label, value) in enumerate(rows)]
    height = max(1, len(rows)) * BAR_HEIGHT + (18 if markers else 4)
    lines = [{"label": label, "x": LABEL_WIDTH + round(span * value / top), "value": value} for label, value in markers]
    return {"bars": bars, "lines": lines, "title": title, "height": height, "width": CHART_WIDTH, "label_width": LABEL_WIDTH,
            "bar_height": BAR_HEIGHT - 6, "color": color}


@register.inclusion_tag("maps/_bar_chart.html")
def satisfaction_chart(rows, *, title: str, color: str = "#faad14") -> dict:
    """Satisfaction rates (approvals.hall.selectors.dashboard.UnitSatisfaction) as bars in %."""
    return bar_chart([(row.label, row.percent) for row in rows], title=title, unit="%", digits=1, color=color)
