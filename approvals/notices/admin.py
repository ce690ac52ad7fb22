from django.contrib import admin

from approvals.admin import ReadOnlyAdmin
from approvals.notices.models import Notice, NoticeRule, Objection


@admin.register(NoticeRule)
class NoticeRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "days", "active")
    list_editable = ("days", "active")


# Notices and objections are append-only records (a trigger refuses changes): read here, written by the services.
@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("number", "application", "days", "published_at", "ends_at")
    exclude = ("site",)


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ("reference", "notice", "lodged_at")
