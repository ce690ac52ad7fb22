"""The service hall's landing page: what the public can do without an account, and the staff's
hall pages for those whose role has them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from approvals.hall.models import Window


def hall_home(request: HttpRequest) -> HttpResponse:
    windows = Window.objects.filter(active=True).select_related("division").order_by("division__code", "code")
    return render(request, "hall/home.html", {"windows": windows})


urlpatterns = [
    path("hall/", hall_home, name="hall-home"),
]
