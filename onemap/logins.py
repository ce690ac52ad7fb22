"""Login throttling helpers for django-axes (settings AXES_*)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

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


def self_service_reset_disabled(request: HttpRequest, **kwargs: str) -> HttpResponse:
    """404 for Django's e-mailed password reset (django.contrib.auth.urls). OneMap sends no mail.
    The reset views would try SMTP on every POST, a 500 or a hung thread, and let anyone send mail to
    a registered address. Passwords are reset by an administrator (admin, manage.py changepassword)."""
    raise Http404
