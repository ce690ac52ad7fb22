"""Login throttling helpers for django-axes (settings AXES_*)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# User.username holds at most 150 characters; axes stores the attempted name in a 255-character
# column. A longer name cannot be an account, and stored whole it would fail the INSERT (a 500).
USERNAME_MAX = 150


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The attempted username as axes records and counts it: axes' own rule (credentials first,
    then the POSTed form), cut to USERNAME_MAX characters and without NUL, which PostgreSQL refuses."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    if not isinstance(username, str):
        return username
    return username.replace("\x00", "")[:USERNAME_MAX]
