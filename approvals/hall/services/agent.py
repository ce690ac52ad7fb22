"""Agent service (代办 / 上门服务): a window clerk opens and submits an application for someone who
cannot come (a migrant worker away, an elderly villager, a remote village). The clerk names an
existing applicant account, or creates a light one (display name only, no password: the person
never logs in unless the window later sets one). The submission itself is
approvals.services.submission.application_submit(agent=…, agent_reason=…)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from approvals.choices import Role
from approvals.exceptions import NotPermitted
from approvals.hall.models import Officer
from approvals.hall.phones import phone_clean
from approvals.models import Membership
from approvals.permissions import memberships
from approvals.services.common import history

# Generated usernames of light accounts: recognisable, never a person's name or number.
LIGHT_PREFIX = "dai-"
NAME_MAX = 30


def agent_name(agent: AbstractBaseUser) -> str:
    """How the agent is named on the timeline: their name on the window's board, else their account."""
    officer = Officer.objects.filter(user=agent).only("display_name").first()
    return officer.display_name if officer else (agent.get_full_name() or agent.get_username())


def _is_staff(user: AbstractBaseUser) -> bool:
    return bool(user.is_staff or user.is_superuser or Membership.objects.filter(user=user).exclude(role=Role.APPLICANT).exists())


@transaction.atomic
def applicant_for_agent(*, by: AbstractBaseUser, username: str | None = None, name: str | None = None, phone: str | None = None,
                        ip: str | None = None) -> AbstractBaseUser:
    """The applicant a clerk acts for: the existing applicant account `username`, or a new light
    account for `name` (display name) with `phone` (validated; the caller keeps it on the
    application as its contact phone, not on the account). Staff accounts cannot be represented."""
    clerk_of = list(memberships(by, Role.CLERK))
    if not clerk_of:
        raise NotPermitted(_("Only a window clerk can act as an agent."))
    user_model = get_user_model()
    if username:
        user = user_model.objects.filter(username=username.strip()[:150], is_active=True).first()
        # one message for "no such account" and "a staff account": the field is not a directory of staff
        if user is None or _is_staff(user) or user.pk == by.pk:
            raise ValidationError(_("No applicant account has this username."), code="username")
        return user
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the applicant's existing username, or the name and phone for a new account."), code="who")
    if len(name) > NAME_MAX or any(ord(c) < 32 for c in name):
        raise ValidationError(_("The name is at most %(max)d characters on one line.") % {"max": NAME_MAX}, code="name")
    if not (phone or "").strip():
        raise ValidationError(_("A new applicant account needs a contact phone."), code="phone")
    phone_clean(phone or "")
    with history(by=by, ip=ip, action="applicant_for_agent"):
        user = user_model(username=f"{LIGHT_PREFIX}{secrets.token_hex(5)}", first_name=name)
        user.set_unusable_password()
        user.full_clean()
        user.save()
        Membership.objects.create(user=user, role=Role.APPLICANT, division=clerk_of[0].division)
    return user
