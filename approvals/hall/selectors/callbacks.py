"""Reads for the call-back surveys: the rounds a caller may see, a round's call list (numbers
masked except to the caller who took the call), a window head's results (no numbers at all) and the
dashboard's outcome summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from approvals.choices import Role
from approvals.hall.choices import SATISFIED_FROM, CallOutcome
from approvals.hall.models import Callback, CallbackRound, Officer
from approvals.permissions import covered_divisions_q, memberships
from parcels.models import Division


def mask_phone(phone: str) -> str:
    """138****5678: the first three and the last four digits, the rest hidden (shorter numbers
    keep only their last two). The one masking rule for phones on every page."""
    phone = (phone or "").strip()
    if not phone:
        return ""
    if len(phone) >= 8:
        return f"{phone[:3]}****{phone[-4:]}"
    return "****" + phone[-2:] if len(phone) > 4 else "****"


def caller_divisions(user: AbstractBaseUser | AnonymousUser) -> list[Division]:
    """The divisions a user may draw rounds for: their caller divisions, or an administrator's."""
    found = [m.division for m in memberships(user, Role.CALLER)]
    found += [m.division for m in memberships(user, Role.ADMIN)]
    return list({d.code: d for d in found}.values())


def rounds_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[CallbackRound]:
    """Rounds whose scope lies inside a division the user surveys (or administers)."""
    divisions = caller_divisions(user)
    if not divisions:
        return CallbackRound.objects.none()
    q = Q(pk__in=[])
    for division in divisions:
        scope = covered_divisions_q(division)
        if not scope:  # the nation: every round (an empty Q would vanish from the OR)
            q = Q()
            break
        q |= scope
    return (CallbackRound.objects.filter(q).select_related("division", "drawn_by")
            .annotate(n_calls=Count("calls"), n_done=Count("calls", filter=~Q(calls__outcome=CallOutcome.PENDING)))
            .order_by("-drawn_at", "-id"))


def round_get(*, user: AbstractBaseUser | AnonymousUser, pk: int) -> CallbackRound:
    """A round the user may see; 404 otherwise (the same answer as for no such round)."""
    round_ = rounds_for(user).filter(pk=pk).first()
    if round_ is None:
        raise Http404("no such round")
    return round_


@dataclass(frozen=True)
class CallRow:
    call: Callback
    masked_phone: str
    # the full number, only for the caller who took the call by revealing it
    phone: str = ""
    mine: bool = False
    taken_by_other: bool = False


def round_calls(*, round_: CallbackRound, user: AbstractBaseUser) -> list[CallRow]:
    calls = round_.calls.select_related("window__division", "application", "caller").order_by("window__division__code", "window__code", "id")
    rows = []
    for call in calls:
        mine = call.caller_id == user.pk
        revealed = mine and call.phone_revealed_at is not None
        rows.append(CallRow(call=call, masked_phone=mask_phone(call.application.contact_phone),
                            phone=call.application.contact_phone if revealed else "", mine=mine,
                            taken_by_other=call.caller_id is not None and not mine))
    return rows


def headed_windows(user: AbstractBaseUser | AnonymousUser) -> list[int]:
    """The windows the user heads (Officer.is_head)."""
    if not user.is_authenticated:
        return []
    return list(Officer.objects.filter(user=user, is_head=True).values_list("window_id", flat=True))


def head_results(*, window_ids: list[int]) -> QuerySet[Callback]:
    """Recorded calls of the head's windows: outcome, stars, suggestions, follow-up; the template
    shows no phone and no applicant name."""
    return (Callback.objects.filter(window_id__in=window_ids).exclude(outcome=CallOutcome.PENDING)
            .select_related("round", "application", "window").order_by("-called_at", "-id"))


@dataclass(frozen=True)
class CallbackSummary:
    """Counts per outcome (every CallOutcome value, zero included), mean stars of the reached calls
    (None without any) and how many calls need a follow-up."""

    by_outcome: dict[str, int] = field(default_factory=dict)
    total: int = 0
    mean_stars: float | None = None
    follow_ups: int = 0
    satisfied: int = 0


def callback_outcomes(*, division: Division, since: dt.date | dt.datetime) -> CallbackSummary:
    """Call-backs of windows in `division` and below: recorded since `since` (local date or
    moment), plus the still pending calls of rounds drawn since then."""
    if not isinstance(since, dt.datetime):
        since = timezone.make_aware(dt.datetime.combine(since, dt.time.min))
    calls = Callback.objects.filter(covered_divisions_q(division, "window__division")).filter(
        Q(called_at__gte=since) | Q(outcome=CallOutcome.PENDING, round__drawn_at__gte=since))
    counts = dict(calls.values_list("outcome").annotate(n=Count("id")).order_by())
    totals = calls.aggregate(mean=Avg("stars", filter=Q(outcome=CallOutcome.REACHED)), follow_ups=Count("id", filter=Q(follow_up=True)),
                             satisfied=Count("id", filter=Q(outcome=CallOutcome.REACHED, stars__gte=SATISFIED_FROM)))
    by_outcome = {value: counts.get(value, 0) for value in CallOutcome.values}
    mean = totals["mean"]
    return CallbackSummary(by_outcome=by_outcome, total=sum(by_outcome.values()), mean_stars=float(mean) if mean is not None else None,
                           follow_ups=totals["follow_ups"], satisfied=totals["satisfied"])
