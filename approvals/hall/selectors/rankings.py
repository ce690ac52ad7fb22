"""Public rankings of satisfaction (百企万民评窗口): windows (also per hall level), departments and
officers, over a period of local dates.

Per unit: rating rate = ratings with stars >= SATISFIED_FROM / ratings; call-back rate = reached
calls with stars >= SATISFIED_FROM / reached calls; the combined rate weighs them
ONEMAP_RANKING_RATING_WEIGHT : 1 − weight when a unit has both, else it is the one it has. A unit
with fewer than ONEMAP_RANKING_MIN_SAMPLE ratings plus reached calls is listed without a rank.
Counting happens in SQL (one grouped query per source and unit kind); Python only merges the two
sources' per-unit totals and sorts the units.

Attribution: a rating counts for the window and officer of the service event it rates, and for
every department that had a task on that event's application; a call-back counts for the window
it was drawn for, the officer who accepted the case at that window, and the departments with a
task on the application. Nothing about applicants is read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from approvals.choices import Level
from approvals.hall.choices import SATISFIED_FROM, CallOutcome, ServiceKind
from approvals.hall.models import Callback, Officer, Rating, Window
from approvals.models import Department

PERIODS = ("month", "quarter", "year", "custom")
PERIOD_LABELS = {"month": _("This month"), "quarter": _("This quarter"), "year": _("This year"), "custom": _("Chosen dates")}
# The hall levels windows are grouped by (a window's division level).
HALL_LEVELS = (Level.STATION, Level.COUNTY, Level.CITY, Level.PROVINCE)


def period_bounds(period: str, *, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """This month, quarter or year up to today (local dates)."""
    today = today or timezone.localdate()
    if period == "year":
        return today.replace(month=1, day=1), today
    if period == "quarter":
        return today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
    return today.replace(day=1), today


@dataclass(frozen=True)
class RankingRow:
    unit: Any  # the Window, Department or Officer
    label: str
    n_ratings: int
    n_calls: int
    rating_rate: float | None
    call_rate: float | None
    rate: float | None
    rank: int | None
    group: str = ""  # windows: their hall level (county, city, province)

    @property
    def sample(self) -> int:
        return self.n_ratings + self.n_calls

    # percentages for the page (None stays None: "—")
    @property
    def rate_pct(self) -> float | None:
        return None if self.rate is None else self.rate * 100

    @property
    def rating_pct(self) -> float | None:
        return None if self.rating_rate is None else self.rating_rate * 100

    @property
    def call_pct(self) -> float | None:
        return None if self.call_rate is None else self.call_rate * 100


@dataclass(frozen=True)
class Rankings:
    start: dt.date
    end: dt.date
    weight: float
    min_sample: int
    windows: list[RankingRow]
    windows_by_level: dict[str, list[RankingRow]] = field(default_factory=dict)
    departments: list[RankingRow] = field(default_factory=list)
    officers: list[RankingRow] = field(default_factory=list)


def _tally(qs: QuerySet, key: str, **where: Any) -> dict[int, tuple[int, int]]:
    """{unit id: (count, satisfied)} grouped in SQL; distinct because a unit reached through a
    multi-valued relation (an application's tasks) would otherwise count a row once per join.
    `where` goes into the same filter() as the key, so conditions on that relation hold for the
    very row the key is read from (one join, not one per filter call)."""
    rows = (qs.filter(**{f"{key}__isnull": False}, **where).values(key).order_by()
            .annotate(n=Count("id", distinct=True), ok=Count("id", distinct=True, filter=Q(stars__gte=SATISFIED_FROM)))
            .values_list(key, "n", "ok"))
    return {unit: (n, ok) for unit, n, ok in rows}


def combined_rate(rating_rate: float | None, call_rate: float | None, weight: float) -> float | None:
    if rating_rate is not None and call_rate is not None:
        return weight * rating_rate + (1 - weight) * call_rate
    return rating_rate if rating_rate is not None else call_rate


def _rows(units: dict[int, tuple[Any, str, str]], ratings: dict[int, tuple[int, int]], calls: dict[int, tuple[int, int]],
          *, weight: float, min_sample: int) -> list[RankingRow]:
    """Ranked rows first (rate high to low; equal rates share a rank), then the unranked by name."""
    built = []
    for pk, (unit, label, group) in units.items():
        n_r, ok_r = ratings.get(pk, (0, 0))
        n_c, ok_c = calls.get(pk, (0, 0))
        rating_rate = ok_r / n_r if n_r else None
        call_rate = ok_c / n_c if n_c else None
        built.append((unit, label, group, n_r, n_c, rating_rate, call_rate, combined_rate(rating_rate, call_rate, weight)))
    eligible = sorted((b for b in built if b[7] is not None and b[3] + b[4] >= min_sample), key=lambda b: (-b[7], -(b[3] + b[4]), b[1]))
    rest = sorted((b for b in built if not (b[7] is not None and b[3] + b[4] >= min_sample)), key=lambda b: b[1])
    out, previous, rank = [], None, 0
    for position, b in enumerate(eligible, start=1):
        if previous is None or round(b[7], 9) != round(previous, 9):
            rank, previous = position, b[7]
        out.append(RankingRow(b[0], b[1], b[3], b[4], b[5], b[6], b[7], rank, b[2]))
    out += [RankingRow(b[0], b[1], b[3], b[4], b[5], b[6], b[7], None, b[2]) for b in rest]
    return out


def rankings(*, start: dt.date, end: dt.date) -> Rankings:
    """Every open window (with or without ratings), and the departments and officers that have
    ratings or call-backs in [start, end]."""
    weight = float(settings.ONEMAP_RANKING_RATING_WEIGHT)
    min_sample = int(settings.ONEMAP_RANKING_MIN_SAMPLE)
    rated = Rating.objects.filter(at__date__gte=start, at__date__lte=end)
    called = Callback.objects.filter(outcome=CallOutcome.REACHED, called_at__date__gte=start, called_at__date__lte=end)

    # windows
    w_ratings = _tally(rated, "event__window")
    w_calls = _tally(called, "window")
    windows = Window.objects.filter(Q(active=True) | Q(pk__in=[*w_ratings, *w_calls])).select_related("division")
    levels = dict(Level.choices)
    w_units = {w.pk: (w, w.label, w.division.level) for w in windows}
    window_rows = _rows(w_units, w_ratings, w_calls, weight=weight, min_sample=min_sample)
    by_level = {}
    for level in HALL_LEVELS:
        subset = {pk: u for pk, u in w_units.items() if u[2] == level}
        if subset:
            by_level[str(levels[level])] = _rows(subset, w_ratings, w_calls, weight=weight, min_sample=min_sample)

    # departments: through the tasks on the rated (or called) application
    task_key = "event__application__steps__tasks__department"
    d_ratings = _tally(rated, task_key)
    d_calls = _tally(called, "application__steps__tasks__department")
    departments = Department.objects.filter(pk__in=[*d_ratings, *d_calls]).select_related("division")
    d_units = {d.pk: (d, f"{d.division.name} {d.label}", d.division.level) for d in departments}

    # officers: who served the rated event; for a call-back, who accepted the case at its window
    o_ratings = _tally(rated, "event__officer")
    o_calls = _tally(called, "application__service_events__officer", application__service_events__kind=ServiceKind.ACCEPTANCE,
                     application__service_events__window=F("window"))
    officers = Officer.objects.filter(pk__in=[*o_ratings, *o_calls]).select_related("window")
    o_units = {o.pk: (o, f"{o.display_name} · {o.window.label}", "") for o in officers}

    return Rankings(
        start=start, end=end, weight=weight, min_sample=min_sample, windows=window_rows, windows_by_level=by_level,
        departments=_rows(d_units, d_ratings, d_calls, weight=weight, min_sample=min_sample),
        officers=_rows(o_units, o_ratings, o_calls, weight=weight, min_sample=min_sample),
    )
