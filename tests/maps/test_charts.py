"""Server-side bar charts: labels and values stay inside the drawing (issue 15: clipped labels)."""

from __future__ import annotations

import pytest

from maps.templatetags.charts import CHART_WIDTH, LABEL_WIDTH, _text_width, bar_chart, fit_label


@pytest.mark.parametrize("label", ["嘉鱼县自然资源和规划局用地审批窗口", "Jiayu County land approval window, ground floor", "短"])
def test_labels_fit_their_column(label):
    short = fit_label(label)
    assert _text_width(short) <= LABEL_WIDTH - 10
    assert short == label or (short.endswith("…") and label.startswith(short[:-1]))


def test_the_longest_value_text_fits_right_of_the_longest_bar():
    chart = bar_chart([("永久基本农田", 19272.77), ("生态保护红线", 5.0)], title="t", unit="ha", digits=2)
    longest = chart["bars"][0]
    assert longest["text"] == "19,272.77 ha"
    assert LABEL_WIDTH + longest["width"] + 4 + _text_width(longest["text"]) <= CHART_WIDTH
    assert chart["bars"][1]["width"] >= 1
