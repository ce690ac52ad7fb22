"""Reads of the approval domain, always through the permission rules."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import Http404

from approvals.choices import ApplicationStatus
from approvals.models import Application, OverlapReport
from approvals.permissions import visible_applications
from parcels.models import LayerVersion


def application_list(*, user: AbstractBaseUser) -> QuerySet[Application]:
    return visible_applications(user).select_related("division", "applicant").order_by("-green_channel", "-submitted_at")


def review_queue(*, user: AbstractBaseUser) -> QuerySet[Application]:
    """Open applications waiting at a level the user reviews (oldest first, green channel first)."""
    return (
        visible_applications(user)
        .exclude(applicant=user)
        .filter(status=ApplicationStatus.SUBMITTED)
        .select_related("division", "applicant")
        .order_by("-green_channel", "submitted_at")
    )


def application_get(*, user: AbstractBaseUser, pk: int) -> Application:
    """The application if the user may see it; 404 otherwise (no hint that it exists)."""
    try:
        return visible_applications(user).select_related("division", "applicant").get(pk=pk)
    except Application.DoesNotExist as exc:
        raise Http404("No such application") from exc


def latest_overlap_report(*, application: Application) -> OverlapReport | None:
    return application.overlap_reports.order_by("-created_at").first()


def report_is_stale(report: OverlapReport) -> bool:
    """True when some layer's active version differs from the versions the report used."""
    used = set(report.layer_versions.values_list("id", flat=True))
    active = set(LayerVersion.objects.filter(is_active=True).values_list("id", flat=True))
    return used != active
