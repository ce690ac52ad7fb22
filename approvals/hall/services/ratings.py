"""Ratings (好差评) of service events, the window's rating tablet (评价器), and the follow-up of bad
ratings (差评核实整改) by the window's head.

Rules (docs/public-side.md, /work/shared/reference/ratings.md): one rating per service event
(the database's unique key is the last word; the event row is locked first so that two submits at
once give one rating and one clear "already rated"); ratings are never made by staff; tags come
from the versioned set in force (approvals.hall.tags); a rating of BAD_AT_MOST stars or fewer opens
a follow-up case due ONEMAP_FOLLOW_UP_DAYS working days later, which only the head of the window
verifies, rectifies and answers (in that order).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from contextlib import contextmanager

import pghistory
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals.choices import Role
from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.choices import BAD_AT_MOST, FollowUpState, RatingChannel, ServiceKind
from approvals.hall.models import FollowUpCase, Officer, Rating, ServiceEvent, Window
from approvals.hall.services.events import service_event_record, serving_window
from approvals.hall.tags import current_tag_set, tag_choices
from approvals.models import Membership
from approvals.permissions import memberships
from approvals.workdays import WorkdayCalendar

COMMENT_MAX = 500
FOLLOW_UP_TEXT_MAX = 2000
# The tablet asks for a rating for this long after the clerk's "service done"; after that the
# visitor has gone and the tablet returns to its waiting screen.
KIOSK_ASK_MINUTES = 10
# Pairing keys: 16 characters from an alphabet without look-alikes (no 0/O, 1/I/L), 80 bits, typed
# once on the tablet. Random and long, so a plain SHA-256 is enough to store them (nothing to
# brute-force as with a chosen password) and lets the tablet's key be looked up directly.
KEY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
KEY_LENGTH = 16


@contextmanager
def _audit(*, by: AbstractBaseUser | None, ip: str | None, action: str):
    """pghistory context like approvals.services.common.history, also for anonymous raters."""
    with pghistory.context(user=by.pk if by is not None else None, ip=ip, action=action):
        yield


def is_staff_member(user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """Staff may not rate: a Django staff account or any membership other than applicant."""
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or Membership.objects.filter(user=user).exclude(role=Role.APPLICANT).exists())


def clean_stars(stars: object) -> int:
    if isinstance(stars, bool) or not isinstance(stars, int | str):
        raise ValidationError(_("Choose one to five stars."), code="stars")
    try:
        value = int(str(stars).strip())
    except ValueError as exc:
        raise ValidationError(_("Choose one to five stars."), code="stars") from exc
    if not 1 <= value <= 5:
        raise ValidationError(_("Choose one to five stars."), code="stars")
    return value


def clean_tags(tags: object, *, channel: str) -> list[str]:
    allowed = [code for code, _label in tag_choices(channel)]
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise ValidationError(_("Unknown rating tag."), code="tags")
    unknown = [t for t in tags if t not in allowed]
    if unknown:
        raise ValidationError(_("Unknown rating tag."), code="tags")
    # stored in the set's order, each once
    return [code for code in allowed if code in tags]


def clean_comment(comment: object, *, limit: int = COMMENT_MAX) -> str:
    if not isinstance(comment, str):
        raise ValidationError(_("The comment must be text."), code="comment")
    text = comment.strip()
    if len(text) > limit:
        raise ValidationError(_("Keep the text to %(limit)d characters.") % {"limit": limit}, code="too_long")
    return text


@transaction.atomic
def rating_give(*, event: ServiceEvent, stars: int | str, tags: list[str], comment: str, channel: str,
                by: AbstractBaseUser | None = None, ip: str | None = None) -> Rating:
    """Records the one rating of `event`. A bad rating opens its follow-up case for the window."""
    if is_staff_member(by):
        raise NotPermitted(_("Staff cannot rate a service."))
    if channel not in RatingChannel.values:
        raise ValidationError(_("Unknown rating channel."), code="channel")
    value = clean_stars(stars)
    kept_tags = clean_tags(tags, channel=channel)
    text = clean_comment(comment)
    with _audit(by=by, ip=ip, action="hall.rating_given"):
        # Lock the event: a second submit waits here, then finds the first one's rating.
        locked = ServiceEvent.objects.select_for_update().select_related("window").get(pk=event.pk)
        if Rating.objects.filter(event=locked).exists():
            raise StateConflict(_("This service has already been rated."))
        now = timezone.now()
        rating = Rating(event=locked, stars=value, tags=kept_tags, tag_set=current_tag_set(), comment=text, channel=channel, at=now)
        rating.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                rating.save()
        except IntegrityError as exc:  # the unique key, should a writer skip the lock
            raise StateConflict(_("This service has already been rated.")) from exc
        if value <= BAD_AT_MOST:
            follow_up_open(rating=rating, now=now)
        return rating


def follow_up_open(*, rating: Rating, now: dt.datetime) -> FollowUpCase:
    """The bad rating's case, due FOLLOW_UP_DAYS working days later. The window's head sees it on
    "My window" (no inbox notice: notifications belong to an application, a consultation has none)."""
    case = FollowUpCase(rating=rating, window=rating.event.window, opened_at=now,
                        due_at=WorkdayCalendar().add_working_days(now, settings.ONEMAP_FOLLOW_UP_DAYS))
    case.full_clean()
    case.save()
    return case


def is_head_of(user: AbstractBaseUser | AnonymousUser | None, window: Window) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active
                and Officer.objects.filter(user=user, is_head=True, window=window).exists())


def _follow_up_step(*, case: FollowUpCase, by: AbstractBaseUser, text: str, expect: str, ip: str | None, action: str) -> FollowUpCase:
    if not is_head_of(by, case.window):
        raise NotPermitted(_("Only the head of this window handles its follow-up cases."))
    kept = clean_comment(text, limit=FOLLOW_UP_TEXT_MAX)
    if not kept:
        raise ValidationError(_("Write what was done."), code="required")
    with _audit(by=by, ip=ip, action=action):
        locked = FollowUpCase.objects.select_for_update().get(pk=case.pk)
        if locked.state != expect:
            raise StateConflict(_("This follow-up case is no longer at that step; your action was not applied."))
        now = timezone.now()
        if expect == FollowUpState.OPEN:
            locked.verification, locked.verified_at, locked.state = kept, now, FollowUpState.VERIFIED
        elif expect == FollowUpState.VERIFIED:
            locked.rectification, locked.rectified_at, locked.state = kept, now, FollowUpState.RECTIFIED
        else:
            locked.reply, locked.closed_at, locked.state = kept, now, FollowUpState.CLOSED
        locked.handled_by = by
        locked.full_clean()
        locked.save()
        return locked


@transaction.atomic
def follow_up_verify(*, case: FollowUpCase, by: AbstractBaseUser, verification: str, ip: str | None = None) -> FollowUpCase:
    """The head records what the check of the complaint found (open → verified)."""
    return _follow_up_step(case=case, by=by, text=verification, expect=FollowUpState.OPEN, ip=ip, action="hall.follow_up_verified")


@transaction.atomic
def follow_up_rectify(*, case: FollowUpCase, by: AbstractBaseUser, rectification: str, ip: str | None = None) -> FollowUpCase:
    """The head records what was changed (verified → rectified)."""
    return _follow_up_step(case=case, by=by, text=rectification, expect=FollowUpState.VERIFIED, ip=ip, action="hall.follow_up_rectified")


@transaction.atomic
def follow_up_reply(*, case: FollowUpCase, by: AbstractBaseUser, reply: str, ip: str | None = None) -> FollowUpCase:
    """The head records the answer given to the rater, which closes the case (rectified → closed)."""
    return _follow_up_step(case=case, by=by, text=reply, expect=FollowUpState.RECTIFIED, ip=ip, action="hall.follow_up_replied")


def window_of_clerk(user: AbstractBaseUser | AnonymousUser | None) -> tuple[Window | None, Officer | None]:
    """The window a member of staff serves at: their officer record's, else (a clerk not yet on a
    board) the window of a division they clerk for. (None, None) for everyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None, None
    officer = Officer.objects.select_related("window", "window__division").filter(user=user).first()
    if officer is not None:
        return officer.window, officer
    if not memberships(user, Role.CLERK).exists():
        return None, None
    return serving_window(by=user)


def kiosk_asked_is_fresh(event: ServiceEvent, *, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return event.kiosk_asked_at is not None and event.kiosk_asked_at >= now - dt.timedelta(minutes=KIOSK_ASK_MINUTES)


@transaction.atomic
def service_done(*, event: ServiceEvent, by: AbstractBaseUser, ip: str | None = None) -> ServiceEvent:
    """The clerk finished serving: the window's tablet now asks the visitor to rate `event`. Only the
    event's officer or a clerk of the same window; asking again is possible once an ask expired."""
    window, _officer = window_of_clerk(by)
    served_it = event.officer_id is not None and event.officer.user_id == by.pk
    if not served_it and (window is None or window.pk != event.window_id):
        raise NotPermitted(_("Only the staff of this window can ask for its rating."))
    with _audit(by=by, ip=ip, action="hall.kiosk_asked"):
        locked = ServiceEvent.objects.select_for_update().get(pk=event.pk)
        if Rating.objects.filter(event=locked).exists():
            raise StateConflict(_("This service has already been rated."))
        if kiosk_asked_is_fresh(locked):
            raise StateConflict(_("The rating tablet is already asking for this service."))
        locked.kiosk_asked_at = timezone.now()
        locked.full_clean()
        locked.save(update_fields=["kiosk_asked_at"])
        return locked


@transaction.atomic
def consultation_record(*, by: AbstractBaseUser, ip: str | None = None) -> ServiceEvent:
    """A consultation at the window (no application): recorded and asked on the tablet at once."""
    window, _officer = window_of_clerk(by)
    if window is None:
        raise NotPermitted(_("You do not serve at a window."))
    with _audit(by=by, ip=ip, action="hall.consultation"):
        event = service_event_record(kind=ServiceKind.CONSULTATION, by=by)
        if event is None:
            raise NotPermitted(_("You do not serve at a window."))
        event.kiosk_asked_at = timezone.now()
        event.save(update_fields=["kiosk_asked_at"])
        return event


def key_hash(key: str) -> str:
    return "sha256$" + hashlib.sha256(normalise_key(key).encode()).hexdigest()


def normalise_key(key: str) -> str:
    """What the tablet's user typed, without spaces, dashes and case."""
    return "".join(ch for ch in key.upper() if ch.isalnum())


@transaction.atomic
def kiosk_key_issue(*, window: Window) -> str:
    """A new pairing key for `window`, replacing the old one (tablets paired with it stop)."""
    key = "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))
    locked = Window.objects.select_for_update().get(pk=window.pk)
    locked.kiosk_key_hash = key_hash(key)
    locked.save(update_fields=["kiosk_key_hash"])
    window.kiosk_key_hash = locked.kiosk_key_hash
    return "-".join(key[i:i + 4] for i in range(0, KEY_LENGTH, 4))


@transaction.atomic
def kiosk_pair(*, window: Window, by: AbstractBaseUser, ip: str | None = None) -> str:
    """The window head's new tablet key, shown once (only its hash is kept)."""
    if not is_head_of(by, window):
        raise NotPermitted(_("Only the head of this window can pair its rating tablet."))
    with _audit(by=by, ip=ip, action="hall.kiosk_paired"):
        return kiosk_key_issue(window=window)


def kiosk_window_for_key(key: str) -> Window | None:
    """The open window whose tablet key this is, if any."""
    if not isinstance(key, str) or len(normalise_key(key)) != KEY_LENGTH:
        return None
    return Window.objects.filter(kiosk_key_hash=key_hash(key), active=True).first()
