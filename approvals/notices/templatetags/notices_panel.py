"""{% notice_panel application %}: the application page's public-notice card (state, the hold on
final approval, the publish action for the last level's reviewer, objections and their answers)."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser

from approvals.models import Application
from approvals.notices.models import ANSWER_MAX
from approvals.notices.selectors import notice_panel as panel_for

register = template.Library()


@register.inclusion_tag("notices/_panel.html", takes_context=True)
def notice_panel(context, application: Application) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None) or AnonymousUser()
    panel = panel_for(user=user, application=application)
    entries = [(n, panel.objections.get(n.pk, [])) for n in panel.notices] if panel else []
    return {"panel": panel, "entries": entries, "application": application, "request": request,
            "csrf_token": context.get("csrf_token"), "answer_max": ANSWER_MAX}
