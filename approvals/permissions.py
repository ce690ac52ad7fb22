"""Role × jurisdiction rules. Services, pages and the API all ask here.

A membership's division covers itself and every division below it (code prefix by level).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from approvals.choices import Level, Role
from approvals.models import Application, Membership
from parcels.models import Division

_LEVEL_OF_DIVISION = {"county": Level.COUNTY, "city": Level.CITY, "province": Level.PROVINCE, "nation": Level.NATION}


def covered_divisions_q(division: Division, field: str = "division") -> Q:
    """Q matching `field` for `division` and every division under it (6-digit code prefixes)."""
    code = division.code
    if division.level == "nation":
        return Q()
    if division.level == "province":
        return Q(**{f"{field}__code__startswith": code[:2]})
    if division.level == "city":
        return Q(**{f"{field}__code__startswith": code[:4]})
    return Q(**{f"{field}__code": code})


def memberships(user: AbstractBaseUser | AnonymousUser, role: str) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, role=role).select_related("division")


def has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    return user.is_authenticated and (user.is_superuser or memberships(user, role).exists())


def visible_applications(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Application]:
    """Applications a user may see: their own, plus those at a level they review in their jurisdiction."""
    if not user.is_authenticated:
        return Application.objects.none()
    if user.is_superuser:
        return Application.objects.all()
    q = Q(applicant=user)
    for m in memberships(user, Role.REVIEWER):
        q |= covered_divisions_q(m.division) & Q(current_level=_LEVEL_OF_DIVISION[m.division.level])
    for m in Membership.objects.filter(user=user, role__in=[Role.CLERK, Role.PLANNER, Role.DEPARTMENT_REVIEWER]).select_related("division"):
        q |= covered_divisions_q(m.division)
    return Application.objects.filter(q)


def can_review(user: AbstractBaseUser | AnonymousUser, application: Application) -> bool:
    """A level reviewer whose division covers the application's and whose level is its current level."""
    if not user.is_authenticated:
        return False
    for m in memberships(user, Role.REVIEWER):
        if _LEVEL_OF_DIVISION[m.division.level] != application.current_level:
            continue
        if Application.objects.filter(pk=application.pk).filter(covered_divisions_q(m.division)).exists():
            return True
    return False
