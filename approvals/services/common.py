"""Helpers shared by the approval services: audit events, notifications, routing and locking."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from contextlib import contextmanager

import pghistory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from approvals.choices import LEVEL_OF_DIVISION, LEVEL_ORDER, Level, Role
from approvals.models import Application, ApplicationEvent, Membership, Notification, RouteStep
from approvals.permissions import receives_at_window
from parcels.models import Division


def record(*, application: Application, by: AbstractBaseUser, action: str, ip: str | None, before: str = "",
           comment: str = "", data: dict | None = None) -> ApplicationEvent:
    """Appends a timeline event (the table refuses updates and deletes)."""
    event = ApplicationEvent(
        application=application,
        actor=by,
        ip_address=ip,
        action=action,
        from_status=before,
        to_status=application.status,
        comment=comment,
        data=data if data is not None else {},
    )
    event.full_clean()
    event.save()
    return event


@contextmanager
def history(*, by: AbstractBaseUser, ip: str | None, action: str):
    """Field-history context: every tracked row written inside carries who, where from and why."""
    with pghistory.context(user=by.pk, ip=ip, action=action):
        yield


def notify(*, users: Iterable[AbstractBaseUser], application: Application, kind: str, data: dict | None = None,
           dedupe_key: str = "") -> int:
    """One inbox notification per distinct user (skipping ones already sent under `dedupe_key`)."""
    created = 0
    for user in {u.pk: u for u in users}.values():
        if dedupe_key and Notification.objects.filter(user=user, dedupe_key=dedupe_key).exists():
            continue
        note = Notification(user=user, application=application, kind=kind, data=data or {}, dedupe_key=dedupe_key)
        note.full_clean(validate_constraints=False)
        note.save()
        created += 1
    return created


def users_with(*, role: str, division: Division | None = None, department_id: int | None = None) -> list[AbstractBaseUser]:
    qs = Membership.objects.filter(role=role, user__is_active=True)
    if division is not None:
        qs = qs.filter(division=division)
    if department_id is not None:
        qs = qs.filter(department_id=department_id)
    return list(get_user_model().objects.filter(pk__in=qs.values("user")))


def window_clerks(application: Application) -> list[AbstractBaseUser]:
    """Clerks of the windows that receive the application (permissions.receives_at_window)."""
    members = Membership.objects.filter(role=Role.CLERK, user__is_active=True).select_related("division", "user")
    return [m.user for m in members if receives_at_window(m.division, application.division)]


def level_of(division: Division) -> str:
    return LEVEL_OF_DIVISION[division.level]


def division_at(division: Division, level: str) -> Division:
    """`division` itself or its ancestor at `level` (the ministry is the nation division)."""
    node: Division | None = division
    while node is not None:
        if LEVEL_OF_DIVISION[node.level] == level:
            return node
        node = node.parent
    if level == LEVEL_OF_DIVISION["nation"]:
        return Division.objects.get(level="nation")
    raise Division.DoesNotExist(f"no {level} division above {division.code}")


def route(application: Application) -> list[RouteStep]:
    """The kind's route from the application's own level up (a site crossing counties starts at
    their lowest common level, so the levels below it are skipped)."""
    return route_from(list(application.kind.route.order_by("order")), level_of(application.division))


def route_from(steps: list[RouteStep], level: str) -> list[RouteStep]:
    """The route `steps` (a kind's, in order) for an application whose division is at `level`.

    A case that starts at the county although its kind's route begins at the township land
    station (a county without stations, or a site across two of them) gives the station's days
    to the county step: the county bureau then does the station's work (the one-window check and
    the site visit), and the levels' limits still add up to the promise. The returned county step
    is then an unsaved copy; never save it."""
    start = LEVEL_ORDER.index(level)
    kept = [r for r in steps if LEVEL_ORDER.index(r.level) >= start]
    station = next((r for r in steps if r.level == Level.STATION), None)
    if station is None or not kept or kept[0].level != Level.COUNTY:
        return kept
    county = copy.copy(kept[0])
    county.days += station.days
    county.green_days += station.green_days
    return [county, *kept[1:]]


def route_step(application: Application, level: str) -> RouteStep:
    return next(r for r in route(application) if r.level == level)


def locked(application: Application) -> Application:
    """The application row, locked until the transaction ends: of two people acting on it at once
    the second waits, then sees the first one's result (and gets a StateConflict)."""
    return Application.objects.select_for_update().select_related("kind", "division").get(pk=application.pk)
