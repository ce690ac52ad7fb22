"""Demo call-back survey (万人评窗口): a round over the last three months' finished demo cases, drawn by the
provincial surveyor with a fixed seed, and a few calls recorded through the real services (reached
with stars and suggestions, one needing a follow-up, one no answer; the rest left to call).

Run after the demo cases (data/demo_cases.py). Idempotent: nothing is made when the round with the
demo seed exists, or when those months have no finished case to draw from.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from approvals.choices import DECIDED_STATUSES
from approvals.hall.choices import CallOutcome
from approvals.hall.models import CallbackRound
from approvals.hall.services.callbacks import callback_record, callback_reveal_phone, callback_round_draw
from approvals.models import Application
from parcels.models import Division

DEMO_SEED = 20261201
CALLER = "caller_hubei"
# What the first calls of the round heard, in the order of the drawn calls.
# The demo cases finish about one case a week; the no-answer comes second so that even a short
# draw shows both kinds of record. Calls beyond these are left for the surveyor to make.
DEMO_CALLS = (
    (CallOutcome.REACHED, 5, "办理很快，窗口工作人员态度很好。", False),
    (CallOutcome.NO_ANSWER, None, "", False),
    (CallOutcome.REACHED, 2, "材料要求一开始没有说清楚，跑了两趟。", True),
    (CallOutcome.REACHED, 4, "希望政务中心增加停车位。", False),
)


def _last_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    """The three full months before this one."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    start = end.replace(day=1)
    for _ in range(2):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


@transaction.atomic
def load_callbacks_demo(*, today: dt.date | None = None) -> int:
    """Draws the demo round and records the demo calls. Returns how many calls were drawn."""
    if CallbackRound.objects.filter(seed=DEMO_SEED).exists():
        return 0
    start, end = _last_quarter(today or timezone.localdate())
    if not Application.objects.filter(status__in=DECIDED_STATUSES, decided_at__date__gte=start, decided_at__date__lte=end).exists():
        return 0
    caller = get_user_model().objects.get(username=CALLER)
    round_ = callback_round_draw(division=Division.objects.get(code="420000"), name=f"{start:%Y年%m月}至{end:%m月}办结件万人评窗口回访",
                                 period_start=start, period_end=end, per_window=8, seed=DEMO_SEED, by=caller, ip="10.20.3.1")
    for call, (outcome, stars, suggestions, follow_up) in zip(round_.calls.order_by("id"), DEMO_CALLS, strict=False):
        callback_reveal_phone(call=call, by=caller, ip="10.20.3.1")
        callback_record(call=call, by=caller, outcome=outcome, stars=stars, suggestions=suggestions, follow_up=follow_up, ip="10.20.3.1")
    return round_.calls.count()
