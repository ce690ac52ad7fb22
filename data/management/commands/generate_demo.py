"""python manage.py generate_demo — regenerates data/demo/jiayu_onemap.gpkg (deterministic, seeded)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from data import generate


class Command(BaseCommand):
    help = "Regenerate the synthetic demo one-map of Jiayu County (same seed, same file content)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
        parser.add_argument("--out", type=Path, default=generate.DEFAULT_OUT)

    def handle(self, *args, **options) -> None:
        layers = generate.generate(seed=options["seed"])
        generate.write(layers, options["out"])
        for name, frame in layers.items():
            self.stdout.write(f"{name}: {len(frame)} features")
        self.stdout.write(self.style.SUCCESS(f"wrote {options['out']}"))
