"""Working-day clocks: official 2026 data, 调休 make-up days, half days, and 2027 beyond the data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from approvals.models import CalendarOverride
from approvals.workdays import TZ, WorkdayCalendar, years_without_official_data

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


@pytest.mark.parametrize(
    ("start", "days", "deadline"),
    [
        # accepted the day before National Day: Oct 1–2 and 5–7 are holidays, 3–4 a weekend
        (at(2026, 9, 30), 1, at(2026, 10, 8, 17, 30)),
        # Saturday Oct 10 is a 调休 make-up working day and counts
        (at(2026, 10, 8), 2, at(2026, 10, 10, 17, 30)),
        # rural homestead: 3.5 working days end at noon
        (at(2026, 11, 27), Decimal("3.5"), at(2026, 12, 3, 12, 0)),
        # half a day from Friday ends Monday noon
        (at(2026, 11, 27, 16), Decimal("0.5"), at(2026, 11, 30, 12, 0)),
    ],
)
def test_deadlines_in_2026_follow_the_official_calendar(start, days, deadline):
    assert WorkdayCalendar().add_working_days(start, days) == deadline


def test_across_the_year_boundary_without_data_weekdays_count():
    # 2027 has no official data in chinesecalendar 1.11.0: Mon–Fri count, so Fri 1 Jan 2027 counts too
    assert WorkdayCalendar().add_working_days(at(2026, 12, 25), 20) == at(2027, 1, 22, 17, 30)


def test_overrides_fill_the_missing_year():
    CalendarOverride.objects.create(date=dt.date(2027, 1, 1), is_workday=False, note="元旦")
    assert WorkdayCalendar().add_working_days(at(2026, 12, 25), 20) == at(2027, 1, 25, 17, 30)
    CalendarOverride.objects.create(date=dt.date(2027, 1, 9), is_workday=True, note="调休上班")
    assert WorkdayCalendar().add_working_days(at(2026, 12, 25), 20) == at(2027, 1, 22, 17, 30)


def test_override_beats_official_data():
    CalendarOverride.objects.create(date=dt.date(2026, 10, 8), is_workday=False, note="local closure")
    assert WorkdayCalendar().add_working_days(at(2026, 9, 30), 1) == at(2026, 10, 9, 17, 30)


def test_years_lacking_data_are_reported_until_overrides_exist():
    assert years_without_official_data([2025, 2026, 2027, 2028]) == [2027, 2028]
    CalendarOverride.objects.create(date=dt.date(2027, 2, 8), is_workday=False, note="春节")
    assert years_without_official_data([2026, 2027, 2028]) == [2028]


def test_statutory_45_days_from_today_land_in_2027():
    deadline = WorkdayCalendar().add_working_days(at(2026, 11, 26), 45)
    assert deadline.year == 2027
    # Nov 27 … Dec 31 2026 holds 25 working days (no holidays), so 20 more in 2027 (weekdays)
    assert deadline == at(2027, 1, 28, 17, 30)


@pytest.mark.parametrize("days", [1, Decimal("3.5"), 20, 45])
def test_used_days_up_to_the_deadline_equal_the_limit(days):
    cal = WorkdayCalendar()
    start = at(2026, 9, 28)
    deadline = cal.add_working_days(start, days)
    assert cal.working_days_between(start, deadline) == Decimal(str(days))
    assert cal.working_days_between(start, deadline - dt.timedelta(minutes=1)) < Decimal(str(days))


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        # a working Thursday morning: the same day's close
        (at(2026, 11, 26, 9), dt.datetime(2026, 11, 26, 17, 30, tzinfo=TZ)),
        # after the close: the next working day
        (at(2026, 11, 26, 18), dt.datetime(2026, 11, 27, 17, 30, tzinfo=TZ)),
        # during the National Day holiday (1–7 Oct 2026): the first working day after it, Thu 8 Oct
        (at(2026, 10, 1, 9), dt.datetime(2026, 10, 8, 17, 30, tzinfo=TZ)),
    ],
)
def test_zero_days_means_the_same_working_day(start, deadline):
    assert WorkdayCalendar().add_working_days(start, 0) == deadline


@pytest.mark.parametrize("days", [-1, Decimal("0.3")])
def test_bad_limits_are_refused(days):
    with pytest.raises(ValueError, match=r"multiple of 0\.5"):
        WorkdayCalendar().add_working_days(at(2026, 11, 26), days)


def test_admin_is_told_which_years_lack_holiday_data(client, users):
    from django.conf import settings

    client.force_login(users["admin"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/admin/approvals/calendaroverride/")
    assert response.status_code == 200
    from django.utils import timezone

    year = timezone.localdate().year
    missing = years_without_official_data(range(year, year + 3))
    assert 2027 in missing or year > 2027  # chinesecalendar 1.11.0's data ends with 2026
    assert "No official holiday data and no overrides for " + ", ".join(map(str, missing)) in response.content.decode()
