"""Errors of the approval domain. Views map them to 403/404/409."""

from __future__ import annotations


class ApprovalError(Exception):
    """Base class."""


class NotPermitted(ApprovalError):
    """The user may not perform this action on this object."""


class StateConflict(ApprovalError):
    """The object is no longer in the state the action expects (e.g. someone else decided first)."""


class DataCheckFailed(ApprovalError):
    """The data check found missing or wrong items: the action needs them fixed (or a return)."""

    def __init__(self, items: list) -> None:
        self.items = items
        super().__init__("; ".join(f"{i.label}: {i.detail}" for i in items))
