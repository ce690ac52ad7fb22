"""Opens appointment slots at every open window for the coming days (run daily by ops, and by the demo)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from approvals.hall.models import Window
from approvals.hall.services.appointments import MAX_DAYS_AHEAD, local_today, slots_open


class Command(BaseCommand):
    help = "Open appointment slots (预约时段) on the working days of the next N days at every open window."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=14, help=f"calendar days ahead, from today (1–{MAX_DAYS_AHEAD})")

    def handle(self, *args, days: int, **options) -> None:
        today = local_today()
        total = 0
        for window in Window.objects.filter(active=True).order_by("code"):
            created = slots_open(window=window, start=today, days=days)
            total += len(created)
            self.stdout.write(f"{window.code}: {len(created)} slots opened")
        self.stdout.write(self.style.SUCCESS(f"{total} slots opened"))
