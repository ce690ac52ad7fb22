"""Call-back surveys (万人评窗口): a caller draws a round of finished applications per window at
random, rings the applicants and records what they said.

The draw is reproducible: candidates are sorted by id and drawn with random.Random(seed), the seed
stored in the round, so anyone can repeat a round's draw and check that nobody was picked by hand.
An applicant's phone is personal data: it stays masked until a caller reveals it, which claims the
call for that caller (only they see the number afterwards) and is audited (pghistory context).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import DECIDED_STATUSES, Role
from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.choices import CallOutcome, ServiceKind
from approvals.hall.models import Callback, CallbackRound, ServiceEvent, Window
from approvals.models import Application
from approvals.permissions import covered_divisions_q, covers, memberships
from approvals.services.common import history
from parcels.models import Division

SUGGESTIONS_MAX = 2000
# Key of the transaction-level advisory lock that serialises draws ("CALLBACK" in hex-ish digits).
DRAW_LOCK = 0x0CA11BAC


def is_caller_for(user: AbstractBaseUser, division: Division) -> bool:
    """A call-back surveyor whose division covers `division`."""
    return any(covers(m.division, division) for m in memberships(user, Role.CALLER))


def may_draw(user: AbstractBaseUser, division: Division) -> bool:
    """Callers covering the scope, and administrators (by membership: the superuser flag alone is
    not a role, as for the workflow actions)."""
    return is_caller_for(user, division) or memberships(user, Role.ADMIN).exists()


def _window_of(application: Application, accepted_window_id: int | None, fallback: dict[str, int | None]) -> int | None:
    """The window that accepted the case; else the first open window of its division or, failing
    that, of the nearest division above it (cached per division code in `fallback`)."""
    if accepted_window_id is not None:
        return accepted_window_id
    code = application.division_id
    if code not in fallback:
        found = None
        node: Division | None = application.division
        while node is not None and found is None:
            found = Window.objects.filter(division=node, active=True).order_by("code").values_list("pk", flat=True).first()
            node = node.parent
        fallback[code] = found
    return fallback[code]


def _check_draw_input(*, period_start: dt.date, period_end: dt.date, share: Decimal | None, per_window: int | None) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(period_start, dt.date) or not isinstance(period_end, dt.date):
        errors["period_start"] = [_("Give the period as two dates.")]
    elif period_end < period_start:
        errors["period_end"] = [_("The period ends before it starts.")]
    if (share is None) == (per_window is None):
        errors["share"] = [_("Give either a share per window or a number per window, not both.")]
    elif share is not None and not (Decimal(0) < share <= Decimal(1)):
        errors["share"] = [_("The share must be more than 0 and at most 1 (e.g. 0.1 for 10 %).")]
    elif per_window is not None and not (0 < per_window <= 10000):
        errors["per_window"] = [_("The number per window must be between 1 and 10000.")]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def callback_round_draw(*, division: Division, name: str, period_start: dt.date, period_end: dt.date,
                        share: Decimal | float | str | None = None, per_window: int | None = None, seed: int | None = None,
                        by: AbstractBaseUser, ip: str | None = None) -> CallbackRound:
    """Draws a round over the applications decided in [period_start, period_end] (local dates) in
    `division` and below, per window: `share` of them (rounded up) or `per_window`, at least one
    where a window has any. Applicants already drawn in a round whose period overlaps are left
    out, and nobody is drawn twice in one round."""
    if not may_draw(by, division):
        raise NotPermitted(_("Only a call-back surveyor of this area may draw a round."))
    if share is not None:
        try:
            share = Decimal(str(share))
        except InvalidOperation as exc:
            raise ValidationError({"share": [_("The share must be a number.")]}) from exc
        if not share.is_finite():
            raise ValidationError({"share": [_("The share must be a number.")]})
    if per_window is not None and (isinstance(per_window, bool) or not isinstance(per_window, int)):
        raise ValidationError({"per_window": [_("The number per window must be a whole number.")]})
    _check_draw_input(period_start=period_start, period_end=period_end, share=share, per_window=per_window)
    if seed is None:
        seed = secrets.randbits(63)
    # Two surveyors drawing at once (e.g. the province and a county) would each miss the other's
    # applicants in the overlap exclusion: draws wait for each other until the transaction ends.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [DRAW_LOCK])
    with history(by=by, ip=ip, action="callback_round_drawn"):
        round_ = CallbackRound(division=division, name=name, period_start=period_start, period_end=period_end,
                               share=share, per_window=per_window, seed=seed, drawn_at=timezone.now(), drawn_by=by)
        round_.full_clean()
        round_.save()
        already = Callback.objects.filter(round__period_start__lte=period_end, round__period_end__gte=period_start).exclude(round=round_)
        accepted = ServiceEvent.objects.filter(application=OuterRef("pk"), kind=ServiceKind.ACCEPTANCE).order_by("-at", "-id")
        candidates = (
            Application.objects.filter(covered_divisions_q(division), status__in=DECIDED_STATUSES,
                                       decided_at__date__gte=period_start, decided_at__date__lte=period_end)
            .exclude(applicant__in=already.values("applicant"))
            .annotate(accepted_window=Subquery(accepted.values("window")[:1]))
            .select_related("division__parent__parent")
            .order_by("id")
        )
        per: dict[int, list[Application]] = {}
        fallback: dict[str, int | None] = {}
        for application in candidates:
            window_id = _window_of(application, application.accepted_window, fallback)
            if window_id is not None:
                per.setdefault(window_id, []).append(application)
        rng = random.Random(seed)  # noqa: S311  (a survey sample, reproducible on purpose; not a secret)
        taken: set[int] = set()
        calls = []
        for window_id in sorted(per):
            pool = per[window_id]
            want = max(1, math.ceil(share * len(pool))) if share is not None else min(per_window, len(pool))
            order = rng.sample(pool, len(pool))
            for application in order:
                if want == 0:
                    break
                if application.applicant_id in taken:
                    continue
                taken.add(application.applicant_id)
                calls.append(Callback(round=round_, application=application, applicant_id=application.applicant_id, window_id=window_id))
                want -= 1
        for call in calls:
            call.full_clean(validate_constraints=False)
        Callback.objects.bulk_create(calls)
    return round_


def _locked(call: Callback) -> Callback:
    return Callback.objects.select_for_update().select_related("round__division", "application").get(pk=call.pk)


@transaction.atomic
def callback_reveal_phone(*, call: Callback, by: AbstractBaseUser, ip: str | None = None) -> str:
    """Shows the applicant's number to a caller of the round's area. The first caller to reveal it
    takes the call; from then on only they get the number. Every reveal is a history row."""
    with history(by=by, ip=ip, action="callback_phone_revealed"):
        call = _locked(call)
        if not is_caller_for(by, call.round.division):
            raise NotPermitted(_("Only a call-back surveyor of this area may see the number."))
        if call.caller_id is not None and call.caller_id != by.pk:
            raise NotPermitted(_("Another surveyor has taken this call."))
        call.caller = by
        call.phone_revealed_at = timezone.now()
        call.full_clean()
        call.save(update_fields=["caller", "phone_revealed_at"])
    return call.application.contact_phone


@transaction.atomic
def callback_record(*, call: Callback, by: AbstractBaseUser, outcome: str, stars: int | None = None, suggestions: str = "",
                    follow_up: bool = False, ip: str | None = None) -> Callback:
    """Records the call once: its outcome, and when the applicant was reached their satisfaction
    (1–5 stars, required then and only then), suggestions and whether it needs following up."""
    with history(by=by, ip=ip, action="callback_recorded"):
        call = _locked(call)
        if not is_caller_for(by, call.round.division):
            raise NotPermitted(_("Only a call-back surveyor of this area may record calls."))
        if call.caller_id is None:
            raise StateConflict(_("Reveal the number first: that takes the call."))
        if call.caller_id != by.pk:
            raise NotPermitted(_("Another surveyor has taken this call."))
        if call.outcome != CallOutcome.PENDING:
            raise StateConflict(_("This call has already been recorded."))
        errors: dict[str, list[str]] = {}
        if outcome not in CallOutcome.values or outcome == CallOutcome.PENDING:
            errors["outcome"] = [_("Choose how the call went.")]
        elif outcome == CallOutcome.REACHED:
            if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
                errors["stars"] = [_("Give the satisfaction (1 to 5 stars) of the applicant reached.")]
        elif stars is not None:
            errors["stars"] = [_("Satisfaction is recorded only when the applicant was reached.")]
        suggestions = (suggestions or "").strip()
        if len(suggestions) > SUGGESTIONS_MAX:
            errors["suggestions"] = [_("At most %(n)d characters.") % {"n": SUGGESTIONS_MAX}]
        if errors:
            raise ValidationError(errors)
        call.outcome = outcome
        call.stars = stars if outcome == CallOutcome.REACHED else None
        call.suggestions = suggestions
        call.follow_up = bool(follow_up)
        call.called_at = timezone.now()
        call.full_clean()
        call.save()
    return call
