"""What every hall page answers the same way: refusals mapped from the domain's exceptions, and the
public pages' rate limit (one 429 page with Retry-After)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.services.ratelimit import rate_limit_hit, retry_after
from onemap.http import client_ip

MESSAGE_TEMPLATE = "maps/message.html"


def refused(request: HttpRequest, *, status: int, message: str | None = None, errors: list[str] | None = None,
            title: str | None = None, template: str = MESSAGE_TEMPLATE) -> HttpResponse:
    """The message page for a refusal with its status (403 not allowed, 404 not found, else not applied)."""
    title = title or {403: _("Not allowed"), 404: _("Not found")}.get(status, _("Not applied"))
    return render(request, template, {"title": title, "message": message, "errors_list": errors}, status=status)


def refusal(request: HttpRequest, exc: Exception, *, title: str | None = None, template: str = MESSAGE_TEMPLATE) -> HttpResponse:
    """Maps a service's refusal: NotPermitted 403, StateConflict 409, ValidationError 400."""
    if isinstance(exc, NotPermitted):
        return refused(request, status=403, message=str(exc), template=template)
    if isinstance(exc, StateConflict):
        return refused(request, status=409, message=str(exc), title=title, template=template)
    if isinstance(exc, ValidationError):
        return refused(request, status=400, errors=exc.messages, title=title, template=template)
    raise exc


def run(request: HttpRequest, action: Callable[[], object]) -> HttpResponse | None:
    """Runs one service call; its refusal as a response, or None when it went through."""
    try:
        action()
    except (NotPermitted, StateConflict, ValidationError) as exc:
        return refusal(request, exc)
    return None


def too_many(request: HttpRequest) -> HttpResponse:
    seconds = retry_after(per_seconds=60)
    response = render(request, "hall/rate_limited.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def rate_limited(request: HttpRequest, *, scope: str, limit: int) -> HttpResponse | None:
    """The 429 answer when this client address is over `limit` requests a minute in `scope`."""
    if rate_limit_hit(scope=scope, address=client_ip(request), limit=limit):
        return too_many(request)
    return None
