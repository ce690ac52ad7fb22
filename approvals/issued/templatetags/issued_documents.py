"""The application page's "Issued documents" card (computed here so the page's view stays as it is)."""

from __future__ import annotations

from django import template

from approvals.issued.selectors import documents_for

register = template.Library()


@register.inclusion_tag("issued/_documents.html", takes_context=True)
def issued_documents(context, application) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    documents = documents_for(user=user, application=application) if user is not None and user.is_authenticated else []
    return {"application": application, "documents": documents}
