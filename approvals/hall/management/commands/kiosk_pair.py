"""Prints a new pairing key for a window's rating tablet (for the demo and operations; the window's
head does the same on "My window"). The old key stops working."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from approvals.hall.models import Window
from approvals.hall.services.ratings import kiosk_key_issue


class Command(BaseCommand):
    help = "Print a new rating-tablet pairing key for the window with this code (the old key stops working)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("code", help="window code, e.g. jiayu-land")

    def handle(self, *args, code: str, **options) -> None:
        window = Window.objects.filter(code=code).first()
        if window is None:
            raise CommandError(f"no window with code {code!r}")
        with transaction.atomic():
            key = kiosk_key_issue(window=window)
        self.stdout.write(key)
