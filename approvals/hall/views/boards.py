"""The windows' boards (五星评分公示栏): public, each officer on duty with their duties, service
commitment, party badge and stars; for staff, the same with what the raters wrote."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from approvals.exceptions import NotPermitted
from approvals.hall.choices import SATISFIED_FROM
from approvals.hall.models import Window
from approvals.hall.selectors import scores
from approvals.hall.services.ratelimit import rate_limit_hit
from approvals.hall.views.common import refusal, too_many
from onemap.http import client_ip


@require_GET
def board(request: HttpRequest, code: str) -> HttpResponse:
    """The public board: no comments, nothing about applicants."""
    if rate_limit_hit(scope="hall-board", address=client_ip(request), limit=settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE):
        return too_many(request)
    window = get_object_or_404(Window.objects.select_related("division"), code=code, active=True)
    return render(request, "hall/board.html", {"board": scores.window_board(window=window), "staff_view": False,
                                               "can_see_staff": scores.can_see_staff_board(request.user, window),
                                               "satisfied_from": SATISFIED_FROM})


@login_required
@require_GET
def board_staff(request: HttpRequest, code: str) -> HttpResponse:
    window = get_object_or_404(Window.objects.select_related("division"), code=code)
    if not scores.can_see_staff_board(request.user, window):
        return refusal(request, NotPermitted(_("This board is for the staff of the window and of the bureaus above it.")))
    return render(request, "hall/board.html", {"board": scores.window_board(window=window), "staff_view": True,
                                               "comments": scores.window_comments(window=window),
                                               "satisfied_from": SATISFIED_FROM})


urlpatterns = [
    path("hall/windows/<slug:code>/", board, name="hall-board"),
    path("hall/windows/<slug:code>/staff/", board_staff, name="hall-board-staff"),
]
