"""Window boards: the officers' five-star scores (mean to 2 decimals and count, this month and this
year), the window's satisfaction rate; the public board shows no comment and nothing about
applicants; the staff board (with comments) only for the window's staff and the bureaus above."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from approvals.hall.choices import RatingChannel, ServiceKind
from approvals.hall.models import Officer, Rating, ServiceEvent, Window
from approvals.hall.selectors.scores import Satisfaction, Score, window_board

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=TZ)
SECRET = "评论-不公开-7f3a"


def rate(username: str, stars: int, at: dt.datetime, comment: str = "") -> Rating:
    officer = Officer.objects.get(user__username=username)
    event = ServiceEvent.objects.create(window=officer.window, officer=officer, kind=ServiceKind.CONSULTATION, at=at)
    return Rating.objects.create(event=event, stars=stars, tags=["overall"], tag_set="2026.1", comment=comment,
                                 channel=RatingChannel.KIOSK, at=at)


@pytest.fixture
def ratings(users):
    june, march, last_year = dt.datetime(2026, 6, 3, 10, tzinfo=TZ), dt.datetime(2026, 3, 9, 10, tzinfo=TZ), dt.datetime(2025, 12, 20, 10, tzinfo=TZ)
    for stars in (5, 4, 4):
        rate("clerk_jiayu", stars, june)
    rate("clerk_jiayu", 1, march, comment=SECRET)
    rate("clerk_jiayu", 5, march)
    rate("clerk_jiayu", 2, last_year)
    rate("clerk_jiayu2", 5, june)
    rate("clerk_xianning", 1, june)  # another window: counts nowhere here
    return Window.objects.get(code="jiayu-land")


def test_score_rounding_is_exact_half_up():
    assert Score.of(33, 8).mean == Decimal("4.13")  # 4.125
    assert Score.of(14, 3).mean == Decimal("4.67")
    assert Score.of(None, 0) == Score(None, 0)
    assert Satisfaction(5, 6).percent == Decimal("83.3")
    assert Satisfaction(0, 0).percent is None


@pytest.mark.django_db
def test_scores_month_year_and_satisfaction(ratings):
    board = window_board(window=ratings, now=NOW)
    rows = {r.officer.staff_number: r for r in board.officers}
    assert list(rows) == ["JY0101", "JY0102", "JY0103"]  # head first
    assert rows["JY0102"].month == Score(Decimal("4.33"), 3)
    assert rows["JY0102"].year == Score(Decimal("3.80"), 5)  # 19 / 5; last December not counted
    assert rows["JY0103"].month == Score(Decimal("5.00"), 1) == rows["JY0103"].year
    assert rows["JY0101"].month == Score(None, 0)
    assert board.month == Score(Decimal("4.50"), 4)
    assert board.year == Score(Decimal("4.00"), 6)
    assert (board.satisfaction_month.percent, board.satisfaction_year.percent) == (Decimal("100.0"), Decimal("83.3"))
    assert (board.satisfaction_year.satisfied, board.satisfaction_year.total) == (5, 6)


@pytest.mark.django_db
def test_officer_off_duty_not_on_the_board(ratings):
    Officer.objects.filter(staff_number="JY0103").update(on_duty=False)
    assert [r.officer.staff_number for r in window_board(window=ratings, now=NOW).officers] == ["JY0101", "JY0102"]


@pytest.mark.django_db
def test_public_board_leaks_no_comment(ratings, users):
    Officer.objects.filter(staff_number="JY0102").update(commitment="首问负责 <b>")
    client = Client()
    client.cookies["django_language"] = "en"
    with time_machine.travel(NOW, tick=False):
        page = client.get("/hall/windows/jiayu-land/")
    html = page.content.decode()
    assert page.status_code == 200
    for shown in ("李建国", "JY0102", "Party member", "4.33", "3.80", "83.3 %", "首问负责 &lt;b&gt;", "Service commitment"):
        assert shown in html, shown
    assert SECRET not in html
    assert "board-comments" not in html
    assert "applicant" not in html.lower()
    assert client.get("/hall/windows/nope/").status_code == 404
    assert client.get("/hall/windows/%3Cscript%3E/").status_code == 404


@pytest.mark.django_db
def test_public_board_rate_limited(ratings, settings):
    settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE = 2
    client = Client()
    codes = [client.get("/hall/windows/jiayu-land/").status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]


@pytest.mark.django_db
@pytest.mark.parametrize(("username", "code", "allowed"), [
    ("clerk_jiayu", "jiayu-land", True),
    ("head_jiayu", "jiayu-land", True),
    ("reviewer_jiayu", "jiayu-land", True),
    ("reviewer_xianning", "jiayu-land", True),
    ("reviewer_hubei", "jiayu-land", True),
    ("clerk_xianning", "jiayu-land", True),  # the city's window covers the county
    ("clerk_jiayu", "xianning-land", False),
    ("reviewer_chibi", "jiayu-land", False),
    ("applicant", "jiayu-land", False),
    ("planner", "jiayu-land", False),
    ("dept_jiayu", "jiayu-land", False),
    ("caller_hubei", "jiayu-land", False),
    ("admin", "jiayu-land", False),
])
def test_staff_board_denial_per_role(ratings, client_as, username, code, allowed):
    with time_machine.travel(NOW, tick=False):
        page = client_as(username).get(f"/hall/windows/{code}/staff/")
    if allowed:
        assert page.status_code == 200
        assert 'id="board-comments"' in page.content.decode()
        if code == "jiayu-land":
            assert SECRET in page.content.decode()
    else:
        assert page.status_code == 403
        assert SECRET not in page.content.decode()


@pytest.mark.django_db
def test_staff_board_anonymous_to_login(ratings):
    response = Client().get("/hall/windows/jiayu-land/staff/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert Client().get("/hall/windows/nope/staff/").status_code == 302
