"""Enumerations of the approval domain (docs/domain.md, "Application kinds" and "Levels and routing")."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# Codes of the kinds seeded by migration 0004 (kinds themselves are data: approvals.ApplicationKind).
CONSTRUCTION_LAND = "construction_land"
RURAL_HOMESTEAD = "rural_homestead"
REGISTRATION = "registration"


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Awaiting window acceptance")
    RETURNED = "returned", _("Returned to applicant")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


DECIDED_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)
OPEN_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW)


class Level(models.TextChoices):
    # 部·省·市·县·所: the township land station (乡镇国土所) is the county bureau's outpost in a town.
    STATION = "station", _("Township land station")
    COUNTY = "county", _("County")
    CITY = "city", _("City")
    PROVINCE = "province", _("Province")
    NATION = "nation", _("Ministry")


class Role(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    CLERK = "clerk", _("Window clerk")
    REVIEWER = "reviewer", _("Level reviewer")
    DEPARTMENT_REVIEWER = "department_reviewer", _("Department reviewer")
    PLANNER = "planner", _("Planner")
    # Rings applicants back for the satisfaction survey (万人评窗口) in the division and below.
    CALLER = "caller", _("Call-back surveyor")
    ADMIN = "admin", _("Administrator")


LEVEL_OF_DIVISION = {"station": Level.STATION, "county": Level.COUNTY, "city": Level.CITY, "province": Level.PROVINCE,
                     "nation": Level.NATION}
LEVEL_ORDER = [Level.STATION, Level.COUNTY, Level.CITY, Level.PROVINCE, Level.NATION]


class StepState(models.TextChoices):
    PENDING = "pending", _("Sent, awaiting receipt")
    PRESIGNED = "presigned", _("Pre-signed")
    ACCEPTED = "accepted", _("Accepted, in review")
    CLOSED = "closed", _("Closed")


class StepOutcome(models.TextChoices):
    FORWARDED = "forwarded", _("Approved and forwarded")
    APPROVED = "approved", _("Final approval")
    REJECTED = "rejected", _("Rejected")
    RETURNED_DOWN = "returned_down", _("Returned to the level below")
    RETURNED_APPLICANT = "returned_applicant", _("Returned to the applicant")


class TaskRole(models.TextChoices):
    LEAD = "lead", _("Lead department")
    COOPERATING = "cooperating", _("Cooperating department")


class EventAction(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    RESUBMITTED = "resubmitted", _("Corrected and resubmitted")
    OVERLAP_COMPUTED = "overlap_computed", _("Overlap report computed")
    DOCUMENT_ADDED = "document_added", _("Document added")
    WINDOW_ACCEPTED = "window_accepted", _("Accepted at the window")
    WINDOW_RETURNED = "window_returned", _("Returned by the window")
    PRESIGNED = "presigned", _("Pre-signed")
    ACCEPTED = "accepted", _("Accepted at level")
    MODIFIED = "modified", _("Modified")
    RETURNED_DOWN = "returned_down", _("Returned to the level below")
    RETURNED = "returned", _("Returned to the applicant")
    TASKS_ASSIGNED = "tasks_assigned", _("Departments assigned")
    OPINION = "opinion", _("Department opinion")
    CONSOLIDATED = "consolidated", _("Lead department consolidated")
    FORWARDED = "forwarded", _("Approved and forwarded")
    APPROVED = "approved", _("Final approval")
    REJECTED = "rejected", _("Rejected")


class NotificationKind(models.TextChoices):
    NEW_TASK = "new_task", _("New task")
    RETURNED = "returned", _("Returned")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    DECIDED = "decided", _("Decided")


class AgentReason(models.TextChoices):
    """Why a clerk carries a case for the applicant (代办 / 上门服务)."""

    MIGRANT_WORKER = "migrant_worker", _("Migrant worker away from home")
    ELDERLY_FRAIL = "elderly_frail", _("Elderly or frail")
    REMOTE_VILLAGE = "remote_village", _("Remote village")
    OTHER = "other", _("Other")
