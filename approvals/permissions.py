"""Role × jurisdiction. Querysets for lists live here; per-object rules are in approvals/rules.py
(django-rules predicates) and services, pages and the API all ask them through `require`.

A membership's division covers itself and every division below it (code prefix by level: a
county's 6 digits begin its township land stations' 9).
"""

from __future__ import annotations

import rules
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from approvals.choices import Role
from approvals.exceptions import NotPermitted
from approvals.models import Application, Membership
from parcels.models import Division


def covered_divisions_q(division: Division, field: str = "division") -> Q:
    """Q matching `field` for `division` and every division under it (code prefixes: a county
    covers its stations; a station only itself)."""
    code = division.code
    if division.level == "nation":
        return Q()
    if division.level == "province":
        return Q(**{f"{field}__code__startswith": code[:2]})
    if division.level == "city":
        return Q(**{f"{field}__code__startswith": code[:4]})
    if division.level == "county":
        return Q(**{f"{field}__code__startswith": code[:6]})
    return Q(**{f"{field}__code": code})


def covers(division: Division, other: Division) -> bool:
    """True when `division` is `other` or an ancestor of it (same rule as covered_divisions_q)."""
    if division.level == "nation":
        return True
    if division.level == "station":
        return other.code == division.code
    prefix = {"province": 2, "city": 4}.get(division.level, 6)
    return other.code[:prefix] == division.code[:prefix]


def receives_at_window(division: Division, other: Division) -> bool:
    """Whether a window clerk of `division` receives (accepts, returns) an application of `other`:
    a case whose division is a township land station is received at that station's window only
    (its route starts there); any other case at the windows of its division and those above."""
    if other.level == "station":
        return other.code == division.code
    return covers(division, other)


def window_divisions_q(division: Division, field: str = "division") -> Q:
    """Q of the applications a window clerk of `division` receives (as receives_at_window)."""
    if division.level == "station":
        return Q(**{f"{field}__code": division.code})
    return covered_divisions_q(division, field) & ~Q(**{f"{field}__level": "station"})


def memberships(user: AbstractBaseUser | AnonymousUser, role: str) -> QuerySet[Membership]:
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user, role=role).select_related("division", "department")


def has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    return user.is_authenticated and (user.is_superuser or memberships(user, role).exists())


def is_admin(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or memberships(user, Role.ADMIN).exists())


def visible_applications(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Application]:
    """Applications a user may see.

    - applicant: their own;
    - window clerk and planner: every application of a division their own covers;
    - level reviewer: applications that are or were at their division's level (a step there);
    - department reviewer: applications on which their department has a task;
    - administrator: all.
    """
    if not user.is_authenticated:
        return Application.objects.none()
    if is_admin(user):
        return Application.objects.all()
    q = Q(applicant=user)
    for m in Membership.objects.filter(user=user).select_related("division"):
        if m.role in (Role.CLERK, Role.PLANNER):
            q |= covered_divisions_q(m.division)
        elif m.role == Role.REVIEWER:
            q |= Q(steps__division=m.division)
        elif m.role == Role.DEPARTMENT_REVIEWER:
            q |= Q(steps__tasks__department_id=m.department_id)
    # The joins through steps/tasks repeat rows; select by key instead of DISTINCT (keeps ordering free).
    return Application.objects.filter(pk__in=Application.objects.filter(q).values("pk"))


def allowed(user: AbstractBaseUser | AnonymousUser, perm: str, obj: Model) -> bool:
    """Whether the rule `perm` (approvals/rules.py) holds for `user` on `obj`.

    Asks the rule itself, not `user.has_perm`: Django's PermissionsMixin answers True for every
    permission of an active superuser before any backend is consulted, which let the administrator
    accept, decide and answer for any division. A workflow action needs the real role and
    jurisdiction; the superuser's tool is the admin, which is audited (pghistory).
    """
    return bool(user.is_authenticated and user.is_active and rules.has_perm(perm, user, obj))


def require(user: AbstractBaseUser | AnonymousUser, perm: str, obj: Model) -> None:
    """Raises NotPermitted unless the rule `perm` (approvals/rules.py) holds for `user` on `obj`."""
    if not allowed(user, perm, obj):
        raise NotPermitted(_("You may not do this on this application."))
