"""Error handlers (onemap/urls.py): a database that is down or full answers 503, not a bare 500.

Django hands any exception that escapes a view or middleware to handler500, still inside the
`except` block, so the exception can be read from sys.exc_info(). A connection error from
PostgreSQL is an outage (server down, restarting, or refusing connections), not a bug. The client
is told to come back: 503 with Retry-After, as a page, JSON under /api/, or an empty tile.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views import defaults

from onemap.middleware import error_response

RETRY_AFTER_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        return error_response(
            request, status=503, retry_after=RETRY_AFTER_SECONDS,
            message=_("The service is briefly unavailable (the database cannot be reached). Please try again in a minute."),
        )
    if request.path.startswith(("/api/", "/tiles/")):  # JSON, or an empty tile (error_response)
        return error_response(request, status=500, message=_("Internal server error."))
    return defaults.server_error(request)
