"""The township land station (乡镇国土所), fifth level of 部·省·市·县·所: a rural homestead whose
site lies in a station is received at that station's window, forwarded by the station and decided
at the county; station staff act only in their station; other kinds keep their county-first routes.

Dates: Thu 26 Nov 2026 onwards (ordinary working days in chinesecalendar).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model

from approvals.choices import Level
from approvals.exceptions import NotPermitted
from approvals.models import Application, Notification, RouteStep
from approvals.permissions import allowed
from approvals.seed import homestead_via_station
from approvals.selectors import dashboard, with_clocks, work_queue
from approvals.services import application_submit, step_accept, step_decide, step_presign, window_accept, window_return
from approvals.services.common import route
from approvals.workdays import TZ
from data import demo
from tests.factories import JIAYU_SITE, kind, open_step, site_box, submit

pytestmark = pytest.mark.django_db

YUYUE_SITE = JIAYU_SITE  # near the county seat: inside 鱼岳镇国土所 (421221100)
GUANQIAO_SITE = (114.0, 29.92, 114.002, 29.922)  # inside 官桥镇国土所 (421221102)
ACROSS_SITE = (113.9128, 29.8452, 113.9158, 29.8482)  # across the Yuyue–Guanqiao station border


def at(d: int, h: int = 9, mi: int = 0, m: int = 11) -> dt.datetime:
    return dt.datetime(2026, m, d, h, mi, tzinfo=TZ)


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(TZ)


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def staff(users) -> dict[str, object]:
    """The demo accounts with Jiayu's stations loaded (their clerks, heads, windows and officers)."""
    demo.load_stations()
    demo.load_accounts()
    return {u.username: u for u in get_user_model().objects.all()}


def homestead(staff, bbox=YUYUE_SITE, **kw) -> Application:
    return submit(staff["applicant"], code="rural_homestead", bbox=bbox, title="宅基地建房", **kw)


def test_the_homestead_route_is_station_then_county_with_the_promise_split():
    steps = list(RouteStep.objects.filter(kind_id="rural_homestead").values_list("order", "level", "days", "green_days"))
    assert steps == [(1, "station", Decimal("1.0"), Decimal("0.5")), (2, "county", Decimal("2.5"), Decimal("1.5"))]
    assert [s.level for s in RouteStep.objects.filter(kind_id="construction_land")] == ["county", "city", "province", "nation"]
    assert [s.level for s in RouteStep.objects.filter(kind_id="registration")] == ["county"]


def test_the_data_migration_puts_the_station_in_front_of_an_old_route_once():
    RouteStep.objects.filter(kind_id="rural_homestead", level="station").delete()
    RouteStep.objects.filter(kind_id="rural_homestead", level="county").update(order=1, days=Decimal("3.5"), green_days=Decimal("2"))
    homestead_via_station(django_apps)
    homestead_via_station(django_apps)  # idempotent
    steps = list(RouteStep.objects.filter(kind_id="rural_homestead").values_list("order", "level", "days", "green_days"))
    assert steps == [(1, "station", Decimal("1.0"), Decimal("0.5")), (2, "county", Decimal("2.5"), Decimal("1.5"))]
    # an administrator's own county limit is kept
    RouteStep.objects.filter(kind_id="rural_homestead", level="station").delete()
    RouteStep.objects.filter(kind_id="rural_homestead", level="county").update(order=1, days=Decimal("3"), green_days=Decimal("2"))
    homestead_via_station(django_apps)
    assert list(RouteStep.objects.filter(kind_id="rural_homestead").values_list("level", "days")) == [("station", Decimal("1.0")), ("county", Decimal("3.0"))]


def test_the_station_level_is_labelled():
    assert Level.STATION.label == "Township land station"
    assert Level.values[0] == "station"


def test_a_homestead_is_received_at_its_station_forwarded_and_decided_at_the_county(staff):
    with travel(at(26, 8)):
        app = homestead(staff)
    assert app.division_id == "421221100"
    assert app.reference.startswith("421221100-2026-")
    # only the station's window is told, and only its clerk sees it waiting
    told = set(Notification.objects.filter(application=app, kind="new_task").values_list("user__username", flat=True))
    assert told == {"clerk_yuyue"}
    assert app in work_queue(user=staff["clerk_yuyue"])
    assert app not in work_queue(user=staff["clerk_jiayu"])
    assert app not in work_queue(user=staff["clerk_guanqiao"])
    for other in ("clerk_jiayu", "clerk_guanqiao", "clerk_xianning"):
        with pytest.raises(NotPermitted):
            window_accept(application=app, by=staff[other])
    with travel(at(26, 9)):
        app = window_accept(application=app, by=staff["clerk_yuyue"])
    # promise 3.5 working days from Thu 26 Nov: Fri 27, Mon 30, Tue 1 Dec, noon of Wed 2 Dec
    assert local(app.promised_due) == at(2, 12, m=12)
    assert local(app.statutory_due) == dt.datetime(2026, 12, 24, 17, 30, tzinfo=TZ)  # 20 working days
    step = open_step(app)
    assert (step.level, step.division_id, step.state, app.current_level) == ("station", "421221100", "accepted", "station")
    assert local(step.due_at) == at(27, 17, 30)  # the station's 1 working day: all of Friday
    # the county's reviewer cannot act at the station's step, nor another station's head
    for other in ("reviewer_jiayu", "reviewer_guanqiao"):
        with pytest.raises(NotPermitted):
            step_decide(step=step, by=staff[other], outcome="forwarded")
    with travel(at(27, 10)):
        app = step_decide(step=step, by=staff["reviewer_yuyue"], outcome="forwarded", comment="已现场踏勘，同意上报")
    county = open_step(app)
    assert (county.level, county.division_id, county.state, app.current_level) == ("county", "421221", "pending", "county")
    assert local(county.due_at) == at(2, 12, m=12)  # 2.5 working days from Fri 27 Nov 10:00
    with pytest.raises(NotPermitted):
        step_presign(step=county, by=staff["reviewer_yuyue"])
    assert app in work_queue(user=staff["reviewer_jiayu"])
    # on Tue 1 Dec 10:00: the county's step has used Monday, the promise Friday and Monday
    row = with_clocks([app], now=at(1, 10, m=12))[0]
    assert (row.step_clock.limit, row.step_clock.used, row.clocks["promised"].used) == (Decimal("2.5"), Decimal("1"), Decimal("2"))
    with travel(at(30, 9)):
        step_presign(step=county, by=staff["reviewer_jiayu"])
        step_accept(step=county, by=staff["reviewer_jiayu"])
    with travel(at(1, 11, m=12)):
        app = step_decide(step=open_step(app), by=staff["reviewer_jiayu"], outcome="approved", comment="同意")
    assert app.status == "approved"
    assert list(app.steps.order_by("number").values_list("level", "outcome")) == [("station", "forwarded"), ("county", "approved")]
    # decided on Tue 1 Dec: two working days (Fri, Mon) of the 3.5 promised, not overdue
    promised = with_clocks([app], now=at(3, m=12))[0].clocks["promised"]
    assert (promised.used, promised.overdue) == (Decimal("2.0"), False)
    # the acceptance is the station window's service, rated as such
    assert list(app.service_events.values_list("kind", "window__code")) == [("acceptance", "yuyue-station")]
    # counts by level: the county planner sees the station's case
    assert dashboard(user=staff["planner"], now=at(3, m=12))["by_status"] == {"approved": 1}


def test_station_staff_act_only_in_their_station(staff):
    guanqiao = homestead(staff, bbox=GUANQIAO_SITE)
    land = submit(staff["applicant"], bbox=YUYUE_SITE)  # construction land in Yuyue: the county's
    assert (guanqiao.division_id, land.division_id) == ("421221102", "421221")
    clerk = staff["clerk_yuyue"]
    for app in (guanqiao, land):
        assert not allowed(clerk, "approvals.view_application", app)
        assert not allowed(clerk, "approvals.view_right_holders", app)
        with pytest.raises(NotPermitted):
            window_return(application=app, by=clerk, reasons=["缺少材料"])
        with pytest.raises(NotPermitted):
            window_accept(application=app, by=clerk)
    assert list(work_queue(user=clerk)) == []
    # the county keeps seeing its stations' cases (planner, clerk, dashboard counts by level)
    assert allowed(staff["clerk_jiayu"], "approvals.view_application", guanqiao)
    assert allowed(staff["clerk_jiayu"], "approvals.view_right_holders", guanqiao)
    with travel(at(26, 9)):
        window_accept(application=guanqiao, by=staff["clerk_guanqiao"])
        window_accept(application=land, by=staff["clerk_jiayu"])
    assert dashboard(user=staff["planner"], now=at(26, 10))["by_level"] == {"station": 1, "county": 1}
    assert dashboard(user=staff["clerk_guanqiao"], now=at(26, 10))["by_level"] == {"station": 1}


def test_other_kinds_keep_their_county_first_route(staff):
    with travel(at(26, 8)):
        app = submit(staff["applicant"], bbox=YUYUE_SITE)
        reg = submit(staff["applicant"], code="registration", bbox=GUANQIAO_SITE)
    assert (app.division_id, reg.division_id) == ("421221", "421221")
    with travel(at(26, 9)):
        app = window_accept(application=app, by=staff["clerk_jiayu"])
        reg = window_accept(application=reg, by=staff["clerk_jiayu2"])
    assert [r.level for r in route(app)] == ["county", "city", "province", "nation"]
    assert (open_step(app).level, open_step(app).division_id, open_step(reg).level) == ("county", "421221", "county")
    assert local(open_step(reg).due_at) == at(26, 17, 30)


def test_a_homestead_across_two_stations_starts_at_the_county_with_the_stations_days(staff):
    with travel(at(26, 8)):
        app = homestead(staff, bbox=ACROSS_SITE)
    assert app.division_id == "421221"
    with pytest.raises(NotPermitted):
        window_accept(application=app, by=staff["clerk_yuyue"])
    with travel(at(26, 9)):
        app = window_accept(application=app, by=staff["clerk_jiayu"])
    assert [(r.level, r.days, r.green_days) for r in route(app)] == [("county", Decimal("3.5"), Decimal("2.0"))]
    assert local(open_step(app).due_at) == at(2, 12, m=12)


def test_the_station_clerk_carries_a_homestead_as_agent_only_in_their_station(staff):
    clerk = staff["clerk_yuyue"]
    with travel(at(26, 8)):
        app = application_submit(applicant=staff["applicant"], kind=kind("rural_homestead"), title="代办宅基地", purpose="建房",
                                 site=site_box(*YUYUE_SITE), agent=clerk, agent_reason="elderly_frail")
    assert (app.division_id, app.agent_id) == ("421221100", clerk.pk)
    with pytest.raises(NotPermitted):  # four eyes: the agent does not accept their own case
        window_accept(application=app, by=clerk)
    with pytest.raises(NotPermitted):
        application_submit(applicant=staff["applicant"], kind=kind("rural_homestead"), title="代办宅基地", purpose="建房",
                           site=site_box(*GUANQIAO_SITE), agent=clerk, agent_reason="elderly_frail")
    with pytest.raises(NotPermitted):  # construction land is the county window's
        application_submit(applicant=staff["applicant"], kind=kind("construction_land"), title="代办", purpose="建房",
                           site=site_box(*YUYUE_SITE), agent=clerk, agent_reason="elderly_frail")


def test_demo_homesteads_pass_through_the_stations(staff):
    from data.demo_cases import load_cases

    load_cases(today=dt.date(2026, 12, 3))
    homesteads = Application.objects.filter(kind_id="rural_homestead")
    at_stations = homesteads.filter(division__level="station")
    assert at_stations.count() >= 2
    decided = at_stations.filter(status__in=["approved", "rejected"])
    assert decided.exists()
    for app in decided:
        assert list(app.steps.order_by("number").values_list("level", "division_id", "outcome")) == [
            ("station", app.division_id, "forwarded"), ("county", "421221", app.status)]
    windows = Counter(at_stations.filter(accepted_at__isnull=False).values_list("service_events__window__division_id", flat=True))
    assert set(windows) <= {"421221100", "421221102", "421221103", "421221105"}
    open_levels = Counter(Application.objects.filter(status="in_review").values_list("current_level", flat=True))
    assert open_levels == Counter({"county": 2, "city": 1, "province": 1, "nation": 1})
    # the public side's demo runs over them too
    from data.hall_demo_callbacks import load_callbacks_demo
    from data.hall_demo_ratings import load_ratings_demo

    assert load_ratings_demo() > 20
    assert load_callbacks_demo() >= 1
