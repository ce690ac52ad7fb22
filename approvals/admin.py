from django.contrib import admin

from approvals.models import Application, ApplicationEvent, Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "division", "department"]
    list_filter = ["role", "division"]


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "ip_address", "action", "from_status", "to_status", "comment"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "kind", "status", "current_level", "division", "green_channel", "submitted_at"]
    list_filter = ["status", "kind", "current_level", "green_channel"]
    search_fields = ["reference", "title"]
    exclude = ["site", "touched_parcels"]
    readonly_fields = ["reference", "applicant", "division", "status", "current_level", "site_area_m2", "submitted_at", "decided_at"]
    inlines = [EventInline]
