"""Windows and officers, receipts and query codes, service events and their ratings, follow-up
cases, call-back surveys, appointment slots and bookings, and the public pages' rate-limit buckets.

Invariants live in PostgreSQL: one rating per service event (unique), stars 1–5 (check), a rating
is never changed or deleted (trigger), a slot never holds more bookings than its capacity (check on
the counter every booking increments), an applicant is called at most once per round (unique).
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from approvals.hall.choices import (
    AppointmentState,
    CallOutcome,
    FollowUpState,
    RatingChannel,
    ReceiptKind,
    ServiceKind,
)
from approvals.models import Application, ApplicationKind, BilingualNameMixin
from parcels.models import Division


@pghistory.track(model_name="WindowHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class Window(BilingualNameMixin, models.Model):
    """A service window (窗口) of a division's land bureau in its service hall."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="windows", verbose_name=_("division"))
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    extended_hours = models.CharField(_("extended hours (延时服务)"), max_length=100, blank=True)
    active = models.BooleanField(_("open"), default=True)
    # The rating tablet at the window is paired by a random key shown once to the window head;
    # only its hash is kept (services.kiosk).
    kiosk_key_hash = models.CharField(max_length=128, blank=True, editable=False)

    class Meta:
        ordering = ["division", "code"]
        verbose_name = _("window")
        verbose_name_plural = _("windows")

    def __str__(self) -> str:
        return f"{self.division.name} {self.label}"


@pghistory.track(model_name="OfficerHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class Officer(models.Model):
    """A member of staff on a window's public board (党员公示栏): who serves, their duties and
    service commitment. `is_head` marks the window's head, who handles bad-rating follow-ups."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="officer")
    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="officers", verbose_name=_("window"))
    staff_number = models.CharField(_("staff number"), max_length=16, unique=True)
    display_name = models.CharField(_("name"), max_length=32)
    duties = models.CharField(_("duties"), max_length=200, blank=True)
    commitment = models.CharField(_("service commitment"), max_length=300, blank=True)
    party_member = models.BooleanField(_("party member"), default=False)
    on_duty = models.BooleanField(_("on duty"), default=True)
    is_head = models.BooleanField(_("head of the window"), default=False)

    class Meta:
        ordering = ["window", "-is_head", "staff_number"]
        verbose_name = _("officer")
        verbose_name_plural = _("officers")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.staff_number})"


class QueryAccess(models.Model):
    """The application's public query code (查询码), stored only as a password hash: the code is
    shown once, on the receipt that issues it; a new receipt or a reissue replaces it."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="query_access")
    code_hash = models.CharField(max_length=128)
    # The code is derived from this random salt under a server key (services.receipts), so the
    # receipt can be reprinted; the salt alone, as in a database leak, reveals nothing.
    salt = models.CharField(max_length=64, blank=True, editable=False)
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("query code")
        verbose_name_plural = _("query codes")


class ServiceEvent(models.Model):
    """One service the public received at a window (acceptance, return, certificate, consultation),
    rated at most once. `kiosk_asked_at` is set by the clerk's "service done": the window's tablet
    then asks for this event's rating."""

    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="events", verbose_name=_("window"))
    officer = models.ForeignKey(Officer, on_delete=models.PROTECT, null=True, blank=True, related_name="events", verbose_name=_("officer"))
    application = models.ForeignKey(Application, on_delete=models.PROTECT, null=True, blank=True, related_name="service_events")
    kind = models.CharField(_("service"), max_length=16, choices=ServiceKind.choices)
    at = models.DateTimeField(_("at"))
    kiosk_asked_at = models.DateTimeField(_("rating asked at the window"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("service event")
        verbose_name_plural = _("service events")
        constraints = [
            # Only a consultation happens without an application.
            models.CheckConstraint(condition=Q(application__isnull=False) | Q(kind=ServiceKind.CONSULTATION), name="serviceevent_application_unless_consultation"),
        ]
        indexes = [models.Index(fields=["window", "at"], name="serviceevent_window_at_idx")]


class Receipt(models.Model):
    """An acceptance receipt (受理回执) or a return notice listing every reason at once (一次性告知).
    `content` freezes what the paper said: documents received, reasons, deadlines (ISO), level."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="receipts")
    event = models.OneToOneField(ServiceEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="receipt")
    kind = models.CharField(_("kind"), max_length=16, choices=ReceiptKind.choices)
    number = models.CharField(_("receipt number"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField(_("content"), default=dict)

    class Meta:
        ordering = ["application", "issued_at", "id"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")


class Rating(models.Model):
    """A rating (好差评) of one service event: five levels, indicator tags from a versioned set,
    an optional comment. Append-only: the database refuses UPDATE and DELETE."""

    event = models.OneToOneField(ServiceEvent, on_delete=models.PROTECT, related_name="rating")
    stars = models.PositiveSmallIntegerField(_("stars"))
    tags = models.JSONField(_("about"), default=list, blank=True)
    tag_set = models.CharField(_("tag set version"), max_length=16)
    comment = models.TextField(_("comment"), max_length=500, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=RatingChannel.choices)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [models.CheckConstraint(condition=Q(stars__gte=1) & Q(stars__lte=5), name="rating_stars_1_to_5")]
        triggers = [pgtrigger.Protect(name="rating_append_only", operation=pgtrigger.Update | pgtrigger.Delete)]


@pghistory.track(model_name="FollowUpCaseHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class FollowUpCase(models.Model):
    """The follow-up of a bad rating (差评核实整改) for the window's head: verify, rectify, reply to
    the rater, each step timed against `due_at` (FOLLOW_UP_DAYS working days after the rating)."""

    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="follow_up")
    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="follow_ups")
    state = models.CharField(_("state"), max_length=16, choices=FollowUpState.choices, default=FollowUpState.OPEN)
    opened_at = models.DateTimeField(_("opened at"))
    due_at = models.DateTimeField(_("due"))
    verification = models.TextField(_("verification"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    rectification = models.TextField(_("rectification"), blank=True)
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    reply = models.TextField(_("reply to the applicant"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = _("follow-up case")
        verbose_name_plural = _("follow-up cases")
        constraints = [
            models.CheckConstraint(condition=Q(state=FollowUpState.OPEN) | Q(verified_at__isnull=False), name="followup_verified_has_time"),
            models.CheckConstraint(
                condition=Q(state__in=[FollowUpState.OPEN, FollowUpState.VERIFIED]) | Q(rectified_at__isnull=False),
                name="followup_rectified_has_time",
            ),
            models.CheckConstraint(
                condition=(Q(state=FollowUpState.CLOSED) & Q(closed_at__isnull=False) & ~Q(reply=""))
                | (~Q(state=FollowUpState.CLOSED) & Q(closed_at__isnull=True)),
                name="followup_closed_iff_replied",
            ),
        ]


class CallbackRound(models.Model):
    """A round of call-back surveys (万人评窗口) over the applications finished in a period, drawn
    at random with a stored seed so that the draw can be audited and repeated."""

    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="callback_rounds", verbose_name=_("scope"))
    name = models.CharField(_("name"), max_length=100)
    period_start = models.DateField(_("finished from"))
    period_end = models.DateField(_("finished until"))
    share = models.DecimalField(_("share drawn per window"), max_digits=4, decimal_places=3, null=True, blank=True)
    per_window = models.PositiveSmallIntegerField(_("number drawn per window"), null=True, blank=True)
    seed = models.BigIntegerField(_("random seed"))
    drawn_at = models.DateTimeField(_("drawn at"))
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-drawn_at"]
        verbose_name = _("call-back round")
        verbose_name_plural = _("call-back rounds")
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=F("period_start")), name="callbackround_period_ordered"),
            # Exactly one of share and per_window.
            models.CheckConstraint(
                condition=(Q(share__isnull=False) & Q(per_window__isnull=True) & Q(share__gt=0) & Q(share__lte=1))
                | (Q(share__isnull=True) & Q(per_window__isnull=False) & Q(per_window__gt=0)),
                name="callbackround_share_or_count",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(model_name="CallbackHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class Callback(models.Model):
    """One drawn application to call back: the caller's record of the call."""

    round = models.ForeignKey(CallbackRound, on_delete=models.PROTECT, related_name="calls")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="callbacks")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="callbacks")
    caller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=CallOutcome.choices, default=CallOutcome.PENDING)
    stars = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    suggestions = models.TextField(_("suggestions"), max_length=2000, blank=True)
    follow_up = models.BooleanField(_("needs follow-up"), default=False)
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    phone_revealed_at = models.DateTimeField(_("number revealed at"), null=True, blank=True)

    class Meta:
        ordering = ["round", "window", "id"]
        verbose_name = _("call-back")
        verbose_name_plural = _("call-backs")
        constraints = [
            models.UniqueConstraint(fields=["round", "applicant"], name="callback_once_per_round"),
            models.CheckConstraint(condition=Q(stars__isnull=True) | (Q(stars__gte=1) & Q(stars__lte=5)), name="callback_stars_1_to_5"),
            # Satisfaction is recorded only when the applicant was reached.
            models.CheckConstraint(condition=Q(outcome=CallOutcome.REACHED) | Q(stars__isnull=True), name="callback_stars_only_reached"),
            models.CheckConstraint(condition=Q(outcome=CallOutcome.PENDING) | Q(called_at__isnull=False), name="callback_called_has_time"),
        ]


@pghistory.track(model_name="SlotHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class Slot(models.Model):
    """An appointment slot (预约服务) at a window on a working day; `extended` marks extended hours.
    `booked` is incremented by every booking in the same UPDATE that checks it against capacity, and
    a check constraint makes overbooking impossible even for a writer that forgot to check."""

    window = models.ForeignKey(Window, on_delete=models.PROTECT, related_name="slots", verbose_name=_("window"))
    date = models.DateField(_("date"))
    start = models.TimeField(_("starts at"))
    end = models.TimeField(_("ends at"))
    capacity = models.PositiveSmallIntegerField(_("places"))
    booked = models.PositiveSmallIntegerField(_("booked"), default=0)
    extended = models.BooleanField(_("extended hours"), default=False)

    class Meta:
        ordering = ["window", "date", "start"]
        verbose_name = _("appointment slot")
        verbose_name_plural = _("appointment slots")
        constraints = [
            models.UniqueConstraint(fields=["window", "date", "start"], name="slot_unique_start"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="slot_ends_after_start"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
            models.CheckConstraint(condition=Q(booked__gte=0) & Q(booked__lte=F("capacity")), name="slot_not_overbooked"),
        ]


@pghistory.track(model_name="AppointmentHistory", obj_field=pghistory.ObjForeignKey(related_name="history"))
class Appointment(models.Model):
    """A booking of one place in a slot by an applicant; linked to the application once made."""

    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments")
    kind = models.ForeignKey(ApplicationKind, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("business"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=AppointmentState.choices, default=AppointmentState.BOOKED)
    application = models.ForeignKey(Application, on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments")
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)

    class Meta:
        ordering = ["slot", "id"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        constraints = [
            models.UniqueConstraint(fields=["slot", "applicant"], condition=Q(state=AppointmentState.BOOKED), name="appointment_one_per_slot"),
        ]


class RateBucket(models.Model):
    """Hits per client address (hashed) and scope in one fixed time window, for the public pages'
    rate limits. In the database, not the per-process cache, so every server worker counts the same."""

    key = models.CharField(max_length=96)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="ratebucket_unique")]
