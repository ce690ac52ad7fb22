"""Template tags the shared pages use to show the register's part: the "Register and issue
certificate" action on a registration case, its certificates, and the dashboard's minutes panel."""

from __future__ import annotations

from django import template

from approvals.permissions import allowed
from approvals.registry import selectors
from approvals.registry.models import Certificate
from approvals.registry.services.registration import APPROVED_KIND_RIGHT_TYPES

register = template.Library()


@register.inclusion_tag("registry/_application_actions.html", takes_context=True)
def registry_actions(context, application) -> dict:
    user = context["request"].user
    certificates = []
    if (application.kind_id == "registration" or application.kind_id in APPROVED_KIND_RIGHT_TYPES) \
            and allowed(user, "registry.view_register", application):
        certificates = list(Certificate.objects.filter(right__application=application).select_related("right__parcel").order_by("issued_at", "id"))
    can_register = (selectors.registration_cases(user=user, application=application)
                    or selectors.approved_case_registrable(user=user, application=application))
    return {"application": application, "can_register": can_register, "certificates": certificates}


@register.inclusion_tag("registry/_minutes_panel.html", takes_context=True)
def registration_minutes_panel(context) -> dict:
    return {"rows": selectors.registration_minutes(user=context["request"].user)}
