"""Reads for the window boards (五星评分公示), the rating tablet and the follow-up cases.

Scores are aggregated in SQL (sums and counts per officer and window); the mean is then divided
and rounded here, exactly (Decimal, half up), so that 4.125 shows as 4.13 and not by float luck.
Public reads carry no comment and nothing about applicants.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from approvals.choices import Role
from approvals.hall.choices import SATISFIED_FROM, FollowUpState
from approvals.hall.models import FollowUpCase, Officer, Rating, ServiceEvent, Window
from approvals.hall.services.ratings import KIOSK_ASK_MINUTES
from approvals.permissions import covered_divisions_q, covers, memberships
from approvals.workdays import WorkdayCalendar

TWO_PLACES = Decimal("0.01")
ONE_PLACE = Decimal("0.1")


@dataclass(frozen=True)
class Score:
    """Mean stars (2 decimals, None without ratings) and number of ratings in a period."""

    mean: Decimal | None
    count: int

    @classmethod
    def of(cls, total: int | None, count: int) -> Score:
        mean = (Decimal(total or 0) / count).quantize(TWO_PLACES, ROUND_HALF_UP) if count else None
        return cls(mean=mean, count=count)

    @property
    def full_stars(self) -> int:
        """Whole stars to draw (the mean rounded half up)."""
        return int(self.mean.quantize(Decimal(1), ROUND_HALF_UP)) if self.mean is not None else 0


@dataclass(frozen=True)
class OfficerScore:
    officer: Officer
    month: Score
    year: Score


@dataclass(frozen=True)
class Satisfaction:
    """满意率: ratings with stars >= SATISFIED_FROM over all ratings, in percent (1 decimal)."""

    satisfied: int
    total: int

    @property
    def percent(self) -> Decimal | None:
        return (Decimal(100 * self.satisfied) / self.total).quantize(ONE_PLACE, ROUND_HALF_UP) if self.total else None


@dataclass(frozen=True)
class WindowBoard:
    window: Window
    officers: list[OfficerScore]
    month: Score
    year: Score
    satisfaction_month: Satisfaction
    satisfaction_year: Satisfaction


def period_starts(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Start of this month and of this year, local time (the hall's calendar)."""
    local = timezone.localtime(now or timezone.now())
    month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return month, month.replace(month=1)


def window_board(*, window: Window, now: dt.datetime | None = None) -> WindowBoard:
    """Each officer on duty with their stars this month and this year (ratings of the events they
    served), and the window's own stars and satisfaction rate."""
    month, year = period_starts(now)
    in_month, in_year = Q(events__rating__at__gte=month), Q(events__rating__at__gte=year)
    officers = (Officer.objects.filter(window=window, on_duty=True).select_related("window")
                .annotate(m_sum=Sum("events__rating__stars", filter=in_month), m_count=Count("events__rating", filter=in_month),
                          y_sum=Sum("events__rating__stars", filter=in_year), y_count=Count("events__rating", filter=in_year))
                .order_by("-is_head", "staff_number"))
    rows = [OfficerScore(officer=o, month=Score.of(o.m_sum, o.m_count), year=Score.of(o.y_sum, o.y_count)) for o in officers]
    ok = Q(stars__gte=SATISFIED_FROM)
    agg = Rating.objects.filter(event__window=window).aggregate(
        m_sum=Sum("stars", filter=Q(at__gte=month)), m_count=Count("id", filter=Q(at__gte=month)),
        m_ok=Count("id", filter=Q(at__gte=month) & ok),
        y_sum=Sum("stars", filter=Q(at__gte=year)), y_count=Count("id", filter=Q(at__gte=year)),
        y_ok=Count("id", filter=Q(at__gte=year) & ok),
    )
    return WindowBoard(
        window=window, officers=rows,
        month=Score.of(agg["m_sum"], agg["m_count"]), year=Score.of(agg["y_sum"], agg["y_count"]),
        satisfaction_month=Satisfaction(agg["m_ok"], agg["m_count"]), satisfaction_year=Satisfaction(agg["y_ok"], agg["y_count"]),
    )


def window_comments(*, window: Window, limit: int = 100) -> QuerySet[Rating]:
    """The window's latest ratings with what the raters wrote (staff board only)."""
    return (Rating.objects.filter(event__window=window).select_related("event", "event__officer")
            .order_by("-at", "-id")[:limit])


def can_see_staff_board(user: AbstractBaseUser | AnonymousUser, window: Window) -> bool:
    """The window's own officers, and clerks and reviewers whose division covers the window's."""
    if not user.is_authenticated or not user.is_active:
        return False
    if Officer.objects.filter(user=user, window=window).exists():
        return True
    return any(covers(m.division, window.division) for role in (Role.CLERK, Role.REVIEWER) for m in memberships(user, role))


def windows_for_staff(user: AbstractBaseUser | AnonymousUser) -> list[Window]:
    return [w for w in Window.objects.select_related("division").filter(active=True) if can_see_staff_board(user, w)]


def kiosk_pending_event(*, window: Window, now: dt.datetime | None = None) -> ServiceEvent | None:
    """The latest service of `window` the clerk asked the tablet to have rated, still unrated and
    asked less than KIOSK_ASK_MINUTES ago."""
    now = now or timezone.now()
    return (ServiceEvent.objects.filter(window=window, rating__isnull=True,
                                        kiosk_asked_at__gte=now - dt.timedelta(minutes=KIOSK_ASK_MINUTES))
            .select_related("officer").order_by("-kiosk_asked_at", "-id").first())


def serving_officer(*, window: Window) -> Officer | None:
    """The officer of the window's latest service event (who is at the counter now)."""
    event = ServiceEvent.objects.filter(window=window, officer__isnull=False).select_related("officer").order_by("-at", "-id").first()
    return event.officer if event is not None else None


def recent_events(*, window: Window, limit: int = 30) -> QuerySet[ServiceEvent]:
    return (ServiceEvent.objects.filter(window=window).select_related("officer", "application", "rating")
            .order_by("-at", "-id")[:limit])


@dataclass(frozen=True)
class FollowUpRow:
    """An open follow-up case with its working-day clock."""

    case: FollowUpCase
    due_at: dt.datetime
    overdue: bool
    working_days_left: Decimal


def open_follow_ups(*, user: AbstractBaseUser | AnonymousUser | None = None, window: Window | None = None,
                    now: dt.datetime | None = None) -> list[FollowUpRow]:
    """Follow-up cases not closed yet, soonest due first, with their clocks. With `user`: those of
    the windows they serve at or whose division their clerk/reviewer membership covers."""
    now = now or timezone.now()
    cases = (FollowUpCase.objects.exclude(state=FollowUpState.CLOSED)
             .select_related("window", "window__division", "rating", "rating__event", "rating__event__officer")
             .order_by("due_at", "id"))
    if window is not None:
        cases = cases.filter(window=window)
    if user is not None:
        if not user.is_authenticated:
            return []
        q = Q(window__officers__user=user)
        for role in (Role.CLERK, Role.REVIEWER):
            for m in memberships(user, role):
                q |= covered_divisions_q(m.division, field="window__division")
        cases = cases.filter(pk__in=FollowUpCase.objects.filter(q).values("pk"))
    cal = WorkdayCalendar()
    return [FollowUpRow(case=c, due_at=c.due_at, overdue=c.due_at < now,
                        working_days_left=Decimal(0) if c.due_at < now else cal.working_days_between(now, c.due_at))
            for c in cases]


def closed_follow_ups(*, window: Window, limit: int = 20) -> QuerySet[FollowUpCase]:
    return FollowUpCase.objects.filter(window=window, state=FollowUpState.CLOSED).select_related("rating").order_by("-closed_at")[:limit]
