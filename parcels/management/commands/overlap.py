"""python manage.py overlap FILE [--layers a,b] [--format json|table] — the overlap report of a site
file (GeoJSON or boundary-point TXT, any CRS the importers read) against the active layers."""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.management.base import BaseCommand, CommandError, CommandParser

from parcels.exceptions import SpatialInputError
from parcels.geo import STORAGE_SRID
from parcels.importers.readers import read_any
from parcels.importers.validation import validate_geometries
from parcels.overlap import overlap_analyse


class Command(BaseCommand):
    help = "Overlap report of the site in FILE against every active one-map layer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--layers", default="", help="comma-separated layer slugs (default: all active)")
        parser.add_argument("--format", choices=["json", "table"], default="table")
        parser.add_argument("--srid", type=int, help="EPSG code when the file declares none")

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file")
        try:
            data = read_any(path, srid=options["srid"])
            checked = validate_geometries(data.geoms)
            if checked.rejected:
                i, reason = checked.rejected[0]
                raise SpatialInputError(f"feature {i + 1}: {reason}", source=path.name)
        except SpatialInputError as exc:
            raise CommandError(str(exc)) from exc
        parts = [p for g in checked.geoms for p in shapely.get_parts(g)]
        site = GEOSGeometry(memoryview(shapely.MultiPolygon(parts).wkb), srid=STORAGE_SRID)
        if not site.valid:
            raise CommandError(f"{path.name}: the site's polygons overlap each other: {site.valid_reason}")
        if not isinstance(site, MultiPolygon):
            site = MultiPolygon(site, srid=STORAGE_SRID)
        layers = [s for s in options["layers"].split(",") if s] or None
        report = overlap_analyse(site=site, layers=layers, pieces=False).report
        for warning in [*data.warnings, *report["site"].get("warnings", [])]:
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        s = report["site"]
        gk = f"GK EPSG:{s['gk_epsg']} {s['gk_area_m2']:.2f} m²" if s["gk_epsg"] is not None else "GK: — (outside the 3° zones)"
        self.stdout.write(f"site: {s['area_m2']:.2f} m² = {s['area_ha']:.4f} ha = {s['area_mu']:.3f} mu (ellipsoidal); {gk}")
        header = f"{'layer':<22}{'ver':>4}  {'verdict':<9}{'class':<28}{'m²':>14}{'ha':>11}{'mu':>11}{'%':>9}{'n':>6}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for lr in report["layers"]:
            rows = lr["classes"] or [{"code": "—", "name": "", "area_m2": 0, "area_ha": 0, "area_mu": 0, "percent": 0, "count": 0}]
            for c in rows:
                label = f"{c['code']} {c['name']}"[:27]
                self.stdout.write(
                    f"{lr['layer']:<22}{lr['version']:>4}  {lr['verdict']:<9}{label:<28}{c['area_m2']:>14.2f}{c['area_ha']:>11.4f}{c['area_mu']:>11.3f}{c['percent']:>9.2f}{c['count']:>6}"
                )
        if report["conflicts"]:
            self.stdout.write(self.style.ERROR(f"conflicts: {', '.join(report['conflicts'])}"))
        else:
            self.stdout.write(self.style.SUCCESS("no conflicts"))
