"""Template context shared by every page: the unread inbox count for the navigation."""

from __future__ import annotations

from django.http import HttpRequest

from approvals.selectors import unread_count


def inbox(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"inbox_unread": unread_count(user=user) if user is not None else 0}


def nav(request: HttpRequest) -> dict:
    """Which role-bound links the navigation shows, so that no menu offers a page that answers 403.

    Mirrors the views' own checks: the overlap query is for planners (maps.views.pages._planner_or_403),
    map output and the dashboard for the bureau's staff (PRINT_ROLES, the same roles as dashboard()).
    Lazy: pages that never render the navigation run no query."""
    from django.utils.functional import SimpleLazyObject

    from approvals.choices import Role
    from approvals.models import Membership
    from maps.views.printmap import PRINT_ROLES

    user = getattr(request, "user", None)

    def links() -> dict[str, bool]:
        if user is None or not user.is_authenticated:
            return {"overlap": False, "staff": False}
        # has_role()'s rule in one query: a superuser has every role
        roles = set(Role.values) if user.is_superuser else set(Membership.objects.filter(user=user).values_list("role", flat=True))
        return {"overlap": Role.PLANNER in roles, "staff": bool(roles.intersection(PRINT_ROLES))}

    return {"nav_links": SimpleLazyObject(links)}
