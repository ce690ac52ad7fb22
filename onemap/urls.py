from django.contrib import admin
from django.urls import include, path

from onemap.logins import self_service_reset_disabled

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before the auth URLs: no e-mailed password reset (onemap/logins.py says why).
    path("accounts/password_reset/", self_service_reset_disabled),
    path("accounts/password_reset/done/", self_service_reset_disabled),
    path("accounts/reset/<path:rest>", self_service_reset_disabled),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("approvals.hall.urls")),
    path("", include("approvals.registry.urls")),
    path("", include("approvals.notices.urls")),
    path("", include("approvals.issued.urls")),
    path("", include("maps.urls")),
]

# A database outage answers 503 with Retry-After (onemap/errors.py), not a bare 500.
handler500 = "onemap.errors.server_error"
