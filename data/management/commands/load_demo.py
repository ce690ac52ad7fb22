"""python manage.py load_demo — loads divisions, the Jiayu demo one-map, parcels and demo accounts."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from data import demo
from data.demo_cases import load_cases
from data.hall_demo_appointments import load_appointments_demo
from data.hall_demo_callbacks import load_callbacks_demo
from data.hall_demo_ratings import load_ratings_demo
from data.notices_demo import load_notices_demo
from data.registry_demo import load_registry_demo
from onemap.checks import demo_mode


class Command(BaseCommand):
    help = "Load the demo one-map for Jiayu County and the demo accounts (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quiet-accounts", action="store_true", help="do not print the account list")

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"divisions: {demo.load_divisions()} loaded/updated")
        self.stdout.write(f"township land stations: {demo.load_stations()} loaded/updated")
        loaded = demo.load_layers(progress=True)
        self.stdout.write(f"layers: {', '.join(loaded) if loaded else 'all present, nothing to load'}")
        self.stdout.write(f"parcels: {demo.load_parcels()} new")
        accounts = demo.load_accounts()
        # Cases at every stage, pushed through the workflow at past moments (data/demo_cases.py).
        with tqdm(desc="demo cases", unit="case", disable=options["verbosity"] < 1) as bar:
            made = load_cases(progress=lambda _message: bar.update(1))
        self.stdout.write(f"cases: {made} new" if made else "cases: present, nothing to make")
        # The public's side, made through its services after the cases that it rates and calls back.
        self.stdout.write(f"ratings: {load_ratings_demo()} new")
        self.stdout.write(f"call-backs: {load_callbacks_demo()} new")
        self.stdout.write(f"appointments: {load_appointments_demo()} new")
        # The land register: certificates, a replacement, a cancellation, split, merge, re-survey (data/registry_demo.py).
        self.stdout.write(f"register: {load_registry_demo()} new")
        # Public notices (公示): the rules, one running, one finished with an answered objection, one held (data/notices_demo.py).
        self.stdout.write(f"public notices: {load_notices_demo()} new")
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
