from django.contrib import admin

from approvals.models import Application, ApplicationEvent, CalendarOverride, Membership


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


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "note"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"

    def changelist_view(self, request, extra_context=None):
        from django.contrib import messages
        from django.utils import timezone
        from django.utils.translation import gettext as _

        from approvals.workdays import years_without_official_data

        this_year = timezone.localdate().year
        missing = years_without_official_data(range(this_year, this_year + 3))
        if missing:
            messages.warning(
                request,
                _("No official holiday data and no overrides for %(years)s: deadlines there count Monday–Friday only. Enter that year's holidays and make-up working days here.")
                % {"years": ", ".join(map(str, missing))},
            )
        return super().changelist_view(request, extra_context)
