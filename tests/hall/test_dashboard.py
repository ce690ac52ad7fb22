"""The dashboard's public-side figures: satisfaction by window, month and officer, processing
time against the period before, and who sees them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from approvals.hall.models import Officer, Rating, ServiceEvent, Window
from approvals.hall.selectors.dashboard import hall_figures, processing_against_before
from approvals.services import step_decide, window_accept
from tests.factories import open_step, submit

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def _rate(officer: Officer, stars: int, when: dt.datetime) -> Rating:
    event = ServiceEvent.objects.create(window=officer.window, officer=officer, kind="consultation", at=when)
    return Rating.objects.create(event=event, stars=stars, tag_set="2026.1", channel="kiosk", at=when)


def test_satisfaction_by_window_month_and_officer(users):
    li, zhang = Officer.objects.get(user__username="clerk_jiayu"), Officer.objects.get(user__username="clerk_jiayu2")
    chen = Officer.objects.get(user__username="clerk_xianning")
    for stars in (5, 5, 4, 2):
        _rate(li, stars, dt.datetime(2026, 11, 10, 10, tzinfo=TZ))
    for stars in (3, 1):
        _rate(zhang, stars, dt.datetime(2026, 10, 5, 10, tzinfo=TZ))
    _rate(chen, 5, dt.datetime(2026, 11, 12, 10, tzinfo=TZ))
    _rate(li, 1, dt.datetime(2025, 12, 30, 10, tzinfo=TZ))  # last year: not in this year's figures
    figures = hall_figures(user=users["reviewer_xianning"], now=dt.datetime(2026, 12, 3, 12, tzinfo=TZ))
    label = {w.code: f"{w.division.name} {w.label}" for w in Window.objects.select_related("division")}
    by_window = {s.label: s for s in figures.by_window}
    jiayu = by_window[label["jiayu-land"]]
    # 6 ratings this year at Jiayu: 5 5 4 2 3 1 → mean 3.33, satisfied (≥3) 4 of 6
    assert (jiayu.count, jiayu.mean_stars, jiayu.percent) == (6, Decimal("3.33"), 66.7)
    assert by_window[label["xianning-land"]].percent == 100.0
    assert [(s.label, s.count, s.percent) for s in figures.by_month] == [("2026-10", 2, 50.0), ("2026-11", 5, 80.0)]
    assert [(s.label, s.count) for s in figures.by_officer] == [("李建国 (JY0102)", 4), ("张敏 (JY0103)", 2), ("陈志强 (XN0201)", 1)]
    # A county reviewer sees the county's window only.
    assert [s.label for s in hall_figures(user=users["reviewer_jiayu"], now=dt.datetime(2026, 12, 3, tzinfo=TZ)).by_window] == [label["jiayu-land"]]


def test_processing_time_against_the_period_before(users):
    def homestead(accepted: dt.datetime, decided: dt.datetime) -> None:
        app = submit(users["applicant"], code="rural_homestead")
        with time_machine.travel(accepted, tick=False):
            app = window_accept(application=app, by=users["clerk_jiayu"])
        with time_machine.travel(decided, tick=False):
            step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="approved")

    # Before (decided 90–180 days ago): accepted Mon 1 Jun, decided Mon 8 Jun 2026 09:00. The clock
    # counts from the day after acceptance (期限自受理次日起算) and a morning decision adds nothing: Tue–Fri = 4.
    homestead(dt.datetime(2026, 6, 1, 9, tzinfo=TZ), dt.datetime(2026, 6, 8, 9, tzinfo=TZ))
    # Now: accepted Mon 16 Nov, decided Wed 18 Nov 09:00: Tue 17 = 1 working day.
    homestead(dt.datetime(2026, 11, 16, 9, tzinfo=TZ), dt.datetime(2026, 11, 18, 9, tzinfo=TZ))
    [row] = processing_against_before(user=users["reviewer_jiayu"], now=dt.datetime(2026, 12, 3, 12, tzinfo=TZ))
    assert (row.kind.code, row.now_count, row.now_days, row.before_count, row.before_days) == ("rural_homestead", 1, 1.0, 1, 4.0)
    assert (row.change_percent, row.efficiency_percent) == (-75.0, 300.0)


@pytest.mark.parametrize(("username", "status"), [("applicant", 403), ("caller_hubei", 403), ("reviewer_jiayu", 200), ("planner", 200)])
def test_dashboard_shows_the_public_side_to_staff_only(client_as, username, status):
    response = client_as(username).get("/dashboard/")
    assert response.status_code == status
    if status == 200:
        assert b"Satisfaction by month" in response.content
        assert b"Processing time: last 90 days" in response.content
