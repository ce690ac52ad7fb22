"""Request facts every view needs, defined once."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address as the server saw it. gunicorn serves directly (no proxy header is
    trusted), so REMOTE_ADDR is the peer; a deployment behind a proxy sets it there."""
    return request.META.get("REMOTE_ADDR")
