from django.contrib import admin

from approvals.models import (
    Application,
    ApplicationEvent,
    ApplicationKind,
    CalendarOverride,
    Department,
    DepartmentTask,
    Membership,
    Notification,
    RequiredDocument,
    ReviewStep,
    RouteStep,
)


class RouteStepInline(admin.TabularInline):
    model = RouteStep
    extra = 0
    fields = ["order", "level", "days", "green_days"]


class RequiredDocumentInline(admin.TabularInline):
    model = RequiredDocument
    extra = 0
    fields = ["code", "name", "name_en"]


@admin.register(ApplicationKind)
class ApplicationKindAdmin(admin.ModelAdmin):
    """Kinds are data: their route of levels, limits (working days) and required documents."""

    list_display = ["code", "name", "name_en", "statutory_days", "promised_days", "green_promised_days", "active"]
    list_editable = ["active"]
    inlines = [RouteStepInline, RequiredDocumentInline]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["division", "name", "name_en"]
    list_filter = ["division"]
    search_fields = ["name", "name_en"]


class ReadOnlyInline(admin.TabularInline):
    """Rows written only by the workflow services: shown, never added, changed or deleted here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class TaskInline(ReadOnlyInline):
    model = DepartmentTask
    fields = ["department", "role", "due_at", "agrees", "opinion", "answered_at", "escalated"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """An admin that only reads: the records change through their services (audit, numbering,
    lineage) or never (append-only tables). Used by the nested apps' admins too."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReviewStep)
class ReviewStepAdmin(ReadOnlyAdmin):
    """Read-only: steps change only through the workflow services (so the audit stays whole)."""

    list_display = ["application", "number", "level", "division", "state", "outcome", "due_at"]
    list_filter = ["level", "state", "outcome"]
    inlines = [TaskInline]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "application", "kind", "created_at", "read_at"]
    list_filter = ["kind"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "division", "department"]
    autocomplete_fields = ["department"]
    list_filter = ["role", "division"]


class EventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ["at", "actor", "ip_address", "action", "from_status", "to_status", "comment"]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Read-only: applications change only through the workflow services (so the audit stays whole)."""

    list_display = ["reference", "title", "kind", "status", "current_level", "division", "green_channel", "submitted_at", "promised_due"]
    list_filter = ["status", "kind", "current_level", "green_channel"]
    search_fields = ["reference", "title"]
    exclude = ["site", "touched_parcels"]
    inlines = [EventInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
