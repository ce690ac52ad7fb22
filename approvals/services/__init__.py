"""Writes of the approval domain, one module per part of the job (all re-exported here)."""

from approvals.services.departments import task_answer, tasks_assign
from approvals.services.inbox import notifications_mark_read, notify_due
from approvals.services.review import step_accept, step_decide, step_modify, step_presign, step_return
from approvals.services.submission import (
    SitePart,
    application_resubmit,
    application_submit,
    document_add,
    overlap_report_create,
    overlap_report_rerun,
    report_diff,
)
from approvals.services.window import CheckItem, data_check, window_accept, window_return

__all__ = [
    "CheckItem",
    "SitePart",
    "application_resubmit",
    "application_submit",
    "data_check",
    "document_add",
    "notifications_mark_read",
    "notify_due",
    "overlap_report_create",
    "overlap_report_rerun",
    "report_diff",
    "step_accept",
    "step_decide",
    "step_modify",
    "step_presign",
    "step_return",
    "task_answer",
    "tasks_assign",
    "window_accept",
    "window_return",
]
