"""One workflow action from submitted data (a page's form or the API's JSON): parse the input with
the forms, call the one service, return a confirmation. Shared by pages and API so both enforce
the same rules (the services check permission and state)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from approvals import services
from approvals.choices import StepOutcome
from approvals.exceptions import StateConflict
from approvals.models import Application, DepartmentTask, ReviewStep
from maps.forms import AssignForm, DecisionForm, DocumentForm, ModifyForm, OpinionForm, ReasonsForm

ACTIONS = ("window_accept", "window_return", "presign", "accept", "return", "modify", "assign", "opinion", "decide", "document")


def _valid(form) -> dict:
    if not form.is_valid():
        raise ValidationError([f"{form.fields[f].label}: {e}" if f in form.fields else str(e)
                               for f, errs in form.errors.items() for e in errs])
    return form.cleaned_data


def _open_step(application: Application) -> ReviewStep:
    step = application.steps.select_related("division").filter(closed_at__isnull=True).first()
    if step is None:
        raise StateConflict(_("This application has no open review step; your action was not applied."))
    return step


def run_action(*, application: Application, user: AbstractBaseUser, ip: str | None, data, files=None) -> str:
    """Runs `data["action"]`. Raises ValidationError (bad input), NotPermitted, StateConflict or
    DataCheckFailed; returns the confirmation to show."""
    action = data.get("action", "")
    if action == "window_accept":
        services.window_accept(application=application, by=user, ip=ip)
        return _("Accepted at the window; the clock has started.")
    if action == "window_return":
        services.window_return(application=application, by=user, reasons=_valid(ReasonsForm(data))["reasons"], ip=ip)
        return _("Returned to the applicant.")
    if action == "presign":
        services.step_presign(step=_open_step(application), by=user, ip=ip)
        return _("Pre-signed.")
    if action == "accept":
        services.step_accept(step=_open_step(application), by=user, ip=ip)
        return _("Accepted at this level.")
    if action == "return":
        services.step_return(step=_open_step(application), by=user, reasons=_valid(ReasonsForm(data))["reasons"], ip=ip)
        return _("Returned.")
    if action == "modify":
        services.step_modify(step=_open_step(application), by=user, changes=_valid(ModifyForm(data)), ip=ip)
        return _("Changes saved and recorded.")
    if action == "assign":
        step = _open_step(application)
        cleaned = _valid(AssignForm(data, division=step.division))
        services.tasks_assign(step=step, by=user, lead=cleaned["lead"], cooperating=list(cleaned["cooperating"]), days=cleaned["days"], ip=ip)
        return _("Departments assigned.")
    if action == "opinion":
        try:
            task_pk = int(data.get("task", ""))
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("Which task? (task)")) from exc
        task = get_object_or_404(DepartmentTask, pk=task_pk, step__application=application)
        cleaned = _valid(OpinionForm(data))
        services.task_answer(task=task, by=user, opinion=cleaned["opinion"], agrees=cleaned["agrees"], ip=ip)
        return _("Opinion recorded.")
    if action == "decide":
        cleaned = _valid(DecisionForm(data))
        services.step_decide(step=_open_step(application), by=user, outcome=cleaned["outcome"], comment=cleaned["comment"], ip=ip)
        return {StepOutcome.FORWARDED: _("Approved and forwarded to the next level."), StepOutcome.APPROVED: _("Approved."),
                StepOutcome.REJECTED: _("Rejected.")}[cleaned["outcome"]]
    if action == "document":
        cleaned = _valid(DocumentForm(data, files, kind=application.kind))
        services.document_add(application=application, requirement=cleaned["requirement"], upload=cleaned["file"], by=user, ip=ip)
        return _("Document added.")
    raise ValidationError(_("Unknown action."))
