"""Demo ratings (好差评): consultations at the demo windows over this month and the last four, and
ratings of those and of the demo cases' window services (acceptances, returns), given through the
real services at the moments they would have happened (time-machine travels the clock): mostly
4–5 stars, a few bad ones whose follow-up cases the window heads verified, rectified and answered
(older ones closed, the latest still open), so the boards, rankings and "My window" have data.

Run after the demo cases (data/demo_cases.py), which record the acceptances and returns.
Deterministic (random.Random(2026)) and idempotent: nothing is made once demo consultations exist.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from approvals.hall.choices import BAD_AT_MOST, RatingChannel, ServiceKind
from approvals.hall.models import FollowUpCase, Officer, Rating, ServiceEvent
from approvals.hall.services.ratings import (
    consultation_record,
    follow_up_rectify,
    follow_up_reply,
    follow_up_verify,
    rating_give,
    service_done,
)
from approvals.hall.tags import tag_choices
from approvals.workdays import WorkdayCalendar
from data.demo import DEMO_OFFICERS, DEMO_WINDOWS
from data.demo_cases import at

TZ = ZoneInfo(settings.TIME_ZONE)
SEED = 2026
MONTHS_BACK = 4
CONSULTATIONS_PER_OFFICER_MONTH = (3, 6)
# Stars of an ordinary rating, weighted: most people are content, a few are not.
STARS = (5, 4, 3, 2, 1)
WEIGHTS = (62, 25, 7, 3, 3)
GOOD_COMMENTS = ("", "", "", "办理很快，一次办好。", "工作人员很耐心，讲解清楚。", "材料一次性告知，少跑了腿。", "窗口服务热情周到。",
                 "预约后到窗口不用排队。", "延时服务很方便，下班后也能办。")
FAIR_COMMENTS = ("", "等候时间有点长。", "希望增加自助查询设备。")
BAD_COMMENTS = ("排队等了一个多小时，窗口只开了一个。", "材料要求前后说法不一，跑了两趟。", "工作人员态度生硬，没有解释清楚原因。")
FOLLOW_UP = (
    ("经查看监控和排队记录，情况属实。", "高峰时段增开一个窗口，推行预约分时段办理。", "已电话联系申请人说明整改情况并致歉，申请人表示认可。"),
    ("经核实，一次性告知单遗漏一项材料，情况属实。", "更新办事指南和告知单模板，组织窗口人员培训。", "已上门向申请人致歉并说明，申请人表示满意。"),
    ("经调取录音核实，服务用语不规范。", "对当事工作人员批评教育，纳入月度考评。", "已电话回复申请人，告知处理结果。"),
)
HALL_TIMES = ((9, 0, 11, 30), (14, 30, 17, 0))


def _working_moment(rng: random.Random, cal: WorkdayCalendar, first: dt.date, last: dt.date) -> dt.datetime | None:
    """A random moment in the hall's opening hours on a working day between first and last."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    days = [d for d in days if cal.is_workday(d)]
    if not days:
        return None
    day = rng.choice(days)
    h0, m0, h1, m1 = rng.choice(HALL_TIMES)
    minute = rng.randrange(h0 * 60 + m0, h1 * 60 + m1)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=TZ)


def _month_starts(today: dt.date) -> list[dt.date]:
    starts, month = [], today.replace(day=1)
    for _ in range(MONTHS_BACK + 1):
        starts.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def _tags(rng: random.Random, channel: str) -> list[str]:
    codes = [code for code, _label in tag_choices(channel)]
    return rng.sample(codes, rng.randint(0, 2))


def _comment(rng: random.Random, stars: int) -> str:
    return rng.choice(GOOD_COMMENTS if stars >= 4 else FAIR_COMMENTS if stars == 3 else BAD_COMMENTS)


def _rate(rng: random.Random, event: ServiceEvent, stars: int, now: dt.datetime) -> Rating | None:
    """Rates `event` a few minutes after it on the tablet (after the clerk's "service done"), or a
    day or two later online; None when that moment is still to come."""
    kiosk = event.kind == ServiceKind.CONSULTATION or rng.random() < 0.7
    moment = event.at + (dt.timedelta(minutes=rng.randint(1, 6)) if kiosk else dt.timedelta(hours=rng.randint(3, 40)))
    if moment >= now:
        return None
    if kiosk and event.kiosk_asked_at is None and event.officer is not None:
        with at(event.at + dt.timedelta(seconds=30)):
            service_done(event=event, by=event.officer.user, ip="10.20.1.12")
    channel = RatingChannel.KIOSK if kiosk else RatingChannel.ONLINE
    with at(moment):
        return rating_give(event=event, stars=stars, tags=_tags(rng, channel), comment=_comment(rng, stars), channel=channel,
                           ip="10.20.1.50" if kiosk else "113.57.20.8")


def _follow_up(rng: random.Random, case: FollowUpCase, cal: WorkdayCalendar, now: dt.datetime, texts: tuple[str, str, str]) -> None:
    """The head's steps at 1, 5 and 8 working days after the rating, as far as today allows."""
    head = Officer.objects.filter(window=case.window, is_head=True).select_related("user").first()
    if head is None:
        return
    steps = ((follow_up_verify, "verification", 1), (follow_up_rectify, "rectification", 5), (follow_up_reply, "reply", 8))
    for (action, field, days), text in zip(steps, texts, strict=True):
        moment = cal.add_working_days(case.opened_at, days) - dt.timedelta(minutes=rng.randint(30, 240))
        if moment >= now:
            return
        with at(moment):
            case = action(case=case, by=head.user, ip="10.20.1.12", **{field: text})


def load_ratings_demo() -> int:
    """Consultations and ratings at the demo windows; returns how many ratings were given."""
    windows = [w.code for w in DEMO_WINDOWS]
    if ServiceEvent.objects.filter(kind=ServiceKind.CONSULTATION, window__code__in=windows).exists():
        return 0
    rng = random.Random(SEED)  # noqa: S311  (demo data, deterministic on purpose)
    cal = WorkdayCalendar()
    now = timezone.now()
    today = timezone.localdate()
    officers = {o.user.username: o for o in Officer.objects.filter(user__username__in=[d.username for d in DEMO_OFFICERS]).select_related("user")}

    # consultations: each demo officer, a few per month
    for start in _month_starts(today):
        end = min((start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), today)
        for spec in DEMO_OFFICERS:
            officer = officers.get(spec.username)
            if officer is None:
                continue
            for _ in range(rng.randint(*CONSULTATIONS_PER_OFFICER_MONTH)):
                moment = _working_moment(rng, cal, start, end)
                if moment is None or moment >= now:
                    continue
                with at(moment):
                    consultation_record(by=officer.user, ip="10.20.1.12")

    # ratings: about four in five services are rated
    events = list(ServiceEvent.objects.filter(window__code__in=windows, rating__isnull=True, at__lt=now)
                  .select_related("officer", "officer__user", "window").order_by("at", "id"))
    chosen = [e for e in events if rng.random() < 0.8]
    # a few bad ratings for certain (the follow-up demo), spread over the period, the last one recent
    bad_at = {len(chosen) * k // 4 for k in (1, 2, 3)} | {len(chosen) - 2} if len(chosen) >= 8 else set()
    given = 0
    bad_cases: list[FollowUpCase] = []
    for index, event in enumerate(chosen):
        stars = rng.choice((1, 2)) if index in bad_at else rng.choices(STARS, WEIGHTS)[0]
        rating = _rate(rng, event, stars, now)
        if rating is None:
            continue
        given += 1
        if stars <= BAD_AT_MOST:
            bad_cases.append(rating.follow_up)
    for number, case in enumerate(bad_cases):
        _follow_up(rng, case, cal, now, FOLLOW_UP[number % len(FOLLOW_UP)])
    return given
