"""python manage.py load_demo — loads divisions, the Jiayu demo one-map, parcels and demo accounts."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from data import demo
from onemap.checks import demo_mode


class Command(BaseCommand):
    help = "Load the demo one-map for Jiayu County and the demo accounts (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet-accounts", action="store_true", help="do not print the account list")

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"divisions: {demo.load_divisions()} loaded/updated")
        loaded = demo.load_layers(progress=True)
        self.stdout.write(f"layers: {', '.join(loaded) if loaded else 'all present, nothing to load'}")
        self.stdout.write(f"parcels: {demo.load_parcels()} new")
        accounts = demo.load_accounts()
        if not options["quiet_accounts"]:
            self.stdout.write(self.style.SUCCESS(f"Demo accounts (password: {demo.DEMO_PASSWORD}):"))
            for a in accounts:
                self.stdout.write(f"  {a.username:<20} {a.description}")
        if not settings.DEBUG and not demo_mode():
            # The same refusal gunicorn gives at startup (onemap/checks.py), said before anyone tries.
            self.stdout.write(self.style.WARNING(
                "These accounts use the published demo password: with DEBUG=0 the server refuses to start "
                "unless ONEMAP_DEMO=1 (make run sets it) or their passwords are changed."
            ))
