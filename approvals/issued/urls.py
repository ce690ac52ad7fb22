"""URLs of the issued documents (approvals.issued.views lists them)."""

from approvals.issued.views import urlpatterns

__all__ = ["urlpatterns"]
