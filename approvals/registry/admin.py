"""Admin of the register: read-only. Registering, replacing, cancelling and changing parcels go
through the services (numbering, lineage and audit happen there); geometry is never edited here
(the admin map widget would load from a CDN)."""

from django.contrib import admin

from approvals.admin import ReadOnlyAdmin
from approvals.registry.models import CadastralArea, Certificate, ParcelChange, Right


@admin.register(CadastralArea)
class CadastralAreaAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "county"]
    search_fields = ["code", "name"]
    exclude = ["boundary"]


@admin.register(Certificate)
class CertificateAdmin(ReadOnlyAdmin):
    list_display = ["number", "county", "year", "serial", "status", "issued_at"]
    list_filter = ["status", "county", "year"]
    search_fields = ["number"]
    exclude = ["verify_salt"]


@admin.register(Right)
class RightAdmin(ReadOnlyAdmin):
    list_display = ["parcel", "right_type", "land_use", "area_m2", "status", "registered_at"]
    list_filter = ["status", "right_type"]


@admin.register(ParcelChange)
class ParcelChangeAdmin(ReadOnlyAdmin):
    list_display = ["kind", "at", "by", "application"]
    list_filter = ["kind"]
