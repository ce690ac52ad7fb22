"""The call-back pages' links on the hall's landing page, for the roles that have them (the page's
view stays as it is)."""

from __future__ import annotations

from django import template

from approvals.hall.selectors.callbacks import caller_divisions, headed_windows

register = template.Library()


@register.inclusion_tag("hall/_callback_staff_links.html", takes_context=True)
def callback_staff_links(context) -> dict:
    """Surveys for call-back surveyors (and administrators), results for the heads of windows."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"surveys": False, "results": False}
    return {"surveys": bool(caller_divisions(user)), "results": bool(headed_windows(user))}
