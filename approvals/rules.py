"""Object-level rules (django-rules): which role, in which jurisdiction, may do what.

Each predicate checks role × jurisdiction only; whether the object is in the right *state* for the
action is the service's business (StateConflict). Loaded by rules' autodiscovery (settings).
"""

from __future__ import annotations

import rules

from approvals.choices import Role
from approvals.models import Application, DepartmentTask, ReviewStep
from approvals.permissions import covers, is_admin, memberships, receives_at_window, visible_applications


@rules.predicate
def can_see(user, application: Application) -> bool:
    return visible_applications(user).filter(pk=application.pk).exists()


@rules.predicate
def is_own(user, application: Application) -> bool:
    return user.is_authenticated and application.applicant_id == user.pk


@rules.predicate
def is_window_clerk(user, application: Application) -> bool:
    """A clerk of the application's division or of a division above it (the window that receives
    it); a township land station's case only at that station's window (permissions.receives_at_window)."""
    return any(receives_at_window(m.division, application.division) for m in memberships(user, Role.CLERK))


@rules.predicate
def is_agent(user, obj: Application | ReviewStep) -> bool:
    """The clerk who opened and submitted the case for its applicant (代办): they cannot also check
    it at the window or review it at a level (four eyes); another clerk or reviewer does."""
    application = obj.application if isinstance(obj, ReviewStep) else obj
    return user.is_authenticated and application.agent_id is not None and application.agent_id == user.pk


@rules.predicate
def is_step_reviewer(user, step: ReviewStep) -> bool:
    """A level reviewer of exactly the division the step is at."""
    return memberships(user, Role.REVIEWER).filter(division_id=step.division_id).exists()


@rules.predicate
def is_open_step_reviewer(user, application: Application) -> bool:
    step = application.steps.filter(closed_at__isnull=True).first()
    return step is not None and is_step_reviewer(user, step)


@rules.predicate
def is_task_department(user, task: DepartmentTask) -> bool:
    return memberships(user, Role.DEPARTMENT_REVIEWER).filter(department_id=task.department_id).exists()


@rules.predicate
def acts_on_its_land(user, application: Application) -> bool:
    """A window clerk or level reviewer whose jurisdiction covers the application's division: the
    staff who act on that land and need its right holders (personal data). Applicants, planners,
    department reviewers and administrators are not among them (they get codes, classes, areas)."""
    return any(covers(m.division, application.division)
               for role in (Role.CLERK, Role.REVIEWER) for m in memberships(user, role))


@rules.predicate
def has_task_on(user, application: Application) -> bool:
    """A department reviewer whose department was asked for an opinion on the application."""
    departments = memberships(user, Role.DEPARTMENT_REVIEWER).values_list("department_id", flat=True)
    return DepartmentTask.objects.filter(step__application=application, department_id__in=departments).exists()


@rules.predicate
def is_administrator(user, obj=None) -> bool:
    return is_admin(user)


rules.add_perm("approvals.view_application", can_see)
# The agent carries the case for its applicant (who may have no password): corrections too.
rules.add_perm("approvals.correct_application", is_own | (is_agent & is_window_clerk))
rules.add_perm("approvals.window_check", is_window_clerk & ~is_agent)
rules.add_perm("approvals.review_step", is_step_reviewer & ~is_agent)
# The applicant's own documents, or those the agent collected on a home visit (上门收取).
rules.add_perm("approvals.add_document", is_own | (is_agent & is_window_clerk))
rules.add_perm("approvals.rerun_overlap", is_open_step_reviewer | is_window_clerk)
rules.add_perm("approvals.answer_task", is_task_department)
# Asked with rules.has_perm (approvals.selectors), not user.has_perm, which passes any superuser.
rules.add_perm("approvals.view_right_holders", can_see & acts_on_its_land)
# Attached documents (identity papers, contracts, survey reports) are personal data: the applicant,
# the staff acting on that land and the departments asked for an opinion; not planners, who query
# areas and classes, and not the superuser through the pages.
rules.add_perm("approvals.view_documents", can_see & (is_own | acts_on_its_land | has_task_on))
