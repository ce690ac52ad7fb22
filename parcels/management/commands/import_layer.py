"""python manage.py import_layer FILE --layer SLUG [...] — a new version of a one-map layer from any
vector file GDAL reads (and, for .txt, the national boundary-point format). All or nothing."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from parcels.choices import LayerKind, LayerRule
from parcels.exceptions import SpatialInputError
from parcels.services import layer_import_file


class Command(BaseCommand):
    help = "Import FILE as a new active version of the one-map layer SLUG (created if missing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--layer", required=True, help="layer slug, e.g. permanent-farmland")
        parser.add_argument("--name", help="layer name (for a new layer; default: the slug)")
        parser.add_argument("--kind", choices=LayerKind.values, default=None)
        parser.add_argument("--rule", choices=LayerRule.values, default=None)
        parser.add_argument("--class-field", help="field holding the class code (default: class_code, DLBM, GZQLXDM, … if present)")
        parser.add_argument("--class-name-field", help="field holding the class name (default: class_name, DLMC, … if present)")
        parser.add_argument("--source-layer", help="layer inside a multi-layer file (GeoPackage, KML, …)")
        parser.add_argument("--srid", type=int, help="EPSG code of the coordinates when the file declares none (or declares a wrong one)")
        parser.add_argument("--encoding", help="attribute encoding, e.g. GBK for old shapefiles without .cpg")
        parser.add_argument("--skip-invalid", action="store_true", help="import the valid features and list the skipped ones")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        try:
            summary = layer_import_file(
                path=path,
                slug=options["layer"],
                name=options["name"] or "",
                kind=options["kind"],
                rule=options["rule"],
                class_field=options["class_field"],
                class_name_field=options["class_name_field"],
                srid=options["srid"],
                encoding=options["encoding"],
                source_layer=options["source_layer"],
                skip_invalid=options["skip_invalid"],
                progress=not options["no_progress"],
            )
        except SpatialInputError as exc:
            raise CommandError(str(exc)) from exc
        for warning in summary.warnings:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        for i, reason in summary.rejected:
            self.stderr.write(self.style.WARNING(f"skipped feature {i + 1}: {reason}"))
        v = summary.version
        self.stdout.write(
            self.style.SUCCESS(
                f"{v.layer.slug} v{v.version}: {summary.imported} of {summary.read} features imported "
                f"({len(summary.repaired)} repaired, {len(summary.rejected)} rejected"
                + (f": {summary.rejected_by_reason()}" if summary.rejected else "")
                + f") from EPSG:{v.source_srid} in {summary.seconds:.1f} s; now active"
            )
        )
