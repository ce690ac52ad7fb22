"""The dashboard's public-side figures: satisfaction by window, month and officer, and processing
time per kind against the period before (the article's "efficiency up 48 %").

Scope: the windows and applications of the divisions the user's memberships cover (an
administrator's membership at the ministry covers all).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from approvals.choices import DECIDED_STATUSES
from approvals.clocks import application_clocks
from approvals.hall.choices import SATISFIED_FROM
from approvals.hall.models import Rating, Window
from approvals.hall.selectors.callbacks import CallbackSummary, callback_outcomes
from approvals.hall.selectors.scores import FollowUpRow, Satisfaction, Score, open_follow_ups
from approvals.models import ApplicationKind, Membership
from approvals.permissions import covered_divisions_q, visible_applications
from approvals.workdays import WorkdayCalendar
from parcels.models import Division


@dataclass(frozen=True)
class UnitSatisfaction:
    """The ratings of one unit (window, month, officer): five-star score and satisfaction rate,
    as the boards define them (selectors.scores)."""

    label: str
    score: Score
    satisfaction: Satisfaction

    @property
    def count(self) -> int:
        return self.score.count

    @property
    def mean_stars(self) -> Decimal | None:
        return self.score.mean

    @property
    def percent(self) -> float:
        return float(self.satisfaction.percent or 0)


@dataclass(frozen=True)
class ProcessingChange:
    """Mean working days from acceptance to decision for one kind, now against the period before."""

    kind: ApplicationKind
    now_count: int
    now_days: float | None
    before_count: int
    before_days: float | None

    @property
    def change_percent(self) -> float | None:
        """Negative when faster now (less time); None without both periods."""
        if not self.now_days or self.before_days in (None, 0) or self.now_count == 0:
            return None
        return round((self.now_days - self.before_days) / self.before_days * 100, 1)

    @property
    def efficiency_percent(self) -> float | None:
        """The article's "efficiency up": how much more work per unit of time, before / now − 1."""
        if not self.now_days or not self.before_days:
            return None
        return round((self.before_days / self.now_days - 1) * 100, 1)


def windows_for(*, user: AbstractBaseUser) -> QuerySet[Window]:
    divisions = [m.division for m in Membership.objects.filter(user=user).select_related("division")]
    if not divisions:
        return Window.objects.none()
    q = Q(pk__in=[])
    for division in divisions:
        q |= covered_divisions_q(division)
    return Window.objects.filter(q).select_related("division")


def _summary(label: str, row: dict) -> UnitSatisfaction:
    count = row["n"] or 0
    return UnitSatisfaction(label=label, score=Score.of(row["total"], count), satisfaction=Satisfaction(satisfied=row["ok"] or 0, total=count))


_AGG = {"n": Count("id"), "total": Sum("stars"), "ok": Count("id", filter=Q(stars__gte=SATISFIED_FROM))}


def satisfaction_by_window(*, user: AbstractBaseUser, since: dt.datetime) -> list[UnitSatisfaction]:
    windows = {w.pk: w for w in windows_for(user=user)}
    rows = Rating.objects.filter(event__window__in=windows, at__gte=since).values("event__window").annotate(**_AGG).order_by()
    by_window = {r["event__window"]: r for r in rows}
    return [_summary(f"{w.division.name} {w.label}", by_window.get(pk, {"n": 0, "total": None, "ok": 0})) for pk, w in windows.items()]


def satisfaction_by_month(*, user: AbstractBaseUser, months: int = 6, now: dt.datetime | None = None) -> list[UnitSatisfaction]:
    now = timezone.localtime(now or timezone.now())
    first = (now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    rows = (Rating.objects.filter(event__window__in=windows_for(user=user), at__gte=first)
            .annotate(month=TruncMonth("at")).values("month").annotate(**_AGG).order_by("month"))
    return [_summary(timezone.localtime(r["month"]).strftime("%Y-%m") if timezone.is_aware(r["month"]) else r["month"].strftime("%Y-%m"), r)
            for r in rows]


def satisfaction_by_officer(*, user: AbstractBaseUser, since: dt.datetime) -> list[UnitSatisfaction]:
    rows = (Rating.objects.filter(event__window__in=windows_for(user=user), event__officer__isnull=False, at__gte=since)
            .values("event__officer__display_name", "event__officer__staff_number").annotate(**_AGG)
            .order_by("event__officer__staff_number"))
    return [_summary(f"{r['event__officer__display_name']} ({r['event__officer__staff_number']})", r) for r in rows]


def processing_against_before(*, user: AbstractBaseUser, days: int = 90, now: dt.datetime | None = None) -> list[ProcessingChange]:
    """Per kind: the mean working days (promised clock, pauses excluded) of the applications
    decided in the last `days` days against those decided in the `days` before."""
    now = now or timezone.now()
    cut, start = now - dt.timedelta(days=days), now - dt.timedelta(days=2 * days)
    cal = WorkdayCalendar()
    used: dict[tuple[str, bool], list[Decimal]] = {}
    decided = (visible_applications(user).filter(status__in=DECIDED_STATUSES, accepted_at__isnull=False, decided_at__gte=start, decided_at__lte=now)
               .select_related("kind"))
    for app in decided:
        used.setdefault((app.kind_id, app.decided_at >= cut), []).append(application_clocks(cal=cal, application=app, now=now)["promised"].used)

    def mean(values: list[Decimal]) -> float | None:
        return round(float(sum(values) / len(values)), 2) if values else None

    out = []
    for kind in ApplicationKind.objects.all():
        now_used, before_used = used.get((kind.code, True), []), used.get((kind.code, False), [])
        if now_used or before_used:
            out.append(ProcessingChange(kind=kind, now_count=len(now_used), now_days=mean(now_used),
                                        before_count=len(before_used), before_days=mean(before_used)))
    return out


@dataclass(frozen=True)
class HallFigures:
    """Everything the dashboard shows of the public side, for one user."""

    by_window: list[UnitSatisfaction]
    by_month: list[UnitSatisfaction]
    by_officer: list[UnitSatisfaction]
    processing: list[ProcessingChange]
    since: dt.date
    follow_ups: list[FollowUpRow]
    callbacks: CallbackSummary | None  # over the broadest division the user belongs to


# Broadest first: a user with memberships at several levels is shown the call-backs of the widest.
_BREADTH = {"nation": 0, "province": 1, "city": 2, "county": 3, "station": 4}


def _broadest_division(user: AbstractBaseUser) -> Division | None:
    divisions = [m.division for m in Membership.objects.filter(user=user).select_related("division")]
    return min(divisions, key=lambda d: _BREADTH.get(d.level, 9), default=None)


def hall_figures(*, user: AbstractBaseUser, now: dt.datetime | None = None) -> HallFigures:
    """This year's satisfaction by window and officer, the last six months' trend, processing time
    over the last 90 days against the 90 before, open follow-up cases and this year's call-backs."""
    now = now or timezone.now()
    year_start = timezone.localtime(now).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    division = _broadest_division(user)
    return HallFigures(by_window=satisfaction_by_window(user=user, since=year_start),
                       by_month=satisfaction_by_month(user=user, now=now),
                       by_officer=satisfaction_by_officer(user=user, since=year_start),
                       processing=processing_against_before(user=user, now=now), since=year_start.date(),
                       follow_ups=open_follow_ups(user=user, now=now),
                       callbacks=callback_outcomes(division=division, since=year_start) if division is not None else None)
