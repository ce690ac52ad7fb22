"""The demo notices: one running, one finished with an answered objection (approved), one whose
unanswered objection holds the decision; a second load makes nothing."""

from __future__ import annotations

import datetime as dt

import time_machine

from approvals.choices import ApplicationStatus
from approvals.models import Application
from approvals.notices.models import NoticeRule
from approvals.notices.selectors import decision_hold, is_running
from approvals.workdays import TZ
from data.notices_demo import SUFFIX, load_notices_demo

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=TZ)


def test_demo_notices(onemap):
    with time_machine.travel(NOW, tick=False):
        assert load_notices_demo(today=NOW.date()) == 3
        assert load_notices_demo(today=NOW.date()) == 0
        apps = {a.title: a for a in Application.objects.filter(title__endswith=SUFFIX)}
        running, finished, held = (apps[t] for t in ("村民住宅新建" + SUFFIX, "村民住宅翻建" + SUFFIX, "村民住宅改建" + SUFFIX))
        assert dict(NoticeRule.objects.values_list("kind_id", "days")) == {"rural_homestead": 5, "construction_land": 7}
        assert is_running(running.notices.get(), NOW)
        assert running.status == ApplicationStatus.IN_REVIEW
        assert finished.status == ApplicationStatus.APPROVED
        assert finished.notices.get().objections.get().answer.text.startswith("经现场核实")
        assert not is_running(held.notices.get(), NOW)
        assert "unanswered (1)" in decision_hold(application=held, now=NOW)
