"""Chinese first: pages are in zh-hans unless the user picked another language with the switch.

Django's LocaleMiddleware would follow the browser's Accept-Language; a land bureau's platform is
Chinese by default whatever the browser says, and English is a choice (stored in the language cookie).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


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
