"""Rating pages: the window's rating tablet (/hall/kiosk/, no login, paired by the head's key),
online rating after a public query (/hall/rate/<event>/), and the clerks' "My window" with the
service-done and consultation buttons, the tablet pairing and the bad-rating follow-ups.

Thin: parse → one service or selector → respond. NotPermitted → 403, StateConflict → 409,
ValidationError → 400 (never a 500 on bad input).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.access import query_granted
from approvals.hall.choices import RatingChannel, Stars
from approvals.hall.models import FollowUpCase, Rating, ServiceEvent, Window
from approvals.hall.selectors import scores
from approvals.hall.services import ratings as services
from approvals.hall.services.ratelimit import rate_limit_hit
from approvals.hall.tags import tag_choices
from approvals.hall.views.common import refusal, refused, too_many
from onemap.http import client_ip

KIOSK_SESSION_KEY = "hall_kiosk"





def _posted_int(value: object) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


def _level_choices() -> list[tuple[int, str]]:
    return [(s.value, s.label) for s in sorted(Stars, key=lambda s: -s.value)]


# --- the rating tablet ---------------------------------------------------------------------------

def paired_window(request: HttpRequest) -> Window | None:
    """The window this browser was paired with, while its key is still the window's key (pairing
    again with a new key unpairs every tablet that had the old one)."""
    data = request.session.get(KIOSK_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    return Window.objects.select_related("division").filter(pk=data.get("window"), kiosk_key_hash=data.get("key") or "-", active=True).first()


@never_cache
@require_http_methods(["GET", "POST"])
def kiosk(request: HttpRequest) -> HttpResponse:
    """GET: the tablet's screen (or the pairing form). POST: pair with the head's key."""
    if request.method == "POST":
        if rate_limit_hit(scope="hall-kiosk-pair", address=client_ip(request), limit=settings.ONEMAP_PUBLIC_QUERY_PER_MINUTE):
            return too_many(request)
        window = services.kiosk_window_for_key(request.POST.get("key", ""))
        if window is None:
            return render(request, "hall/kiosk_pair.html", {"error": _("This key does not pair a window. Ask the window's head for a new one.")}, status=400)
        request.session.cycle_key()
        request.session[KIOSK_SESSION_KEY] = {"window": window.pk, "key": window.kiosk_key_hash}
        return redirect("hall-kiosk")
    window = paired_window(request)
    if window is None:
        return render(request, "hall/kiosk_pair.html", {})
    return render(request, "hall/kiosk.html", {
        "window": window, "officer": scores.serving_officer(window=window), "event": scores.kiosk_pending_event(window=window),
        "levels": _level_choices(), "tags": tag_choices(RatingChannel.KIOSK), "comment_max": services.COMMENT_MAX,
    })


@require_POST
def kiosk_unpair(request: HttpRequest) -> HttpResponse:
    request.session.pop(KIOSK_SESSION_KEY, None)
    return redirect("hall-kiosk")


@never_cache
@require_GET
def kiosk_state(request: HttpRequest) -> JsonResponse:
    """What the tablet shows now (polled every 2 s): the officer serving and the service to rate."""
    window = paired_window(request)
    if window is None:
        return JsonResponse({"paired": False}, status=403)
    officer = scores.serving_officer(window=window)
    event = scores.kiosk_pending_event(window=window)
    return JsonResponse({
        "paired": True,
        "officer": {"name": officer.display_name, "staff_number": officer.staff_number} if officer else None,
        "event": {"id": event.pk, "service": event.get_kind_display()} if event else None,
    })


@require_POST
def kiosk_rate(request: HttpRequest) -> HttpResponse:
    """The visitor's rating from the tablet: only for a service of the paired window that the
    clerk asked to have rated and nobody rated yet."""
    window = paired_window(request)
    if window is None:
        return render(request, "hall/kiosk_pair.html", {"error": _("This tablet is not paired with a window.")}, status=403)
    # the tablet's own message page: no site navigation, a way back to the waiting screen
    kiosk_page = "hall/kiosk_message.html"
    event_id = _posted_int(request.POST.get("event"))
    if event_id is None:
        return refusal(request, ValidationError(_("Which service? (event)")), template=kiosk_page)
    # Only the service the tablet is showing now (the window's latest asked, unrated one), with one
    # answer for every other id: the tablet neither rates nor learns about the window's other events.
    event = scores.kiosk_pending_event(window=window)
    if event is None or event.pk != event_id:
        return refusal(request, StateConflict(_("This service is no longer waiting for a rating.")), template=kiosk_page)
    try:
        services.rating_give(event=event, stars=request.POST.get("stars", ""), tags=request.POST.getlist("tags"),
                             comment=request.POST.get("comment", ""), channel=RatingChannel.KIOSK,
                             by=request.user if request.user.is_authenticated else None, ip=client_ip(request))
    except (NotPermitted, StateConflict, ValidationError) as exc:
        return refusal(request, exc, title=_("Rating not recorded"), template=kiosk_page)
    return render(request, "hall/kiosk_thanks.html", {"window": window})


# --- online rating -------------------------------------------------------------------------------

@never_cache
@require_http_methods(["GET", "POST"])
def rate_online(request: HttpRequest, pk: int) -> HttpResponse:
    """Rating a service of a case the visitor has just queried (query grant in their session)."""
    event = ServiceEvent.objects.select_related("window", "officer").filter(pk=pk, application__isnull=False).first()
    if event is None or not query_granted(request, event.application_id):
        # The same answer for an unknown service and one whose case was not queried in this session.
        return refused(request, status=404, message=_("Query your case first: rating links work for half an hour after the query, in the same browser."))
    rating = Rating.objects.filter(event=event).first()
    context = {"event": event, "rating": rating, "levels": _level_choices(), "tags": tag_choices(RatingChannel.ONLINE),
               "comment_max": services.COMMENT_MAX, "staff": services.is_staff_member(request.user)}
    if request.method == "POST":
        if rate_limit_hit(scope="hall-rate", address=client_ip(request), limit=settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE):
            return too_many(request)
        try:
            rating = services.rating_give(event=event, stars=request.POST.get("stars", ""), tags=request.POST.getlist("tags"),
                                          comment=request.POST.get("comment", ""), channel=RatingChannel.ONLINE,
                                          by=request.user if request.user.is_authenticated else None, ip=client_ip(request))
        except (NotPermitted, StateConflict, ValidationError) as exc:
            return refusal(request, exc, title=_("Rating not recorded"))
        messages.success(request, _("Thank you for your rating."))
        return redirect("hall-rate", pk=event.pk)
    return render(request, "hall/rate.html", context)


# --- staff: service done, consultation, My window, pairing, follow-ups ---------------------------

def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("hall-my-window")


@login_required
@require_POST
def service_done(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_object_or_404(ServiceEvent.objects.select_related("officer"), pk=pk)
    try:
        services.service_done(event=event, by=request.user, ip=client_ip(request))
    except (NotPermitted, StateConflict, ValidationError) as exc:
        return refusal(request, exc)
    messages.success(request, _("The rating tablet now asks the visitor to rate this service."))
    return _back(request)


def _my_window_context(request: HttpRequest, window: Window) -> dict:
    head = services.is_head_of(request.user, window)
    return {
        "window": window,
        "head": head,
        "events": [(e, services.kiosk_asked_is_fresh(e)) for e in scores.recent_events(window=window)],
        "follow_ups": scores.open_follow_ups(window=window),
        "closed_follow_ups": scores.closed_follow_ups(window=window),
        "pending": scores.kiosk_pending_event(window=window),
        "text_max": services.FOLLOW_UP_TEXT_MAX,
    }


@login_required
@never_cache
@require_GET
def my_window(request: HttpRequest) -> HttpResponse:
    window, _officer = services.window_of_clerk(request.user)
    if window is None:
        return refusal(request, NotPermitted(_("This page is for the staff of a window.")))
    return render(request, "hall/my_window.html", _my_window_context(request, window))


@login_required
@require_POST
def consultation(request: HttpRequest) -> HttpResponse:
    try:
        services.consultation_record(by=request.user, ip=client_ip(request))
    except (NotPermitted, StateConflict, ValidationError) as exc:
        return refusal(request, exc)
    messages.success(request, _("Consultation recorded; the rating tablet asks the visitor to rate it."))
    return redirect("hall-my-window")


@login_required
@never_cache
@require_POST
def kiosk_pair(request: HttpRequest) -> HttpResponse:
    """The head's new tablet key, shown once on this page (never in a URL or a message cookie)."""
    window, _officer = services.window_of_clerk(request.user)
    if window is None:
        return refusal(request, NotPermitted(_("Only the head of this window can pair its rating tablet.")))
    try:
        key = services.kiosk_pair(window=window, by=request.user, ip=client_ip(request))
    except (NotPermitted, StateConflict, ValidationError) as exc:
        return refusal(request, exc)
    return render(request, "hall/my_window.html", {**_my_window_context(request, window), "new_key": key,
                                                   "kiosk_url": request.build_absolute_uri(reverse("hall-kiosk"))})


FOLLOW_UP_STEPS = {
    "verify": (services.follow_up_verify, "verification"),
    "rectify": (services.follow_up_rectify, "rectification"),
    "reply": (services.follow_up_reply, "reply"),
}


@login_required
@require_POST
def follow_up_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in FOLLOW_UP_STEPS:
        raise Http404
    case = get_object_or_404(FollowUpCase.objects.select_related("window"), pk=pk)
    action, field = FOLLOW_UP_STEPS[step]
    try:
        action(case=case, by=request.user, ip=client_ip(request), **{field: request.POST.get("text", "")})
    except (NotPermitted, StateConflict, ValidationError) as exc:
        return refusal(request, exc)
    messages.success(request, _("Follow-up case updated."))
    return redirect("hall-my-window")


urlpatterns = [
    path("hall/kiosk/", kiosk, name="hall-kiosk"),
    path("hall/kiosk/state/", kiosk_state, name="hall-kiosk-state"),
    path("hall/kiosk/rate/", kiosk_rate, name="hall-kiosk-rate"),
    path("hall/kiosk/unpair/", kiosk_unpair, name="hall-kiosk-unpair"),
    path("hall/rate/<int:pk>/", rate_online, name="hall-rate"),
    path("hall/events/<int:pk>/done/", service_done, name="hall-service-done"),
    path("hall/window/", my_window, name="hall-my-window"),
    path("hall/window/consultation/", consultation, name="hall-consultation"),
    path("hall/window/pair/", kiosk_pair, name="hall-kiosk-pair"),
    path("hall/follow-ups/<int:pk>/<slug:step>/", follow_up_step, name="hall-follow-up"),
]
