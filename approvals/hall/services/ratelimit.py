"""Rate limits of the public pages (no login): hits per client address and scope in fixed windows.

Counted in the database (RateBucket), not the per-process cache, so every gunicorn worker sees the
same count. The address is kept only as a keyed hash (HMAC under SECRET_KEY): the table cannot be
turned back into visitors' addresses by hashing the IPv4 space.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F

from approvals.hall.models import RateBucket


def address_key(*, scope: str, address: str | None) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"ratelimit:{address or '-'}".encode(), hashlib.sha256).hexdigest()
    return f"{scope[:31]}:{digest}"


def _window_start(per_seconds: int, now: float) -> dt.datetime:
    start = math.floor(now / per_seconds) * per_seconds
    return dt.datetime.fromtimestamp(start, tz=dt.UTC)


def retry_after(*, per_seconds: int = 60) -> int:
    """Seconds until the current window ends (for the Retry-After header)."""
    now = time.time()
    return max(1, math.ceil(per_seconds - (now % per_seconds)))


@transaction.atomic
def rate_limit_hit(*, scope: str, address: str | None, limit: int, per_seconds: int = 60) -> bool:
    """Counts one hit of `address` on `scope`; True when this hit is over `limit` in the current
    window of `per_seconds` (the caller answers 429)."""
    key = address_key(scope=scope, address=address)
    start = _window_start(per_seconds, time.time())
    # get_or_create survives two workers creating the same bucket (unique key + window: the loser
    # re-reads); the row lock then orders the increments.
    bucket, _created = RateBucket.objects.get_or_create(key=key, window_start=start)
    RateBucket.objects.filter(pk=bucket.pk).update(hits=F("hits") + 1)
    hits = RateBucket.objects.select_for_update().values_list("hits", flat=True).get(pk=bucket.pk)
    # Earlier windows are of no use any more: this address's now, everyone's stale ones once per new bucket.
    RateBucket.objects.filter(key=key, window_start__lt=start).delete()
    if _created:
        RateBucket.objects.filter(window_start__lt=start - dt.timedelta(days=1)).delete()
    return hits > limit
