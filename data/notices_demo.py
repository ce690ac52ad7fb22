"""Demo public notices (公示) and objections (异议), made through the real services at past moments
(time-machine travels the clock), after the demo cases (data/demo_cases.py):

- the notice rules: rural homestead 5 working days, construction land 7;
- a homestead case whose notice is running now (objections can be lodged on /notices/);
- a homestead case whose notice has ended, with an objection answered, then finally approved;
- a homestead case whose notice has ended but whose objection is unanswered: the decision waits.

Idempotent: the rules are only added when missing, and no case is made when the demo's notice
cases exist (by title). Every case is received by a window and reviewed by the levels of its route
as the demo accounts are set up; a level without a demo reviewer leaves the cases out.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import rules
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfWriter

from approvals.choices import Role, StepOutcome, StepState
from approvals.models import Application, ApplicationKind, Membership
from approvals.notices.models import NoticeRule
from approvals.notices.services import notice_publish, objection_answer, objection_lodge
from approvals.services import application_submit, document_add, step_accept, step_decide, window_accept
from approvals.services.common import route
from approvals.workdays import WorkdayCalendar

TZ = ZoneInfo(settings.TIME_ZONE)
RULES = {"rural_homestead": 5, "construction_land": 7}
SUFFIX = "（公示演示）"
# (title, applicant, site box lon/lat 4490 near the Jiayu county seat, working days ago: accepted, published)
CASES = (
    ("村民住宅新建" + SUFFIX, "resident_04", (113.9402, 29.9601, 113.9410, 29.9607), 3, 1),
    ("村民住宅翻建" + SUFFIX, "resident_07", (113.9440, 29.9625, 113.9447, 29.9631), 18, 15),
    ("村民住宅改建" + SUFFIX, "resident_09", (113.9360, 29.9650, 113.9368, 29.9656), 12, 9),
)
OBJECTIONS = {
    1: ("王建国", "13972150707", "新建房屋东侧距离我家窗户不足三米，影响采光。",
        "经现场核实，建房位置距异议人住宅 6.2 米，符合村庄规划要求，已于当日电话告知异议人。"),
    2: ("", "", "该地块北侧是村集体的晒谷场，不应批为宅基地。", None),
}


@contextmanager
def _at(moment: dt.datetime) -> Iterator[None]:
    with time_machine.travel(moment, tick=False):
        yield


def _pdf(name: str) -> SimpleUploadedFile:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def _working_days_ago(cal: WorkdayCalendar, today: dt.date, n: int) -> dt.date:
    day = today
    for _ in range(n):
        day -= dt.timedelta(days=1)
        while not cal.is_workday(day):
            day -= dt.timedelta(days=1)
    return day


def _local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=TZ)


def _member(role: str, division_id: str, covering: Application | None = None):
    """A demo account of `role` at exactly that division (or, for a clerk, one whose window covers the case)."""
    members = Membership.objects.filter(role=role, user__is_active=True).select_related("user").order_by("user__username")
    if covering is not None:
        return next((m.user for m in members if rules.has_perm("approvals.window_check", m.user, covering)), None)
    member = members.filter(division_id=division_id).first()
    return member.user if member else None


def load_rules() -> int:
    made = 0
    for code, days in RULES.items():
        if ApplicationKind.objects.filter(code=code).exists():
            _rule, created = NoticeRule.objects.get_or_create(kind_id=code, defaults={"days": days})
            made += created
    return made


def _case(number: int, title: str, applicant_name: str, bbox, accepted_ago: int, published_ago: int, cal: WorkdayCalendar, today: dt.date) -> bool:
    users = get_user_model().objects
    applicant = users.filter(username=applicant_name).first() or users.filter(username="applicant").first()
    if applicant is None:
        return False
    accepted = _local(_working_days_ago(cal, today, accepted_ago), 9, 30)
    published = _local(_working_days_ago(cal, today, published_ago), 10, 0)
    with _at(accepted - dt.timedelta(hours=1)):
        app = application_submit(applicant=applicant, kind=ApplicationKind.objects.get(code="rural_homestead"), title=title,
                                 purpose="农村村民住宅建设", site=MultiPolygon(Polygon.from_bbox(bbox), srid=4490), ip="10.20.0.8")
        for requirement in app.kind.required_documents.all():
            document_add(application=app, requirement=requirement, upload=_pdf(f"{requirement.code}.pdf"), by=applicant, ip="10.20.0.8")
    clerk = _member(Role.CLERK, app.division_id, covering=app)
    if clerk is None:
        return False
    with _at(accepted):
        window_accept(application=app, by=clerk, ip="10.20.1.2")
    last = route(app)[-1].level
    moment = accepted
    while True:
        step = app.steps.get(closed_at__isnull=True)
        reviewer = _member(Role.REVIEWER, step.division_id)
        if reviewer is None:
            return False
        moment += dt.timedelta(hours=2)
        with _at(moment):
            if step.state != StepState.ACCEPTED:
                step_accept(step=step, by=reviewer, ip="10.20.2.3")
            if step.level == last:
                break
            step_decide(step=step, by=reviewer, outcome=StepOutcome.FORWARDED, comment="同意上报。", ip="10.20.2.3")
    with _at(max(published, moment + dt.timedelta(minutes=30))):
        notice = notice_publish(application=app, by=reviewer, ip="10.20.2.3")
    if number in OBJECTIONS:
        name, phone, text, answer = OBJECTIONS[number]
        with _at(notice.published_at + dt.timedelta(days=1, hours=3)):
            objection = objection_lodge(notice=notice, name=name, phone=phone, text=text)
        if answer:
            with _at(notice.published_at + dt.timedelta(days=2, hours=1)):
                objection_answer(objection=objection, by=reviewer, text=answer, ip="10.20.2.3")
            with _at(notice.ends_at + dt.timedelta(hours=16)):
                step_decide(step=app.steps.get(closed_at__isnull=True), by=reviewer, outcome=StepOutcome.APPROVED,
                            comment="公示期满，异议已答复，同意。", ip="10.20.2.3")
    return True


def load_notices_demo(*, today: dt.date | None = None) -> int:
    """Adds the rules and the three notice cases. Returns how many cases were made."""
    load_rules()
    if Application.objects.filter(title__endswith=SUFFIX).exists():
        return 0
    cal = WorkdayCalendar()
    today = today or timezone.localdate()
    return sum(_case(i, *case, cal=cal, today=today) for i, case in enumerate(CASES))
