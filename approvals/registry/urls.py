"""URLs of the land register: staff pages and the public certificate verification."""

from approvals.registry.views import public, staff

urlpatterns = [*staff.urlpatterns, *public.urlpatterns]
