from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("maps.urls")),
]

# A database outage answers 503 with Retry-After (onemap/errors.py), not a bare 500.
handler500 = "onemap.errors.server_error"
