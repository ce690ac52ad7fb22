"""Who may act on a case without an account: a visitor who answered the public query with the
case's number and query code gets a grant in their session for a while, and may then rate the
case's services online (one rating per service, whoever asks)."""

from __future__ import annotations

import time

from django.http import HttpRequest

SESSION_KEY = "hall_query_grants"
# Long enough to read the page and rate; short enough that a shared computer forgets.
GRANT_SECONDS = 30 * 60


def grant_query(request: HttpRequest, application_id: int) -> None:
    grants = {k: v for k, v in request.session.get(SESSION_KEY, {}).items() if v > time.time()}
    grants[str(application_id)] = time.time() + GRANT_SECONDS
    request.session[SESSION_KEY] = grants


def query_granted(request: HttpRequest, application_id: int) -> bool:
    return request.session.get(SESSION_KEY, {}).get(str(application_id), 0) > time.time()
