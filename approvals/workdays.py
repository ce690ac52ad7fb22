"""Chinese working days for approval clocks (docs/domain.md, "Working days and clocks").

A day is a working day by, in order: an administrator's override (CalendarOverride: holidays and
调休 make-up working days), the `chinesecalendar` package's official data (2004–2026 in 1.11.0),
else Monday–Friday. Years the package does not cover are reported by `years_without_official_data`
so administrators know to enter that year's holidays as overrides.

Clocks count in half days (rural homestead approval promises 3.5 working days). Convention
(期限自受理次日起算): counting starts the working day after the start; N working days end at the
close of the N-th working day; N + 0.5 ends at noon of the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar

from approvals.models import CalendarOverride

TZ = ZoneInfo("Asia/Shanghai")
NOON = dt.time(12, 0)
CLOSE = dt.time(17, 30)  # end of the office day (local time)


def official_data_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def years_without_official_data(years: Iterable[int]) -> list[int]:
    """Years with neither official holiday data nor any override entered for them."""
    missing = []
    for year in years:
        if official_data_covers(year):
            continue
        if not CalendarOverride.objects.filter(date__year=year).exists():
            missing.append(year)
    return missing


class WorkdayCalendar:
    """Answers is-this-a-working-day with the overrides loaded once (a clock asks many days)."""

    def __init__(self) -> None:
        self._overrides = dict(CalendarOverride.objects.values_list("date", "is_workday"))

    def is_workday(self, day: dt.date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    def add_working_days(self, start: dt.datetime, days: Decimal | float | int) -> dt.datetime:
        """The deadline `days` working days (half-day resolution) after `start` (aware datetime).

        0 days means "the same working day": the close of `start`'s day when that is a working
        day and `start` is before the close, else the close of the next working day."""
        halves = int(Decimal(str(days)) * 2)
        if halves < 0 or Decimal(str(days)) * 2 != halves:
            raise ValueError(f"working days must be a non-negative multiple of 0.5, got {days}")
        local = start.astimezone(TZ)
        day = local.date()
        if halves == 0:
            if not (self.is_workday(day) and local.time() < CLOSE):
                day += dt.timedelta(days=1)
                while not self.is_workday(day):
                    day += dt.timedelta(days=1)
            return dt.datetime.combine(day, CLOSE, tzinfo=TZ)
        full, half = divmod(halves, 2)
        for _ in range(full + half):
            day += dt.timedelta(days=1)
            while not self.is_workday(day):
                day += dt.timedelta(days=1)
        return dt.datetime.combine(day, NOON if half else CLOSE, tzinfo=TZ)

    def working_days_between(self, start: dt.datetime, end: dt.datetime) -> Decimal:
        """Working days used from `start` to `end` under the same convention (half-day resolution)."""
        first, last = start.astimezone(TZ), end.astimezone(TZ)
        if last <= first:
            return Decimal(0)
        used = Decimal(0)
        day = first.date() + dt.timedelta(days=1)
        while day <= last.date():
            if self.is_workday(day):
                if day < last.date() or last.time() >= CLOSE:
                    used += 1
                elif last.time() >= NOON:
                    used += Decimal("0.5")
            day += dt.timedelta(days=1)
        return used
