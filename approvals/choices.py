"""Enumerations of the approval domain (DESIGN.md §1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicationKind(models.TextChoices):
    CONSTRUCTION_LAND = "construction_land", _("Construction-land use approval")
    RURAL_HOMESTEAD = "rural_homestead", _("Rural homestead approval")
    REGISTRATION = "registration", _("Land registration and certificate")


class ApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned to applicant")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


DECIDED_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)
OPEN_STATUSES = (ApplicationStatus.SUBMITTED,)


class Level(models.TextChoices):
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
    ADMIN = "admin", _("Administrator")


class EventAction(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    OVERLAP_COMPUTED = "overlap_computed", _("Overlap report computed")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")
