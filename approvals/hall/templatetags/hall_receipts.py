"""{% hall_receipts application %}: the case's receipts (受理回执 / 退件告知书) as links, for those who
may see them (approvals.hall.selectors.query.receipt_viewer); nothing for anyone else."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser

from approvals.hall.selectors.query import receipts_for
from approvals.models import Application

register = template.Library()


@register.inclusion_tag("hall/_receipts.html", takes_context=True)
def hall_receipts(context, application: Application) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None) or AnonymousUser()
    return {"receipts": receipts_for(user=user, application=application)}
