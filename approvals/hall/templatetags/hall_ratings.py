"""Template helpers of the ratings: stars as text, level names, tag labels, and the clerk's
"service done" button on the application page (computed here so the page's view stays as it is)."""

from __future__ import annotations

from django import template

from approvals.hall.choices import Stars
from approvals.hall.models import Rating, ServiceEvent
from approvals.hall.services.ratings import kiosk_asked_is_fresh, window_of_clerk
from approvals.hall.tags import tag_labels

register = template.Library()


@register.filter
def star_text(stars: int | None) -> str:
    """★★★★☆ for 4 (whole stars; None or 0 gives five empty ones)."""
    n = max(0, min(5, int(stars or 0)))
    return "★" * n + "☆" * (5 - n)


@register.filter
def star_level(stars: int | None) -> str:
    """The level's name (非常满意 … 非常不满意) in the reader's language."""
    try:
        return str(Stars(int(stars)).label)
    except (TypeError, ValueError):
        return ""


@register.filter
def rating_tags(rating: Rating) -> str:
    return "、".join(tag_labels(rating.channel, list(rating.tags or []), rating.tag_set))


@register.inclusion_tag("hall/_service_done.html", takes_context=True)
def service_done_button(context, application) -> dict:
    """For the clerk of the window that served this case: ask the tablet to rate its latest
    unrated service, or say that it is asking."""
    request = context.get("request")
    user = getattr(request, "user", None)
    window, _officer = window_of_clerk(user)
    if window is None:
        return {"event": None}
    event = (ServiceEvent.objects.filter(application=application, window=window, rating__isnull=True)
             .order_by("-at", "-id").first())
    if event is None:
        return {"event": None}
    return {"event": event, "asking": kiosk_asked_is_fresh(event), "csrf_token": context.get("csrf_token"),
            "next": request.get_full_path()}


@register.inclusion_tag("hall/_rate_links_list.html", takes_context=True)
def rate_links(context, application_id: int | None) -> dict:
    """The queried case's window services, each with its stars or a "Rate this service" link;
    only for a visitor whose session holds the query grant of that case."""
    from approvals.hall.access import query_granted

    request = context.get("request")
    if request is None or not application_id or not query_granted(request, application_id):
        return {"events": []}
    events = (ServiceEvent.objects.filter(application_id=application_id).select_related("window", "rating")
              .order_by("at", "id"))
    return {"events": list(events)}


@register.inclusion_tag("hall/_staff_links.html", takes_context=True)
def hall_staff_links(context) -> dict:
    """The rating pages of the hall's home "For staff" section: My window for the staff of a
    window, and the staff boards the user may open."""
    from approvals.hall.selectors.scores import windows_for_staff

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"window": None, "boards": []}
    window, _officer = window_of_clerk(user)
    return {"window": window, "boards": windows_for_staff(user)}
