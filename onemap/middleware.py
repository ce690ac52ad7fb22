"""Chinese first: pages are in zh-hans unless the user picked another language with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language; a land bureau's platform is
Chinese by default whatever the browser says, and English is a choice (stored in the language cookie).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.locale import LocaleMiddleware
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        available = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class HistoryContextMiddleware:
    """Attaches the user, client address and URL to every field-history row a request writes.

    Services also open a `pghistory.context` (so commands and tests record the actor); inside a
    request the two merge. REMOTE_ADDR is the client unless BEHIND_PROXY set it from the proxy.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        import pghistory

        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return self.get_response(request)
        user = getattr(request, "user", None)
        with pghistory.context(
            user=user.pk if user is not None and user.is_authenticated else None,
            ip=request.META.get("REMOTE_ADDR"),
            url=request.path,
        ):
            return self.get_response(request)


def error_response(request: HttpRequest, *, status: int, message: str, retry_after: int | None = None) -> HttpResponse:
    """An error in the form the caller reads: JSON `{"detail": …}` under /api/, an empty body for
    map tiles (the map just leaves the tile blank), a small HTML page elsewhere.

    The page is rendered without the request: no context processor runs, so it needs no database.
    """
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    elif request.path.startswith("/tiles/"):
        response = HttpResponse(status=status)
    else:
        template = f"{status}.html" if status in {413, 503} else "error.html"
        response = HttpResponse(render_to_string(template, {"status": status, "message": message}), status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


class NulCharacterMiddleware:
    """Refuses a query string or form field holding a NUL character with a 400, before any view.

    No field of the app takes one, and PostgreSQL refuses NUL in text: without this, a NUL that a
    form does not validate reaches the database and the request ends as a 500 (found in the hall's
    rating, booking and follow-up forms). JSON bodies are the API's parsers' business.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return error_response(request, status=400, message=_("The request holds a NUL character, which no field accepts."))
        return self.get_response(request)


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)


class RequestBodyLimitMiddleware:
    """Oversized or malformed request bodies end here, before a view, the CSRF check or DRF reads them.

    Django would raise RequestDataTooBig when the body is first read and answer with an HTML 400 and
    a logged traceback. Here the declared length is compared with DATA_UPLOAD_MAX_MEMORY_SIZE instead:
    413 with the limit, JSON under /api/. Multipart uploads are different. Their files go to disk
    and each view caps them, so only their form fields count toward the limit, and a POST is parsed
    here, as the CSRF check would parse it anyway.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self._refusal(request) or self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            return error_response(request, status=400, message=_("The Content-Length header is not a number."))
        too_big = _("The request body is larger than the limit of %(limit)d bytes.") % {"limit": limit or 0}
        is_form = request.content_type in {"multipart/form-data", "application/x-www-form-urlencoded"}
        if not is_form:
            if limit is not None and length > limit:
                return error_response(request, status=413, message=too_big)
            return None
        if request.method != "POST":
            return None
        try:
            request.POST  # noqa: B018  (parses the form once; views and the CSRF check reuse it)
        except RequestDataTooBig:
            return error_response(request, status=413, message=too_big)
        except (TooManyFieldsSent, TooManyFilesSent):
            return error_response(request, status=400, message=_("The form has too many fields or files."))
        except MultiPartParserError:
            return error_response(request, status=400, message=_("The form upload is malformed."))
        return None


def _is_staff(request: HttpRequest) -> bool:
    """Anyone who can do more than apply: staff, superusers and holders of a non-applicant role.
    Remembered in the session with the user's id, so that it costs one query per session."""
    from approvals.choices import Role
    from approvals.models import Membership

    user = request.user
    remembered = request.session.get("onemap_staff")
    if isinstance(remembered, list) and len(remembered) == 2 and remembered[0] == user.pk:
        return bool(remembered[1])
    staff = user.is_staff or user.is_superuser or Membership.objects.filter(user=user).exclude(role=Role.APPLICANT).exists()
    request.session["onemap_staff"] = [user.pk, staff]
    return staff


class SessionIdleTimeoutMiddleware:
    """Logs staff out after ONEMAP_STAFF_IDLE_SECONDS without a request.

    A staff member's session can approve or reject land use. One left open on an unattended
    office PC must not outlive the lunch break. Applicants keep SESSION_COOKIE_AGE. The time of the
    last request is written at most once a minute, so that map tiles do not write the session
    each time.
    """

    KEY = "onemap_last_seen"
    WRITE_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and _is_staff(request):
            now = int(time.time())
            last = request.session.get(self.KEY)
            if isinstance(last, int) and now - last > settings.ONEMAP_STAFF_IDLE_SECONDS:
                logout(request)
                messages.info(request, _("You were logged out after %(minutes)d minutes without activity.")
                              % {"minutes": settings.ONEMAP_STAFF_IDLE_SECONDS // 60})
            elif not isinstance(last, int) or now - last >= self.WRITE_EVERY:
                request.session[self.KEY] = now
        return self.get_response(request)


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in user.

    Pages and API answers carry names, sites and decisions, which must not stay in a shared proxy
    or in the browser's cache on a shared PC once the user logs out. One exception: map tiles whose
    URL names a layer version (`immutable`). They are the same for every user allowed to see the
    layer, so the browser may keep them, privately.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if "immutable" in response.get("Cache-Control", ""):
                patch_cache_control(response, private=True)
            else:
                response["Cache-Control"] = "private, no-store"
        return response


# SQLSTATE 57014 query_canceled: what PostgreSQL raises when statement_timeout cancels a statement.
QUERY_CANCELED = "57014"


class StatementTimeoutMiddleware:
    """A statement cancelled by PostgreSQL's statement_timeout (settings.ONEMAP_STATEMENT_TIMEOUT)
    becomes a 503 that says so, logged as a warning without a traceback: the request asked for more
    than the database gives one request, its transaction was rolled back, and nothing is broken.
    Other database errors go on to the outage handler (onemap/errors.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        import logging

        from django.db import OperationalError

        cause = exception.__cause__
        if not (isinstance(exception, OperationalError) and getattr(cause, "pgcode", None) == QUERY_CANCELED):
            return None
        logging.getLogger("onemap.timeout").warning("statement timeout on %s %s: %s", request.method, request.path,
                                                   str(cause).splitlines()[0] if str(cause) else "")
        return error_response(
            request, status=503, retry_after=60,
            message=_("The request took longer than the database allows one request (%(seconds)s s) and was cancelled; "
                      "nothing was saved. Narrow it (a smaller site or area) and try again.")
            % {"seconds": f"{settings.ONEMAP_STATEMENT_TIMEOUT:g}"},
        )
