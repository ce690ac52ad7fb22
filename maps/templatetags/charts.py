"""Charts drawn as inline SVG on the server (no chart library, nothing fetched): horizontal bars
with values, optionally with limit markers (e.g. statutory and promised working days)."""

from __future__ import annotations

import unicodedata

from django import template

register = template.Library()

BAR_HEIGHT = 22
LABEL_WIDTH = 170
CHART_WIDTH = 560


FONT_PX = 12


def _text_width(text: str) -> float:
    """Approximate width in px at FONT_PX: CJK and full-width characters are square, Latin ~0.6."""
    return sum(FONT_PX if unicodedata.east_asian_width(ch) in "WF" else FONT_PX * 0.6 for ch in text)


def fit_label(text: str, width: float = LABEL_WIDTH - 10) -> str:
    """`text` shortened with an ellipsis so that it fits `width` px (the full text stays in the
    bar's <title> and in the table beside the chart)."""
    if _text_width(text) <= width:
        return text
    out = ""
    for ch in text:
        if _text_width(out + ch + "…") > width:
            break
        out += ch
    return out + "…"


@register.inclusion_tag("maps/_bar_chart.html")
def bar_chart(rows: list[tuple[str, float]], *, title: str, unit: str = "", digits: int = 0,
              markers: list[tuple[str, float]] | None = None, color: str = "#1677ff") -> dict:
    """`rows`: (label, value) pairs; `markers`: (label, value) vertical lines on the same scale."""
    markers = markers or []
    top = max([v for _l, v in rows] + [v for _l, v in markers] + [0]) or 1
    texts = [f"{value:,.{digits}f}{(' ' + unit) if unit else ''}" for _label, value in rows]
    # The longest value text must fit to the right of the longest bar (no clipped "19,272.77 ha").
    span = CHART_WIDTH - LABEL_WIDTH - 8 - max([_text_width(t) for t in texts] + [0])
    bars = [{"label": label, "short": fit_label(label), "value": value, "y": i * BAR_HEIGHT, "width": max(1, round(span * value / top)),
             "text": text} for i, ((label, value), text) in enumerate(zip(rows, texts, strict=True))]
    height = max(1, len(rows)) * BAR_HEIGHT + (18 if markers else 4)
    lines = [{"label": label, "x": LABEL_WIDTH + round(span * value / top), "value": value} for label, value in markers]
    return {"bars": bars, "lines": lines, "title": title, "height": height, "width": CHART_WIDTH, "label_width": LABEL_WIDTH,
            "bar_height": BAR_HEIGHT - 6, "color": color}


@register.inclusion_tag("maps/_bar_chart.html")
def satisfaction_chart(rows, *, title: str, color: str = "#faad14") -> dict:
    """Satisfaction rates (approvals.hall.selectors.dashboard.UnitSatisfaction) as bars in %."""
    return bar_chart([(row.label, row.percent) for row in rows], title=title, unit="%", digits=1, color=color)
