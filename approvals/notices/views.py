"""Pages of public notices.

Public, no login, rate-limited per client address (approvals/hall/services/ratelimit.py):
- /notices/ — the running notices;
- /notices/<number>/ — one notice (what it said, its period, a server-drawn map) and, while it runs,
  the objection form; a POST lodges an objection and answers with its reference.

Staff (login): publish a case's notice, answer an objection; both then return to the application page.
Refusals use the hall's one mapping (403/404/409/400 message page); nothing of the case leaks.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.views.common import rate_limited, refusal
from approvals.notices import selectors, services
from approvals.notices.mapsvg import site_map
from approvals.notices.models import ANSWER_MAX, NAME_MAX, TEXT_MAX, Objection
from approvals.selectors import application_get
from onemap.http import client_ip

# Objections a client address may lodge a minute (then 429), across all notices.
OBJECTIONS_PER_MINUTE = getattr(settings, "ONEMAP_NOTICE_OBJECTIONS_PER_MINUTE", 3)


class ObjectionForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name (optional)"), max_length=NAME_MAX, required=False,
                           widget=forms.TextInput(attrs={"autocomplete": "name"}))
    phone = forms.CharField(label=gettext_lazy("Phone (optional, so that we can call you back)"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    text = forms.CharField(label=gettext_lazy("Your objection"), max_length=TEXT_MAX,
                           widget=forms.Textarea(attrs={"rows": 6, "maxlength": TEXT_MAX}))


class AnswerForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Answer"), max_length=ANSWER_MAX, widget=forms.Textarea(attrs={"rows": 3, "maxlength": ANSWER_MAX}))


@never_cache
@require_GET
def notice_list(request: HttpRequest) -> HttpResponse:
    if limited := rate_limited(request, scope="notices-page", limit=settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE):
        return limited
    return render(request, "notices/list.html", {"notices": selectors.running_notices()})


def _detail(request: HttpRequest, notice, form: ObjectionForm, *, status: int = 200, lodged: Objection | None = None) -> HttpResponse:
    now = timezone.now()
    return render(request, "notices/detail.html", {
        "notice": notice, "c": notice.content, "area": notice.area, "running": selectors.is_running(notice, now),
        "ended": now >= notice.ends_at, "map": site_map(notice.site), "form": form, "lodged": lodged,
        "text_max": TEXT_MAX,
    }, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def notice_detail(request: HttpRequest, number: str) -> HttpResponse:
    if request.method == "GET":
        if limited := rate_limited(request, scope="notices-page", limit=settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE):
            return limited
        return _detail(request, selectors.notice_public(number=number[:64]), ObjectionForm())
    if limited := rate_limited(request, scope="notices-objection", limit=OBJECTIONS_PER_MINUTE):
        return limited
    notice = selectors.notice_public(number=number[:64])
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        return _detail(request, notice, form, status=400)
    try:
        objection = services.objection_lodge(notice=notice, text=form.cleaned_data["text"], name=form.cleaned_data["name"],
                                             phone=form.cleaned_data["phone"])
    except StateConflict as exc:
        return refusal(request, exc)
    except services.ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _detail(request, notice, form, status=400)
    return _detail(request, notice, ObjectionForm(), lodged=objection)


@login_required
@require_POST
def notice_publish(request: HttpRequest, pk: int) -> HttpResponse:
    application = application_get(user=request.user, pk=pk)
    try:
        notice = services.notice_publish(application=application, by=request.user, ip=client_ip(request))
    except (NotPermitted, StateConflict, services.ValidationError) as exc:
        return refusal(request, exc)
    messages.success(request, _("Public notice %(number)s published.") % {"number": notice.number})
    return redirect("application-detail", pk=application.pk)


@login_required
@require_POST
def objection_answer(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        objection = Objection.objects.select_related("notice").get(pk=pk)
    except Objection.DoesNotExist as exc:
        raise Http404("No such objection") from exc
    # Someone who may not see the case learns nothing about it (404, as for an unknown id).
    application = application_get(user=request.user, pk=objection.notice.application_id)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return refusal(request, services.ValidationError([f"{form.fields[f].label}: {e}" for f, errs in form.errors.items() for e in errs]))
    try:
        services.objection_answer(objection=objection, by=request.user, text=form.cleaned_data["text"], ip=client_ip(request))
    except (NotPermitted, StateConflict, services.ValidationError) as exc:
        return refusal(request, exc)
    messages.success(request, _("Answer to objection %(reference)s recorded.") % {"reference": objection.reference})
    return redirect("application-detail", pk=application.pk)


urlpatterns = [
    path("notices/", notice_list, name="notices-list"),
    path("notices/publish/<int:pk>/", notice_publish, name="notices-publish"),
    path("notices/objections/<int:pk>/answer/", objection_answer, name="notices-answer"),
    path("notices/<str:number>/", notice_detail, name="notices-detail"),
]
