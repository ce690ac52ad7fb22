"""Enumerations of the service hall (the rating rules: docs/public-side.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ServiceKind(models.TextChoices):
    """A service the public receives at a window; each one can be rated once."""

    ACCEPTANCE = "acceptance", _("Application accepted")
    RETURN = "return", _("Application returned with reasons")
    CERTIFICATE = "certificate", _("Certificate handed over")
    CONSULTATION = "consultation", _("Consultation")


class Stars(models.IntegerChoices):
    """The five levels of 好差评 (GB/T 39735-2020); 1–2 stars are a bad rating (差评)."""

    VERY_SATISFIED = 5, _("Very satisfied")
    SATISFIED = 4, _("Satisfied")
    FAIRLY_SATISFIED = 3, _("Fairly satisfied")
    DISSATISFIED = 2, _("Dissatisfied")
    VERY_DISSATISFIED = 1, _("Very dissatisfied")


# Ratings at or below this are bad (差评) and open a follow-up case; at or above SATISFIED_FROM
# they count as satisfied in the satisfaction rate (非常满意 + 满意 + 基本满意).
BAD_AT_MOST = 2
SATISFIED_FROM = 3


class RatingChannel(models.TextChoices):
    KIOSK = "kiosk", _("Window rating tablet")
    ONLINE = "online", _("Receipt or query page")


class FollowUpState(models.TextChoices):
    OPEN = "open", _("Open: to verify")
    VERIFIED = "verified", _("Verified: to rectify")
    RECTIFIED = "rectified", _("Rectified: to reply")
    CLOSED = "closed", _("Replied and closed")


class ReceiptKind(models.TextChoices):
    ACCEPTANCE = "acceptance", _("Acceptance receipt")
    RETURN = "return", _("Return notice (一次性告知)")


class CallOutcome(models.TextChoices):
    PENDING = "pending", _("Not called yet")
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    REFUSED = "refused", _("Refused")


class AppointmentState(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("Did not come")
    ATTENDED = "attended", _("Attended")

