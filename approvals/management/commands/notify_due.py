"""Sends due-soon and overdue inbox notices for open review steps and department tasks.

Run it from cron every half hour, e.g. `*/30 8-18 * * 1-6 .venv/bin/python manage.py notify_due`;
it is idempotent (one notice of each kind per step or task).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from approvals.services import notify_due


class Command(BaseCommand):
    help = "Send due-soon and overdue notices (idempotent)."

    def handle(self, *args, **options) -> None:
        sent = notify_due()
        self.stdout.write(f"notices sent: {sent}")
