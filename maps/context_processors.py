"""Template context shared by every page: the unread inbox count for the navigation."""

from __future__ import annotations

from django.http import HttpRequest

from approvals.selectors import unread_count


def inbox(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"inbox_unread": unread_count(user=user) if user is not None else 0}
