"""URLs of public notices (approvals/notices/views.py lists them)."""

from approvals.notices.views import urlpatterns

__all__ = ["urlpatterns"]
