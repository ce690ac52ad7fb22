"""Demo cases: applications at every stage of the workflow, pushed through the real services at
the moments they would have happened (time-machine travels the clock), so that queues, clocks,
receipts, service events, the dashboard and the public boards have something to show.

What it makes (relative to the day it runs):
- finished cases over the last five months: rural homesteads (3.5-day promise), registrations
  (the same day) and construction land through all four levels; the earlier months slower than the
  recent ones, so the dashboard's "against the earlier period" has a real change to show;
- open cases: awaiting the window, returned with reasons, at the county with departments, at the
  city (sent, awaiting receipt), at the province, at the ministry, and one past its promised date.

Where Jiayu's township land stations are loaded (data.demo.load_stations), a homestead whose site
lies in a station is received at that station's window, forwarded by the station's head and
decided at the county (its route: station → county); elsewhere it starts at the county.

Idempotent: nothing is made when the demo applicants already have applications.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfWriter

from approvals.choices import StepState
from approvals.models import Application, ApplicationKind, Department
from approvals.services import (
    application_resubmit,
    application_submit,
    document_add,
    step_accept,
    step_decide,
    step_presign,
    task_answer,
    tasks_assign,
    window_accept,
    window_return,
)
from approvals.workdays import WorkdayCalendar
from data.demo import STATIONS
from parcels.models import Division

TZ = ZoneInfo(settings.TIME_ZONE)
# Residents of Jiayu who applied (accounts without a usable password: they never log in; the
# public query, receipts and call-backs reach them). Names are invented.
RESIDENTS = (
    ("resident_01", "刘桂兰", "13907150101"), ("resident_02", "周德胜", "13807150202"), ("resident_03", "吴秀英", "13697150303"),
    ("resident_04", "郑国强", "15927150404"), ("resident_05", "孙海燕", "18672150505"), ("resident_06", "胡志明", "13545150606"),
    ("resident_07", "何春花", "15071150707"), ("resident_08", "罗永福", "13871150808"), ("resident_09", "高玉珍", "18986150909"),
    ("resident_10", "徐建华", "13329151010"), ("resident_11", "马晓东", "15623151111"), ("resident_12", "朱丽娟", "13277151212"),
)
CLERKS = ("clerk_jiayu", "clerk_jiayu2", "head_jiayu")
PURPOSES = {
    "rural_homestead": ("农村村民住宅建设", "宅基地建房"),
    "registration": ("国有建设用地使用权首次登记", "不动产登记"),
    "construction_land": ("工业项目建设用地", "建设用地"),
}


@dataclass
class Demo:
    users: dict[str, object]
    cal: WorkdayCalendar
    rng: random.Random
    jiayu: Division

    def user(self, name: str):
        return self.users[name]


@contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    with time_machine.travel(moment, tick=False):
        yield


def _pdf(name: str) -> SimpleUploadedFile:
    """A real one-page A4 PDF (the document check parses uploads)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def _site(demo: Demo) -> MultiPolygon:
    """A 120–220 m box around a random point inside Jiayu, north of the Yangtze, near the county seat."""
    while True:
        lon = demo.rng.uniform(113.86, 114.02)
        lat = demo.rng.uniform(29.90, 30.02)
        w = demo.rng.uniform(0.0012, 0.0022)
        h = demo.rng.uniform(0.0011, 0.0020)
        site = MultiPolygon(Polygon.from_bbox((lon, lat, lon + w, lat + h)), srid=4490)
        if demo.jiayu.boundary.covers(site):
            return site


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _working_day(demo: Demo, day: dt.date) -> dt.date:
    while not demo.cal.is_workday(day):
        day += dt.timedelta(days=1)
    return day


def _after(demo: Demo, day: dt.date, working_days: int) -> dt.date:
    for _ in range(working_days):
        day = _working_day(demo, day + dt.timedelta(days=1))
    return day


def _submit(demo: Demo, *, applicant: str, kind: str, when: dt.datetime, title: str, documents: bool = True, green: bool = False) -> Application:
    with at(when):
        app = application_submit(applicant=demo.user(applicant), kind=ApplicationKind.objects.get(code=kind), title=title,
                                 purpose=PURPOSES[kind][0], site=_site(demo), green_channel=green, ip="10.20.0.8")
        Application.objects.filter(pk=app.pk).update(contact_phone=dict((u, p) for u, _n, p in RESIDENTS).get(applicant, "13900000000"))
        if documents:
            for requirement in app.kind.required_documents.all():
                document_add(application=app, requirement=requirement, upload=_pdf(f"{requirement.code}.pdf"), by=demo.user(applicant), ip="10.20.0.8")
    return Application.objects.get(pk=app.pk)


def _accept(demo: Demo, app: Application, *, when: dt.datetime, clerk: str) -> Application:
    with at(when):
        return window_accept(application=app, by=demo.user(clerk), ip="10.20.1.2")


def _open_step(app: Application):
    return app.steps.get(closed_at__isnull=True)


def _station(app: Application) -> str | None:
    """The slug of the township land station the application belongs to (None at a county)."""
    return next((slug for slug, code, _town, _en in STATIONS if code == app.division_id), None)


def _window_clerk(app: Application, clerk: str) -> str:
    """Who receives the application: its station's clerk, or `clerk` at the county window."""
    station = _station(app)
    return f"clerk_{station}" if station else clerk


def _receive(demo: Demo, app: Application, *, when: dt.datetime, clerk: str) -> Application:
    """Window acceptance, at the station for a station's case; the station's head forwards it to
    the county the same afternoon (the station's step: 1 working day)."""
    app = _accept(demo, app, when=when, clerk=_window_clerk(app, clerk))
    station = _station(app)
    if station is None:
        return app
    return _level(demo, app, reviewer=f"reviewer_{station}", when=when.replace(hour=12), comment="已现场踏勘，四至清楚，同意上报")


def _level(demo: Demo, app: Application, *, reviewer: str, when: dt.datetime, outcome: str = "forwarded",
           departments: tuple[tuple[str, str], ...] = (), comment: str = "同意") -> Application:
    """One level of review at `when`: receive (when sent up), departments in parallel, decide."""
    step = _open_step(app)
    with at(when):
        if step.state == StepState.PENDING:
            step_presign(step=step, by=demo.user(reviewer), ip="10.20.2.1")
            step_accept(step=step, by=demo.user(reviewer), ip="10.20.2.1")
    if departments:
        (lead_name, lead_user), *coops = departments
        lead = Department.objects.get(division=step.division, name=lead_name)
        with at(when + dt.timedelta(minutes=20)):
            tasks_assign(step=step, by=demo.user(reviewer), lead=lead,
                         cooperating=[Department.objects.get(division=step.division, name=n) for n, _u in coops], days=Decimal("1"))
        with at(when + dt.timedelta(hours=2)):
            for name, user in coops:
                task_answer(task=step.tasks.get(department__name=name), by=demo.user(user), opinion=f"{name}：同意", agrees=True)
            task_answer(task=step.tasks.get(department=lead), by=demo.user(lead_user), opinion="经会商，同意", agrees=True)
    with at(when + dt.timedelta(hours=3)):
        return step_decide(step=step, by=demo.user(reviewer), outcome=outcome, comment=comment, ip="10.20.2.2")


COUNTY_DEPTS = (("耕地保护股", "dept_jiayu"), ("国土空间规划股", "dept_jiayu_plan"))
CITY_DEPTS = (("耕地保护科", "dept_xianning"), ("国土空间规划科", "dept_xianning_plan"))


def _finished_homestead(demo: Demo, *, applicant: str, day: dt.date, clerk: str, days_taken: int, reject: bool = False) -> Application:
    app = _submit(demo, applicant=applicant, kind="rural_homestead", when=_local(day, 9, 10), title=f"{demo.user(applicant).last_name or '村民'}宅基地建房")
    app = _receive(demo, app, when=_local(day, 9, 40), clerk=clerk)
    end = _after(demo, day, days_taken)
    outcome = "rejected" if reject else "approved"
    comment = "选址占用永久基本农田，不予批准" if reject else "同意"
    return _level(demo, app, reviewer="reviewer_jiayu", when=_local(end, 9), outcome=outcome, comment=comment)


def _finished_registration(demo: Demo, *, applicant: str, day: dt.date, clerk: str, minutes: int) -> Application:
    app = _submit(demo, applicant=applicant, kind="registration", when=_local(day, 10), title="国有建设用地使用权首次登记")
    app = _accept(demo, app, when=_local(day, 10, 15), clerk=clerk)
    step = _open_step(app)
    with at(_local(day, 10, 15) + dt.timedelta(minutes=minutes)):
        return step_decide(step=step, by=demo.user("reviewer_jiayu"), outcome="approved", comment="当场办结", ip="10.20.2.2")


def _construction_all_levels(demo: Demo, *, applicant: str, day: dt.date, clerk: str, title: str, stop_at: str | None = None,
                             pace: int = 3) -> Application:
    """Construction land from the county to the ministry, `pace` working days per level; with
    `stop_at` the case is left open at that level (city: sent and awaiting receipt)."""
    app = _submit(demo, applicant=applicant, kind="construction_land", when=_local(day, 9), title=title)
    app = _accept(demo, app, when=_local(day, 10), clerk=clerk)
    levels = [("county", "reviewer_jiayu", COUNTY_DEPTS), ("city", "reviewer_xianning", CITY_DEPTS),
              ("province", "reviewer_hubei", ()), ("nation", "reviewer_ministry", ())]
    when = day
    for level, reviewer, depts in levels:
        if stop_at == level:
            return app
        when = _after(demo, when, pace)
        outcome = "approved" if level == "nation" else "forwarded"
        app = _level(demo, app, reviewer=reviewer, when=_local(when, 9), outcome=outcome, departments=depts)
    return app


def _residents() -> dict[str, object]:
    user_model = get_user_model()
    made = {}
    for username, name, _phone in RESIDENTS:
        user, created = user_model.objects.get_or_create(username=username, defaults={"first_name": name[1:], "last_name": name[0]})
        if created:
            user.set_unusable_password()
            user.save()
        made[username] = user
    return made


def load_cases(*, today: dt.date | None = None, progress: Callable[[str], None] | None = None) -> int:
    """Makes the demo cases unless the demo applicants have applications already. Returns how many."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[*CLERKS, "applicant"])}
    users.update({u.username: u for u in get_user_model().objects.filter(username__in=[f"clerk_{s[0]}" for s in STATIONS])})
    users.update({u.username: u for u in get_user_model().objects.filter(username__startswith="reviewer_")})
    users.update({u.username: u for u in get_user_model().objects.filter(username__startswith="dept_")})
    users.update(_residents())
    if Application.objects.filter(applicant__in=[users["applicant"], *(users[r[0]] for r in RESIDENTS)]).exists():
        return 0
    today = today or timezone.localdate()
    demo = Demo(users=users, cal=WorkdayCalendar(), rng=random.Random(2026),  # noqa: S311  (repeatable demo, not secrets)
                jiayu=Division.objects.get(code="421221"))
    say = progress or (lambda _message: None)
    made: list[Application] = []
    residents = [r[0] for r in RESIDENTS]

    # Finished cases, five months back to last week. Earlier homesteads took 5–8 working days,
    # recent ones 2–3 (the article: "20 working days → 3.5").
    start = today - dt.timedelta(days=150)
    for i in range(22):
        day = _working_day(demo, start + dt.timedelta(days=i * 6))
        if day >= today - dt.timedelta(days=8):
            break
        recent = day >= today - dt.timedelta(days=60)
        applicant, clerk = residents[i % len(residents)], CLERKS[i % len(CLERKS)]
        if i % 3 == 2:
            made.append(_finished_registration(demo, applicant=applicant, day=day, clerk=clerk, minutes=demo.rng.randint(25, 55) if recent else demo.rng.randint(90, 200)))
        else:
            taken = demo.rng.randint(2, 3) if recent else demo.rng.randint(5, 8)
            made.append(_finished_homestead(demo, applicant=applicant, day=day, clerk=clerk, days_taken=taken, reject=(i == 7)))
        say(f"finished case {len(made)}")
    made.append(_construction_all_levels(demo, applicant="applicant", day=_working_day(demo, today - dt.timedelta(days=70)),
                                         clerk="clerk_jiayu", title="嘉鱼县城东工业园厂房建设用地"))
    say("construction land approved")

    # Open cases at every stage.
    recent = _working_day(demo, today - dt.timedelta(days=24))
    made.append(_construction_all_levels(demo, applicant="applicant", day=recent, clerk="clerk_jiayu", title="嘉鱼县物流园仓储用地", stop_at="nation", pace=4))
    made.append(_construction_all_levels(demo, applicant="resident_04", day=_working_day(demo, today - dt.timedelta(days=16)), clerk="head_jiayu",
                                         title="簰洲湾镇农产品加工厂用地", stop_at="province", pace=4))
    made.append(_construction_all_levels(demo, applicant="resident_05", day=_working_day(demo, today - dt.timedelta(days=7)), clerk="clerk_jiayu2",
                                         title="鱼岳镇光伏配套设施用地", stop_at="city", pace=2))
    # At the county: accepted, departments asked, the lead's opinion pending.
    county = _submit(demo, applicant="resident_06", kind="construction_land", when=_local(_working_day(demo, today - dt.timedelta(days=3)), 9), title="高铁岭镇加油站建设用地")
    county = _accept(demo, county, when=_local(_working_day(demo, today - dt.timedelta(days=3)), 10), clerk="clerk_jiayu")
    with at(_local(_working_day(demo, today - dt.timedelta(days=2)), 9)):
        step = _open_step(county)
        tasks_assign(step=step, by=demo.user("reviewer_jiayu"), lead=Department.objects.get(division=step.division, name="耕地保护股"),
                     cooperating=[Department.objects.get(division=step.division, name="国土空间规划股")], days=Decimal("2"))
    made.append(county)
    # Past its promise: a homestead accepted nine working days ago, still at the county.
    late_day = _working_day(demo, today - dt.timedelta(days=13))
    late = _submit(demo, applicant="resident_07", kind="rural_homestead", when=_local(late_day, 9), title="何家宅基地翻建")
    made.append(_receive(demo, late, when=_local(late_day, 9, 30), clerk="clerk_jiayu2"))
    # Returned by the window with reasons (documents missing), then corrected and waiting again.
    returned = _submit(demo, applicant="resident_08", kind="rural_homestead", when=_local(_working_day(demo, today - dt.timedelta(days=5)), 10),
                       title="罗家湾宅基地建房", documents=False)
    with at(_local(_working_day(demo, today - dt.timedelta(days=5)), 11)):
        returned = window_return(application=returned, by=demo.user(_window_clerk(returned, "clerk_jiayu")), ip="10.20.1.2",
                                 reasons=["缺少户口簿复印件", "村民小组意见未签字盖章", "宗地图四至与申请表不一致"])
    made.append(returned)
    still_returned = _submit(demo, applicant="resident_09", kind="registration", when=_local(_working_day(demo, today - dt.timedelta(days=2)), 15),
                             title="商品房转移登记", documents=False)
    with at(_local(_working_day(demo, today - dt.timedelta(days=2)), 15, 20)):
        made.append(window_return(application=still_returned, by=demo.user("clerk_jiayu2"), ip="10.20.1.2", reasons=["缺少身份证明", "缺少购房合同"]))
    with at(_local(_working_day(demo, today - dt.timedelta(days=4)), 9)):
        for requirement in returned.kind.required_documents.all():
            document_add(application=returned, requirement=requirement, upload=_pdf(f"{requirement.code}.pdf"), by=demo.user("resident_08"), ip="10.20.0.9")
        application_resubmit(application=Application.objects.get(pk=returned.pk), by=demo.user("resident_08"), ip="10.20.0.9")
    # Awaiting the window today.
    for applicant, kind, title in (("applicant", "rural_homestead", "陆溪镇宅基地建房"), ("resident_10", "registration", "宅基地使用权及房屋所有权登记")):
        made.append(_submit(demo, applicant=applicant, kind=kind, when=timezone.now() - dt.timedelta(hours=2), title=title))
    say(f"{len(made)} demo cases")
    return len(made)
