"""Template tags the shared pages use to show the register's part: the "Register and issue
certificate" action on a registration case, its certificates, and the dashboard's minutes panel."""

from __future__ import annotations

from django import template

from approvals.permissions import allowed
from approvals.registry import selectors
from approvals.registry.models import Certificate

register = template.Library()


@register.inclusion_tag("registry/_application_actions.html", takes_context=True)
def registry_actions(context, application) -> dict:
    user = context["request"].user
    certificates = []
    if application.kind_id == "registration" and allowed(user, "registry.view_register", application):
        certificates = list(Certificate.objects.filter(right__application=application).select_related("right__parcel").order_by("issued_at", "id"))
    return {"application": application, "can_register": selectors.registration_cases(user=user, application=application),
            "certificates": certificates}


@register.inclusion_tag("registry/_minutes_panel.html", takes_context=True)
def registration_minutes_panel(context) -> dict:
    return {"rows": selectors.registration_minutes(user=context["request"].user)}
