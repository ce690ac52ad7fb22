"""The four-level workflow against real PostGIS, with the clock frozen at chosen moments
(time-machine moves Python's clock; the database stores what the services write).

Dates: Mon 21 Dec 2026 onwards. 2027 has no official holiday data in chinesecalendar 1.11.0, so the
tests enter New Year's Day 2027 as an administrator's override, as a bureau would.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from approvals.choices import ApplicationStatus, StepOutcome, StepState
from approvals.exceptions import DataCheckFailed, NotPermitted, StateConflict
from approvals.models import Application, CalendarOverride, Notification
from approvals.selectors import with_clocks, work_queue
from approvals.services import (
    application_resubmit,
    data_check,
    notify_due,
    step_accept,
    step_decide,
    step_modify,
    step_presign,
    step_return,
    task_answer,
    tasks_assign,
    window_accept,
    window_return,
)
from approvals.workdays import TZ
from tests.factories import department, open_step, site_box, submit

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=TZ)


def local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(TZ)


@pytest.fixture
def new_year_2027(db):
    CalendarOverride.objects.create(date=dt.date(2027, 1, 1), is_workday=False, note="元旦")


def travel(moment: dt.datetime):
    return time_machine.travel(moment, tick=False)


def level_round(app, *, reviewer, lead=None, lead_user=None, cooperating=(), coop_users=(), when: dt.datetime, outcome="forwarded"):
    """One level: pre-sign and accept (when sent up), departments in parallel, then the decision."""
    step = open_step(app)
    with travel(when):
        if step.state == StepState.PENDING:
            step_presign(step=step, by=reviewer, ip="10.1.0.1")
            step_accept(step=step, by=reviewer, ip="10.1.0.1")
    if lead is not None:
        with travel(when + dt.timedelta(minutes=10)):
            tasks_assign(step=step, by=reviewer, lead=lead, cooperating=list(cooperating), days=Decimal("1"))
        with travel(when + dt.timedelta(minutes=20)):
            for task_department, user in zip(cooperating, coop_users, strict=True):
                task_answer(task=step.tasks.get(department=task_department), by=user, opinion=f"{task_department.name}：同意", agrees=True)
            task_answer(task=step.tasks.get(department=lead), by=lead_user, opinion="经会商，同意报批", agrees=True)
    with travel(when + dt.timedelta(minutes=30)):
        return step_decide(step=step, by=reviewer, outcome=outcome, comment="同意", ip="10.1.0.2")


def test_construction_land_goes_through_four_levels_with_departments_and_is_approved(users, new_year_2027):
    with travel(at(2026, 12, 18)):
        app = submit(users["applicant"])
    assert (app.status, app.accepted_at, app.current_level) == ("submitted", None, "county")
    with travel(at(2026, 12, 21, 9)):
        app = window_accept(application=app, by=users["clerk_jiayu"], ip="10.0.0.2")
    # 期限自受理次日起算: 20 working days from Tue 22 Dec, skipping the weekends and 1 Jan 2027
    assert local(app.promised_due) == at(2027, 1, 19, 17, 30)
    # 45 working days (no official 2027 holidays beyond the override: weekends only)
    assert local(app.statutory_due) == at(2027, 2, 23, 17, 30)
    county = open_step(app)
    assert (county.level, county.division_id, county.state, local(county.due_at)) == ("county", "421221", "accepted", at(2026, 12, 28, 17, 30))

    app = level_round(app, reviewer=users["reviewer_jiayu"], lead=department("421221", "耕地保护股"), lead_user=users["dept_jiayu"],
                      cooperating=[department("421221", "国土空间规划股")], coop_users=[users["dept_jiayu_plan"]], when=at(2026, 12, 21, 14))
    assert (app.current_level, app.status) == ("city", "in_review")
    city = open_step(app)
    assert (city.division_id, city.state) == ("421200", "pending")
    assert list(work_queue(user=users["reviewer_xianning"])) == [app]
    assert list(work_queue(user=users["reviewer_jiayu"])) == []

    app = level_round(app, reviewer=users["reviewer_xianning"], lead=department("421200", "耕地保护科"), lead_user=users["dept_xianning"],
                      cooperating=[department("421200", "国土空间规划科")], coop_users=[users["dept_xianning_plan"]], when=at(2026, 12, 24))
    assert open_step(app).division_id == "420000"
    app = level_round(app, reviewer=users["reviewer_hubei"], when=at(2026, 12, 30))
    assert open_step(app).division_id == "100000"
    # the ministry cannot forward any further: the route ends there
    with travel(at(2027, 1, 4)), pytest.raises(StateConflict):
        level_round(app, reviewer=users["reviewer_ministry"], when=at(2027, 1, 4))
    app = level_round(app, reviewer=users["reviewer_ministry"], when=at(2027, 1, 5, 9), outcome="approved")

    app = Application.objects.get(pk=app.pk)
    assert (app.status, local(app.decided_at)) == ("approved", at(2027, 1, 5, 9, 30))
    assert [(s.level, s.outcome) for s in app.steps.order_by("number")] == [
        ("county", "forwarded"), ("city", "forwarded"), ("province", "forwarded"), ("nation", "approved")]
    [row] = with_clocks([app], now=at(2027, 1, 20))
    # Dec 22–31: 8 working days; Jan 1 holiday; Mon 4 Jan: 1; decided Tue 5 Jan 09:30 (before noon): 0
    assert row.clocks["promised"].used == Decimal("9")
    assert not row.clocks["promised"].overdue
    assert not row.clocks["statutory"].overdue
    assert list(app.events.order_by("id").values_list("action", flat=True)) == [
        "submitted", "overlap_computed", "document_added", "document_added", "document_added", "document_added",
        "window_accepted",
        "tasks_assigned", "opinion", "consolidated", "forwarded",
        "presigned", "accepted", "tasks_assigned", "opinion", "consolidated", "forwarded",
        "presigned", "accepted", "forwarded",
        "presigned", "accepted", "approved",
    ]
    assert Notification.objects.filter(user=users["applicant"], application=app, kind="decided").count() == 1
    assert Notification.objects.filter(user=users["reviewer_hubei"], application=app, kind="new_task").count() == 1


def test_window_checks_documents_then_accepts_after_correction_with_history(users):
    app = submit(users["applicant"], documents=False)
    failed = [i.code for i in data_check(application=app) if not i.ok]
    assert failed == ["document:application_form", "document:survey_report", "document:plan_conformity", "document:farmland_compensation"]
    with pytest.raises(DataCheckFailed) as err:
        window_accept(application=app, by=users["clerk_jiayu"])
    assert len(err.value.items) == 4
    app.refresh_from_db()
    assert (app.status, app.steps.count()) == ("submitted", 0)
    window_return(application=app, by=users["clerk_jiayu"], reasons=["缺少建设用地申请表", "缺少勘测定界报告"])
    # the applicant corrects: a new title and a smaller site
    app = application_resubmit(application=app, by=users["applicant"], title="厂房扩建（修改）", site=site_box(113.930, 29.955, 113.931, 29.956))
    assert (app.status, app.revision) == ("submitted", 2)
    event = app.events.get(action="resubmitted")
    assert event.data["changed"]["title"] == {"before": "厂房扩建", "after": "厂房扩建（修改）"}
    assert event.data["changed"]["site"]["after_m2"] < event.data["changed"]["site"]["before_m2"]
    # the field history keeps both titles and both sites
    titles = list(app.history.order_by("pgh_id").values_list("title", flat=True))
    assert titles[0] == "厂房扩建"
    assert titles[-1] == "厂房扩建（修改）"
    assert len({h.site.area for h in app.history.all()}) == 2


def test_clock_pauses_while_the_application_is_with_the_applicant(users, new_year_2027):
    with travel(at(2026, 12, 21, 9)):
        app = submit(users["applicant"])
        app = window_accept(application=app, by=users["clerk_jiayu"])
    with travel(at(2026, 12, 23, 10)):
        app = step_return(step=open_step(app), by=users["reviewer_jiayu"], reasons=["用途填写不清"])
    assert (app.status, local(app.paused_since)) == ("returned", at(2026, 12, 23, 10))
    assert app.steps.get().outcome == StepOutcome.RETURNED_APPLICANT
    [paused] = with_clocks([app], now=at(2026, 12, 28, 17, 30))
    assert "paused" in paused.flags
    # used stands still at 2: Tue 22 and Wed 23 Dec (the day of the return counts as used;
    # like every period here, the pause counts from the next working day)
    assert paused.clocks["promised"].used == Decimal("2")
    with travel(at(2026, 12, 28, 9)):
        app = application_resubmit(application=app, by=users["applicant"], purpose="工业厂房及配套")
    with travel(at(2026, 12, 29, 10)):
        app = window_accept(application=app, by=users["clerk_jiayu"])
    # paused from Wed 23 Dec 10:00 to Tue 29 Dec 10:00: Thu 24, Fri 25, Mon 28 = 3 working days
    assert app.paused_days == Decimal("3")
    assert local(app.promised_due) == at(2027, 1, 22, 17, 30)
    assert open_step(app).number == 2


def test_a_level_returns_to_the_level_below_which_takes_it_back(users):
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="forwarded")
    city = open_step(app)
    with pytest.raises(ValidationError):
        step_return(step=city, by=users["reviewer_xianning"], reasons=[])
    app = step_return(step=city, by=users["reviewer_xianning"], reasons=["补充耕地方案不完整", "请核实地类"])
    county = open_step(app)
    assert (app.current_level, county.level, county.state, county.number) == ("county", "county", "accepted", 3)
    assert app.events.get(action="returned_down").data["reasons"] == ["补充耕地方案不完整", "请核实地类"]
    assert Notification.objects.filter(user=users["reviewer_jiayu"], kind="returned").count() == 1


def test_final_approval_belongs_to_the_last_level_and_rejection_needs_a_reason(users):
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    with pytest.raises(StateConflict, match="last level"):
        step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="approved")
    with pytest.raises(ValidationError):
        step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="rejected", comment=" ")
    app = step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="rejected", comment="占用永久基本农田")
    assert (app.status, app.steps.get().outcome) == ("rejected", "rejected")
    assert app.decided_at is not None


def test_the_level_waits_for_departments_until_their_due_date_then_escalates(users):
    with travel(at(2026, 11, 30, 9)):
        app = submit(users["applicant"])
        window_accept(application=app, by=users["clerk_jiayu"])
        step = open_step(app)
        lead, coop = department("421221", "耕地保护股"), department("421221", "国土空间规划股")
        tasks_assign(step=step, by=users["reviewer_jiayu"], lead=lead, cooperating=[coop], days=Decimal("1"))
        with pytest.raises(StateConflict, match="Spatial planning section"):
            step_decide(step=step, by=users["reviewer_jiayu"], outcome="forwarded")
        with pytest.raises(StateConflict, match="Spatial planning section"):
            task_answer(task=step.tasks.get(department=lead), by=users["dept_jiayu"], opinion="同意", agrees=True)
        with pytest.raises(NotPermitted):
            task_answer(task=step.tasks.get(department=coop), by=users["dept_jiayu"], opinion="代答", agrees=True)
    # cooperating due Tue 1 Dec 17:30, lead Wed 2 Dec 17:30; on Thu 3 Dec both are past due
    with travel(at(2026, 12, 3, 9)):
        app = step_decide(step=step, by=users["reviewer_jiayu"], outcome="forwarded")
    assert sorted(step.tasks.filter(escalated=True).values_list("department__name", flat=True)) == ["国土空间规划股", "耕地保护股"]
    assert sorted(app.events.get(action="forwarded").data["escalated"]) == ["国土空间规划股", "耕地保护股"]


def test_departments_must_belong_to_the_reviewing_division(users):
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    with pytest.raises(ValidationError):
        tasks_assign(step=open_step(app), by=users["reviewer_jiayu"], lead=department("421200", "耕地保护科"), cooperating=[], days=Decimal("2"))
    assert not open_step(app).tasks.exists()


@pytest.mark.parametrize(
    ("code", "accepted", "promised_due"),
    [
        # homestead: 3.5 working days from Thu 26 Nov: Fri 27, Mon 30, Tue 1 Dec, then noon of Wed 2 Dec
        ("rural_homestead", at(2026, 11, 26, 9), at(2026, 12, 2, 12)),
        # registration: the same working day
        ("registration", at(2026, 11, 26, 9), at(2026, 11, 26, 17, 30)),
    ],
)
def test_county_only_kinds_and_their_limits(users, code, accepted, promised_due):
    app = submit(users["applicant"], code=code)
    with travel(accepted):
        app = window_accept(application=app, by=users["clerk_jiayu"])
    assert local(app.promised_due) == promised_due
    assert local(open_step(app).due_at) == promised_due
    with pytest.raises(StateConflict):
        step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="forwarded")
    with travel(accepted + dt.timedelta(hours=1)):
        app = step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="approved")
    assert app.status == "approved"


def test_green_channel_has_shorter_limits_and_comes_first(users):
    plain = submit(users["applicant"], title="普通项目")
    green = submit(users["applicant"], title="重点项目", green_channel=True)
    with travel(at(2026, 11, 26, 9)):
        plain = window_accept(application=plain, by=users["clerk_jiayu"])
        green = window_accept(application=green, by=users["clerk_jiayu"])
    assert green.promised_due < plain.promised_due
    assert (open_step(green).due_at - open_step(green).opened_at) < (open_step(plain).due_at - open_step(plain).opened_at)
    assert list(work_queue(user=users["reviewer_jiayu"])) == [green, plain]
    [row] = with_clocks([green], now=at(2026, 11, 26, 10))
    assert "green" in row.flags


def test_modify_is_recorded_with_before_and_after(users):
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    step_modify(step=open_step(app), by=users["reviewer_jiayu"], changes={"title": "厂房扩建（县级核定）", "green_channel": True}, ip="10.0.0.9")
    event = app.events.get(action="modified")
    changed = event.data["changed"]
    assert (changed["title"], changed["green_channel"]) == ({"before": "厂房扩建", "after": "厂房扩建（县级核定）"}, {"before": False, "after": True})
    # the green channel's shorter limits apply at once: 12 instead of 20 days, 3 instead of 5 at the county
    app.refresh_from_db()
    from approvals.workdays import WorkdayCalendar

    cal = WorkdayCalendar()
    assert app.promised_due == cal.add_working_days(app.accepted_at, 12)
    assert open_step(app).due_at == cal.add_working_days(open_step(app).opened_at, 3)
    last = app.history.order_by("-pgh_id").first()
    assert (last.title, last.green_channel, last.pgh_context.metadata["ip"], last.pgh_context.metadata["user"]) == (
        "厂房扩建（县级核定）", True, "10.0.0.9", users["reviewer_jiayu"].pk)
    with pytest.raises(ValidationError):
        step_modify(step=open_step(app), by=users["reviewer_jiayu"], changes={"applicant": users["planner"]})


@pytest.mark.parametrize("table", ["approvals_applicationhistory", "approvals_reviewstephistory", "approvals_applicationevent"])
def test_audit_tables_refuse_update_and_delete(users, table):
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        before = cursor.fetchone()[0]
    assert before > 0
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == before


@pytest.mark.parametrize(
    ("action", "username"),
    [
        ("presign", "reviewer_jiayu"), ("presign", "reviewer_chibi"), ("presign", "applicant"), ("presign", "reviewer_hubei"),
        ("accept", "clerk_jiayu"), ("return", "dept_xianning"), ("modify", "planner"), ("assign", "reviewer_jiayu"),
        ("decide", "reviewer_hubei"), ("decide", "dept_xianning"),
    ],
)
def test_city_step_denials_change_nothing(users, action, username):
    """Sent up to Xianning: nobody but Xianning's level reviewer may act on the city step."""
    app = submit(users["applicant"])
    window_accept(application=app, by=users["clerk_jiayu"])
    step_decide(step=open_step(app), by=users["reviewer_jiayu"], outcome="forwarded")
    step = open_step(app)
    events = app.events.count()
    calls = {
        "presign": lambda u: step_presign(step=step, by=u),
        "accept": lambda u: step_accept(step=step, by=u),
        "return": lambda u: step_return(step=step, by=u, reasons=["x"]),
        "modify": lambda u: step_modify(step=step, by=u, changes={"title": "改"}),
        "assign": lambda u: tasks_assign(step=step, by=u, lead=department("421200", "耕地保护科"), cooperating=[], days=Decimal("1")),
        "decide": lambda u: step_decide(step=step, by=u, outcome="forwarded"),
    }
    with pytest.raises(NotPermitted):
        calls[action](users[username])
    step.refresh_from_db()
    app.refresh_from_db()
    assert (step.state, app.current_level, app.title, app.events.count(), step.tasks.count()) == ("pending", "city", "厂房扩建", events, 0)


def test_resubmission_is_the_applicants_alone(users):
    app = submit(users["applicant"])
    window_return(application=app, by=users["clerk_jiayu"], reasons=["x"])
    for username in ("clerk_jiayu", "reviewer_jiayu", "planner"):
        with pytest.raises(NotPermitted):
            application_resubmit(application=app, by=users[username], title="冒名")
    app.refresh_from_db()
    assert (app.status, app.title, app.revision) == (ApplicationStatus.RETURNED, "厂房扩建", 1)


def test_due_soon_and_overdue_notices_are_sent_once(users):
    with travel(at(2026, 11, 30, 9)):
        app = submit(users["applicant"])
        window_accept(application=app, by=users["clerk_jiayu"])
    # county step: 5 working days from Mon 30 Nov → due Mon 7 Dec 17:30
    assert local(open_step(app).due_at) == at(2026, 12, 7, 17, 30)
    assert notify_due(now=at(2026, 12, 2, 10)) == 0
    assert notify_due(now=at(2026, 12, 7, 9)) == 1  # due soon (≤ 1 working day left)
    assert notify_due(now=at(2026, 12, 7, 9)) == 0  # once only
    assert notify_due(now=at(2026, 12, 8, 9)) == 1  # overdue
    kinds = list(Notification.objects.filter(user=users["reviewer_jiayu"], application=app).order_by("id").values_list("kind", flat=True))
    assert kinds == ["new_task", "due_soon", "overdue"]
    [row] = with_clocks([Application.objects.get(pk=app.pk)], now=at(2026, 12, 8, 9))
    assert "overdue" in row.flags


def test_a_site_crossing_counties_starts_at_their_common_city(users):
    """A box around a point of the Jiayu–Chibi border: it belongs to Xianning city, whose window
    receives it, and its route starts at the city level."""
    from parcels.models import Division

    jiayu, chibi = Division.objects.get(code="421221"), Division.objects.get(code="421281")
    point = jiayu.boundary.intersection(chibi.boundary).point_on_surface  # a point on their shared border
    bbox = (point.x - 0.002, point.y - 0.002, point.x + 0.002, point.y + 0.002)
    app = submit(users["applicant"], bbox=bbox)
    assert app.division_id == "421200"
    assert app.current_level == "city"
    with pytest.raises(NotPermitted):
        window_accept(application=app, by=users["clerk_jiayu"])
    app = window_accept(application=app, by=users["clerk_xianning"])
    step = open_step(app)
    assert (step.level, step.division_id, app.current_level) == ("city", "421200", "city")
    assert list(app.kind.route.values_list("level", flat=True))[1:] == ["city", "province", "nation"]
